"""Two clients holding the same ETag change a profile document at once: exactly one wins, the
other gets 412 (Communication §3.1.s4.b9) — with real concurrent transactions on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import TransactionTestCase

from zhipei.core.errors import DomainError
from zhipei.lrs_documents.models import Document
from zhipei.lrs_documents.services import (
    DocumentKey,
    Preconditions,
    etag_of,
    put_document,
)
from zhipei.orgs.tests.helpers import make_organisation
from zhipei.regions.testing import make_region_tree

THREADS = 6


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class DocumentRaceTests(TransactionTestCase):
    def run_at_once(self, work):
        barrier = threading.Barrier(THREADS)
        outcomes: list[str] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def attempt(index):
            try:
                barrier.wait(timeout=30)
                try:
                    work(index)
                    outcome = "ok"
                except DomainError as exc:
                    outcome = str(exc.status)
                with lock:
                    outcomes.append(outcome)
            except BaseException as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(errors, [])
        return sorted(outcomes)

    def setUp(self):
        regions = make_region_tree()
        self.platform_id = make_organisation(
            region=regions["420102"], capacities={"platform"}, platform_status="selected"
        ).platform.pk
        self.key = DocumentKey(
            kind=Document.Kind.ACTIVITY_PROFILE,
            document_id="settings",
            activity_id="https://platform.example.cn/courses/1",
        )

    def test_updates_with_the_same_if_match_let_exactly_one_through(self):
        first = put_document(
            self.platform_id,
            self.key,
            content=b'{"v":0}',
            content_type="application/json",
            preconditions=Preconditions(if_none_match=frozenset({"*"})),
        )
        seen = frozenset({first.etag})

        def work(index):
            put_document(
                self.platform_id,
                self.key,
                content=b'{"v":%d}' % (index + 1),
                content_type="application/json",
                preconditions=Preconditions(if_match=seen),
            )

        self.assertEqual(self.run_at_once(work), ["412"] * (THREADS - 1) + ["ok"])
        stored = Document.objects.get()
        self.assertNotEqual(stored.etag, first.etag)
        self.assertEqual(stored.etag, etag_of(bytes(stored.content)))

    def test_creations_with_if_none_match_star_let_exactly_one_through(self):
        def work(index):
            put_document(
                self.platform_id,
                self.key,
                content=b'{"v":%d}' % index,
                content_type="application/json",
                preconditions=Preconditions(if_none_match=frozenset({"*"})),
            )

        self.assertEqual(self.run_at_once(work), ["412"] * (THREADS - 1) + ["ok"])
        self.assertEqual(Document.objects.count(), 1)
