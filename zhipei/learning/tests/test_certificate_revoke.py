"""Revoking a completion certificate: labour officer in scope, reason required,
compare-and-swap, audited; a revoked enrolment is not issued again automatically."""

from __future__ import annotations

from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput, NotAllowed, NotInScope
from zhipei.learning.certificates import rules
from zhipei.learning.certificates.rules import CertificateRefused
from zhipei.learning.certificates.services import (
    issue_certificate,
    issue_due_certificates,
    revoke_certificate,
)
from zhipei.learning.models import CompletionCertificate
from zhipei.learning.tests.certificate_helpers import CertificateWorld


class RevokeTests(CertificateWorld):
    def setUp(self) -> None:
        self.credit(90)
        self.report_test()
        self.certificate = issue_certificate(self.enrolment)

    def test_officer_in_scope_revokes_with_reason(self) -> None:
        revoked = revoke_certificate(
            self.certificate, reason="  代学 found by case 12 ", by=self.officer
        )
        self.assertEqual(revoked.status, CompletionCertificate.Status.REVOKED)
        self.assertIsNotNone(revoked.revoked_at)
        self.assertEqual(revoked.revoked_by, self.officer)
        self.assertEqual(revoked.revocation_reason, "代学 found by case 12")
        event = AuditEvent.objects.get(action="learning.certificate.revoked")
        self.assertEqual(event.actor_id, self.officer.pk)
        self.assertEqual(event.object_id, str(self.certificate.pk))
        self.assertEqual(event.region_code, "420102")

    def test_reason_is_required(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            revoke_certificate(self.certificate, reason="   ", by=self.officer)
        self.assertEqual(caught.exception.field, "reason")
        with self.assertRaises(InvalidInput):
            revoke_certificate(self.certificate, reason="x" * 1001, by=self.officer)
        self.certificate.refresh_from_db()
        self.assertEqual(self.certificate.status, CompletionCertificate.Status.VALID)

    def test_outsider_and_learner_cannot_revoke(self) -> None:
        with self.assertRaises(NotInScope):
            revoke_certificate(self.certificate, reason="x", by=self.outsider)
        with self.assertRaises(NotAllowed):
            revoke_certificate(self.certificate, reason="x", by=self.learner)
        self.certificate.refresh_from_db()
        self.assertEqual(self.certificate.status, CompletionCertificate.Status.VALID)
        self.assertFalse(AuditEvent.objects.filter(action="learning.certificate.revoked").exists())

    def test_stale_copy_revoked_twice_changes_nothing(self) -> None:
        stale = CompletionCertificate.objects.get(pk=self.certificate.pk)
        first = revoke_certificate(self.certificate, reason="first", by=self.officer)
        second = revoke_certificate(stale, reason="second", by=self.officer)
        self.assertEqual(second.revocation_reason, "first")
        self.assertEqual(second.revoked_at, first.revoked_at)
        self.assertEqual(
            AuditEvent.objects.filter(action="learning.certificate.revoked").count(), 1
        )

    def test_revoked_enrolment_is_not_issued_again(self) -> None:
        revoke_certificate(self.certificate, reason="fraud", by=self.officer)
        with self.assertRaises(CertificateRefused) as caught:
            issue_certificate(self.enrolment)
        self.assertEqual(caught.exception.codes, [rules.REVOKED_BEFORE])
        self.assertEqual(issue_due_certificates().checked, 0)
        self.assertEqual(CompletionCertificate.objects.count(), 1)
