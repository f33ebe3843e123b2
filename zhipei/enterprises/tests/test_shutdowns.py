"""Shutdown declarations: every transition allowed and refused, checks, and shutdown_on."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from zhipei.audit.models import AuditEvent
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.enterprises import queries, services
from zhipei.enterprises.models import ShutdownDeclaration
from zhipei.enterprises.tests.helpers import EnterpriseTestCase, pdf

S = ShutdownDeclaration.Status


class DeclareTests(EnterpriseTestCase):
    def test_admin_drafts_a_full_shutdown_with_audit(self):
        declaration = self.declare(evidence=False)
        self.assertEqual(declaration.status, S.DRAFT)
        self.assertIsNone(declaration.affected_employee_count)
        self.assertTrue(
            AuditEvent.objects.filter(
                action="enterprises.shutdown.created", object_id=str(declaration.pk)
            ).exists()
        )

    def test_partial_shutdown_needs_affected_count(self):
        with self.assertRaises(InvalidInput) as caught:
            self.declare(kind="partial", affected=None)
        self.assertEqual(caught.exception.field, "affected_employee_count")
        declaration = self.declare(kind="partial", affected=12)
        self.assertEqual(declaration.affected_employee_count, 12)

    def test_affected_count_cannot_exceed_employees(self):
        with self.assertRaises(InvalidInput) as caught:
            self.declare(kind="partial", affected=51)
        self.assertIn("50", str(caught.exception.message))

    def test_full_shutdown_ignores_affected_count(self):
        self.assertIsNone(self.declare(kind="full", affected=5).affected_employee_count)

    def test_bad_period_kind_and_cause_are_refused(self):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"ends_on": date(2026, 1, 31)}, "ends_on"),
            ({"ends_on": date(2027, 3, 1)}, "ends_on"),
            ({"kind": "sideways"}, "kind"),
            ({"cause": "boredom"}, "cause"),
            ({"cause": "other", "cause_detail": "  "}, "cause_detail"),
        ]
        for change, field in cases:
            values: dict[str, Any] = {
                "kind": "full",
                "starts_on": date(2026, 2, 1),
                "ends_on": date(2026, 2, 28),
                "cause": "epidemic",
                "cause_detail": "",
                **change,
            }
            with self.subTest(change=change), self.assertRaises(InvalidInput) as caught:
                services.create_declaration(self.enterprise, by=self.admin, **values)
            self.assertEqual(caught.exception.field, field)
        self.assertFalse(ShutdownDeclaration.objects.exists())

    def test_only_the_enterprises_own_admin_declares(self):
        kwargs: dict[str, Any] = {
            "kind": "full",
            "starts_on": date(2026, 2, 1),
            "ends_on": date(2026, 2, 2),
            "cause": "epidemic",
        }
        with self.assertRaises(NotInScope):
            services.create_declaration(self.enterprise, by=self.other_admin, **kwargs)
        for user in (self.officer, self.learner):
            with self.subTest(user=user.username), self.assertRaises(NotAllowed):
                services.create_declaration(self.enterprise, by=user, **kwargs)

    def test_update_only_while_draft_or_returned(self):
        declaration = self.declare()
        updated = services.update_declaration(
            declaration,
            kind="partial",
            starts_on=date(2026, 2, 3),
            ends_on=date(2026, 2, 10),
            cause="other",
            cause_detail="Flood in the workshop",
            affected_employee_count=7,
            by=self.admin,
        )
        self.assertEqual((updated.kind, updated.affected_employee_count), ("partial", 7))
        submitted = services.submit_declaration(updated, by=self.admin)
        with self.assertRaises(TransitionNotAllowed):
            services.update_declaration(
                submitted,
                kind="full",
                starts_on=date(2026, 2, 3),
                ends_on=date(2026, 2, 10),
                cause="epidemic",
                by=self.admin,
            )


class EvidenceTests(EnterpriseTestCase):
    def test_evidence_is_checked_by_content(self):
        declaration = self.declare(evidence=False)
        fake = SimpleUploadedFile("order.pdf", b"just text, not a PDF")
        with self.assertRaises(InvalidInput) as caught:
            services.add_evidence(declaration, fake, by=self.admin)
        self.assertEqual(caught.exception.field, "file")
        evidence = services.add_evidence(declaration, pdf(), description="Order", by=self.admin)
        self.assertEqual(evidence.content_type, "application/pdf")
        self.assertTrue(evidence.file.name.split("/")[-1].startswith(evidence.sha256))

    def test_evidence_cannot_change_after_submission(self):
        declaration = self.submitted()
        with self.assertRaises(TransitionNotAllowed):
            services.add_evidence(declaration, pdf(), by=self.admin)
        with self.assertRaises(TransitionNotAllowed):
            services.remove_evidence(declaration.evidence.get(), by=self.admin)

    def test_remove_evidence_from_draft(self):
        declaration = self.declare()
        services.remove_evidence(declaration.evidence.get(), by=self.admin)
        self.assertFalse(declaration.evidence.exists())


class TransitionTests(EnterpriseTestCase):
    def test_submit_needs_evidence(self):
        declaration = self.declare(evidence=False)
        with self.assertRaises(InvalidInput) as caught:
            services.submit_declaration(declaration, by=self.admin)
        self.assertEqual(caught.exception.field, "evidence")

    def test_draft_to_submitted_to_confirmed(self):
        declaration = self.submitted()
        self.assertEqual(declaration.status, S.SUBMITTED)
        self.assertIsNotNone(declaration.submitted_at)
        declaration = services.confirm_declaration(declaration, by=self.officer, note="ok")
        self.assertEqual(declaration.status, S.CONFIRMED)
        self.assertEqual(declaration.decided_by, self.officer)
        actions = list(
            AuditEvent.objects.filter(object_id=str(declaration.pk))
            .filter(action__startswith="enterprises.shutdown.")
            .values_list("action", flat=True)
        )
        self.assertIn("enterprises.shutdown.submitted", actions)
        self.assertIn("enterprises.shutdown.confirmed", actions)

    def test_returned_then_resubmitted(self):
        declaration = services.return_declaration(
            self.submitted(), by=self.officer, note="Add the government order"
        )
        self.assertEqual(declaration.status, S.RETURNED)
        self.assertEqual(declaration.decision_note, "Add the government order")
        services.add_evidence(declaration, pdf("order2.pdf"), by=self.admin)
        declaration = services.submit_declaration(declaration, by=self.admin)
        self.assertEqual(declaration.status, S.SUBMITTED)

    def test_return_and_reject_need_a_note(self):
        declaration = self.submitted()
        for service in (services.return_declaration, services.reject_declaration):
            with self.subTest(service=service.__name__), self.assertRaises(InvalidInput):
                service(declaration, by=self.officer, note=" ")
        declaration.refresh_from_db()
        self.assertEqual(declaration.status, S.SUBMITTED)

    def test_rejected(self):
        declaration = services.reject_declaration(self.submitted(), by=self.officer, note="No")
        self.assertEqual(declaration.status, S.REJECTED)

    def test_withdraw_from_draft_submitted_and_returned(self):
        draft = self.declare()
        self.assertEqual(services.withdraw_declaration(draft, by=self.admin).status, S.WITHDRAWN)
        submitted = self.submitted(starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 5))
        self.assertEqual(
            services.withdraw_declaration(submitted, by=self.admin).status, S.WITHDRAWN
        )
        returned = services.return_declaration(
            self.submitted(starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 5)),
            by=self.officer,
            note="fix",
        )
        self.assertEqual(services.withdraw_declaration(returned, by=self.admin).status, S.WITHDRAWN)

    def test_terminal_states_refuse_every_move(self):
        confirmed = self.confirmed()
        rejected = services.reject_declaration(
            self.submitted(starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 5)),
            by=self.officer,
            note="no",
        )
        withdrawn = services.withdraw_declaration(self.declare(), by=self.admin)
        for declaration in (confirmed, rejected, withdrawn):
            moves = [
                lambda d: services.submit_declaration(d, by=self.admin),
                lambda d: services.withdraw_declaration(d, by=self.admin),
                lambda d: services.confirm_declaration(d, by=self.officer),
                lambda d: services.return_declaration(d, by=self.officer, note="x"),
                lambda d: services.reject_declaration(d, by=self.officer, note="x"),
            ]
            replay = {"confirmed": 2, "rejected": 4, "withdrawn": 1}[declaration.status]
            for index, move in enumerate(moves):
                with self.subTest(status=declaration.status, move=index):
                    if index == replay:
                        # The same move again is a replay: returned unchanged.
                        self.assertEqual(move(declaration).status, declaration.status)
                    else:
                        with self.assertRaises(TransitionNotAllowed):
                            move(declaration)

    def test_officer_decisions_refused_on_draft_and_returned(self):
        draft = self.declare()
        returned = services.return_declaration(
            self.submitted(starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 5)),
            by=self.officer,
            note="fix",
        )
        for declaration in (draft, returned):
            with self.subTest(status=declaration.status):
                with self.assertRaises(TransitionNotAllowed):
                    services.confirm_declaration(declaration, by=self.officer)
                with self.assertRaises(TransitionNotAllowed):
                    services.reject_declaration(declaration, by=self.officer, note="x")

    def test_replay_returns_unchanged_without_second_audit_event(self):
        declaration = self.confirmed()
        again = services.confirm_declaration(declaration, by=self.officer)
        self.assertEqual(again.status, S.CONFIRMED)
        self.assertEqual(
            AuditEvent.objects.filter(
                action="enterprises.shutdown.confirmed", object_id=str(declaration.pk)
            ).count(),
            1,
        )

    def test_stale_copy_is_refused(self):
        declaration = self.submitted()
        stale = ShutdownDeclaration.objects.get(pk=declaration.pk)
        services.reject_declaration(declaration, by=self.officer, note="no")
        with self.assertRaises(StaleObject):
            services.confirm_declaration(stale, by=self.officer)
        declaration.refresh_from_db()
        self.assertEqual(declaration.status, S.REJECTED)

    def test_double_submit_from_stale_copy_is_a_replay(self):
        declaration = self.declare()
        copy = ShutdownDeclaration.objects.get(pk=declaration.pk)
        services.submit_declaration(declaration, by=self.admin)
        self.assertEqual(services.submit_declaration(copy, by=self.admin).status, S.SUBMITTED)

    def test_officer_scope_and_roles(self):
        declaration = self.submitted()
        with self.assertRaises(NotInScope):
            services.confirm_declaration(declaration, by=self.outsider)
        for user in (self.finance, self.admin, self.learner):
            with self.subTest(user=user.username), self.assertRaises(NotAllowed):
                services.confirm_declaration(declaration, by=user)
        with self.assertRaises(NotInScope):
            services.withdraw_declaration(declaration, by=self.other_admin)

    def test_overlapping_live_declaration_is_refused_at_submit(self):
        self.confirmed(starts_on=date(2026, 2, 1), ends_on=date(2026, 2, 28))
        overlapping = self.declare(starts_on=date(2026, 2, 28), ends_on=date(2026, 3, 10))
        with self.assertRaises(Conflict):
            services.submit_declaration(overlapping, by=self.admin)
        after = self.declare(starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 10))
        self.assertEqual(services.submit_declaration(after, by=self.admin).status, S.SUBMITTED)


class EndEarlyTests(EnterpriseTestCase):
    def test_admin_ends_a_confirmed_shutdown_early(self):
        declaration = services.end_declaration_early(
            self.confirmed(), ended_on=date(2026, 2, 10), reason="Work resumed", by=self.admin
        )
        self.assertEqual(declaration.ended_early_on, date(2026, 2, 10))
        self.assertEqual(declaration.effective_ends_on, date(2026, 2, 10))
        again = services.end_declaration_early(
            declaration, ended_on=date(2026, 2, 10), reason="Work resumed", by=self.admin
        )
        self.assertEqual(again.ended_early_on, date(2026, 2, 10))
        with self.assertRaises(Conflict):
            services.end_declaration_early(
                declaration, ended_on=date(2026, 2, 9), reason="x", by=self.admin
            )

    def test_officer_in_scope_may_end_early_outsider_may_not(self):
        declaration = self.confirmed()
        with self.assertRaises(NotInScope):
            services.end_declaration_early(
                declaration, ended_on=date(2026, 2, 5), reason="x", by=self.outsider
            )
        with self.assertRaises(NotInScope):
            services.end_declaration_early(
                declaration, ended_on=date(2026, 2, 5), reason="x", by=self.other_admin
            )
        done = services.end_declaration_early(
            declaration, ended_on=date(2026, 2, 5), reason="Inspection", by=self.officer
        )
        self.assertEqual(done.ended_by, self.officer)

    def test_early_end_date_and_reason_checked(self):
        declaration = self.confirmed()
        for ended_on in (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 5)):
            with self.subTest(ended_on=ended_on), self.assertRaises(InvalidInput):
                services.end_declaration_early(
                    declaration, ended_on=ended_on, reason="x", by=self.admin
                )
        with self.assertRaises(InvalidInput):
            services.end_declaration_early(
                declaration, ended_on=date(2026, 2, 1), reason="", by=self.admin
            )

    def test_only_confirmed_can_end_early(self):
        with self.assertRaises(TransitionNotAllowed):
            services.end_declaration_early(
                self.submitted(), ended_on=date(2026, 2, 5), reason="x", by=self.admin
            )


class ShutdownOnTests(EnterpriseTestCase):
    def test_covers_first_and_last_day_only_when_confirmed(self):
        submitted = self.submitted()
        self.assertIsNone(queries.shutdown_on(self.enterprise, date(2026, 2, 10)))
        confirmed = services.confirm_declaration(submitted, by=self.officer)
        for day, expected in [
            (date(2026, 1, 31), None),
            (date(2026, 2, 1), confirmed),
            (date(2026, 2, 28), confirmed),
            (date(2026, 3, 1), None),
        ]:
            with self.subTest(day=day):
                self.assertEqual(queries.shutdown_on(self.enterprise, day), expected)
        self.assertIsNone(queries.shutdown_on(self.other_enterprise, date(2026, 2, 10)))

    def test_early_end_shortens_the_covered_period(self):
        declaration = services.end_declaration_early(
            self.confirmed(), ended_on=date(2026, 2, 10), reason="resumed", by=self.admin
        )
        self.assertEqual(queries.shutdown_on(self.enterprise, date(2026, 2, 10)), declaration)
        self.assertIsNone(queries.shutdown_on(self.enterprise, date(2026, 2, 11)))

    def test_rejected_and_withdrawn_never_count(self):
        services.reject_declaration(self.submitted(), by=self.officer, note="no")
        self.assertIsNone(queries.shutdown_on(self.enterprise, date(2026, 2, 10)))
