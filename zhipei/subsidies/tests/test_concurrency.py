"""Races on the ledger, with threads released together by a barrier (STYLE §11).

PostgreSQL: the account rows are locked in pk order (select_for_update), so concurrent
commitments see each other and never overdraw; the same payment reference pays once.
SQLite file database: the IMMEDIATE transaction takes the write lock at BEGIN, with the same
outcome. Each race is first shown to be real with a naive variant written here in the test
module (check the balance, then insert, without the service's transaction and lock) —
never with flags in production code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.db.models import Sum
from django.test import TransactionTestCase
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.regions.testing import make_region_tree
from zhipei.subsidies import services
from zhipei.subsidies.errors import InsufficientFunds, ReferenceReused
from zhipei.subsidies.models import (
    FundAccount,
    FundSource,
    LedgerEntry,
    LedgerPosting,
    PostingKind,
)

THREADS = 6
SKILLS = FundSource.SKILLS_ACCOUNT
AVAILABLE_FEN = 100_000
ASK_FEN = 30_000  # six asks of 300 against 1,000: exactly three fit


def run_together(
    work: Callable[[int], Any], threads: int = THREADS
) -> tuple[list[Any], list[BaseException]]:
    """Run work(i) in `threads` threads released at once; results and errors, never lost."""
    barrier = threading.Barrier(threads)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome = work(i)
            with lock:
                results.append(outcome)
        except BaseException as exc:  # reported to the test, not lost in the thread
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=90)
    return results, errors


def balance(kind: str) -> int:
    total = LedgerEntry.objects.filter(account__kind=kind, account__source=SKILLS).aggregate(
        t=Sum("amount_fen")
    )["t"]
    return int(total or 0)


if TYPE_CHECKING:
    _Base = TransactionTestCase
else:
    _Base = object


class LedgerRaceMixin(_Base):
    """The races, shared by the PostgreSQL and SQLite classes."""

    def setUp(self) -> None:
        self.region = make_region_tree()["420100"]
        self.finance = User.objects.create_user(username="finance", password="x-unused-password-1")
        RoleAssignment.objects.create(
            user=self.finance,
            role=Role.FINANCE_OFFICER,
            region=self.region,
            granted_at=timezone.now(),
        )
        services.allocate_budget(
            source=SKILLS, region=self.region, amount_fen=AVAILABLE_FEN, by=self.finance
        )

    def naive_commit(self, i: int, read_done: threading.Barrier) -> None:
        """Check, then write — with no transaction and no lock, every thread reads the same
        balance before any writes (the second barrier makes the interleaving certain)."""
        accounts = {
            a.kind: a for a in FundAccount.objects.filter(source=SKILLS, region=self.region)
        }
        available = balance("available")
        read_done.wait(timeout=30)
        if available < ASK_FEN:
            raise InsufficientFunds(
                account_label="available", balance_fen=available, amount_fen=ASK_FEN
            )
        posting = LedgerPosting.objects.create(
            kind=PostingKind.COMMITMENT,
            source=SKILLS,
            region=self.region,
            amount_fen=ASK_FEN,
            application_type="test.app",
            application_id=str(i),
            created_at=timezone.now(),
        )
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(posting=posting, account=accounts["available"], amount_fen=-ASK_FEN),
                LedgerEntry(posting=posting, account=accounts["committed"], amount_fen=ASK_FEN),
            ]
        )

    def test_naive_check_then_write_overdraws(self):
        read_done = threading.Barrier(THREADS)
        _results, errors = run_together(lambda i: self.naive_commit(i, read_done))
        self.assertEqual(errors, [])
        # All six passed the check: the race is real, available went negative.
        self.assertEqual(balance("available"), AVAILABLE_FEN - THREADS * ASK_FEN)
        self.assertLess(balance("available"), 0)

    def test_concurrent_commitments_never_overdraw(self):
        def commit(i: int):
            return services.commit_funds(
                source=SKILLS,
                region=self.region,
                amount_fen=ASK_FEN,
                application=("test.app", str(i)),
                by=self.finance,
            )

        results, errors = run_together(commit)

        affordable = AVAILABLE_FEN // ASK_FEN
        self.assertEqual(len(results), affordable)
        self.assertEqual(len(errors), THREADS - affordable)
        self.assertTrue(all(isinstance(e, InsufficientFunds) for e in errors), errors)
        self.assertEqual(balance("available"), AVAILABLE_FEN - affordable * ASK_FEN)
        self.assertEqual(balance("committed"), affordable * ASK_FEN)

    def test_the_same_payment_reference_pays_once(self):
        services.commit_funds(
            source=SKILLS,
            region=self.region,
            amount_fen=ASK_FEN,
            application=("test.app", "1"),
            by=self.finance,
        )

        def pay(_i: int):
            return services.pay_commitment(
                source=SKILLS,
                region=self.region,
                amount_fen=ASK_FEN,
                application=("test.app", "1"),
                reference="BANK-RACE-1",
                by=self.finance,
            ).pk

        results, errors = run_together(pay)

        self.assertEqual(errors, [])
        self.assertEqual(len(set(results)), 1)  # every caller got the one posting
        self.assertEqual(LedgerPosting.objects.filter(kind="payment").count(), 1)
        self.assertEqual(balance("paid"), ASK_FEN)
        self.assertEqual(balance("committed"), 0)

    def test_one_reference_for_different_applications_pays_one_of_them(self):
        for i in range(THREADS):
            services.commit_funds(
                source=SKILLS,
                region=self.region,
                amount_fen=10_000,
                application=("test.app", str(i)),
                by=self.finance,
            )

        def pay(i: int):
            return services.pay_commitment(
                source=SKILLS,
                region=self.region,
                amount_fen=10_000,
                application=("test.app", str(i)),
                reference="BANK-RACE-2",
                by=self.finance,
            ).pk

        results, errors = run_together(pay)

        self.assertEqual(len(results), 1)
        self.assertTrue(all(isinstance(e, ReferenceReused) for e in errors), errors)
        self.assertEqual(balance("paid"), 10_000)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class PostgresLedgerRaceTests(LedgerRaceMixin, TransactionTestCase):
    pass


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite file database")
class SqliteLedgerRaceTests(LedgerRaceMixin, TransactionTestCase):
    def test_the_test_database_is_a_file(self):
        # Threads on the in-memory database share one cache and answer "table is locked".
        self.assertNotIn(":memory:", str(connection.settings_dict["NAME"]))
        self.assertNotIn("mode=memory", str(connection.settings_dict["NAME"]))
