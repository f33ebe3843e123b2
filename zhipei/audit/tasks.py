"""Background entry points of audit, and its recurring jobs for `manage.py run_scheduler`."""

from __future__ import annotations

from django_tasks import task

from zhipei.audit.sealer import seal_pending
from zhipei.core.scheduler import register_job

SEAL_EVERY_SECONDS = 10


@task()
def seal_audit_events() -> int:
    """Seal every committed unsealed audit event; returns how many were sealed."""
    return seal_pending()


register_job("audit.seal_events", every_seconds=SEAL_EVERY_SECONDS, task=seal_audit_events)
