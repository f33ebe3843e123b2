"""Issuing completion certificates: the rules (hours, test, holds, withdrawn, revoked before),
idempotence, the number and token, the audit event, and the periodic task."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from zhipei.audit.models import AuditEvent
from zhipei.core.errors import NotAllowed, NotInScope
from zhipei.learning.certificates import rules
from zhipei.learning.certificates.numbers import parse_number
from zhipei.learning.certificates.rules import CertificateRefused
from zhipei.learning.certificates.services import issue_certificate, issue_due_certificates
from zhipei.learning.certificates.tasks import issue_due_certificates as issue_due_task
from zhipei.learning.models import CompletionCertificate, CreditingPolicy, Enrolment
from zhipei.learning.services import enrol
from zhipei.learning.tests.certificate_helpers import CertificateWorld
from zhipei.learning.tests.helpers import SHANGHAI, T0, make_user
from zhipei.lrs_documents import profile
from zhipei.orgs.services import place_hold as place_organisation_hold
from zhipei.people.services import lift_hold, place_hold
from zhipei.people.testing import make_person

# The course has 2 class hours; the default policy counts 45 minutes a class hour.
ENOUGH = 90


class IssueRulesTests(CertificateWorld):
    def refusal_codes(self) -> list[str]:
        with self.assertRaises(CertificateRefused) as caught:
            issue_certificate(self.enrolment)
        return caught.exception.codes

    def test_issued_when_hours_reached_and_test_passed(self) -> None:
        self.credit(50, T0.date())
        self.credit(40, T0.date() + timedelta(days=1))
        test_id = self.report_test()

        certificate = issue_certificate(self.enrolment, by=self.learner)

        self.assertEqual(certificate.status, CompletionCertificate.Status.VALID)
        self.assertEqual(certificate.person, self.person)
        self.assertEqual(certificate.course, self.course)
        self.assertEqual(certificate.occupation, self.welder)
        self.assertEqual(certificate.platform, self.platform)
        self.assertEqual(certificate.class_hours, Decimal("2.0"))
        self.assertEqual(certificate.started_on, T0.date())
        self.assertEqual(certificate.completed_on, (T0 + timedelta(days=2)).date())
        self.assertEqual(certificate.issued_by, self.learner)
        event = AuditEvent.objects.get(action="learning.certificate.issued")
        self.assertEqual(event.object_id, str(certificate.pk))
        self.assertEqual(event.actor_id, self.learner.pk)
        self.assertEqual(event.data["test_statement_id"], test_id)
        self.assertEqual(event.data["class_hours_credited"], "2.0")
        self.assertNotIn(certificate.token, str(event.data))

    def test_hours_short_is_refused_with_credited_and_required_hours(self) -> None:
        self.credit(ENOUGH - 5)
        self.report_test()
        with self.assertRaises(CertificateRefused) as caught:
            issue_certificate(self.enrolment)
        self.assertEqual(caught.exception.codes, [rules.HOURS_SHORT])
        self.assertEqual(
            caught.exception.refusals[0].parameters, {"credited": "1.8", "required": "2.0"}
        )
        self.assertIn("1.8", str(caught.exception.message))
        self.assertFalse(CompletionCertificate.objects.exists())
        self.assertFalse(
            AuditEvent.objects.filter(action__startswith="learning.certificate").exists()
        )

    def test_missing_test_is_refused(self) -> None:
        self.credit(ENOUGH)
        self.assertEqual(self.refusal_codes(), [rules.TEST_NOT_PASSED])

    def test_failed_test_does_not_count(self) -> None:
        self.credit(ENOUGH)
        self.report_test(verb=profile.FAILED)
        self.assertEqual(self.refusal_codes(), [rules.TEST_NOT_PASSED])

    def test_passed_verb_with_success_false_does_not_count(self) -> None:
        self.credit(ENOUGH)
        self.report_test(result={"success": False})
        self.assertEqual(self.refusal_codes(), [rules.TEST_NOT_PASSED])

    def test_test_of_another_course_does_not_count(self) -> None:
        self.credit(ENOUGH)
        self.report_test(
            context={"contextActivities": {"parent": [{"id": self.other_course.activity_iri}]}}
        )
        self.assertEqual(self.refusal_codes(), [rules.TEST_NOT_PASSED])

    def test_test_passed_before_enrolling_does_not_count(self) -> None:
        self.credit(ENOUGH)
        self.report_test(at=T0 - timedelta(days=3))
        self.assertEqual(self.refusal_codes(), [rules.TEST_NOT_PASSED])

    def test_course_without_test_needs_hours_only(self) -> None:
        self.course.requires_test = False
        self.course.save(update_fields=["requires_test"])
        self.credit(ENOUGH)
        certificate = issue_certificate(self.enrolment)
        self.assertEqual(certificate.completed_on, T0.date())
        self.assertIsNone(certificate.issued_by)

    def test_every_failed_rule_is_listed(self) -> None:
        self.credit(10)
        self.assertEqual(self.refusal_codes(), [rules.HOURS_SHORT, rules.TEST_NOT_PASSED])

    def test_hold_on_person_refuses_until_lifted(self) -> None:
        self.credit(ENOUGH)
        self.report_test()
        hold = place_hold(self.person, reason="Case 7", by=self.officer)
        self.assertEqual(self.refusal_codes(), [rules.PERSON_ON_HOLD])
        lift_hold(hold, reason="Cleared", by=self.officer)
        self.assertEqual(issue_certificate(self.enrolment).status, "valid")

    def test_hold_on_platform_refuses(self) -> None:
        self.credit(ENOUGH)
        self.report_test()
        place_organisation_hold(self.platform.organisation, reason="Case 8", by=self.officer)
        self.assertEqual(self.refusal_codes(), [rules.PLATFORM_ON_HOLD])

    def test_withdrawn_enrolment_is_refused(self) -> None:
        self.credit(ENOUGH)
        self.report_test()
        Enrolment.objects.filter(pk=self.enrolment.pk).update(status=Enrolment.Status.WITHDRAWN)
        self.assertIn(rules.ENROLMENT_WITHDRAWN, self.refusal_codes())

    def test_second_call_returns_the_same_certificate(self) -> None:
        self.credit(ENOUGH)
        self.report_test()
        first = issue_certificate(self.enrolment)
        second = issue_certificate(self.enrolment, by=self.learner)
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(CompletionCertificate.objects.count(), 1)
        self.assertEqual(AuditEvent.objects.filter(action="learning.certificate.issued").count(), 1)

    def test_refusal_messages_are_rendered_in_the_active_language(self) -> None:
        from django.utils import translation

        for code in rules.RULE_CODES:
            with translation.override("en"):
                message = rules.render_refusal(code, {"credited": "1.0", "required": "2.0"})
            self.assertTrue(message)
            self.assertNotIn("%(", message)


class IssuerTests(CertificateWorld):
    def setUp(self) -> None:
        self.credit(ENOUGH)
        self.report_test()

    def test_officer_in_scope_may_issue(self) -> None:
        certificate = issue_certificate(self.enrolment, by=self.officer)
        self.assertEqual(certificate.issued_by, self.officer)

    def test_officer_outside_scope_gets_not_in_scope(self) -> None:
        with self.assertRaises(NotInScope):
            issue_certificate(self.enrolment, by=self.outsider)

    def test_another_learner_may_not_issue(self) -> None:
        other = make_user("li", person=make_person(self.region, name="李雷"))
        with self.assertRaises(NotAllowed):
            issue_certificate(self.enrolment, by=other)
        self.assertFalse(CompletionCertificate.objects.exists())


class NumberTests(CertificateWorld):
    def test_numbers_are_well_formed_sequential_and_unique(self) -> None:
        self.course.requires_test = False
        self.course.save(update_fields=["requires_test"])
        enrolments = [self.enrolment]
        for username, name in (("zhang", "张三"), ("li", "李四")):
            person = make_person(self.region, name=name)
            user = make_user(username, person=person)
            enrolments.append(enrol(person, self.course, occupation=self.fitter, by=user))
        certificates = []
        for enrolment in enrolments:
            self.credit(ENOUGH, enrolment=enrolment)
            certificates.append(issue_certificate(enrolment))

        numbers = [c.number for c in certificates]
        self.assertEqual(len(set(numbers)), 3)
        year = certificates[0].issued_at.astimezone(SHANGHAI).year
        for sequence, number in enumerate(numbers, start=1):
            # The platform's region (江岸区 420102), the year, the sequence, a check character.
            self.assertTrue(number.startswith(f"420102-{year}-{sequence:06d}-"), number)
            self.assertEqual(parse_number(number), number)
        self.assertEqual(certificates[1].occupation, self.fitter)

    def test_token_is_long_random_and_unrelated_to_the_number(self) -> None:
        self.credit(ENOUGH)
        self.report_test()
        certificate = issue_certificate(self.enrolment)
        self.assertRegex(certificate.token, r"^[A-Za-z0-9_-]{32}$")
        digits = re.sub(r"\D", "", certificate.number)
        self.assertNotIn(digits[-7:], certificate.token)


class DueTaskTests(CertificateWorld):
    def test_task_issues_due_certificates_and_skips_the_rest(self) -> None:
        self.credit(ENOUGH)
        self.report_test()
        short = make_person(self.region, name="赵六")
        short_user = make_user("zhao", person=short)
        short_enrolment = enrol(short, self.course, occupation=self.welder, by=short_user)
        self.credit(30, enrolment=short_enrolment)
        untouched = make_person(self.region, name="孙七")
        untouched_user = make_user("sun", person=untouched)
        enrol(untouched, self.course, occupation=self.welder, by=untouched_user)

        summary = issue_due_certificates()

        # The short enrolment cannot reach 2 class hours under any policy: not even checked.
        self.assertEqual(summary.checked, 1)
        self.assertEqual(summary.issued, 1)
        self.assertEqual(summary.refused, {})
        self.assertTrue(CompletionCertificate.objects.filter(enrolment=self.enrolment).exists())
        # Once issued, the enrolment is no longer due; running again issues nothing new.
        again = issue_due_task.call()
        self.assertEqual(again["issued"], 0)
        self.assertEqual(again["checked"], 0)
        self.assertEqual(CompletionCertificate.objects.count(), 1)

    def test_hours_are_checked_under_the_learners_own_policy(self) -> None:
        # Another city counts 30 minutes a class hour; the learner's region keeps the default
        # 45. 70 minutes would be enough there (60) but is not here (90).
        CreditingPolicy.objects.create(
            region=self.regions["420500"],
            effective_from=T0.date() - timedelta(days=365),
            minutes_per_class_hour=30,
            created_at=T0,
        )
        self.credit(70)
        self.report_test()
        summary = issue_due_certificates()
        self.assertEqual(summary.checked, 1)
        self.assertEqual(summary.refused, {rules.HOURS_SHORT: 1})
        self.assertFalse(CompletionCertificate.objects.exists())

    def test_task_counts_refusals_by_rule(self) -> None:
        self.credit(ENOUGH)
        summary = issue_due_certificates()
        self.assertEqual(summary.refused, {rules.TEST_NOT_PASSED: 1})
        self.assertFalse(CompletionCertificate.objects.exists())
