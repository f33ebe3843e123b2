"""The learning app's background work: the incremental crediting pass, every 60 s, (in
certificates.tasks) issuing due completion certificates, every 5 minutes, and re-applying the
crediting policy to a period when an officer asks for it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_tasks import task

from zhipei.core.scheduler import register_job
from zhipei.learning import services
from zhipei.learning.certificates import tasks as certificate_tasks  # registers its job
from zhipei.learning.policies import services as policy_services


@task()
def credit_new_statements() -> dict[str, Any]:
    return asdict(services.credit_new_statements())


@task()
def recredit_run(run_id: int) -> str:
    """Re-apply the crediting policy to a queued RecreditRun's period."""
    run = policy_services.run_recredit(run_id)
    return run.status if run is not None else "missing"


register_job("learning.credit_new_statements", every_seconds=60, task=credit_new_statements)

__all__ = ["certificate_tasks", "credit_new_statements", "recredit_run"]
