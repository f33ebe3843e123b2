"""Course review state machine: every move allowed and refused, scope, holds, stale copies."""

from __future__ import annotations

from zhipei.audit.models import AuditEvent
from zhipei.catalog.catalogues import services
from zhipei.catalog.models import Course
from zhipei.core.errors import (
    InvalidInput,
    NotAllowed,
    NotInScope,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.orgs.services import place_hold

from .helpers import CatalogueTestCase, course_data

S = Course.Status


class CourseReviewTests(CatalogueTestCase):
    def course(self, status=S.SUBMITTED):
        course = Course.objects.filter(platform=self.platform, external_id="C1").first()
        if course is None:
            course, _ = services.publish_course(self.platform, data=course_data(), by=None)
        Course.objects.filter(pk=course.pk).update(status=status)
        return Course.objects.select_related("region", "platform__organisation").get(pk=course.pk)

    def moves(self):
        return {
            S.SUBMITTED: lambda c: services.submit_course(c, by=self.operator),
            S.APPROVED: lambda c: services.approve_course(c, by=self.county, note="好"),
            S.RETURNED: lambda c: services.return_course(c, by=self.county, note="请补充课时说明"),
            S.REJECTED: lambda c: services.reject_course(c, by=self.county, note="内容不符"),
            S.WITHDRAWN: lambda c: services.withdraw_course(c, by=self.operator, note="下架"),
        }

    def test_every_move_allowed_or_refused_as_the_table_says(self):
        for start in S.values:
            for target, move in self.moves().items():
                with self.subTest(start=start, target=target):
                    course = self.course(start)
                    count = AuditEvent.objects.filter(action=f"catalog.course.{target}").count()
                    if start == target:
                        self.assertEqual(move(course).status, start)  # a replay
                        self.assertEqual(
                            AuditEvent.objects.filter(action=f"catalog.course.{target}").count(),
                            count,
                        )
                    elif target in services.COURSE_ALLOWED.get(start, set()):
                        self.assertEqual(move(course).status, target)
                        event = AuditEvent.objects.filter(action=f"catalog.course.{target}").latest(
                            "pk"
                        )
                        self.assertEqual(event.data["from"], start)
                    else:
                        with self.assertRaises(TransitionNotAllowed):
                            move(course)

    def test_approval_records_the_officer_and_note(self):
        course = services.approve_course(self.course(), by=self.city, note="符合要求")
        self.assertEqual(course.review_note, "符合要求")
        event = AuditEvent.objects.get(action="catalog.course.approved")
        self.assertEqual((event.actor_id, event.region_code), (self.city.pk, "420102"))

    def test_return_and_reject_need_a_note(self):
        with self.assertRaises(InvalidInput):
            services.return_course(self.course(), by=self.county, note="  ")
        with self.assertRaises(InvalidInput):
            services.reject_course(self.course(), by=self.county, note="")
        self.assertEqual(self.course().status, S.SUBMITTED)

    def test_only_labour_officers_in_scope_review(self):
        course = self.course()
        with self.assertRaises(NotInScope):
            services.approve_course(course, by=self.outsider)
        for user in (self.finance, self.operator, self.learner):
            with self.subTest(user=user.username), self.assertRaises(NotAllowed):
                services.approve_course(course, by=user)
        self.assertEqual(self.course().status, S.SUBMITTED)

    def test_a_hold_on_the_platform_blocks_approval(self):
        place_hold(self.platform.organisation, reason="核查中", by=None)
        with self.assertRaises(OnHold):
            services.approve_course(self.course(), by=self.county)

    def test_stale_copy_cannot_be_reviewed_twice(self):
        course = self.course()
        stale = Course.objects.select_related("region", "platform__organisation").get(pk=course.pk)
        services.approve_course(course, by=self.county)
        with self.assertRaises(StaleObject):
            services.reject_course(stale, by=self.city, note="迟到的审核")

    def test_another_platforms_operator_cannot_submit_or_withdraw(self):
        course = self.course(S.RETURNED)
        with self.assertRaises(NotInScope):
            services.submit_course(course, by=self.other_operator)
        with self.assertRaises(NotInScope):
            services.withdraw_course(course, by=self.other_operator)

    def test_an_officer_may_withdraw_a_course_in_scope(self):
        course = self.course(S.APPROVED)
        with self.assertRaises(NotInScope):
            services.withdraw_course(course, by=self.outsider)
        self.assertEqual(services.withdraw_course(course, by=self.city).status, S.WITHDRAWN)
