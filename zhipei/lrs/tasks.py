"""Background entry points of the statement store, and their schedule (zhipei.core.scheduler)."""

from __future__ import annotations

from django_tasks import task

from zhipei.core.scheduler import register_job
from zhipei.lrs import partitions

# Daily is plenty for partitions created three months ahead; a run that fails (logged by
# the worker) has about ninety more chances before a month is missing.
PARTITIONS_EVERY_SECONDS = 24 * 3600


@task()
def create_statement_partitions() -> list[str]:
    """Create the monthly statement partitions of this month and the next three that do not
    exist yet (PostgreSQL; nothing on SQLite); returns the names created."""
    return partitions.ensure_partitions()


register_job(
    "lrs.create_statement_partitions",
    every_seconds=PARTITIONS_EVERY_SECONDS,
    task=create_statement_partitions,
)
