"""Races on disbursement, with threads released together by a barrier (STYLE §11): batches
built at once over the same applications, and one return file imported several times at once.
Each application ends in exactly one payment, the ledger pays it once, no balance goes below
zero. PostgreSQL: applications move by compare-and-swap and imports of a batch are serialised
on the batch row; the SQLite file database gets the same outcome from its IMMEDIATE
transactions. The naive variant written here shows the status race is real and that the
database's one-live-payment index is what stops a second payment."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from django.db import IntegrityError, connection
from django.test import TransactionTestCase
from django.utils import timezone

from zhipei.subsidies import bankfiles, disbursement
from zhipei.subsidies.disbursement import EmptyBatch
from zhipei.subsidies.ledger_checks import find_ledger_problems
from zhipei.subsidies.models import (
    Application,
    ApplicationStatus,
    DisbursementBatch,
    FundSource,
    LedgerPosting,
    Payment,
    PaymentStatus,
)
from zhipei.subsidies.testing import build_claim_world
from zhipei.subsidies.tests.test_concurrency import run_together
from zhipei.subsidies.tests.test_disbursement import (
    AMOUNT,
    approved_application,
    fund_balances,
    read_csv,
    return_lines,
)

THREADS = 4
APPLICATIONS = 3
S = ApplicationStatus

if TYPE_CHECKING:
    _Base = TransactionTestCase
else:
    _Base = object


class PaymentRaceMixin(_Base):
    def setUp(self) -> None:
        self.world = build_claim_world()
        self.region = self.world.regions["420100"]
        self.applications = [
            approved_application(self.world, name=f"并发{i}", account=f"62220000000000{i:03d}")[0]
            for i in range(APPLICATIONS)
        ]
        self.ids = [a.pk for a in self.applications]

    def build(self, ids: list[int] | None = None) -> disbursement.BuiltBatch:
        return disbursement.build_batch(
            by=self.world.finance_officer,
            source=FundSource.SKILLS_ACCOUNT,
            region=self.region,
            application_ids=ids,
        )

    def exported_batch(self) -> tuple[DisbursementBatch, list[list[str]]]:
        batch = self.build().batch
        _name, content = disbursement.export_batch(batch, by=self.world.finance_officer)
        return batch, read_csv(content)

    def assert_ledger_sound(self) -> None:
        balances = fund_balances(self.world)
        self.assertTrue(all(balances[k] >= 0 for k in ("available", "committed", "paid")))
        self.assertEqual(find_ledger_problems().problems, [])

    # --- building ------------------------------------------------------------------------------

    def test_naive_status_check_lets_both_through_and_the_index_stops_the_second_payment(self):
        """Without compare-and-swap both threads read "approved" and both move it; only the
        partial unique index keeps the second payment out."""
        application = self.applications[0]
        batches = [
            DisbursementBatch.objects.create(
                fund_source=FundSource.SKILLS_ACCOUNT,
                fund_region=self.region,
                created_at=timezone.now(),
            )
            for _ in range(2)
        ]
        read_done = threading.Barrier(2)

        def naive(i: int) -> int:
            status = Application.objects.get(pk=application.pk).status
            read_done.wait(timeout=30)
            if status != S.FINANCE_APPROVED:
                return 0
            moved = Application.objects.filter(pk=application.pk).update(status=S.IN_BATCH)
            Payment.objects.create(
                batch=batches[i],
                application=application,
                reference=f"NAIVE-{i}",
                amount_fen=AMOUNT,
                payee_name="x",
                bank_name="x",
                account_masked="x",
                account_ciphertext=b"x",
                account_key_id="k",
                account_fingerprint="f",
                created_at=timezone.now(),
            )
            return moved

        results, errors = run_together(naive, threads=2)

        self.assertEqual(results, [1])  # the other thread moved it too, then failed to pay
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], IntegrityError)
        self.assertEqual(Payment.objects.filter(application=application).count(), 1)

    def test_batches_built_at_once_hold_each_application_once(self):
        results, errors = run_together(lambda _i: self.build(self.ids), threads=THREADS)

        self.assertTrue(all(isinstance(e, EmptyBatch) for e in errors), errors)
        self.assertGreaterEqual(len(results), 1)
        self.assertEqual(len(results) + len(errors), THREADS)
        placed = [p.application_id for built in results for p in built.batch.payments.all()]
        self.assertEqual(sorted(placed), sorted(self.ids))
        for application in self.applications:
            live = Payment.objects.filter(
                application=application, status__in=[PaymentStatus.PENDING, PaymentStatus.PAID]
            )
            self.assertEqual(live.count(), 1)
            application.refresh_from_db()
            self.assertEqual(application.status, S.IN_BATCH)
        self.assertEqual(DisbursementBatch.objects.count(), len(results))
        for built in results:
            batch = built.batch
            self.assertEqual(batch.payment_count, batch.payments.count())
            self.assertEqual(batch.total_fen, batch.payment_count * AMOUNT)

    # --- importing -----------------------------------------------------------------------------

    def test_the_same_return_file_imported_at_once_pays_once(self):
        batch, rows = self.exported_batch()
        content = bankfiles.to_csv(bankfiles.return_file_rows(return_lines(rows)))

        def import_once(_i: int) -> disbursement.ImportOutcome:
            return disbursement.import_return_file(
                batch, by=self.world.finance_officer, filename="return.csv", data=content
            )

        results, errors = run_together(import_once, threads=THREADS)

        self.assertEqual(errors, [])
        applied = [r for r in results if not r.already_imported]
        self.assertEqual(len(applied), 1)
        self.assertEqual(applied[0].paid, APPLICATIONS)
        self.assertEqual(len({r.file_import.pk for r in results}), 1)
        self.assertEqual(LedgerPosting.objects.filter(kind="payment").count(), APPLICATIONS)
        self.assertEqual(fund_balances(self.world)["paid"], APPLICATIONS * AMOUNT)
        self.assertEqual(fund_balances(self.world)["committed"], 0)
        self.assertEqual(
            set(Application.objects.filter(pk__in=self.ids).values_list("status", flat=True)),
            {S.PAID},
        )
        self.assert_ledger_sound()

    def test_two_copies_of_the_bank_answer_at_once_pay_once(self):
        """The same answer with other line ends: different bytes, same lines. One import pays,
        the other finds every payment settled and agrees."""
        batch, rows = self.exported_batch()
        crlf = bankfiles.to_csv(bankfiles.return_file_rows(return_lines(rows)))
        copies = [crlf, crlf.replace(b"\r\n", b"\n")]

        def import_copy(i: int) -> disbursement.ImportOutcome:
            return disbursement.import_return_file(
                batch, by=self.world.finance_officer, filename=f"copy{i}.csv", data=copies[i]
            )

        results, errors = run_together(import_copy, threads=2)

        self.assertEqual(errors, [])
        self.assertEqual(sorted(r.paid for r in results), [0, APPLICATIONS])
        self.assertEqual(sorted(r.unchanged for r in results), [0, APPLICATIONS])
        self.assertEqual(LedgerPosting.objects.filter(kind="payment").count(), APPLICATIONS)
        self.assertEqual(fund_balances(self.world)["paid"], APPLICATIONS * AMOUNT)
        self.assert_ledger_sound()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class PostgresPaymentRaceTests(PaymentRaceMixin, TransactionTestCase):
    pass


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite file database")
class SqlitePaymentRaceTests(PaymentRaceMixin, TransactionTestCase):
    def test_the_test_database_is_a_file(self):
        self.assertNotIn(":memory:", str(connection.settings_dict["NAME"]))
