"""The hourly nonce pruning task."""

from __future__ import annotations

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from zhipei.core.scheduler import registered_jobs
from zhipei.orgs.models import ApiNonce
from zhipei.orgs.services import use_nonce
from zhipei.orgs.tasks import prune_api_nonces


class PruneNoncesTests(TestCase):
    def test_old_nonces_go_and_recent_ones_stay(self):
        now = timezone.now()
        ApiNonce.objects.create(
            key_id="pk_a", nonce="old-nonce-0000000001", used_at=now - timedelta(hours=2)
        )
        ApiNonce.objects.create(
            key_id="pk_a", nonce="edge-nonce-000000001", used_at=now - timedelta(seconds=700)
        )
        ApiNonce.objects.create(
            key_id="pk_a", nonce="recent-nonce-0000001", used_at=now - timedelta(seconds=500)
        )

        result = prune_api_nonces.enqueue()

        self.assertEqual(result.return_value, 2)
        self.assertEqual(
            list(ApiNonce.objects.values_list("nonce", flat=True)), ["recent-nonce-0000001"]
        )
        # A nonce still inside the replay window stays spent.
        self.assertFalse(use_nonce("pk_a", "recent-nonce-0000001"))
        self.assertTrue(use_nonce("pk_a", "old-nonce-0000000001"))


class ScheduleTests(TestCase):
    def test_pruning_is_registered_hourly(self):
        jobs = {job.name: job for job in registered_jobs()}
        job = jobs["orgs.prune_api_nonces"]
        self.assertEqual(job.every_seconds, 3600)
        self.assertIs(job.task, prune_api_nonces)
