"""publish_course: create, idempotent repeat, updates and review again, bad data."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pydantic
from django.utils import timezone, translation

from zhipei.audit.models import AuditEvent
from zhipei.catalog.catalogues.services import (
    CourseDataInvalid,
    OfflineSessionData,
    publish_course,
)
from zhipei.catalog.models import Attendance, Course, CourseCategory, Lesson, OfflineSession
from zhipei.core.errors import Conflict, NotAllowed, NotInScope
from zhipei.people.models import Person

from .helpers import CatalogueTestCase, course_data, lesson

S = Course.Status


def actions(course):
    return list(
        AuditEvent.objects.filter(object_type="catalog.course", object_id=str(course.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def session(day=1, **overrides):
    values = {
        "starts_at": datetime(2020, 5, day, 1, 0, tzinfo=UTC),
        "ends_at": datetime(2020, 5, day, 9, 0, tzinfo=UTC),
        "location": "江岸区实训基地",
        "region_code": "420102",
        "capacity": 30,
    }
    values.update(overrides)
    return OfflineSessionData(**values)


class PublishCourseTests(CatalogueTestCase):
    def test_creates_a_course_awaiting_review_with_lessons_and_categories(self):
        course, created = publish_course(self.platform, data=course_data(), by=self.operator)
        self.assertTrue(created)
        self.assertEqual(course.status, S.SUBMITTED)
        self.assertEqual(course.region, self.jiangan)
        self.assertEqual(course.class_hours, Decimal("12.5"))
        self.assertEqual(
            list(course.lessons.values_list("position", "external_id", "kind")),
            [(1, "L1", "video"), (2, "L2", "document")],
        )
        self.assertEqual(
            set(CourseCategory.objects.filter(course=course).values_list("category", flat=True)),
            {"skills", "safety"},
        )
        self.assertEqual(actions(course), ["catalog.course.created"])

    def test_same_data_again_changes_nothing(self):
        course, _ = publish_course(self.platform, data=course_data(), by=self.operator)
        before = Course.objects.values().get(pk=course.pk)
        again, created = publish_course(self.platform, data=course_data(), by=None)
        self.assertFalse(created)
        self.assertEqual(again.pk, course.pk)
        self.assertEqual(Course.objects.values().get(pk=course.pk), before)
        self.assertEqual(actions(course), ["catalog.course.created"])

    def test_another_platform_may_use_the_same_external_id(self):
        publish_course(self.platform, data=course_data(), by=None)
        data = course_data(
            activity_iri="https://q.example/c1",
            lessons=[lesson(1, prefix="https://q.example/c1")],
        )
        course, created = publish_course(self.other, data=data, by=self.other_operator)
        self.assertTrue(created)
        self.assertEqual(Course.objects.filter(external_id="C1").count(), 2)
        self.assertEqual(course.platform, self.other)

    def approved(self, **overrides):
        course, _ = publish_course(self.platform, data=course_data(**overrides), by=None)
        Course.objects.filter(pk=course.pk).update(status=S.APPROVED)
        course.refresh_from_db()
        return course

    def test_non_material_change_keeps_an_approved_course_approved(self):
        course = self.approved()
        publish_course(
            self.platform,
            data=course_data(
                description="新的简介",
                url="https://p.example/new",
                is_free=False,
                free_from=None,
                free_until=None,
            ),
            by=None,
        )
        course.refresh_from_db()
        self.assertEqual((course.status, course.description), (S.APPROVED, "新的简介"))
        self.assertEqual(actions(course)[-1], "catalog.course.updated")

    def test_material_changes_send_an_approved_course_back_to_review(self):
        cases: list[dict[str, Any]] = [
            {"class_hours": Decimal("20")},
            {"occupation_codes": ["4-04-05-05", "4-04-05-06"]},
            {"skill_level": 4},
            {
                "lessons": [
                    lesson(1, prefix="https://p.example/xapi/C1", media_duration_seconds=900)
                ]
            },
        ]
        for overrides in cases:
            with self.subTest(overrides=list(overrides)):
                Course.objects.all().delete()
                course = self.approved()
                publish_course(self.platform, data=course_data(**overrides), by=None)
                course.refresh_from_db()
                self.assertEqual(course.status, S.SUBMITTED)
                self.assertEqual(
                    actions(course)[-2:], ["catalog.course.updated", "catalog.course.submitted"]
                )
                event = AuditEvent.objects.filter(action="catalog.course.updated").latest("pk")
                self.assertTrue(event.data["material"])

    def test_correcting_a_returned_course_submits_it_again(self):
        course = self.approved()
        Course.objects.filter(pk=course.pk).update(status=S.RETURNED)
        publish_course(self.platform, data=course_data(title="改正后的标题"), by=None)
        course.refresh_from_db()
        self.assertEqual((course.status, course.title), (S.SUBMITTED, "改正后的标题"))

    def test_a_rejected_course_cannot_be_changed(self):
        course = self.approved()
        Course.objects.filter(pk=course.pk).update(status=S.REJECTED)
        with self.assertRaises(Conflict):
            publish_course(self.platform, data=course_data(title="再试一次"), by=None)
        # the same data again is still a harmless no-op
        self.assertFalse(publish_course(self.platform, data=course_data(), by=None)[1])

    def test_lessons_are_updated_added_and_dropped_by_their_ids(self):
        course, _ = publish_course(self.platform, data=course_data(), by=None)
        l1 = Lesson.objects.get(course=course, external_id="L1")
        p = "https://p.example/xapi/C1"
        publish_course(
            self.platform,
            data=course_data(
                lessons=[
                    # L1 and L3 swap IRIs with what L2 had: no collision mid-way
                    lesson(3, prefix=p, activity_iri=f"{p}/l1"),
                    lesson(1, prefix=p, activity_iri=f"{p}/l2", title="新标题"),
                ]
            ),
            by=None,
        )
        rows = list(course.lessons.values_list("position", "external_id", "activity_iri", "title"))
        self.assertEqual(rows, [(1, "L3", f"{p}/l1", "第3课"), (2, "L1", f"{p}/l2", "新标题")])
        self.assertEqual(Lesson.objects.get(external_id="L1").pk, l1.pk)

    def test_blended_course_keeps_its_offline_sessions_and_refuses_to_drop_attended_ones(self):
        data = course_data(online_percent=60, offline_sessions=[session(1), session(2)])
        course, _ = publish_course(self.platform, data=data, by=None)
        self.assertEqual(OfflineSession.objects.filter(course=course).count(), 2)
        first = OfflineSession.objects.get(course=course, starts_at__day=1)
        person = Person.objects.create(
            name="李雷",
            id_ciphertext=b"x",
            id_key_id="test",
            id_blind_index="blind-1",
            id_masked="420***********0011",
            birth_date=datetime(1990, 1, 1, tzinfo=UTC).date(),
            sex="male",
            birth_region_code="420102",
            phone="13900000002",
            region=self.jiangan,
            verification=Person.Verification.FORMAT_ONLY,
            verification_provider="checksum-only",
        )
        Attendance.objects.create(
            session=first,
            person=person,
            present=True,
            recorded_by=self.operator,
            recorded_at=timezone.now(),
        )
        with self.assertRaises(CourseDataInvalid) as caught:
            publish_course(
                self.platform,
                data=course_data(online_percent=60, offline_sessions=[session(2), session(3)]),
                by=None,
            )
        self.assertEqual(caught.exception.status, 409)
        self.assertEqual(OfflineSession.objects.filter(course=course).count(), 2)
        # dropping the unattended one is fine
        publish_course(
            self.platform,
            data=course_data(online_percent=60, offline_sessions=[session(1), session(3)]),
            by=None,
        )
        self.assertEqual(
            sorted(s.starts_at.day for s in OfflineSession.objects.filter(course=course)), [1, 3]
        )


class PublishCourseRefusalTests(CatalogueTestCase):
    def setUp(self):
        super().setUp()
        self.enterContext(translation.override("en"))  # messages are asserted in English

    def refused(self, data, *, platform=None, by=None):
        with self.assertRaises(CourseDataInvalid) as caught:
            publish_course(platform or self.platform, data=data, by=by)
        self.assertFalse(Course.objects.filter(platform=platform or self.platform).exists())
        return caught.exception.errors

    def test_unknown_occupation_codes_are_named(self):
        errors = self.refused(course_data(occupation_codes=["4-04-05-05", "9-99-99-99", "4-04"]))
        self.assertEqual(errors[0]["location"], "occupation_codes")
        self.assertIn("9-99-99-99, 4-04", errors[0]["message"])

    def test_duplicate_lesson_ids(self):
        p = "https://p.example/xapi/C1"
        errors = self.refused(
            course_data(lessons=[lesson(1, prefix=p), lesson(2, prefix=p, external_id="L1")])
        )
        self.assertEqual(
            errors, [{"location": "lessons.1.external_id", "message": errors[0]["message"]}]
        )

    def test_iri_of_another_platform_cannot_be_claimed(self):
        publish_course(
            self.other,
            data=course_data(
                "X1",
                activity_iri="https://p.example/xapi/C1",
                lessons=[lesson(9, prefix="https://q.example")],
            ),
            by=None,
        )
        errors = self.refused(course_data())
        self.assertEqual(errors[0]["location"], "activity_iri")
        self.assertIn("another platform", errors[0]["message"])

    def test_lesson_iri_of_another_platform_cannot_be_claimed(self):
        publish_course(
            self.other,
            data=course_data(
                "X1",
                activity_iri="https://q.example/x1",
                lessons=[lesson(1, prefix="https://p.example/xapi/C1")],
            ),
            by=None,
        )
        errors = self.refused(course_data())
        self.assertEqual(errors[0]["location"], "lessons.0.activity_iri")

    def test_the_same_iri_twice_in_one_course(self):
        errors = self.refused(
            course_data(lessons=[lesson(1, activity_iri="https://p.example/xapi/C1")])
        )
        self.assertEqual(errors[0]["location"], "lessons.0.activity_iri")

    def test_unknown_trade_standard_and_session_region(self):
        errors = self.refused(
            course_data(
                trade="不存在的工种",
                standard=999,
                online_percent=50,
                offline_sessions=[session(region_code="999999")],
            )
        )
        self.assertEqual(
            [e["location"] for e in errors], ["trade", "standard", "offline_sessions.0.region_code"]
        )

    def test_shape_errors_come_from_the_schema(self):
        bad: list[dict[str, Any]] = [
            {"class_hours": Decimal("0")},
            {"class_hours": Decimal("1.25")},
            {"occupation_codes": []},
            {"categories": ["astrology"]},
            {"online_percent": 50},  # blended without offline sessions
            {"kind": "micro_course"},  # without a master
            {"external_id": "has space"},
            {"activity_iri": "not a url"},
            {"is_free": False},  # free dates without is_free
            {
                "lessons": [  # a video without its duration
                    {
                        "external_id": "L1",
                        "title": "t",
                        "kind": "video",
                        "activity_iri": "https://a.example/1",
                    }
                ]
            },
        ]
        for overrides in bad:
            with self.subTest(overrides=overrides), self.assertRaises(pydantic.ValidationError):
                course_data(**overrides)

    def test_only_the_platforms_operators_and_only_selected_platforms(self):
        with self.assertRaises(NotInScope):
            publish_course(self.platform, data=course_data(), by=self.other_operator)
        with self.assertRaises(NotAllowed):
            publish_course(self.platform, data=course_data(), by=self.county)
        self.platform.status = "suspended"
        with self.assertRaises(NotAllowed):
            publish_course(self.platform, data=course_data(), by=self.operator)
        self.assertFalse(Course.objects.exists())
