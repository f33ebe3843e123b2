"""The learning app's recurring job: the incremental crediting pass, every 60 s."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django_tasks import task

from zhipei.core.scheduler import register_job
from zhipei.learning import services


@task()
def credit_new_statements() -> dict[str, Any]:
    return asdict(services.credit_new_statements())


register_job("learning.credit_new_statements", every_seconds=60, task=credit_new_statements)
