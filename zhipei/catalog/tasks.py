"""The catalog app's recurring jobs, found by the scheduler's autodiscovery of `tasks` modules;
each sub-package declares its own."""

from __future__ import annotations

from zhipei.catalog.filings import tasks as filings_tasks

__all__ = ["filings_tasks"]
