"""The public catalogue: no login, coverage figures, the occupation tree with counts, filters,
course pages; standards register pages (public read, province officers edit)."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from zhipei.catalog.catalogues.courses import approve_course, publish_course
from zhipei.catalog.models import Course, SkillStandard, TeachingMaterial
from zhipei.catalog.public.views import branches
from zhipei.catalog.queries import search_courses
from zhipei.catalog.tests.catalogues.helpers import (
    CatalogueTestCase,
    course_data,
    lesson,
    make_platform,
)


class PublicCatalogueTestCase(CatalogueTestCase):
    ai: Course
    rice: Course
    both: Course
    pending: Course

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        today = timezone.localdate()
        ai, _ = publish_course(
            cls.platform,
            data=course_data(
                "AI1",
                title="人工智能训练师入门",
                is_free=True,
                free_from=today - timedelta(days=10),
                free_until=today + timedelta(days=30),
            ),
            by=None,
        )
        cls.ai = approve_course(ai, by=cls.county)
        rice, _ = publish_course(
            cls.other,
            data=course_data(
                "RICE1",
                title="制米工安全操作",
                occupation_codes=["6-01-02-01"],
                skill_level=4,
                categories=["safety"],
                is_free=False,
                free_from=None,
                free_until=None,
                lessons=[
                    lesson(1, prefix="https://p.example/xapi/RICE1", media_duration_seconds=3725)
                ],
            ),
            by=None,
        )
        cls.rice = approve_course(rice, by=cls.county)
        both, _ = publish_course(
            cls.platform,
            data=course_data(
                "BOTH",
                title="数据标注与人工智能",
                occupation_codes=["4-04-05-05", "4-04-05-06"],
                is_free=False,
                free_from=None,
                free_until=None,
            ),
            by=None,
        )
        cls.both = approve_course(both, by=cls.county)
        cls.pending, _ = publish_course(
            cls.platform, data=course_data("WAIT", title="待审核课程"), by=None
        )


class HomeTests(PublicCatalogueTestCase):
    def test_anonymous_sees_coverage_and_the_tree(self) -> None:
        response = self.client.get(reverse("catalogue:home"))
        self.assertEqual(response.status_code, 200)
        coverage = response.context["coverage"]
        self.assertEqual(coverage.occupations_covered, 3)
        self.assertEqual(coverage.occupation_target, 100)
        self.assertEqual(coverage.platforms_selected, 2)
        self.assertContains(response, "<strong>3</strong> / 100", html=False)
        self.assertEqual(
            [(b.node.code, b.courses) for b in response.context["branches"]], [("4", 2), ("6", 1)]
        )

    def test_home_query_count(self) -> None:
        # coverage (2 counts), tree: major groups + (course, code) pairs, navigation: none
        # for an anonymous visitor
        with self.assertNumQueries(4):
            self.client.get(reverse("catalogue:home"))

    def test_catalogue_is_in_the_navigation(self) -> None:
        response = self.client.get(reverse("portal:home"))
        self.assertContains(response, f'href="{reverse("catalogue:home")}"')


class CourseListTests(PublicCatalogueTestCase):
    def titles(self, response) -> list[str]:
        # sorted here: the order by title follows the database's collation
        return sorted(c.title for c in response.context["page"].object_list)

    def test_all_approved_courses_of_selected_platforms_only(self) -> None:
        response = self.client.get(reverse("catalogue:courses"))
        self.assertEqual(
            self.titles(response),
            sorted(["人工智能训练师入门", "数据标注与人工智能", "制米工安全操作"]),
        )
        self.assertNotContains(response, "待审核课程")

    def test_browse_the_tree_down_to_an_occupation(self) -> None:
        response = self.client.get(reverse("catalogue:courses"), {"occupation": "4"})
        self.assertEqual(
            [(b.node.code, b.courses) for b in response.context["branches"]], [("4-04", 2)]
        )
        response = self.client.get(reverse("catalogue:courses"), {"occupation": "4-04-05"})
        self.assertEqual(
            [(b.node.code, b.courses) for b in response.context["branches"]],
            [("4-04-05-05", 2), ("4-04-05-06", 1)],
        )
        self.assertEqual([a.code for a in response.context["trail"]], ["4", "4-04"])
        response = self.client.get(reverse("catalogue:courses"), {"occupation": "4-04-05-06"})
        self.assertEqual(self.titles(response), ["数据标注与人工智能"])
        self.assertEqual(response.context["branches"], [])

    def test_a_course_in_two_occupations_of_one_branch_counts_once(self) -> None:
        found = branches(search_courses(), None)
        self.assertEqual({b.node.code: b.courses for b in found}["4"], 2)

    def test_filters(self) -> None:
        url = reverse("catalogue:courses")
        self.assertEqual(
            self.titles(self.client.get(url, {"category": "safety"})),
            sorted(["人工智能训练师入门", "数据标注与人工智能", "制米工安全操作"]),
        )
        self.assertEqual(self.titles(self.client.get(url, {"level": "4"})), ["制米工安全操作"])
        self.assertEqual(
            self.titles(self.client.get(url, {"price": "free"})), ["人工智能训练师入门"]
        )
        self.assertEqual(
            self.titles(self.client.get(url, {"price": "paid"})),
            sorted(["数据标注与人工智能", "制米工安全操作"]),
        )
        self.assertEqual(self.titles(self.client.get(url, {"q": "制米"})), ["制米工安全操作"])
        self.assertEqual(len(self.titles(self.client.get(url, {"region": "420102"}))), 3)
        self.assertEqual(self.titles(self.client.get(url, {"region": "420502"})), [])

    def test_tree_counts_follow_the_other_filters(self) -> None:
        response = self.client.get(reverse("catalogue:courses"), {"price": "free"})
        self.assertEqual(
            [(b.node.code, b.courses) for b in response.context["branches"]], [("4", 1)]
        )

    def test_bad_filters_are_field_errors_never_a_500(self) -> None:
        url = reverse("catalogue:courses")
        response = self.client.get(url, {"occupation": "4-x", "level": "9", "region": "999999"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.context["form"].errors), {"occupation", "level", "region"})
        response = self.client.get(url, {"occupation": "8-99-99-99"})
        self.assertEqual(self.titles(response), [])
        self.assertEqual(self.client.get(url, {"page": "zzz"}).status_code, 200)

    def test_course_list_query_count(self) -> None:
        # region choices, node, its ancestors, its children, (course, code) pairs, count,
        # page rows, their occupations
        with self.assertNumQueries(8):
            self.client.get(reverse("catalogue:courses"), {"occupation": "4-04", "price": "paid"})

    def test_phone_friendly_markup(self) -> None:
        response = self.client.get(reverse("catalogue:courses"))
        self.assertContains(response, 'name="viewport"')
        self.assertContains(response, "catalogue.css")


class CourseDetailTests(PublicCatalogueTestCase):
    def test_course_page_shows_lessons_hours_and_where_it_is_taught(self) -> None:
        response = self.client.get(reverse("catalogue:course", args=[self.rice.pk]))
        self.assertContains(response, "制米工安全操作")
        self.assertContains(response, 'href="https://p.example/courses/RICE1"')
        self.assertContains(response, "1:02:05")  # 3725 s of video
        self.assertContains(response, "12.5")
        self.assertContains(response, "6-01-02-01")
        self.assertEqual(response.context["offline_percent"], 0)
        self.assertFalse(response.context["free_now"])

    def test_free_period_is_shown(self) -> None:
        response = self.client.get(reverse("catalogue:course", args=[self.ai.pk]))
        self.assertTrue(response.context["free_now"])

    def test_unapproved_or_missing_course_is_404(self) -> None:
        self.assertEqual(
            self.client.get(reverse("catalogue:course", args=[self.pending.pk])).status_code, 404
        )
        self.assertEqual(
            self.client.get(reverse("catalogue:course", args=[999999])).status_code, 404
        )

    def test_course_of_a_suspended_platform_leaves_the_catalogue(self) -> None:
        suspended = make_platform(self.jiangan, 9, name="停用平台")
        course, _ = publish_course(suspended, data=course_data("S1", title="暂停平台课程"), by=None)
        course = approve_course(course, by=self.county)
        type(suspended).objects.filter(pk=suspended.pk).update(status="suspended")
        self.assertEqual(
            self.client.get(reverse("catalogue:course", args=[course.pk])).status_code, 404
        )
        self.assertEqual(Course.objects.filter(pk=course.pk).count(), 1)


class StandardsPageTests(PublicCatalogueTestCase):
    def test_anyone_reads_the_register(self) -> None:
        SkillStandard.objects.create(
            occupation=self.occupations["4-04-05-05"],
            title="人工智能训练师国家职业技能标准",
            edition="2021",
        )
        response = self.client.get(reverse("catalogue:standards"), {"q": "4-04"})
        self.assertContains(response, "人工智能训练师国家职业技能标准")
        self.assertFalse(response.context["can_edit"])
        response = self.client.get(reverse("catalogue:standards"), {"q": "6-01"})
        self.assertNotContains(response, "人工智能训练师国家职业技能标准")

    def test_edit_pages_need_a_province_labour_officer(self) -> None:
        url = reverse("catalogue:standard_new")
        response = self.client.get(url)
        self.assertEqual(response.status_code, 302)
        for user in (self.county, self.city, self.operator):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                self.assertEqual(self.client.get(url).status_code, 403)
                self.assertEqual(self.client.post(url, {"title": "x"}).status_code, 403)
        self.assertFalse(SkillStandard.objects.exists())

    def test_province_officer_adds_and_edits_a_standard(self) -> None:
        self.client.force_login(self.province)
        response = self.client.post(
            reverse("catalogue:standard_new"),
            {
                "occupation": "4-04-05-05",
                "title": "人工智能训练师",
                "edition": "2021",
                "levels": "5-1",
            },
        )
        self.assertRedirects(response, reverse("catalogue:standards"))
        standard = SkillStandard.objects.get()
        response = self.client.post(
            reverse("catalogue:standard_edit", args=[standard.pk]),
            {
                "occupation": "6-01-02-01",
                "title": "人工智能训练师（2021年版）",
                "edition": "2021",
                "levels": "5-2",
            },
        )
        self.assertRedirects(response, reverse("catalogue:standards"))
        standard.refresh_from_db()
        self.assertEqual(standard.occupation.code, "4-04-05-05")  # the occupation stays
        self.assertEqual(standard.levels, "5-2")
        self.assertEqual(
            self.client.get(reverse("catalogue:standard_edit", args=[99999])).status_code, 404
        )

    def test_bad_standard_input_shows_field_errors(self) -> None:
        self.client.force_login(self.province)
        response = self.client.post(
            reverse("catalogue:standard_new"),
            {"occupation": "9-99", "title": "", "edition": "2021"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(set(response.context["form"].errors), {"occupation", "title"})
        response = self.client.post(
            reverse("catalogue:standard_new"),
            {"occupation": "4-04-05", "title": "x", "edition": "2021"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("occupation", response.context["form"].errors)  # a group, not an occupation
        response = self.client.post(
            reverse("catalogue:standard_new"),
            {"occupation": "4-04-05-05", "title": "x", "edition": "2021", "levels": "1-5"},
        )
        self.assertIn("levels", response.context["form"].errors)
        self.assertFalse(SkillStandard.objects.exists())

    def test_province_officer_adds_a_material(self) -> None:
        self.client.force_login(self.province)
        response = self.client.post(
            reverse("catalogue:material_new"),
            {
                "title": "数据标注实务",
                "occupations": "4-04-05-05 4-04-05-06",
                "isbn": "9780306406157",
                "year": "2022",
            },
        )
        self.assertRedirects(response, reverse("catalogue:standards"))
        material = TeachingMaterial.objects.get()
        self.assertEqual(material.occupations.count(), 2)
        response = self.client.post(
            reverse("catalogue:material_edit", args=[material.pk]),
            {"title": "数据标注实务", "occupations": "4-04-05-05", "isbn": "123"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("isbn", response.context["form"].errors)
