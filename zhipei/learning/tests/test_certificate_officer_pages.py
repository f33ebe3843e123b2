"""Officer pages for completion certificates: the scoped list with its filters, one
certificate's particulars, and revocation (reason, confirmation, audit) by a labour officer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhipei.accounts.models import Role, User
from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import Course
from zhipei.learning.certificates.queries import verify_url
from zhipei.learning.certificates.services import issue_certificate, revoke_certificate
from zhipei.learning.models import CompletionCertificate
from zhipei.learning.services import enrol
from zhipei.learning.tests.certificate_helpers import CertificateWorld
from zhipei.learning.tests.helpers import make_user
from zhipei.people.models import Person
from zhipei.people.testing import make_person

LIST = "/learning/certificates/"


class OfficerCertificateWorld(CertificateWorld):
    finance: User
    operator: User

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        Person.objects.filter(pk=cls.person.pk).update(name="王小芳")
        cls.person.refresh_from_db()
        Course.objects.filter(pk=cls.other_course.pk).update(requires_test=False)
        cls.other_course.refresh_from_db()
        cls.finance = make_user("finance", role=Role.FINANCE_OFFICER, region=cls.regions["420100"])
        cls.operator = make_user(
            "operator", role=Role.PLATFORM_OPERATOR, organisation=cls.platform.organisation
        )

    def setUp(self) -> None:
        self.credit(90)
        self.report_test()
        self.certificate = issue_certificate(self.enrolment)

    def detail_url(self, certificate: CompletionCertificate | None = None) -> str:
        return f"{LIST}{(certificate or self.certificate).pk}/"

    def revoke_url(self) -> str:
        return f"{LIST}{self.certificate.pk}/revoke"

    def second_certificate(self, region_code: str = "420106", name: str = "李雷") -> Any:
        """Another learner's certificate on the safety course (no test required)."""
        person = make_person(self.regions[region_code], name=name)
        learner = make_user(f"learner-{region_code}-{person.pk}", person=person)
        enrolment = enrol(person, self.other_course, by=learner)
        self.credit(90, enrolment=enrolment)
        return issue_certificate(enrolment)


