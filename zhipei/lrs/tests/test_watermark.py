"""The commit-safe watermark (ARCHITECTURE "Scale-out"): a statement whose transaction
commits after a later-numbered one is never skipped by statements_after, and
consistent-through never runs ahead of an open writer. PostgreSQL: two overlapping
transactions in two threads; SQLite: the single-writer ordering."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection, transaction
from django.test import TransactionTestCase

from zhipei.lrs.models import Statement
from zhipei.lrs.queries import Watermark, committed_watermark, consistent_through, statements_after
from zhipei.lrs.services import store_statements
from zhipei.lrs.tests.helpers import HORIZON_WAIT_SECONDS, make_platform, statement
from zhipei.regions.testing import make_region_tree


def read_until(mark, expected, *, limit=100, seconds=HORIZON_WAIT_SECONDS):
    """Read from `mark` until `expected` rows arrived. A transaction open in this database
    (or one that ended just after the reading query's snapshot) holds readers back for a
    while, which is late but never wrong, so poll instead of reading once."""
    rows: list[Statement] = []
    deadline = time.monotonic() + seconds
    while len(rows) < expected and time.monotonic() < deadline:
        batch, mark = statements_after(mark, limit=limit)
        rows += batch
        if not batch:
            time.sleep(0.05)
    return rows, mark


def _store(credential, data):
    return store_statements(credential=credential, statements=[data], version="1.0.3")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class OverlappingTransactionsTests(TransactionTestCase):
    def setUp(self):
        regions = make_region_tree()
        _platform, self.credential, _secret = make_platform(regions["420102"])

    def run_late_writer(self, data, *, take_xid_first: bool):
        """Start a transaction in another thread that stores `data` and stays open until
        `release` is set. With take_xid_first the transaction gets its id before the other
        writer runs but takes its sequence number after it."""
        written = threading.Event()
        release = threading.Event()
        ready = threading.Event()
        errors: list[BaseException] = []

        def late():
            try:
                with transaction.atomic():
                    if take_xid_first:
                        with connection.cursor() as cursor:
                            cursor.execute("SELECT pg_current_xact_id()")
                        ready.set()
                        written.wait(timeout=30)  # the other writer goes first
                    _store(self.credential, data)
                    ready.set()
                    release.wait(timeout=30)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        thread = threading.Thread(target=late)
        thread.start()
        return thread, ready, written, release, errors

    def test_late_commit_with_lower_seq_is_not_skipped(self):
        early, late = statement(), statement()
        thread, ready, _written, release, errors = self.run_late_writer(late, take_xid_first=False)
        assert ready.wait(timeout=30)
        _store(self.credential, early)  # higher seq, commits first
        seqs = dict(Statement.objects.values_list("statement_id", "seq"))
        assert len(seqs) == 1  # the late row is not visible yet

        rows, mark = statements_after(Watermark(), limit=100)
        # A naive seq reader would take the early row now and move past the late row's seq.
        assert [str(r.statement_id) for r in rows] == []
        assert mark == Watermark()
        before_commit = consistent_through()

        release.set()
        thread.join(timeout=30)
        assert not errors, errors
        rows, mark = read_until(mark, 2)
        got = [str(r.statement_id) for r in rows]
        assert sorted(got) == sorted([early["id"], late["id"]])
        late_row = Statement.objects.get(statement_id=late["id"])
        early_row = Statement.objects.get(statement_id=early["id"])
        assert late_row.seq < early_row.seq  # sequence order was not commit order
        assert before_commit <= late_row.stored  # consistent-through waited for the writer
        rows, mark2 = statements_after(mark, limit=100)
        assert rows == [] and mark2 == mark

    def test_transaction_with_older_xid_and_newer_seq_is_not_skipped(self):
        early, late = statement(), statement()
        thread, ready, written, release, errors = self.run_late_writer(late, take_xid_first=True)
        assert ready.wait(timeout=30)
        _store(self.credential, early)  # newer xid, older seq, commits first
        written.set()
        rows, mark = statements_after(Watermark(), limit=100)
        assert rows == []  # everything waits behind the open, older transaction
        release.set()
        thread.join(timeout=30)
        assert not errors, errors
        rows, mark = read_until(mark, 2)
        assert sorted(str(r.statement_id) for r in rows) == sorted([early["id"], late["id"]])
        assert committed_watermark().xid >= mark.xid

    def open_transaction_elsewhere(self, dbname: str) -> tuple[psycopg.Connection, int]:
        """A session on `dbname` (same server) with an open transaction that holds an id,
        and that id."""
        settings = connection.settings_dict
        other = psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            dbname=dbname,
        )
        # psycopg opens a transaction; the call gives it an id.
        row = other.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        self.addCleanup(other.close)
        self.addCleanup(other.rollback)
        assert row is not None
        return other, row[0]

    def test_a_transaction_open_in_another_database_does_not_hold_readers_back(self):
        _other, open_xid = self.open_transaction_elsewhere("postgres")
        data = statement()
        _store(self.credential, data)
        # Readable while the other transaction stays open: the horizon is this database's,
        # not the server's xmin. (Polled for a while all the same: something of this
        # database, an autovacuum worker's ANALYZE say, may hold it back for a moment.)
        rows, mark = read_until(Watermark(), 1, seconds=30)
        assert [str(r.statement_id) for r in rows] == [data["id"]]
        assert committed_watermark().xid > mark.xid > open_xid

    def test_a_transaction_open_in_this_database_holds_readers_back(self):
        other, open_xid = self.open_transaction_elsewhere(connection.settings_dict["NAME"])
        data = statement()
        _store(self.credential, data)
        # The open transaction could still add statements with an older xid.
        assert statements_after(Watermark(), limit=100) == ([], Watermark())
        assert committed_watermark().xid <= open_xid
        other.rollback()
        rows, _mark = read_until(Watermark(), 1)
        assert [str(r.statement_id) for r in rows] == [data["id"]]

    def test_reading_in_small_pages_returns_each_row_once(self):
        ids = [statement() for _ in range(7)]
        store_statements(credential=self.credential, statements=ids, version="1.0.3")
        rows, mark = read_until(Watermark(), 7, limit=3)
        seen = [str(r.statement_id) for r in rows]
        assert sorted(seen) == sorted(s["id"] for s in ids)
        assert statements_after(mark, limit=3) == ([], mark)


class SingleWriterOrderTests(TransactionTestCase):
    def test_statements_after_returns_rows_in_order_and_advances(self):
        regions = make_region_tree()
        _platform, credential, _secret = make_platform(regions["420102"])
        first, second = statement(), statement()
        _store(credential, first)
        _store(credential, second)
        rows, mark = read_until(Watermark(), 1, limit=1)
        assert [str(r.statement_id) for r in rows] == [first["id"]]
        rows, mark = read_until(mark, 1, limit=10)
        assert [str(r.statement_id) for r in rows] == [second["id"]]
        assert statements_after(mark, limit=10) == ([], mark)

    def test_watermark_round_trips_as_text(self):
        assert Watermark.decode(Watermark(12, 34).encode()) == Watermark(12, 34)
        with pytest.raises(ValueError):
            Watermark.decode("x.1")
