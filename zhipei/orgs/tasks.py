"""Background entry points of orgs."""

from __future__ import annotations

from django_tasks import task

from zhipei.orgs import services


@task()
def prune_api_nonces() -> int:
    """Hourly: forget API nonces older than the signature window (they cannot be replayed)."""
    return services.prune_api_nonces()
