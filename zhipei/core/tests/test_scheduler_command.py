"""`run_scheduler` and a real `db_worker` pass. TransactionTestCase: both commands manage their
own connections (close_old_connections) and commit as the real processes do."""

import io
import os
import signal
import threading

from django.core.management import CommandError, call_command
from django.test import TransactionTestCase, override_settings
from django_tasks_db.models import DBTaskResult

from zhipei.audit.models import AuditEvent
from zhipei.audit.services import record
from zhipei.audit.tasks import seal_audit_events
from zhipei.audit.tests.base import use_temp_anchor
from zhipei.audit.verify import verify_chain
from zhipei.core.models import ScheduledJob

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def keep_signal_handlers(testcase):
    """db_worker installs SIGINT/SIGTERM handlers and leaves them; put the old ones back."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        testcase.addCleanup(signal.signal, signum, signal.getsignal(signum))


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


class RunSchedulerTests(TransactionTestCase):
    def setUp(self):
        self.anchor_path = use_temp_anchor(self)

    def test_once_enqueues_the_due_audit_sealing_which_seals_pending_events(self):
        record("test.scheduler.pending")
        record("test.scheduler.pending")

        out = run("run_scheduler", "--once")

        self.assertIn("audit.seal_events every 10s", out)
        self.assertIn("Scheduler stopped after 1 passes", out)
        self.assertFalse(AuditEvent.objects.filter(seq__isnull=True).exists())
        self.assertTrue(ScheduledJob.objects.filter(name="audit.seal_events").exists())
        self.assertIsNone(verify_chain().problem)

    def test_sigterm_stops_the_loop_cleanly_and_restores_the_handler(self):
        keep_signal_handlers(self)
        before = signal.getsignal(signal.SIGTERM)
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        timer.start()
        self.addCleanup(timer.cancel)

        out = run("run_scheduler", "--interval", "0.05")

        passes = int(out.split("stopped after ")[1].split(" ")[0])
        self.assertGreater(passes, 1)
        self.assertIs(signal.getsignal(signal.SIGTERM), before)

    def test_a_bad_interval_is_refused(self):
        for value in ("0", "-1", "99999"):
            with self.assertRaisesMessage(CommandError, "--interval must be"):
                run("run_scheduler", "--once", "--interval", value)


@override_settings(TASKS=DATABASE_TASKS)
class DatabaseWorkerPassTests(TransactionTestCase):
    """The real thing: tasks stored by the database backend, run by db_worker."""

    def setUp(self):
        self.anchor_path = use_temp_anchor(self)
        keep_signal_handlers(self)

    def work(self):
        return run("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0")

    def test_db_worker_runs_an_enqueued_seal_task(self):
        for _ in range(3):
            record("test.worker.pending")

        result = seal_audit_events.enqueue()

        self.assertEqual(AuditEvent.objects.filter(seq__isnull=True).count(), 3)  # only queued
        self.work()
        result.refresh()
        self.assertEqual(result.status, "SUCCESSFUL")
        self.assertEqual(result.return_value, 3)
        self.assertFalse(AuditEvent.objects.filter(seq__isnull=True).exists())
        self.assertEqual(self.anchor_path.read_text(encoding="utf-8").split(" ")[0], "3")
        self.assertIsNone(verify_chain().problem)

    def test_scheduler_then_worker_seal_events(self):
        record("test.worker.pending")

        run("run_scheduler", "--once")

        # Every registered job is due on the first pass; other apps' jobs are queued too.
        queued = DBTaskResult.objects.get(task_path="zhipei.audit.tasks.seal_audit_events")
        self.assertEqual(queued.status, "READY")
        self.assertTrue(AuditEvent.objects.filter(seq__isnull=True).exists())
        self.work()
        queued.refresh_from_db()
        self.assertEqual(queued.status, "SUCCESSFUL")
        self.assertFalse(AuditEvent.objects.filter(seq__isnull=True).exists())
