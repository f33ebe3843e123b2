"""Background entry points of orgs, and their schedule (zhipei.core.scheduler)."""

from __future__ import annotations

from django_tasks import task

from zhipei.core.scheduler import register_job
from zhipei.orgs import services


@task()
def prune_api_nonces() -> int:
    """Hourly: forget API nonces older than the signature window (they cannot be replayed)."""
    return services.prune_api_nonces()


register_job("orgs.prune_api_nonces", every_seconds=3600, task=prune_api_nonces)
