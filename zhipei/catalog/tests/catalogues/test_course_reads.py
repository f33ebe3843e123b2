"""Public course reads: search_courses filters, coverage figures, and the scoped reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.http import Http404

from zhipei.catalog import queries
from zhipei.catalog.catalogues.services import publish_course
from zhipei.catalog.models import Course
from zhipei.orgs.models import Platform

from .helpers import CatalogueTestCase, course_data, lesson, make_platform

S = Course.Status


def publish(platform, external_id, *, status=S.APPROVED, **overrides):
    prefix = f"https://{platform.pk}.example/{external_id}"
    overrides.setdefault("lessons", [lesson(1, prefix=prefix)])
    data = course_data(external_id, activity_iri=prefix, **overrides)
    course, _ = publish_course(platform, data=data, by=None)
    Course.objects.filter(pk=course.pk).update(status=status)
    return course


class SearchCoursesTests(CatalogueTestCase):
    ai: Course
    rice: Course
    label: Course
    pending: Course
    far: Course

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ai = publish(cls.platform, "AI", title="人工智能训练", categories=["skills"])
        cls.rice = publish(
            cls.platform,
            "RICE",
            title="制米工艺",
            occupation_codes=["6-01-02-01"],
            skill_level=4,
            categories=["safety"],
            is_free=False,
            free_from=None,
            free_until=None,
        )
        cls.label = publish(
            cls.other,
            "LABEL",
            title="数据标注",
            occupation_codes=["4-04-05-06"],
            is_free=True,
            free_from=None,
            free_until=None,
        )
        cls.pending = publish(cls.platform, "PENDING", title="待审课程", status=S.SUBMITTED)
        yichang = make_platform(cls.regions["420502"], 3, name="宜昌平台")
        cls.far = publish(yichang, "FAR", title="宜昌课程")
        suspended = make_platform(cls.jiangan, 4, status=Platform.Status.SUSPENDED)
        Course.objects.create(
            platform=suspended,
            external_id="S",
            title="暂停平台的课程",
            class_hours=1,
            activity_iri="https://s.example/",
            url="https://s.example/",
            region=cls.jiangan,
            status=S.APPROVED,
            status_changed_at=cls.ai.created_at,
            created_at=cls.ai.created_at,
            updated_at=cls.ai.created_at,
        )

    def titles(self, **filters):
        return [c.title for c in queries.search_courses(**filters)]

    def test_only_approved_courses_of_selected_platforms(self):
        self.assertEqual(
            sorted(self.titles()), sorted(["人工智能训练", "宜昌课程", "数据标注", "制米工艺"])
        )

    def test_filters(self):
        self.assertEqual(self.titles(text="制米"), ["制米工艺"])
        self.assertEqual(len(self.titles(text="模型训练")), 4)  # in every description
        self.assertEqual(self.titles(text="另一个平台"), ["数据标注"])  # by platform name
        self.assertEqual(
            sorted(self.titles(occupation_code_prefix="4-04")),
            sorted(["人工智能训练", "宜昌课程", "数据标注"]),
        )
        self.assertEqual(self.titles(occupation_code_prefix="6"), ["制米工艺"])
        self.assertEqual(self.titles(occupation_code_prefix="4-04-05-06"), ["数据标注"])
        self.assertEqual(self.titles(occupation_code_prefix="4-0"), [])  # not a node
        self.assertEqual(
            self.titles(category="safety"), sorted(["制米工艺", "数据标注", "宜昌课程"])
        )
        self.assertEqual(self.titles(skill_level=4), ["制米工艺"])
        self.assertEqual(
            sorted(self.titles(region=self.wuhan)), sorted(["人工智能训练", "数据标注", "制米工艺"])
        )
        self.assertEqual(
            sorted(self.titles(region=self.hubei)),
            sorted(["人工智能训练", "宜昌课程", "数据标注", "制米工艺"]),
        )

    def test_free_means_free_on_the_day(self):
        # AI and FAR are free from 2020-03-01 to 2020-06-30; LABEL is free without end
        self.assertEqual(
            sorted(self.titles(free=True, on_date=date(2020, 6, 30))),
            sorted(["人工智能训练", "宜昌课程", "数据标注"]),
        )
        self.assertEqual(self.titles(free=True, on_date=date(2020, 7, 1)), ["数据标注"])
        self.assertEqual(
            sorted(self.titles(free=False, on_date=date(2020, 7, 1))),
            sorted(["人工智能训练", "宜昌课程", "制米工艺"]),
        )

    def test_a_page_is_two_queries(self):
        with self.assertNumQueries(2):
            # courses with platform, organisation, region and trade; their occupations
            courses = list(queries.search_courses())
            for course in courses:
                _ = [o.code for o in course.occupations.all()]
                _ = course.platform.organisation.name

    def test_coverage_counts_distinct_occupations_and_selected_platforms(self):
        with self.assertNumQueries(2):
            figures = queries.coverage()
        # 4-04-05-05 (AI, FAR), 6-01-02-01, 4-04-05-06; PENDING's occupation is AI's anyway
        self.assertEqual(figures.occupations_covered, 3)
        self.assertEqual(figures.platforms_selected, 3)
        self.assertEqual((figures.occupation_target, figures.platform_target), (100, 50))

    def test_public_course_404_unless_public(self):
        self.assertEqual(queries.get_public_course(self.ai.pk), self.ai)
        for pk in (self.pending.pk, "x", 99999):
            with self.assertRaises(Http404):
                queries.get_public_course(pk)


class ScopedReadTests(CatalogueTestCase):
    def test_review_queue_and_platform_reads(self):
        course = publish(self.platform, "A", status=S.SUBMITTED, class_hours=Decimal("3"))
        self.assertEqual(list(queries.review_queue_for(self.county)), [course])
        self.assertEqual(list(queries.review_queue_for(self.outsider)), [])
        self.assertEqual(list(queries.review_queue_for(self.finance)), [])
        with self.assertRaises(Http404):
            queries.get_course_for_officer(self.outsider, course.pk)
        self.assertEqual(queries.get_course_of(self.platform, course.pk), course)
        with self.assertRaises(Http404):
            queries.get_course_of(self.other, course.pk)
        self.assertIsNone(queries.get_course_by_external_id(self.other, "A"))
        self.assertEqual(list(queries.platforms_operated_by(self.operator)), [self.platform])
