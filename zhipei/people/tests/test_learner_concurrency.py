"""The same learner registered by one platform many times at once: one person, one
pseudonym, and every caller gets that pseudonym (PostgreSQL, real concurrent transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import TransactionTestCase

from zhipei.orgs.tests.helpers import make_organisation
from zhipei.people.models import Person, PlatformPseudonym
from zhipei.people.services import register_learner
from zhipei.people.testing import make_id_number
from zhipei.regions.testing import make_region_tree

THREADS = 6


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class RegisterLearnerRaceTests(TransactionTestCase):
    def test_concurrent_registrations_of_one_learner_give_one_pseudonym(self):
        regions = make_region_tree()
        platform = make_organisation(
            region=regions["420102"], capacities={"platform"}, platform_status="selected"
        ).platform
        number = make_id_number("420106", "19900101", seq=31)
        barrier = threading.Barrier(THREADS)
        results: list[tuple[int, str, bool]] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def attempt():
            try:
                barrier.wait(timeout=30)
                person, pseudonym, created = register_learner(
                    platform=platform, name="李雷", id_number=number
                )
                with lock:
                    results.append((person.pk, pseudonym, created))
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
        self.assertEqual(len(results), THREADS)
        self.assertEqual(len({r[0] for r in results}), 1)
        self.assertEqual(len({r[1] for r in results}), 1)
        self.assertEqual(sum(1 for r in results if r[2]), 1)
        self.assertEqual(Person.objects.count(), 1)
        self.assertEqual(PlatformPseudonym.objects.count(), 1)
