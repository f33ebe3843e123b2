"""Recurring jobs on top of django-tasks, which has no periodic tasks (ARCHITECTURE
"Background work").

Each app declares its recurring jobs in its `tasks.py`:

    register_job("audit.seal_events", every_seconds=10, task=seal_audit_events)

`manage.py run_scheduler` imports every app's `tasks` module and, a few times a second, enqueues
the task of each job whose slot is due. The scheduler only enqueues; `manage.py db_worker`
runs the tasks. Any number of scheduler processes may run (one per machine for availability):
the slot is claimed by compare-and-swap on `ScheduledJob.next_run_at`, in the same transaction
as the enqueue, so each slot is enqueued exactly once. Missed slots (every scheduler down) are
not caught up: the next pass enqueues once and moves on to the next future slot.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks.base import Task

from zhipei.core.models import ScheduledJob

logger = logging.getLogger("zhipei.scheduler")

NAME_MAX_LENGTH = 100  # ScheduledJob.name
_NAME_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+\Z")


@dataclass(frozen=True)
class Job:
    """A recurring job: enqueue `task` (called with no arguments) every `every_seconds`."""

    name: str
    every_seconds: int
    task: Task[..., Any]


_jobs: dict[str, Job] = {}


def register_job(name: str, *, every_seconds: int, task: Task[..., Any]) -> Job:
    """Declare a recurring job; call at module level in an app's tasks.py.

    `name` is a dotted lowercase code (`audit.seal_events`), unique across the project.
    Raises ValueError for a bad name or interval, or a second, different job under one name.
    """
    if not _NAME_RE.match(name) or len(name) > NAME_MAX_LENGTH:
        raise ValueError(f"Job name {name!r} must be a dotted lowercase code (app.job_name).")
    if isinstance(every_seconds, bool) or not isinstance(every_seconds, int) or every_seconds <= 0:
        raise ValueError(f"Job {name}: every_seconds must be a positive integer.")
    job = Job(name=name, every_seconds=every_seconds, task=task)
    existing = _jobs.get(name)
    if existing is not None and existing != job:
        raise ValueError(f"Job {name} is already registered with another task or interval.")
    _jobs[name] = job
    return job


def registered_jobs() -> list[Job]:
    """Every job declared in the installed apps' tasks.py modules, by name."""
    autodiscover_modules("tasks")
    return [_jobs[name] for name in sorted(_jobs)]


def next_slot(seen: datetime, every_seconds: int, now: datetime) -> datetime:
    """The first slot after `now` on the grid seen + k * every_seconds (k >= 1)."""
    step = timedelta(seconds=every_seconds)
    if now < seen:
        return seen + step
    missed = (now - seen) // step
    return seen + (missed + 1) * step


def run_due_jobs(jobs: Iterable[Job] | None = None, *, now: datetime | None = None) -> list[str]:
    """One scheduler pass: enqueue each due job whose slot this process wins.

    Returns the names of the jobs this call enqueued. Safe to run concurrently in any number of
    processes: a slot lost to another process is skipped silently.
    """
    now = now or timezone.now()
    candidates = registered_jobs() if jobs is None else jobs
    return [job.name for job in candidates if _claim_and_enqueue(job, now)]


def _claim_and_enqueue(job: Job, now: datetime) -> bool:
    state, _created = ScheduledJob.objects.get_or_create(
        name=job.name, defaults={"every_seconds": job.every_seconds, "next_run_at": now}
    )
    seen = state.next_run_at
    if state.every_seconds != job.every_seconds:
        # The interval changed in code: do not wait out an old, longer interval.
        seen_new = min(seen, now + timedelta(seconds=job.every_seconds))
        ScheduledJob.objects.filter(name=job.name, next_run_at=seen).update(
            every_seconds=job.every_seconds, next_run_at=seen_new
        )
        return False
    if seen > now:
        return False
    following = next_slot(seen, job.every_seconds, now)
    with transaction.atomic():
        changed = ScheduledJob.objects.filter(name=job.name, next_run_at=seen).update(
            next_run_at=following, last_enqueued_at=now
        )
        if changed != 1:
            return False  # another scheduler claimed this slot first
        # Same transaction: with the database backend the claim and the task row commit
        # together, so a failed enqueue leaves the slot unclaimed for the next pass.
        result = job.task.enqueue()
        ScheduledJob.objects.filter(name=job.name).update(last_task_id=str(result.id)[:64])
    logger.info("scheduler enqueued job=%s slot=%s task_id=%s", job.name, seen, result.id)
    return True
