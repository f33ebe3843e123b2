"""The fund ledger: allocation, commitment, payment, release, reversal; balanced pairs; no
overspending; no double payment; permissions; immutability; check_ledger."""

from __future__ import annotations

from io import StringIO

from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput, NotAllowed, NotInScope
from zhipei.subsidies import services
from zhipei.subsidies.errors import InsufficientFunds, InvalidAmount, ReferenceReused
from zhipei.subsidies.models import FundAccount, FundSource, LedgerEntry, LedgerPosting
from zhipei.subsidies.queries import application_committed_fen, fund_summaries_for
from zhipei.subsidies.tests.helpers import SubsidiesTestCase

SKILLS = FundSource.SKILLS_ACCOUNT
APP = ("subsidies.subsidyapplication", "17")
APP2 = ("subsidies.subsidyapplication", "18")


class LedgerTestCase(SubsidiesTestCase):
    def allocate(self, amount_fen=100_000, **kw):
        return services.allocate_budget(
            source=SKILLS, region=self.wuhan, amount_fen=amount_fen, by=self.finance, **kw
        )

    def commit(self, amount_fen, application=APP, **kw):
        return services.commit_funds(
            source=SKILLS,
            region=self.wuhan,
            amount_fen=amount_fen,
            application=application,
            by=self.finance,
            **kw,
        )

    def pay(self, amount_fen, reference, application=APP):
        return services.pay_commitment(
            source=SKILLS,
            region=self.wuhan,
            amount_fen=amount_fen,
            application=application,
            reference=reference,
            by=self.finance,
        )

    def summary(self):
        [summary] = [s for s in fund_summaries_for(self.finance) if s.source == SKILLS]
        return summary

    def figures(self):
        s = self.summary()
        return (s.allocated_fen, s.available_fen, s.committed_fen, s.paid_fen)


