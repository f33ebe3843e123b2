"""Many commitments at once (services.commit_funds_many) give what commit_funds one by one
gives: the same outcomes (posting, or error class, code, message and figures), balances,
entries and audit events, and `check_ledger` finds nothing wrong afterwards. Then the races,
threads released by a barrier: bulk commitments against single ones and against each other
on two funds never overdraw and never deadlock; two bulk finance approvals over the same
applications commit each once; a reference taken by a concurrent transaction sends that
fund's requests down the one-by-one path without losing or half-writing anything.
"""

from __future__ import annotations

import itertools
import threading
import time
from io import StringIO
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Max
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import DomainError
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree
from zhipei.subsidies import bulk, services
from zhipei.subsidies.errors import InsufficientFunds, ReferenceReused
from zhipei.subsidies.models import (
    Application,
    ApplicationStatus,
    FundAccount,
    FundSource,
    LedgerEntry,
    LedgerPosting,
    PostingKind,
)
from zhipei.subsidies.queries import account_balance, application_committed_fen
from zhipei.subsidies.services import CommitRequest, application_ref
from zhipei.subsidies.testing import build_claim_world
from zhipei.subsidies.tests.helpers import SubsidiesTestCase
from zhipei.subsidies.tests.test_bulk import _to_finance, claimant, submitted
from zhipei.subsidies.tests.test_concurrency import run_together

SKILLS = FundSource.SKILLS_ACCOUNT
EMPLOYMENT = FundSource.EMPLOYMENT_FUND
APP = "subsidies.application"


class _RolledBack(Exception):
    """Raised to roll the one-by-one run back after reading what it wrote."""


def one_by_one(requests: list[CommitRequest], by: User | None) -> list[Any]:
    results: list[Any] = []
    for r in requests:
        try:
            results.append(
                services.commit_funds(
                    source=r.source,
                    region=r.region,
                    amount_fen=r.amount_fen,
                    application=r.application,
                    by=by,
                    reference=r.reference,
                    memo=r.memo,
                )
            )
        except DomainError as error:
            results.append(error)
    return results


def state(results: list[Any], since: tuple[int, int]) -> dict[str, Any]:
    """Everything the commitments wrote, comparable between two runs (new rows by content,
    postings that existed before by pk)."""
    last_posting, last_event = since
    outcomes: list[Any] = []
    for result in results:
        if isinstance(result, DomainError):
            outcomes.append(
                (
                    type(result).__name__,
                    result.code,
                    str(result.message),
                    result.field,
                    getattr(result, "balance_fen", None),
                    getattr(result, "amount_fen", None),
                )
            )
        elif result.pk <= last_posting:
            outcomes.append(("existing posting", result.pk))
        else:
            stored = LedgerPosting.objects.get(pk=result.pk)
            fields = (
                *("kind", "source", "region_id", "amount_fen", "reference"),
                *("application_type", "application_id", "memo", "created_by_id"),
            )
            row = tuple(getattr(stored, f) for f in fields)
            assert row == tuple(getattr(result, f) for f in fields)  # returned as stored
            entries = list(
                LedgerEntry.objects.filter(posting=stored)
                .order_by("pk")
                .values_list("account__source", "account__region_id", "account__kind", "amount_fen")
            )
            events = list(
                AuditEvent.objects.filter(
                    object_type="subsidies.ledgerposting", object_id=str(stored.pk)
                ).values_list("action", "actor_id", "actor_label", "region_code", "data")
            )
            outcomes.append(("new posting", row, entries, events))
    return {
        "outcomes": outcomes,
        "accounts": sorted(FundAccount.objects.values_list("source", "region_id", "kind")),
        "balances": {
            (a.source, a.region_id, a.kind): account_balance(a) for a in FundAccount.objects.all()
        },
        "new postings": LedgerPosting.objects.filter(pk__gt=last_posting).count(),
        "new entries": LedgerEntry.objects.filter(posting_id__gt=last_posting).count(),
        "new events": AuditEvent.objects.filter(pk__gt=last_event).count(),
    }


def marks() -> tuple[int, int]:
    return (
        LedgerPosting.objects.aggregate(m=Max("pk"))["m"] or 0,
        AuditEvent.objects.aggregate(m=Max("pk"))["m"] or 0,
    )


