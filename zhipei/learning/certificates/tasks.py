"""The periodic issuing of due completion certificates (every 5 minutes). Imported from
zhipei.learning.tasks so the scheduler finds it."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from zhipei.core.scheduler import register_job
from zhipei.learning.certificates import services


@task()
def issue_due_certificates() -> dict[str, Any]:
    summary = services.issue_due_certificates()
    return {"checked": summary.checked, "issued": summary.issued, "refused": dict(summary.refused)}


register_job("learning.issue_due_certificates", every_seconds=300, task=issue_due_certificates)
