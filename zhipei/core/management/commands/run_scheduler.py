"""`manage.py run_scheduler`: enqueue recurring jobs when due (see zhipei/core/scheduler.py)."""

from __future__ import annotations

import logging
import signal
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from zhipei.core.scheduler import registered_jobs, run_due_jobs

logger = logging.getLogger("zhipei.scheduler")


class Command(BaseCommand):
    help = (
        "Enqueue the recurring jobs declared with register_job when they are due. Run one or "
        "more (any number is safe) next to `manage.py db_worker`, which runs the tasks."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="Make one pass, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="Pause between passes (default: %(default)s).",
        )

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        if not 0 < interval <= 3600:  # an hour is the longest sane pause
            raise CommandError("--interval must be more than 0 and at most 3600 seconds.")
        jobs = registered_jobs()
        self.stdout.write(
            "Scheduler: " + ", ".join(f"{j.name} every {j.every_seconds}s" for j in jobs)
            if jobs
            else "Scheduler: no jobs are registered."
        )
        stop = threading.Event()
        previous = self._install_signal_handlers(stop)
        passes = enqueued = 0
        try:
            while not stop.is_set():
                close_old_connections()
                try:
                    enqueued += len(run_due_jobs(jobs))
                except DatabaseError:
                    if once:
                        raise
                    # A database outage must not kill the scheduler; the next pass retries.
                    logger.exception("scheduler pass failed; retrying in %s s", interval)
                passes += 1
                if once:
                    break
                stop.wait(interval)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(f"Scheduler stopped after {passes} passes; {enqueued} tasks enqueued.")

    def _install_signal_handlers(self, stop: threading.Event) -> dict[int, Any]:
        """SIGTERM/SIGINT end the loop after the current pass (only possible in the main
        thread, where a real scheduler process always runs)."""
        if threading.current_thread() is not threading.main_thread():
            return {}

        def request_stop(signum: int, frame: FrameType | None) -> None:
            logger.info("scheduler received %s; stopping", signal.strsignal(signum))
            stop.set()

        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, request_stop)
        return previous
