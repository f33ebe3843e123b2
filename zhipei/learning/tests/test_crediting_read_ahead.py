"""The pass reads the next batch's heads ahead, on a thread with a connection of its own
(PostgreSQL, outside a transaction): what it stores is what the pass stores reading one batch
after the other, a read-ahead from a watermark the pass no longer starts at or that failed is
read again, and the thread and its connection end with the pass."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction

from zhipei.learning import services
from zhipei.learning.models import CreditedTime, CreditingState, UncreditedSegment
from zhipei.learning.tests.helpers import T0, LivePassWorld
from zhipei.learning.tests.test_crediting_batches import stored_rows
from zhipei.lrs.queries import Watermark, statement_heads_after
from zhipei.lrs.tests.helpers import HORIZON_WAIT_SECONDS

THREAD = "crediting-heads"


def _backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _backends_once_settled(expected: int, seconds: float = 10.0) -> int:
    """The count of this database's backends, once it is `expected` or `seconds` have
    passed: a closed connection's backend leaves pg_stat_activity when its process has
    exited, a moment after the client has gone (CI once saw it still listed)."""
    deadline = time.monotonic() + seconds
    while (count := _backends()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return count


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class ReadAheadTests(LivePassWorld):
    def setUp(self) -> None:
        super().setUp()
        services.enrol(self.person, self.course, occupation=self.welder, by=self.learner)
        self.stored = 0
        for n in range(4):
            self.stored += len(self.store(self.study(T0 + timedelta(hours=n), 20, session=f"s{n}")))
        self.reads: Counter[str] = Counter()
        # A transaction open in this database, or one that ended just after a read's
        # snapshot, holds the commit-safe horizon back for a while. Wait until all is
        # readable, so that one pass reads everything.
        deadline = time.monotonic() + HORIZON_WAIT_SECONDS
        while len(statement_heads_after(Watermark(), limit=1000)[0]) < self.stored:
            self.assertLess(time.monotonic(), deadline, "the statements never became readable")
            time.sleep(0.05)

    def counting(self, fail_on_thread: bool = False) -> Any:
        def read(*args: Any, **kwargs: Any) -> Any:
            on_thread = threading.current_thread().name.startswith(THREAD)
            self.reads["thread" if on_thread else "main"] += 1
            if fail_on_thread and on_thread:
                raise DatabaseError("connection lost")
            heads, through = statement_heads_after(*args, **kwargs)
            if on_thread and not heads:
                self.reads["thread, empty"] += 1  # read again on the pass's connection
            return heads, through

        return mock.patch.object(services, "statement_heads_after", side_effect=read)

    def passes_until_all_read(self) -> tuple[services.PassSummary, int]:
        """Passes of batches of 10 until every stored statement is read, and how many. One
        pass reads them all unless a read comes back late: a transaction of another database
        that ended between a read's snapshot and its look at pg_stat_activity holds the
        horizon back for that read (lrs.queries: late, never wrong), which the tests running
        beside this one on the same server can cause."""
        total, passes = services.PassSummary(), 0
        deadline = time.monotonic() + HORIZON_WAIT_SECONDS
        while total.statements < self.stored:
            self.assertLess(time.monotonic(), deadline, "the statements were never all read")
            total.add(services.credit_new_statements(batch_size=10))
            passes += 1
        return total, passes

    def test_what_the_pass_stores_is_what_reading_one_batch_after_another_stores(self) -> None:
        before = _backends()
        with self.counting():
            summary, passes = self.passes_until_all_read()
        self.assertEqual(summary.statements, self.stored)
        self.assertGreater(summary.batches, 5)
        # Each batch is read once, here or ahead, and each pass ends with a read here that
        # finds nothing left. Every batch after a full one is read ahead (the last one is
        # not full), and used when it found something. With no late read (one pass): the
        # first batch and the final check are read here, every other batch ahead.
        used = self.reads["thread"] - self.reads["thread, empty"]
        self.assertEqual(self.reads["main"] + used, summary.batches + passes)
        self.assertGreater(used, 0)
        if passes == 1 and not self.reads["thread, empty"]:
            self.assertEqual(self.reads["main"], 2)
            self.assertEqual(self.reads["thread"], summary.batches - 1)
        self.assertFalse([t for t in threading.enumerate() if t.name.startswith(THREAD)])
        self.assertEqual(_backends_once_settled(before), before)
        ahead = stored_rows()
        self.assertTrue(ahead)

        CreditedTime.objects.all().delete()
        UncreditedSegment.objects.all().delete()
        CreditingState.objects.update(watermark=Watermark().encode())
        self.reads.clear()
        with self.counting(), transaction.atomic():  # inside a transaction: no read-ahead
            again, _passes = self.passes_until_all_read()
        self.assertEqual(self.reads["thread"], 0)
        self.assertEqual(again.statements, summary.statements)
        self.assertEqual(stored_rows(), ahead)

    def test_a_failed_read_ahead_is_read_again(self) -> None:
        with self.counting(fail_on_thread=True), self.assertLogs("zhipei.learning", "WARNING"):
            summary, passes = self.passes_until_all_read()
        self.assertEqual(summary.statements, self.stored)
        self.assertGreater(self.reads["thread"], 0)
        self.assertEqual(self.reads["main"], summary.batches + passes)  # every batch read here

    def test_a_read_ahead_from_another_watermark_is_not_used(self) -> None:
        everything, last = statement_heads_after(Watermark(), limit=1000)
        first, after_first = statement_heads_after(Watermark(), limit=10)
        reader = services._HeadsReader(10)
        try:
            reader.read_ahead(Watermark(), full=True)  # as if another pass had moved on
            heads, through = reader.read(after_first)
        finally:
            reader.close()
        self.assertEqual(heads, everything[10:20])
        self.assertEqual(through, statement_heads_after(Watermark(), limit=20)[1])
        self.assertNotEqual(heads[0], first[0])
        self.assertGreater(last, through)
