"""A replayed signed request sent many times at once: the nonce is spent exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import TransactionTestCase

from zhipei.orgs.models import ApiNonce
from zhipei.orgs.services import use_nonce

THREADS = 8


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class NonceRaceTests(TransactionTestCase):
    def test_concurrent_copies_of_one_nonce_pass_once(self):
        barrier = threading.Barrier(THREADS)
        results: list[bool] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def attempt():
            try:
                barrier.wait(timeout=30)
                outcome = use_nonce("pk_race00000000000000000", "race-nonce-0123456789")
                with lock:
                    results.append(outcome)
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        self.assertEqual(errors, [])
        self.assertEqual(sorted(results), [False] * (THREADS - 1) + [True])
        self.assertEqual(ApiNonce.objects.count(), 1)
