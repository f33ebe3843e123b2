from __future__ import annotations

from django.db import models


class ScheduledJob(models.Model):
    """The schedule state of one recurring job (`zhipei.core.scheduler.register_job`).

    `next_run_at` is the next slot. A scheduler process claims a due slot by compare-and-swap,
    `UPDATE … SET next_run_at = <following slot> WHERE name = ? AND next_run_at = <seen>`, and
    enqueues the job's task in the same transaction only if exactly one row changed. So any
    number of scheduler processes on any number of machines enqueue each slot at most once.
    Rows are created on first sight of a registered job and never deleted by code.
    """

    name = models.CharField(max_length=100, unique=True)
    every_seconds = models.PositiveIntegerField()
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(every_seconds__gt=0), name="core_scheduledjob_every_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} every {self.every_seconds}s, next {self.next_run_at:%Y-%m-%d %H:%M:%S}"