class CertificateListTests(OfficerCertificateWorld):
    def test_officer_sees_certificates_of_the_region_with_masked_holders(self) -> None:
        elsewhere = self.second_certificate("420502", name="陈静")
        self.client.force_login(self.officer)
        response = self.client.get(LIST)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn(self.certificate.number, html)
        self.assertIn("王*芳", html)
        self.assertNotIn("王小芳", html)
        self.assertNotIn(elsewhere.number, html)
        self.assertIn(self.detail_url(), html)

    def test_filter_days_at_the_ends_of_the_calendar_are_a_form_error(self) -> None:
        # "Issued to 9999-12-31" was an OverflowError (the day after it), and a 500.
        self.client.force_login(self.officer)
        for params in ({"issued_from": "0001-01-01"}, {"issued_to": "9999-12-31"}):
            response = self.client.get(LIST, params)
            self.assertContains(
                response, "Enter a day from 1900-01-01 to 2199-12-31.", status_code=422
            )

    def test_finance_officer_reads_the_list_too(self) -> None:
        self.client.force_login(self.finance)
        response = self.client.get(LIST)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.certificate.number, response.content.decode())

    def test_outsider_sees_none_of_them(self) -> None:
        self.client.force_login(self.outsider)
        response = self.client.get(LIST)
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(self.certificate.number, response.content.decode())
        self.assertIn("No certificates found", response.content.decode())

    def test_learners_and_platform_operators_are_refused(self) -> None:
        for user in (self.learner, self.operator):
            self.client.force_login(user)
            self.assertEqual(self.client.get(LIST).status_code, 403)

    def test_anonymous_visitors_are_sent_to_log_in(self) -> None:
        response = self.client.get(LIST)
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])

    def test_filters_narrow_the_list(self) -> None:
        second = self.second_certificate()
        revoke_certificate(second, reason="duplicate", by=self.officer)
        self.client.force_login(self.officer)

        def numbers(**query: str) -> set[str]:
            response = self.client.get(LIST, query)
            self.assertEqual(response.status_code, 200, response.content)
            html = response.content.decode()
            return {n for n in (self.certificate.number, second.number) if n in html}

        both = {self.certificate.number, second.number}
        self.assertEqual(numbers(), both)
        typed = self.certificate.number.replace("-", " ").lower()
        self.assertEqual(numbers(number=typed), {self.certificate.number})
        self.assertEqual(numbers(number=second.number[-8:]), {second.number})
        self.assertEqual(numbers(course="safety"), {second.number})
        self.assertEqual(numbers(platform=str(self.platform.pk)), both)
        self.assertEqual(numbers(status="revoked"), {second.number})
        self.assertEqual(numbers(status="valid"), {self.certificate.number})
        today = timezone.localdate()
        self.assertEqual(numbers(issued_from=today.isoformat(), issued_to=today.isoformat()), both)
        tomorrow = (today + timedelta(days=1)).isoformat()
        self.assertEqual(numbers(issued_from=tomorrow), set())
        yesterday = (today - timedelta(days=1)).isoformat()
        self.assertEqual(numbers(issued_to=yesterday), set())

    def test_bad_filter_values_are_field_errors(self) -> None:
        self.client.force_login(self.officer)
        response = self.client.get(LIST, {"issued_from": "2026-13-45", "status": "lost"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(set(response.context["form"].errors), {"issued_from", "status"})
        response = self.client.get(LIST, {"issued_from": "2026-05-02", "issued_to": "2026-05-01"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("issued_to", response.context["form"].errors)
        response = self.client.get(LIST, {"platform": "999999"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("platform", response.context["form"].errors)

    def test_the_query_count_does_not_grow_with_the_rows(self) -> None:
        self.client.force_login(self.officer)
        with CaptureQueriesContext(connection) as one:
            self.client.get(LIST)
        self.second_certificate()
        self.second_certificate(name="韩梅梅")
        with CaptureQueriesContext(connection) as three:
            response = self.client.get(LIST)
        self.assertEqual(response.content.decode().count('data-testid="certificate-row"'), 3)
        self.assertEqual(len(three.captured_queries), len(one.captured_queries))


class CertificateDetailTests(OfficerCertificateWorld):
    def test_officer_sees_the_particulars_and_the_verification_link(self) -> None:
        self.client.force_login(self.officer)
        response = self.client.get(self.detail_url())
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        for text in (
            self.certificate.number,
            "王*芳",
            self.course.title,
            "6-18",
            "焊工",
            "2.0",
            self.certificate.started_on.isoformat(),
            self.certificate.completed_on.isoformat(),
            self.platform.organisation.name,
            verify_url(self.certificate),
            f"{LIST}{self.certificate.pk}/pdf",
            self.revoke_url(),
        ):
            self.assertIn(text, html)
        self.assertNotIn("王小芳", html)
        self.assertNotIn(self.person.id_masked, html)

    def test_a_revoked_certificate_shows_who_revoked_it_when_and_why(self) -> None:
        revoked = revoke_certificate(
            self.certificate, reason="代学 found by case 12", by=self.officer
        )
        self.client.force_login(self.finance)
        html = self.client.get(self.detail_url()).content.decode()
        self.assertIn('id="revocation"', html)
        self.assertIn("代学 found by case 12", html)
        self.assertIn(str(self.officer), html)
        assert revoked.revoked_at is not None
        self.assertIn(timezone.localtime(revoked.revoked_at).strftime("%Y-%m-%d %H:%M"), html)
        self.assertNotIn(self.revoke_url(), html)
        self.assertNotIn(f"{LIST}{self.certificate.pk}/pdf", html)

    def test_finance_officer_gets_no_revoke_button(self) -> None:
        self.client.force_login(self.finance)
        html = self.client.get(self.detail_url()).content.decode()
        self.assertIn(self.certificate.number, html)
        self.assertNotIn(self.revoke_url(), html)

    def test_outsider_and_unknown_ids_get_404(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.detail_url()).status_code, 404)
        self.client.force_login(self.officer)
        self.assertEqual(self.client.get(f"{LIST}999999/").status_code, 404)

    def test_the_holder_and_platform_operators_get_403(self) -> None:
        for user in (self.learner, self.operator):
            self.client.force_login(user)
            self.assertEqual(self.client.get(self.detail_url()).status_code, 403)


class RevokePageTests(OfficerCertificateWorld):
    def refreshed(self) -> CompletionCertificate:
        return CompletionCertificate.objects.get(pk=self.certificate.pk)

    def test_revoking_takes_a_reason_and_a_confirmation(self) -> None:
        self.client.force_login(self.officer)
        form = self.client.get(self.revoke_url())
        self.assertEqual(form.status_code, 200)
        self.assertIn('name="reason"', form.content.decode())

        step1 = self.client.post(self.revoke_url(), {"reason": "代学 found by case 12"})
        self.assertEqual(step1.status_code, 200)
        html = step1.content.decode()
        self.assertIn('id="revoke-confirm"', html)
        self.assertIn('name="confirm" value="yes"', html)
        self.assertEqual(self.refreshed().status, CompletionCertificate.Status.VALID)
        self.assertFalse(AuditEvent.objects.filter(action="learning.certificate.revoked").exists())

        step2 = self.client.post(
            self.revoke_url(), {"reason": "代学 found by case 12", "confirm": "yes"}, follow=True
        )
        self.assertEqual(step2.redirect_chain[-1], (self.detail_url(), 302))
        certificate = self.refreshed()
        self.assertEqual(certificate.status, CompletionCertificate.Status.REVOKED)
        self.assertEqual(certificate.revocation_reason, "代学 found by case 12")
        self.assertEqual(certificate.revoked_by, self.officer)
        event = AuditEvent.objects.get(action="learning.certificate.revoked")
        self.assertEqual(
            (event.actor_id, event.object_id), (self.officer.pk, str(self.certificate.pk))
        )
        self.assertIn(f"Certificate {certificate.number} is revoked.", step2.content.decode())

    def test_a_missing_or_too_long_reason_is_a_field_error(self) -> None:
        self.client.force_login(self.officer)
        for reason in ("", "   ", "x" * 1001):
            response = self.client.post(self.revoke_url(), {"reason": reason, "confirm": "yes"})
            self.assertEqual(response.status_code, 422)
            self.assertIn("reason", response.context["form"].errors)
        self.assertEqual(self.refreshed().status, CompletionCertificate.Status.VALID)
        self.assertFalse(AuditEvent.objects.filter(action="learning.certificate.revoked").exists())

    def test_a_revoked_certificate_is_not_revoked_again(self) -> None:
        revoke_certificate(self.certificate, reason="first", by=self.officer)
        self.client.force_login(self.officer)
        response = self.client.post(self.revoke_url(), {"reason": "second", "confirm": "yes"})
        self.assertRedirects(response, self.detail_url())
        self.assertEqual(self.refreshed().revocation_reason, "first")
        self.assertEqual(
            AuditEvent.objects.filter(action="learning.certificate.revoked").count(), 1
        )

    def test_finance_officers_learners_and_operators_may_not_revoke(self) -> None:
        for user in (self.finance, self.learner, self.operator):
            self.client.force_login(user)
            self.assertEqual(self.client.get(self.revoke_url()).status_code, 403)
            response = self.client.post(self.revoke_url(), {"reason": "x", "confirm": "yes"})
            self.assertEqual(response.status_code, 403)
        self.assertEqual(self.refreshed().status, CompletionCertificate.Status.VALID)

    def test_outsider_gets_404(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.revoke_url()).status_code, 404)
        response = self.client.post(self.revoke_url(), {"reason": "x", "confirm": "yes"})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.refreshed().status, CompletionCertificate.Status.VALID)

    def test_a_post_without_the_csrf_token_is_refused(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.officer)
        response = client.post(self.revoke_url(), {"reason": "x", "confirm": "yes"})
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self.refreshed().status, CompletionCertificate.Status.VALID)
