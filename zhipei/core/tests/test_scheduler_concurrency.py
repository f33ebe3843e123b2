"""Several schedulers racing for the same slots enqueue each slot exactly once.

Runs on PostgreSQL and on the SQLite file test database (STYLE §11)."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection
from django.test import TransactionTestCase

from zhipei.audit.models import AuditEvent
from zhipei.audit.tests.base import use_temp_anchor
from zhipei.core.models import ScheduledJob
from zhipei.core.scheduler import Job, run_due_jobs
from zhipei.core.tests.scheduler_tasks import ping

SCHEDULERS = 5
SLOTS = 4
T0 = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)


class RacingSchedulersTests(TransactionTestCase):
    def test_each_slot_is_enqueued_once_by_one_of_many_schedulers(self):
        if connection.vendor == "sqlite":
            self.assertTrue(Path(connection.settings_dict["NAME"]).is_file(), "needs a file DB")
        use_temp_anchor(self)
        job = Job("tests.ping_race", 60, ping)
        barrier = threading.Barrier(SCHEDULERS)
        wins: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def scheduler():
            try:
                for slot in range(SLOTS):
                    barrier.wait(timeout=30)  # all schedulers look at the same moment
                    won = run_due_jobs([job], now=T0 + timedelta(seconds=60 * slot))
                    with lock:
                        wins.extend(won)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=scheduler) for _ in range(SCHEDULERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        self.assertEqual(errors, [])
        self.assertEqual(wins, ["tests.ping_race"] * SLOTS)
        self.assertEqual(AuditEvent.objects.filter(action="test.scheduler.ping").count(), SLOTS)
        state = ScheduledJob.objects.get(name="tests.ping_race")
        self.assertEqual(state.next_run_at, T0 + timedelta(seconds=60 * SLOTS))
