from datetime import UTC, datetime, timedelta

from django.test import TestCase, override_settings
from django_tasks.exceptions import InvalidTaskError

from zhipei.audit.models import AuditEvent
from zhipei.audit.tasks import seal_audit_events
from zhipei.core.models import ScheduledJob
from zhipei.core.scheduler import Job, registered_jobs, run_due_jobs
from zhipei.core.tests.scheduler_tasks import ping

T0 = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)
PING = Job("tests.ping", 30, ping)
IMMEDIATE = "django_tasks.backends.immediate.ImmediateBackend"


def pings():
    return AuditEvent.objects.filter(action="test.scheduler.ping").count()


class SchedulerPassTests(TestCase):
    def test_the_audit_sealer_is_registered_every_ten_seconds(self):
        jobs = {job.name: job for job in registered_jobs()}
        self.assertEqual(jobs["audit.seal_events"], Job("audit.seal_events", 10, seal_audit_events))

    def test_a_new_job_runs_at_once_and_plans_its_next_slot(self):
        self.assertEqual(run_due_jobs([PING], now=T0), ["tests.ping"])

        state = ScheduledJob.objects.get(name="tests.ping")
        self.assertEqual(state.every_seconds, 30)
        self.assertEqual(state.next_run_at, T0 + timedelta(seconds=30))
        self.assertEqual(state.last_enqueued_at, T0)
        self.assertNotEqual(state.last_task_id, "")
        self.assertEqual(pings(), 1)

    def test_a_slot_is_enqueued_once_however_often_the_scheduler_looks(self):
        run_due_jobs([PING], now=T0)
        for seconds in (0, 1, 29):
            self.assertEqual(run_due_jobs([PING], now=T0 + timedelta(seconds=seconds)), [])
        self.assertEqual(run_due_jobs([PING], now=T0 + timedelta(seconds=30)), ["tests.ping"])
        self.assertEqual(run_due_jobs([PING], now=T0 + timedelta(seconds=31)), [])
        self.assertEqual(pings(), 2)

    def test_a_stale_copy_of_the_slot_cannot_be_claimed(self):
        # Another scheduler read the same due slot a moment ago and won it first.
        ScheduledJob.objects.create(name="tests.ping", every_seconds=30, next_run_at=T0)
        seen = ScheduledJob.objects.get(name="tests.ping").next_run_at
        self.assertEqual(run_due_jobs([PING], now=T0), ["tests.ping"])
        claimed = ScheduledJob.objects.filter(name="tests.ping", next_run_at=seen).update(
            last_enqueued_at=T0
        )
        self.assertEqual(claimed, 0)  # the compare-and-swap a loser would run changes nothing
        self.assertEqual(run_due_jobs([PING], now=T0), [])
        self.assertEqual(pings(), 1)

    def test_a_shorter_interval_in_code_takes_effect_without_waiting_out_the_old_one(self):
        ScheduledJob.objects.create(
            name="tests.ping", every_seconds=3600, next_run_at=T0 + timedelta(hours=1)
        )
        self.assertEqual(run_due_jobs([PING], now=T0), [])
        state = ScheduledJob.objects.get(name="tests.ping")
        self.assertEqual((state.every_seconds, state.next_run_at), (30, T0 + timedelta(seconds=30)))
        self.assertEqual(run_due_jobs([PING], now=T0 + timedelta(seconds=30)), ["tests.ping"])

    def test_a_failed_enqueue_leaves_the_slot_for_the_next_pass(self):
        two_queues = {"default": {"BACKEND": IMMEDIATE, "QUEUES": ["default", "other"]}}
        with override_settings(TASKS=two_queues):
            job = Job("tests.ping_other_queue", 30, ping.using(queue_name="other"))
        run_due_jobs([Job("tests.ping_other_queue", 30, ping)], now=T0)  # first slot at T0

        due = T0 + timedelta(seconds=30)
        with self.assertRaises(InvalidTaskError):
            run_due_jobs([job], now=due)  # "other" is no longer a queue: enqueue fails

        state = ScheduledJob.objects.get(name="tests.ping_other_queue")
        self.assertEqual((state.next_run_at, state.last_enqueued_at), (due, T0))
        self.assertEqual(pings(), 1)
