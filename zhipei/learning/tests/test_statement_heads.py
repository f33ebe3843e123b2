"""lrs.queries.statement_heads_after, the crediting pass's read of new statements: the same
statements, order and watermarks as statements_after, with only the columns crediting needs;
and, like it, never past a row whose transaction commits late (PostgreSQL)."""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

from zhipei.learning.tests.helpers import T0, LivePassWorld
from zhipei.lrs.evidence import SESSION_VERBS
from zhipei.lrs.models import Statement
from zhipei.lrs.queries import StatementHead, Watermark, statement_heads_after, statements_after
from zhipei.lrs.tests.helpers import HORIZON_WAIT_SECONDS
from zhipei.lrs_documents import profile


def head_of(statement: Statement) -> StatementHead:
    needs_payload = not statement.evidence and statement.verb_id in SESSION_VERBS
    return StatementHead(
        statement.person_id,
        str(statement.statement_id),
        statement.verb_id,
        math.floor(statement.timestamp.timestamp()),
        statement.course_id,
        statement.platform_id,
        statement.activity_id,
        statement.duration_seconds,
        statement.evidence,
        statement.payload if needs_payload else None,
        statement.voided,
        statement.is_voiding,
        (statement.timestamp - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
        statement.object_statement_id,
    )


def read_all_heads(expected: int, *, limit: int = 100) -> list[StatementHead]:
    """Heads from the start until `expected` arrived (a transaction open in this database,
    or one that ended just after the reading query's snapshot, holds readers back for a
    while, so poll)."""
    heads: list[StatementHead] = []
    mark = Watermark()
    deadline = time.monotonic() + HORIZON_WAIT_SECONDS
    while len(heads) < expected and time.monotonic() < deadline:
        batch, mark = statement_heads_after(mark, limit=limit)
        heads += batch
        if not batch:
            time.sleep(0.05)
    return heads


class StatementHeadsTests(LivePassWorld):
    def test_heads_are_the_statements_in_the_same_pages_with_the_same_watermarks(self) -> None:
        studied = self.study(T0 + timedelta(microseconds=123456), 3)
        self.store(studied)
        void = self.stmt(profile.ADL_VERBS + "voided", T0 + timedelta(hours=1))
        void["object"] = {"objectType": "StatementRef", "id": studied[-1]["id"]}
        void.pop("context")
        self.store([void, self.stmt(profile.PROGRESSED, T0, actor="nobody-knows-me")])
        self.store(self.study(T0 + timedelta(days=1), 2, lesson=self.text, session="t"))
        total = Statement.objects.count()
        self.assertEqual(len(read_all_heads(total)), total)

        pages = 0
        heads_mark = rows_mark = Watermark()
        while True:
            rows, rows_mark = statements_after(rows_mark, limit=3)
            heads, heads_mark = statement_heads_after(heads_mark, limit=3)
            self.assertEqual(heads, [head_of(row) for row in rows])
            self.assertEqual(heads_mark, rows_mark)
            if not rows:
                break
            pages += 1
        self.assertEqual(pages, -(-total // 3))
        heads = read_all_heads(total)
        self.assertEqual(heads[0].timestamp, T0 + timedelta(microseconds=123456))
        self.assertEqual(heads[1].duration_seconds, 60.0)
        voiding = [head for head in heads if head.is_voiding]
        self.assertEqual([str(head.object_statement_id) for head in voiding], [studied[-1]["id"]])
        self.assertEqual(sum(head.person_id is None for head in heads), 1)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class LateCommitTests(LivePassWorld):
    def test_a_row_that_commits_late_with_a_lower_seq_is_not_skipped(self) -> None:
        ready, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []
        late = self.study(T0, 1, session="late")

        def late_writer() -> None:
            try:
                with transaction.atomic():
                    self.store(late)
                    ready.set()
                    release.wait(timeout=30)
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        thread = threading.Thread(target=late_writer)
        thread.start()
        self.assertTrue(ready.wait(timeout=30))
        early = self.study(T0 + timedelta(hours=1), 1, session="early")
        self.store(early)  # higher seqs, committed first
        heads, mark = statement_heads_after(Watermark(), limit=100)
        self.assertEqual((heads, mark), ([], Watermark()))  # held back by the open writer
        release.set()
        thread.join(timeout=30)
        self.assertEqual(errors, [])
        heads = read_all_heads(len(late) + len(early))
        self.assertEqual(len(heads), len(late) + len(early))
        late_seq = Statement.objects.filter(statement_id=late[0]["id"]).values_list("seq")
        early_seq = Statement.objects.filter(statement_id=early[0]["id"]).values_list("seq")
        self.assertLess(late_seq.get(), early_seq.get())  # sequence order was not commit order
