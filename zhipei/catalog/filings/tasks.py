"""Background entry points of the filing workflow and their schedule (zhipei.core.scheduler).
zhipei/catalog/tasks.py imports this module so the scheduler's autodiscovery finds it."""

from __future__ import annotations

from django_tasks import task

from zhipei.catalog.filings import services
from zhipei.core.scheduler import register_job


@task()
def send_filing_reminders() -> int:
    """Hourly: remind reviewing officers of filings whose deadline approaches or has passed."""
    return services.send_due_reminders()


register_job("catalog.send_filing_reminders", every_seconds=3600, task=send_filing_reminders)
