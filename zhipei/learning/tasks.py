"""The learning app's recurring jobs: the incremental crediting pass, every 60 s, and (in
certificates.tasks) issuing due completion certificates, every 5 minutes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_tasks import task

from zhipei.core.scheduler import register_job
from zhipei.learning import services
from zhipei.learning.certificates import tasks as certificate_tasks  # registers its job


@task()
def credit_new_statements() -> dict[str, Any]:
    return asdict(services.credit_new_statements())


register_job("learning.credit_new_statements", every_seconds=60, task=credit_new_statements)

__all__ = ["certificate_tasks", "credit_new_statements"]
