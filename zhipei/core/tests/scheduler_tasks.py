"""A module-level task for the scheduler tests (django-tasks only runs module-level functions)."""

from django_tasks import task

from zhipei.audit.services import record


@task()
def ping() -> str:
    record("test.scheduler.ping")
    return "pong"