def request(
    source: str, region: Region, amount: Any, app: int, *, reference: str = "", memo: str = ""
) -> CommitRequest:
    return CommitRequest(
        source=source,
        region=region,
        amount_fen=amount,
        application=(APP, str(app)),
        reference=reference,
        memo=memo,
    )


class CommitManyTests(SubsidiesTestCase):
    def setUp(self) -> None:
        for source, region, amount in (
            (SKILLS, self.wuhan, 100_000),
            (EMPLOYMENT, self.wuhan, 50_000),
            (SKILLS, self.jiangan, 20_000),
            (SKILLS, self.yichang, 100_000),
        ):
            services.allocate_budget(source=source, region=region, amount_fen=amount, by=None)
        self.existing = services.commit_funds(
            source=SKILLS,
            region=self.wuhan,
            amount_fen=5_000,
            application=(APP, "1"),
            reference="R-EXISTING",
            by=self.finance,
        )

    def assert_as_one_by_one(self, requests: list[CommitRequest], by: User | None) -> list[Any]:
        """Run the requests one by one in a transaction rolled back, then in bulk; the two
        must have written the same."""
        since = marks()
        try:
            with transaction.atomic():
                expected = state(one_by_one(requests, by), since)
                raise _RolledBack
        except _RolledBack:
            pass
        self.assertEqual(state([], since)["new postings"], 0)  # rolled back indeed
        with transaction.atomic():
            results = services.commit_funds_many(requests, by=by)
        got = state(results, since)
        self.assertEqual(got["outcomes"], expected["outcomes"])
        self.assertEqual(got, expected)
        return results

    def test_a_mixed_batch_gives_what_one_by_one_gives(self) -> None:
        long_memo = "  SQ00000019 " + "备注" * 300
        a10 = {"reference": "A-10", "memo": "SQ00000010"}
        requests = [
            request(SKILLS, self.wuhan, 40_000, 10, **a10),  # 95,000 → 55,000
            request(SKILLS, self.yichang, 10_000, 11),  # out of the officer's scope
            request(SKILLS, self.wuhan, 0, 12),
            request(SKILLS, self.wuhan, -5, 12),
            request(SKILLS, self.wuhan, 10**15, 12),
            request(SKILLS, self.wuhan, 12.5, 12),
            request(SKILLS, self.wuhan, True, 12),
            request("lottery", self.wuhan, 100, 12),
            request(SKILLS, self.wuhan, 5_000, 1, reference=" R-EXISTING "),  # a replay
            request(SKILLS, self.wuhan, 6_000, 1, reference="R-EXISTING"),  # other amount
            request(EMPLOYMENT, self.wuhan, 30_000, 13, reference="E-13"),  # 50,000 → 20,000
            request(SKILLS, self.wuhan, 50_000, 14, reference="A-14"),  # 55,000 → 5,000
            request(SKILLS, self.wuhan, 8_000, 15),  # short: 5,000 left
            request(SKILLS, self.wuhan, 5_000, 16, reference="A-16"),  # still fits: → 0
            request(SKILLS, self.wuhan, 40_000, 10, **a10),  # a replay within the batch
            request(SKILLS, self.jiangan, 20_000, 17, reference="A-10"),  # on another fund
            request(EMPLOYMENT, self.wuhan, 25_000, 18),  # short: 20,000 left
            request(SKILLS, self.jiangan, 7_000, 19, memo=long_memo),  # 20,000 → 13,000
            request(EMPLOYMENT, self.jiangan, 1, 20),  # a fund never opened
            request(SKILLS, self.wuhan, 1, 21),  # short: 0 left
            request(EMPLOYMENT, self.wuhan, 20_000, 22, reference="E-22"),  # all that is left
            request(SKILLS, self.yichang, 1, 23, reference="A-14"),  # scope before reference
            request(SKILLS, self.wuhan, 1, 24, reference="A-14"),  # same fund, other claim
            request("lottery", self.wuhan, 0, 25),  # the amount before the source
            request("lottery", self.yichang, 0, 26),  # the scope before both
        ]

        results = self.assert_as_one_by_one(requests, self.finance)

        codes = [r.code if isinstance(r, DomainError) else "" for r in results]
        self.assertEqual(
            codes,
            ["", "not_found"]
            + ["invalid_amount"] * 5
            + ["invalid_input", "", "reference_reused", "", "", "insufficient_funds", ""]
            + ["", "reference_reused", "insufficient_funds", "", "insufficient_funds"]
            + ["insufficient_funds", "", "not_found", "reference_reused"]
            + ["invalid_amount", "not_found"],
        )
        self.assertEqual(results[8].pk, self.existing.pk)
        self.assertIs(results[14], results[0])
        short = results[12]
        self.assertIsInstance(short, InsufficientFunds)
        self.assertEqual((short.balance_fen, short.amount_fen), (5_000, 8_000))
        self.assertIn("¥50.00", str(short.message))
        self.assertIn("¥30.00", str(short.message))  # short by
        never_opened = results[18]
        self.assertIn("江岸区", str(never_opened.message))
        self.assertFalse(FundAccount.objects.filter(source=EMPLOYMENT, region=self.jiangan))
        self.assertEqual(results[17].memo, long_memo.strip()[:500])
        self.assertEqual(
            [a for a in FundAccount.objects.filter(kind="available") if account_balance(a) < 0],
            [],
        )
        out = StringIO()
        call_command("check_ledger", stdout=out)
        self.assertIn("; 0 problems", out.getvalue())

    def test_system_code_needs_no_role(self) -> None:
        requests = [
            request(SKILLS, self.yichang, 60_000, 30, reference="Y-30"),
            request(SKILLS, self.wuhan, 1_000, 31),
            request(SKILLS, self.yichang, 60_000, 32),
            request(SKILLS, self.yichang, 40_000, 33),
        ]
        results = self.assert_as_one_by_one(requests, None)
        self.assertEqual(
            [r.code if isinstance(r, DomainError) else "" for r in results],
            ["", "", "insufficient_funds", ""],
        )
        self.assertIsNone(results[0].created_by)

    def test_an_officer_without_the_role_is_refused_everything(self) -> None:
        requests = [request(SKILLS, self.wuhan, 1_000, 40), request(SKILLS, self.yichang, 1, 41)]
        results = self.assert_as_one_by_one(requests, self.city_officer)
        self.assertEqual([r.code for r in results], ["not_allowed", "not_allowed"])
        results = self.assert_as_one_by_one(requests, self.finance_yichang)
        self.assertEqual(
            [r.code if isinstance(r, DomainError) else "" for r in results], ["not_found", ""]
        )

    def test_a_fund_missing_its_committed_account_is_opened_as_one_by_one_does(self) -> None:
        services.allocate_budget(source=EMPLOYMENT, region=self.jiangan, amount_fen=9, by=None)
        FundAccount.objects.get(source=EMPLOYMENT, region=self.jiangan, kind="committed").delete()
        results = self.assert_as_one_by_one(
            [request(EMPLOYMENT, self.jiangan, 5, 50), request(EMPLOYMENT, self.jiangan, 5, 51)],
            self.finance,
        )
        self.assertEqual(
            [r.code if isinstance(r, DomainError) else "" for r in results],
            ["", "insufficient_funds"],
        )

    def test_queries_do_not_grow_with_the_number_of_requests(self) -> None:
        funds = [(SKILLS, self.wuhan), (EMPLOYMENT, self.wuhan), (SKILLS, self.jiangan)]

        def counted(first: int, n: int) -> int:
            requests = [request(*funds[i % 3], 1, i) for i in range(first, first + n)]
            with transaction.atomic(), CaptureQueriesContext(connection) as queries:
                results = services.commit_funds_many(requests, by=self.finance)
            self.assertTrue(all(isinstance(r, LedgerPosting) for r in results))
            return len(queries)

        small, large = counted(100, 6), counted(200, 60)
        self.assertEqual(small, large)
        # Role per region (2), the lock, the balances (no references to look up), per fund a
        # savepoint with two inserts (3 funds × 4), the audit events (by COPY on PostgreSQL,
        # which the query log does not see).
        self.assertEqual(large, 2 + 2 + 12 + (connection.vendor != "postgresql"))
        with transaction.atomic(), self.assertNumQueries(0):
            self.assertEqual(services.commit_funds_many([], by=self.finance), [])


