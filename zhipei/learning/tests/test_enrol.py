"""Enrolment: who may enrol, the occupation fixed at enrolment, one live enrolment."""

from __future__ import annotations

from zhipei.accounts.models import Role
from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import Course
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope
from zhipei.learning.models import Enrolment
from zhipei.learning.services import enrol
from zhipei.learning.tests.helpers import LearningWorld, make_user
from zhipei.lrs.tests.helpers import make_platform


class EnrolTests(LearningWorld):
    def test_a_learner_enrols_for_one_of_the_course_occupations(self) -> None:
        enrolment = enrol(self.person, self.course, occupation=self.fitter, by=self.learner)
        self.assertEqual(
            (enrolment.platform_id, enrolment.occupation_id, enrolment.status),
            (self.platform.pk, self.fitter.pk, Enrolment.Status.ACTIVE),
        )
        self.assertTrue(
            AuditEvent.objects.filter(
                action="learning.enrolment.created", object_id=str(enrolment.pk)
            ).exists()
        )

    def test_a_course_with_one_occupation_needs_no_choice(self) -> None:
        enrolment = enrol(self.person, self.other_course, by=self.learner)
        self.assertEqual(enrolment.occupation_id, self.welder.pk)

    def test_a_course_with_several_occupations_needs_a_choice(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            enrol(self.person, self.course, by=self.learner)
        self.assertEqual(caught.exception.field, "occupation")
        self.assertFalse(Enrolment.objects.exists())

    def test_an_occupation_the_course_does_not_train_for_is_refused(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            enrol(self.person, self.other_course, occupation=self.fitter, by=self.learner)
        self.assertEqual(caught.exception.field, "occupation")

    def test_enrolling_again_returns_the_live_enrolment(self) -> None:
        first = enrol(self.person, self.course, occupation=self.welder, by=self.learner)
        again = enrol(self.person, self.course, occupation=self.welder, by=self.learner)
        self.assertEqual(first.pk, again.pk)
        with self.assertRaises(Conflict):
            enrol(self.person, self.course, occupation=self.fitter, by=self.learner)
        self.assertEqual(Enrolment.objects.count(), 1)

    def test_a_course_not_approved_is_not_open(self) -> None:
        Course.objects.filter(pk=self.course.pk).update(status=Course.Status.WITHDRAWN)
        self.course.refresh_from_db()
        with self.assertRaises(InvalidInput):
            enrol(self.person, self.course, occupation=self.welder, by=self.learner)

    def test_only_the_learner_or_the_course_platform_may_enrol(self) -> None:
        operator = make_user(
            "op", role=Role.PLATFORM_OPERATOR, organisation=self.platform.organisation
        )
        enrolment = enrol(self.person, self.other_course, by=operator)
        self.assertEqual(enrolment.person_id, self.person.pk)
        other_platform, _c, _s = make_platform(self.region, serial=2)
        stranger = make_user(
            "op2", role=Role.PLATFORM_OPERATOR, organisation=other_platform.organisation
        )
        with self.assertRaises(NotInScope):
            enrol(self.person, self.course, occupation=self.welder, by=stranger)
        with self.assertRaises(NotAllowed):
            enrol(self.person, self.course, occupation=self.welder, by=make_user("nobody"))