class PostingTests(LedgerTestCase):
    def test_allocation_commitment_payment_release_move_money_between_accounts(self):
        self.allocate(100_000)
        self.assertEqual(self.figures(), (100_000, 100_000, 0, 0))
        self.commit(30_000)
        self.commit(20_000, application=APP2)
        self.assertEqual(self.figures(), (100_000, 50_000, 50_000, 0))
        self.pay(30_000, "BANK-0001")
        self.assertEqual(self.figures(), (100_000, 50_000, 20_000, 30_000))
        services.release_commitment(
            source=SKILLS, region=self.wuhan, amount_fen=20_000, application=APP2, by=self.finance
        )
        self.assertEqual(self.figures(), (100_000, 70_000, 0, 30_000))

    def test_every_posting_is_a_balanced_pair_of_entries(self):
        self.allocate(100_000)
        posting = self.commit(30_000)
        entries = sorted(posting.entries.values_list("account__kind", "amount_fen"))
        self.assertEqual(entries, [("available", -30_000), ("committed", 30_000)])
        for p in LedgerPosting.objects.all():
            self.assertEqual(sum(p.entries.values_list("amount_fen", flat=True)), 0)

    def test_overspending_is_refused_with_the_figures(self):
        self.allocate(100_000)
        self.commit(80_000)
        with self.assertRaises(InsufficientFunds) as caught:
            self.commit(30_000, application=APP2)
        message = str(caught.exception.message)
        self.assertIn("¥200.00", message)  # available
        self.assertIn("¥300.00", message)  # asked
        self.assertIn("¥100.00", message)  # short by
        self.assertEqual(self.figures(), (100_000, 20_000, 80_000, 0))
        self.assertEqual(LedgerPosting.objects.count(), 2)

    def test_committing_from_an_empty_fund_is_refused(self):
        with self.assertRaises(InsufficientFunds):
            self.commit(1)

    def test_a_payment_cannot_exceed_the_applications_commitment(self):
        self.allocate(100_000)
        self.commit(30_000)
        self.commit(30_000, application=APP2)
        with self.assertRaises(InsufficientFunds):
            self.pay(30_001, "BANK-0002")
        self.pay(30_000, "BANK-0002")
        with self.assertRaises(InsufficientFunds):
            self.pay(1, "BANK-0003")
        self.assertEqual(application_committed_fen(*APP), 0)
        self.assertEqual(application_committed_fen(*APP2), 30_000)

    def test_a_replayed_payment_returns_the_first_posting(self):
        self.allocate(100_000)
        self.commit(30_000)
        first = self.pay(30_000, "BANK-0001")
        again = self.pay(30_000, " BANK-0001 ")
        self.assertEqual(first.pk, again.pk)
        self.assertEqual(self.figures(), (100_000, 70_000, 0, 30_000))
        self.assertEqual(AuditEvent.objects.filter(action="subsidies.ledger.payment").count(), 1)

    def test_a_payment_reference_is_never_used_for_another_payment(self):
        self.allocate(100_000)
        self.commit(30_000)
        self.commit(30_000, application=APP2)
        self.pay(30_000, "BANK-0001")
        with self.assertRaises(ReferenceReused):
            self.pay(30_000, "BANK-0001", application=APP2)
        self.assertEqual(self.summary().paid_fen, 30_000)

    def test_a_payment_needs_a_reference(self):
        self.allocate(100_000)
        self.commit(30_000)
        with self.assertRaises(InvalidInput):
            self.pay(30_000, "  ")

    def test_bad_amounts_are_refused(self):
        for amount in (0, -5, 10**15, 12.5, True, "100"):
            with self.subTest(amount=amount), self.assertRaises(InvalidAmount):
                self.allocate(amount)
        self.assertFalse(LedgerPosting.objects.exists())

    def test_unknown_fund_source_is_refused(self):
        with self.assertRaises(InvalidInput):
            services.allocate_budget(
                source="lottery", region=self.wuhan, amount_fen=1, by=self.finance
            )

    def test_allocation_retry_with_the_same_reference_is_a_no_op(self):
        self.allocate(100_000, reference="财〔2020〕5号-420100")
        self.allocate(100_000, reference="财〔2020〕5号-420100")
        self.assertEqual(self.summary().allocated_fen, 100_000)
        with self.assertRaises(ReferenceReused):
            self.allocate(50_000, reference="财〔2020〕5号-420100")

    def test_only_finance_officers_in_scope_post(self):
        with self.assertRaises(NotAllowed):
            services.allocate_budget(
                source=SKILLS, region=self.wuhan, amount_fen=1, by=self.city_officer
            )
        with self.assertRaises(NotInScope):
            services.allocate_budget(
                source=SKILLS, region=self.wuhan, amount_fen=1, by=self.finance_yichang
            )
        with self.assertRaises(NotInScope):
            services.allocate_budget(
                source=SKILLS, region=self.hubei, amount_fen=1, by=self.finance
            )
        services.allocate_budget(source=SKILLS, region=self.jiangan, amount_fen=1, by=self.finance)

    def test_postings_are_audited_with_balances(self):
        self.allocate(100_000)
        posting = self.commit(30_000)
        event = AuditEvent.objects.get(action="subsidies.ledger.commitment")
        self.assertEqual(event.object_id, str(posting.pk))
        self.assertEqual(event.actor_id, self.finance.pk)
        self.assertEqual(event.region_code, "420100")
        self.assertEqual(event.data["from_balance_fen"], {"old": 100_000, "new": 70_000})
        self.assertEqual(event.data["application"], list(APP))


class ReversalTests(LedgerTestCase):
    def test_reversing_a_payment_puts_the_money_back_in_committed(self):
        self.allocate(100_000)
        self.commit(30_000)
        payment = self.pay(30_000, "BANK-0001")
        reversal = services.reverse_posting(payment, by=self.finance, memo="银行退票")
        self.assertEqual(reversal.reverses, payment)
        self.assertEqual(reversal.kind, "reversal")
        self.assertEqual(self.figures(), (100_000, 70_000, 30_000, 0))
        self.assertEqual(application_committed_fen(*APP), 30_000)

    def test_a_posting_is_reversed_once(self):
        self.allocate(100_000)
        posting = self.commit(30_000)
        first = services.reverse_posting(posting, by=self.finance, memo="错误")
        again = services.reverse_posting(posting, by=self.finance, memo="错误")
        self.assertEqual(first.pk, again.pk)
        self.assertEqual(self.figures(), (100_000, 100_000, 0, 0))

    def test_a_reversal_is_not_reversed_and_needs_a_reason(self):
        posting = self.allocate(100_000)
        with self.assertRaises(InvalidInput):
            services.reverse_posting(posting, by=self.finance, memo=" ")
        reversal = services.reverse_posting(posting, by=self.finance, memo="重复下达")
        with self.assertRaises(InvalidInput):
            services.reverse_posting(reversal, by=self.finance, memo="again")

    def test_money_that_moved_on_cannot_be_reversed(self):
        self.allocate(100_000)
        commitment = self.commit(30_000)
        self.pay(30_000, "BANK-0001")
        with self.assertRaises(InsufficientFunds):
            services.reverse_posting(commitment, by=self.finance, memo="x")

    def test_reversing_an_allocation_that_is_committed_is_refused(self):
        allocation = self.allocate(100_000)
        self.commit(30_000)
        with self.assertRaises(InsufficientFunds):
            services.reverse_posting(allocation, by=self.finance, memo="x")