# --- Races -----------------------------------------------------------------------------------

if TYPE_CHECKING:
    _Base = TransactionTestCase
else:
    _Base = object

ASK_FEN = 700
BUDGETS: dict[str, int] = {SKILLS: 10_000, EMPLOYMENT: 5_000}


class BulkLedgerRaceMixin(_Base):
    def setUp(self) -> None:
        self.region = make_region_tree()["420100"]
        self.finance = User.objects.create_user(username="finance", password="x-unused-password-1")
        RoleAssignment.objects.create(
            user=self.finance,
            role=Role.FINANCE_OFFICER,
            region=self.region,
            granted_at=timezone.now(),
        )
        for source, amount in BUDGETS.items():
            services.allocate_budget(
                source=source, region=self.region, amount_fen=amount, by=self.finance
            )

    def assert_never_overdrawn(self, source: str, *, exhausted: bool = True) -> None:
        """Each commitment read the balance the one before it left: the events' balances form
        one chain from the budget down, never below zero."""
        events = list(
            AuditEvent.objects.filter(
                action="subsidies.ledger.commitment",
                region_code=self.region.code,
                data__source=source,
            ).values_list("data", flat=True)
        )
        chain = sorted(
            (e["from_balance_fen"]["old"], e["from_balance_fen"]["new"]) for e in events
        )[::-1]
        self.assertEqual(chain[0][0], BUDGETS[source])
        for (_old, new), (next_old, _next_new) in itertools.pairwise(chain):
            self.assertEqual(new, next_old)
        available = FundAccount.objects.get(source=source, region=self.region, kind="available")
        self.assertEqual(account_balance(available), chain[-1][1])
        self.assertGreaterEqual(account_balance(available), 0)
        if exhausted:  # everything that fitted went in
            self.assertLess(account_balance(available), ASK_FEN)
        commitments = LedgerPosting.objects.filter(
            kind=PostingKind.COMMITMENT, source=source, region=self.region
        )
        self.assertEqual(commitments.count(), len(events))

    def test_outside_a_transaction_it_refuses_to_run(self) -> None:
        with pytest.raises(transaction.TransactionManagementError):
            services.commit_funds_many([request(SKILLS, self.region, 1, 1)], by=self.finance)
        self.assertFalse(LedgerPosting.objects.filter(kind=PostingKind.COMMITMENT).exists())

    def test_bulk_and_single_commitments_on_two_funds_never_overdraw_or_deadlock(self) -> None:
        def work(i: int) -> list[Any]:
            if i < 2:  # two bulks, the funds in opposite orders
                order = (SKILLS, EMPLOYMENT) if i == 0 else (EMPLOYMENT, SKILLS)
                requests = [
                    request(
                        order[k % 2], self.region, ASK_FEN, 1000 * i + k, reference=f"bulk-{i}-{k}"
                    )
                    for k in range(12)
                ]
                with transaction.atomic():
                    return services.commit_funds_many(requests, by=self.finance)
            results: list[Any] = []
            for k in range(4):  # single postings in between
                try:
                    results.append(
                        services.commit_funds(
                            source=(SKILLS, EMPLOYMENT)[k % 2],
                            region=self.region,
                            amount_fen=ASK_FEN,
                            application=(APP, f"{i}-{k}"),
                            by=self.finance,
                        )
                    )
                except InsufficientFunds as error:
                    results.append(error)
            return results

        results, errors = run_together(work, threads=5)

        self.assertEqual(errors, [])
        flat = [r for batch in results for r in batch]
        self.assertEqual(len(flat), 2 * 12 + 3 * 4)
        self.assertTrue(all(isinstance(r, LedgerPosting | InsufficientFunds) for r in flat))
        for source in BUDGETS:
            self.assert_never_overdrawn(source)
        made = [r for r in flat if isinstance(r, LedgerPosting)]
        self.assertEqual(len(made), 10_000 // ASK_FEN + 5_000 // ASK_FEN)
        call_command("check_ledger", stdout=StringIO())

    def test_two_bulk_finance_approvals_over_the_same_applications_commit_each_once(
        self,
    ) -> None:
        world = build_claim_world(budget_fen=2_000_00)  # ¥800 each: two fit (with setUp's ¥100)
        applications = []
        for n in range(6):
            application = submitted(world, *claimant(world, f"race-{n}"))
            _to_finance(world, application)
            applications.append(application)
        second = User.objects.create_user(username="finance-2", password="x-unused-password-1")
        RoleAssignment.objects.create(
            user=second,
            role=Role.FINANCE_OFFICER,
            region=world.regions["420100"],
            granted_at=timezone.now(),
        )
        officers = [world.finance_officer, second]
        halves = [[a.pk for a in applications[:4]], [a.pk for a in applications[2:]]]

        def approve(i: int) -> list[bulk.Outcome]:
            return bulk.approve_many(halves[i], by=officers[i], step="finance", chunk_size=2)

        results, errors = run_together(approve, threads=2)

        self.assertEqual(errors, [])
        outcomes = [o for batch in results for o in batch]
        approved = [o.application_id for o in outcomes if o.approved]
        self.assertEqual(len(approved), 2)
        self.assertEqual(len(set(approved)), 2)  # each approved by one officer only
        self.assertTrue(
            {o.code for o in outcomes if not o.approved} <= {"insufficient_funds", "stale_object"}
        )
        for application in applications:
            row = Application.objects.get(pk=application.pk)
            committed = application_committed_fen(*application_ref(row))
            commitments = LedgerPosting.objects.filter(
                kind=PostingKind.COMMITMENT, application_id=str(row.pk)
            ).count()
            if row.pk in approved:
                self.assertEqual(
                    (row.status, committed, commitments),
                    (ApplicationStatus.FINANCE_APPROVED, 800_00, 1),
                )
            else:
                self.assertEqual(
                    (row.status, committed, commitments), (ApplicationStatus.IN_PUBLICITY, 0, 0)
                )
        available = FundAccount.objects.get(
            source=SKILLS, region=world.regions["420100"], kind="available"
        )
        self.assertEqual(account_balance(available), 2_000_00 + BUDGETS[SKILLS] - 2 * 800_00)
        call_command("check_ledger", stdout=StringIO())


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class PostgresBulkLedgerRaceTests(BulkLedgerRaceMixin, TransactionTestCase):
    def test_a_reference_taken_meanwhile_sends_the_fund_one_by_one(self) -> None:
        """A concurrent transaction posts reference R on another fund and commits only once
        the bulk insert is waiting on R's unique index: the bulk's savepoint rolls back, and
        the fund's requests go one by one — R is refused, the others are committed."""
        jiangan = Region.objects.get(code="420102")
        services.allocate_budget(source=SKILLS, region=jiangan, amount_fen=1_000, by=None)
        inserted = threading.Event()

        def work(i: int) -> Any:
            if i == 0:
                with transaction.atomic():
                    services.commit_funds(
                        source=SKILLS,
                        region=jiangan,
                        amount_fen=100,
                        application=(APP, "900"),
                        reference="R",
                        by=None,
                    )
                    inserted.set()
                    deadline = time.monotonic() + 20
                    with connection.cursor() as cursor:
                        while time.monotonic() < deadline:
                            cursor.execute(
                                "SELECT count(*) FROM pg_locks WHERE NOT granted"
                                " AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                            )
                            if cursor.fetchone()[0]:
                                return "the bulk insert waited for this transaction"
                            time.sleep(0.05)
                return "nobody waited"
            assert inserted.wait(timeout=20)
            with transaction.atomic():
                return services.commit_funds_many(
                    [
                        request(SKILLS, self.region, ASK_FEN, 901, reference="B-1"),
                        request(SKILLS, self.region, ASK_FEN, 902, reference="R"),
                        request(SKILLS, self.region, ASK_FEN, 903, reference="B-3"),
                    ],
                    by=self.finance,
                )

        results, errors = run_together(work, threads=2)

        self.assertEqual(errors, [])
        self.assertIn("the bulk insert waited for this transaction", results)
        [many] = [r for r in results if not isinstance(r, str)]
        self.assertIsInstance(many[0], LedgerPosting)
        self.assertIsInstance(many[1], ReferenceReused)
        self.assertIsInstance(many[2], LedgerPosting)
        self.assertEqual(
            list(LedgerPosting.objects.filter(reference="R").values_list("region_id", flat=True)),
            [jiangan.pk],
        )
        for posting in (many[0], many[2]):
            self.assertEqual(posting.entries.count(), 2)
            self.assertEqual(
                AuditEvent.objects.filter(
                    object_type="subsidies.ledgerposting", object_id=str(posting.pk)
                ).count(),
                1,
            )
        self.assert_never_overdrawn(SKILLS, exhausted=False)
        call_command("check_ledger", stdout=StringIO())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite file database")
class SqliteBulkLedgerRaceTests(BulkLedgerRaceMixin, TransactionTestCase):
    pass
