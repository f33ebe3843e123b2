"""Races on PostgreSQL: a double-clicked score submission counts once; two officers deciding
the same application at once produce one decision."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import TransactionTestCase, override_settings

from zhipei.catalog.models import PlatformApplication, Review, ReviewScore
from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import SelectionFixtures, full_scores
from zhipei.core.errors import DomainError

THREADS = 6


def race(attempt: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome = attempt(index)
            with lock:
                results.append(outcome)
        except BaseException as exc:  # collected, not lost in the thread
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class SelectionRaceTests(SelectionFixtures, TransactionTestCase):
    def setUp(self) -> None:
        self._media = tempfile.mkdtemp(prefix="zhipei-selection-race-")
        self._override = override_settings(MEDIA_ROOT=self._media)
        self._override.enable()
        type(self).setUpTestData()

    def tearDown(self) -> None:
        self._override.disable()
        shutil.rmtree(self._media, ignore_errors=True)

    def test_concurrent_score_submissions_count_once(self) -> None:
        _call, (application,) = self.under_review()
        review = services.assign_reviewer(application, reviewer=self.reviewer_a, by=self.city)

        def attempt(index: int) -> int | None:
            copy = Review.objects.get(pk=review.pk)
            return services.score(
                copy, scores=full_scores(index % 10), by=self.reviewer_a
            ).total_score

        results, errors = race(attempt)
        self.assertEqual(len(results), 1)
        self.assertEqual(len(errors), THREADS - 1)
        self.assertTrue(all(isinstance(e, DomainError) for e in errors), errors)
        stored = Review.objects.get(pk=review.pk)
        self.assertEqual(stored.total_score, results[0])
        self.assertEqual(ReviewScore.objects.filter(review=review).count(), 6)

    def test_concurrent_decisions_make_one(self) -> None:
        _call, (application,) = self.under_review()
        self.reviewed(application, self.reviewer_a, self.reviewer_b)

        # Every officer opens the page before anyone decides: a copy read after another
        # officer's decision is a later revision (allowed until publication), not a race.
        copies = [PlatformApplication.objects.get(pk=application.pk) for _ in range(THREADS)]

        def attempt(index: int) -> str:
            copy = copies[index]
            outcome = "selected" if index % 2 else "not_selected"
            officer = self.city if index % 3 else self.province
            return services.decide(copy, outcome=outcome, by=officer).status

        results, errors = race(attempt)
        self.assertEqual(len(results), 1)
        self.assertTrue(all(isinstance(e, DomainError) for e in errors), errors)
        self.assertEqual(PlatformApplication.objects.get(pk=application.pk).status, results[0])