class ImmutabilityTests(LedgerTestCase):
    def test_entries_and_postings_cannot_be_updated(self):
        posting = self.allocate(100_000)
        entry = posting.entries.first()
        with self.assertRaises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.filter(pk=entry.pk).update(amount_fen=5)
        with self.assertRaises(IntegrityError), transaction.atomic():
            LedgerPosting.objects.filter(pk=posting.pk).update(memo="changed")
        self.assertEqual(self.summary().available_fen, 100_000)

    def test_entries_cannot_be_deleted_on_postgresql(self):
        if connection.vendor != "postgresql":
            self.skipTest("DELETE is refused by a trigger on PostgreSQL only (see migration 0002)")
        posting = self.allocate(100_000)
        with self.assertRaises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.filter(posting=posting).delete()

    def test_zero_entries_are_refused_by_the_database(self):
        posting = self.allocate(100_000)
        account = FundAccount.objects.get(source=SKILLS, region=self.wuhan, kind="paid")
        with self.assertRaises(IntegrityError), transaction.atomic():
            LedgerEntry.objects.create(posting=posting, account=account, amount_fen=0)


def write_behind_the_services_back():
    """Let a test write broken entries: on PostgreSQL the deferred balance trigger would refuse
    them when TestCase checks deferred constraints; the ALTER is rolled back with the test."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Fire the checks already queued (they pass), then switch the trigger off.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "ALTER TABLE subsidies_ledgerentry DISABLE TRIGGER subsidies_posting_balanced"
            )


class CheckLedgerTests(LedgerTestCase):
    def test_a_healthy_ledger_passes(self):
        self.allocate(100_000)
        self.commit(30_000)
        self.pay(30_000, "BANK-0001")
        out = StringIO()
        call_command("check_ledger", stdout=out)
        self.assertIn("3 postings, 6 entries, 4 accounts checked; 0 problems", out.getvalue())

    def test_an_unbalanced_posting_and_a_negative_balance_are_reported(self):
        posting = self.allocate(100_000)
        available = FundAccount.objects.get(source=SKILLS, region=self.wuhan, kind="available")
        paid = FundAccount.objects.get(source=SKILLS, region=self.wuhan, kind="paid")
        write_behind_the_services_back()
        LedgerEntry.objects.create(posting=posting, account=available, amount_fen=-150_000)
        LedgerEntry.objects.create(posting=posting, account=paid, amount_fen=1)
        err = StringIO()
        with self.assertRaises(CommandError) as caught:
            call_command("check_ledger", stdout=StringIO(), stderr=err)
        self.assertIn("2 problems", str(caught.exception))
        self.assertIn(
            f"posting {posting.pk} (budget_allocation): 4 entries summing to -149999",
            err.getvalue(),
        )
        self.assertIn("balance -50000 fen < 0", err.getvalue())

    def test_overpaid_application_and_foreign_account_are_reported(self):
        self.allocate(100_000)
        services.allocate_budget(source=SKILLS, region=self.jiangan, amount_fen=5, by=self.finance)
        posting = self.commit(30_000)
        committed = FundAccount.objects.get(source=SKILLS, region=self.wuhan, kind="committed")
        foreign = FundAccount.objects.get(source=SKILLS, region=self.jiangan, kind="paid")
        write_behind_the_services_back()
        LedgerEntry.objects.create(posting=posting, account=committed, amount_fen=-40_000)
        LedgerEntry.objects.create(posting=posting, account=foreign, amount_fen=40_000)
        err = StringIO()
        with self.assertRaises(CommandError):
            call_command("check_ledger", stdout=StringIO(), stderr=err)
        self.assertIn("is on another fund's account", err.getvalue())
        self.assertIn("more paid or released than committed (-10000 fen)", err.getvalue())


class PostingCostTests(LedgerTestCase):
    def test_a_commitment_takes_a_fixed_small_number_of_queries(self):
        self.allocate(100_000)
        with self.assertNumQueries(11):
            # savepoint, finance role check, the fund's accounts, lock, balance, savepoint +
            # posting insert + release, entries insert, audit event, release savepoint
            self.commit(30_000)
