"""Concurrent writers and two sealers: one unbroken chain, every event sealed exactly once.

The writer/sealer race runs on both databases (on SQLite against the file test database, where
the IMMEDIATE transaction serialises sealers); the proof that the advisory lock is what keeps
two sealers apart is PostgreSQL-only.
"""

import threading
import time
from pathlib import Path

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import TransactionTestCase
from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.audit.sealer import CONTENT_FIELDS, GENESIS_HASH, audit_key, link_hash, seal_pending
from zhipei.audit.services import record
from zhipei.audit.verify import verify_chain

from .base import use_temp_anchor

WRITERS = 6
TRANSACTIONS_PER_WRITER = 12


def _in_thread(target, errors, *args):
    def run():
        try:
            target(*args)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    return threading.Thread(target=run)


class ConcurrentSealingTests(TransactionTestCase):
    def test_concurrent_writers_and_two_sealers_build_one_chain(self):
        if connection.vendor == "sqlite":
            # STYLE §11: the in-memory test database cannot be shared by threads.
            self.assertTrue(Path(connection.settings_dict["NAME"]).is_file(), "needs a file DB")
        anchor_path = use_temp_anchor(self)
        barrier = threading.Barrier(WRITERS + 2)
        writers_done = threading.Event()
        errors: list[BaseException] = []
        sealed_by: list[int] = []
        lock = threading.Lock()

        def writer(n):
            barrier.wait()
            for i in range(TRANSACTIONS_PER_WRITER):
                with transaction.atomic():
                    record(f"test.race.writer{n}", object_type="test.thing", object_id=i)
                    if i % 3 == 0:  # some transactions write two events
                        record(f"test.race.writer{n}.extra", data={"i": i})

        def sealer():
            barrier.wait()
            total = 0
            while not writers_done.is_set():
                total += seal_pending(limit=5)
                time.sleep(0.002)
            total += seal_pending()
            with lock:
                sealed_by.append(total)

        writers = [_in_thread(writer, errors, n) for n in range(WRITERS)]
        sealers = [_in_thread(sealer, errors) for _ in range(2)]
        for thread in writers + sealers:
            thread.start()
        for thread in writers:
            thread.join(timeout=120)
        writers_done.set()
        for thread in sealers:
            thread.join(timeout=120)

        self.assertEqual(errors, [])
        expected = WRITERS * (TRANSACTIONS_PER_WRITER + len(range(0, TRANSACTIONS_PER_WRITER, 3)))
        self.assertEqual(AuditEvent.objects.count(), expected)
        self.assertEqual(len(sealed_by), 2)
        self.assertEqual(sum(sealed_by), expected)  # each event sealed by exactly one sealer
        self.assertFalse(AuditEvent.objects.filter(seq__isnull=True).exists())
        seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
        self.assertEqual(seqs, list(range(1, expected + 1)))
        result = verify_chain()
        self.assertIsNone(result.problem)
        self.assertEqual((result.checked, result.head_seq), (expected, expected))
        lines = anchor_path.read_text(encoding="utf-8").splitlines()
        self.assertGreater(len(lines), 1)  # sealing went on while the writers wrote
        self.assertEqual(lines[-1].split(" ")[:2], [str(expected), result.head_hash])


def _naive_seal(key, read_done, go):
    """The sealer without its lock: read the head and the pending events, wait, then write."""
    with transaction.atomic():
        head = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").first()
        seq, prev = (head.seq or 0, head.chain_hash) if head else (0, GENESIS_HASH)
        rows = list(
            AuditEvent.objects.filter(seq__isnull=True)
            .order_by("id")
            .values(*[f for f in CONTENT_FIELDS if f != "seq"])
        )
        read_done.set()
        go.wait(timeout=30)
        for row in rows:
            seq += 1
            prev = link_hash(key, prev, {**row, "seq": seq})
            AuditEvent.objects.filter(id=row["id"]).update(
                seq=seq, chain_hash=prev, sealed_at=timezone.now()
            )


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class PostgresSealerLockTests(TransactionTestCase):
    def test_without_the_lock_two_sealers_fork_the_chain_at_a_late_commit(self):
        # The race the advisory lock prevents. Event 1 commits late: sealer A has already read
        # head 0 and only event 2, sealer B reads head 0 and events 1 and 2. Both give seq 1 to
        # different events; only the unique seq column stops the fork, by failing one sealer
        # (a unique violation, or a deadlock when each waits on the other's index entry).
        use_temp_anchor(self)
        errors: list[BaseException] = []
        in_txn, commit_late = threading.Event(), threading.Event()

        def late_writer():
            with transaction.atomic():
                record("test.race.late")
                in_txn.set()
                commit_late.wait(timeout=30)

        late = _in_thread(late_writer, errors)
        late.start()
        in_txn.wait(timeout=30)
        record("test.race.early")
        key, go = audit_key(), threading.Event()
        a_read, b_read = threading.Event(), threading.Event()
        sealer_a = _in_thread(_naive_seal, errors, key, a_read, go)
        sealer_a.start()
        a_read.wait(timeout=30)
        commit_late.set()
        late.join(timeout=30)
        sealer_b = _in_thread(_naive_seal, errors, key, b_read, go)
        sealer_b.start()
        b_read.wait(timeout=30)
        go.set()
        sealer_a.join(timeout=30)
        sealer_b.join(timeout=30)

        self.assertEqual(len(errors), 1, errors)
        self.assertIsInstance(errors[0], IntegrityError | OperationalError)
        self.assertEqual(AuditEvent.objects.filter(seq=1).count(), 1)

    def test_a_second_sealer_waits_for_the_first_and_continues_its_chain(self):
        use_temp_anchor(self)
        record("test.race.first")
        entered, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []
        results: dict[str, int] = {}

        def slow_holder():
            with transaction.atomic():
                results["first"] = seal_pending()  # takes the lock, seals seq 1
                entered.set()
                release.wait(timeout=30)

        def rival():
            entered.wait(timeout=30)
            results["second"] = seal_pending()

        holder = _in_thread(slow_holder, errors)
        other = _in_thread(rival, errors)
        holder.start()
        entered.wait(timeout=30)
        record("test.race.second")  # committed while the first sealer still holds the lock
        other.start()
        time.sleep(0.3)
        self.assertTrue(other.is_alive(), "the rival sealer must wait for the lock")
        release.set()
        holder.join(timeout=30)
        other.join(timeout=30)

        self.assertEqual(errors, [])
        self.assertEqual(results, {"first": 1, "second": 1})
        self.assertEqual(
            list(AuditEvent.objects.order_by("seq").values_list("action", "seq")),
            [("test.race.first", 1), ("test.race.second", 2)],
        )
        self.assertIsNone(verify_chain().problem)
