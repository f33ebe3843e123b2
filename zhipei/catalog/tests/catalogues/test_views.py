"""Course and catalogue pages: happy paths, outsiders 404, wrong roles 403, field errors,
query counts on lists."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl import load_workbook

from zhipei.catalog.catalogues import services
from zhipei.catalog.catalogues.excel import COURSES_SHEET
from zhipei.catalog.models import (
    CatalogueStatus,
    Course,
    InstitutionCatalogueEntry,
    ProjectCatalogueEntry,
)

from .helpers import CatalogueTestCase, course_data
from .test_excel import course_row, lesson_row, workbook

S = Course.Status


def form_data(**overrides):
    values = {
        "external_id": "W1",
        "title": "网页创建的课程",
        "description": "",
        "kind": "standard",
        "master_name": "",
        "occupation_codes": "4-04-05-05, 4-04-05-06",
        "trade": "",
        "skill_level": "5",
        "categories": ["skills"],
        "class_hours": "6.5",
        "online_percent": "100",
        "offline_sessions": "",
        "is_free": "on",
        "free_from": "",
        "free_until": "",
        "requires_test": "on",
        "activity_iri": "https://p.example/w1",
        "url": "https://p.example/c/w1",
        "lessons": "L1 | 第一课 | video | https://p.example/w1/l1 | 600\nL2 | 讲义 | document | https://p.example/w1/l2",
    }
    values.update(overrides)
    return values


class OperatorPageTests(CatalogueTestCase):
    def setUp(self):
        self.course, _ = services.publish_course(self.platform, data=course_data(), by=None)

    def test_my_courses_lists_only_my_platforms_courses_in_few_queries(self):
        for n in range(3):
            services.publish_course(self.platform, data=course_data(f"N{n}"), by=None)
        self.client.force_login(self.operator)
        with self.assertNumQueries(7):
            # session, user, the operator's platform, count, nav roles, courses (with
            # platform, organisation, region), their occupations
            response = self.client.get("/courses/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "人工智能训练入门")
        self.client.force_login(self.other_operator)
        self.assertNotContains(self.client.get("/courses/"), "人工智能训练入门")

    def test_create_course_through_the_form(self):
        self.client.force_login(self.operator)
        self.assertEqual(self.client.get("/courses/new/").status_code, 200)
        response = self.client.post("/courses/new/", form_data())
        course = Course.objects.get(external_id="W1")
        self.assertRedirects(response, f"/courses/{course.pk}/")
        self.assertEqual(course.status, S.SUBMITTED)
        self.assertEqual(course.lessons.count(), 2)
        self.assertEqual(course.occupations.count(), 2)

    def test_form_shows_field_errors_and_saves_nothing(self):
        self.client.force_login(self.operator)
        cases = [
            ({"occupation_codes": "9-99-99-99"}, "occupation_codes", "9-99-99-99"),
            ({"class_hours": "0"}, "class_hours", ""),
            ({"lessons": "L1 | 只有标题"}, "lessons", "1"),
            ({"lessons": "L1 | a | video | https://p.example/x"}, "lessons", "1"),
            (
                {"activity_iri": "https://p.example/xapi/C1"},
                "activity_iri",
                "",
            ),
            ({"online_percent": "50"}, None, "offline_sessions"),
        ]
        for overrides, field, text in cases:
            with self.subTest(field=field, text=text):
                response = self.client.post("/courses/new/", form_data(**overrides))
                self.assertEqual(response.status_code, 200)
                form = response.context["form"]
                errors = form.errors.get(field or "__all__")
                self.assertTrue(errors, form.errors)
                self.assertIn(text, " ".join(errors))
        self.assertFalse(Course.objects.filter(external_id="W1").exists())

    def test_edit_form_prefills_and_updates(self):
        self.client.force_login(self.operator)
        url = f"/courses/{self.course.pk}/edit/"
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        initial = response.context["form"].initial
        data = {k: v for k, v in initial.items() if v is not None}
        data.update(
            {
                "title": "改过的标题",
                "categories": initial["categories"],
                "is_free": "on",
                "requires_test": "on",
                "skill_level": "5",
            }
        )
        data["free_from"], data["free_until"] = "2020-03-01", "2020-06-30"
        response = self.client.post(url, data)
        self.assertRedirects(response, f"/courses/{self.course.pk}/")
        self.course.refresh_from_db()
        self.assertEqual(self.course.title, "改过的标题")

    def test_another_platforms_course_is_404_and_other_roles_403(self):
        self.client.force_login(self.other_operator)
        for url in (f"/courses/{self.course.pk}/", f"/courses/{self.course.pk}/edit/"):
            self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(f"/courses/{self.course.pk}/submit/").status_code, 404)
        self.client.force_login(self.learner)
        for url in (
            "/courses/",
            "/courses/new/",
            "/courses/import/",
            f"/courses/{self.course.pk}/",
        ):
            self.assertEqual(self.client.get(url).status_code, 403, url)

    def test_submit_and_withdraw(self):
        Course.objects.filter(pk=self.course.pk).update(status=S.RETURNED)
        self.client.force_login(self.operator)
        self.client.post(f"/courses/{self.course.pk}/submit/")
        self.course.refresh_from_db()
        self.assertEqual(self.course.status, S.SUBMITTED)
        self.client.post(f"/courses/{self.course.pk}/withdraw/", {"note": "下架"})
        self.course.refresh_from_db()
        self.assertEqual(self.course.status, S.WITHDRAWN)
        # a refused move shows a message, not an error page
        response = self.client.post(f"/courses/{self.course.pk}/withdraw/", follow=True)
        self.assertEqual(response.status_code, 200)


class ImportPageTests(CatalogueTestCase):
    def test_template_download_is_a_real_workbook(self):
        self.client.force_login(self.operator)
        response = self.client.get("/courses/import/template.xlsx")
        self.assertEqual(response.status_code, 200)
        book = load_workbook(io.BytesIO(response.content))
        self.assertIn(COURSES_SHEET, book.sheetnames)

    def upload(self, content, name="courses.xlsx"):
        file = io.BytesIO(content)
        file.name = name
        return self.client.post("/courses/import/", {"file": file})

    def test_upload_preview_then_import(self):
        self.client.force_login(self.operator)
        content = workbook(
            [course_row("C1"), course_row("C2", occupation_codes="9-99-99-99")],
            [lesson_row("C1"), lesson_row("C2")],
        )
        response = self.upload(content)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "9-99-99-99")
        self.assertContains(response, 'data-testid="import-preview"')
        self.assertFalse(Course.objects.exists())
        token = response.context["token"]
        response = self.client.post("/courses/import/commit/", {"token": token, "choice": "import"})
        self.assertRedirects(response, "/courses/")
        self.assertEqual(list(Course.objects.values_list("external_id", flat=True)), ["C1"])
        # the same token cannot be used twice
        response = self.client.post("/courses/import/commit/", {"token": token, "choice": "import"})
        self.assertRedirects(response, "/courses/import/")

    def test_cancel_imports_nothing(self):
        self.client.force_login(self.operator)
        response = self.upload(workbook([course_row("C1")], [lesson_row("C1")]))
        self.client.post(
            "/courses/import/commit/", {"token": response.context["token"], "choice": "cancel"}
        )
        self.assertFalse(Course.objects.exists())

    def test_wrong_file_type_is_reported(self):
        self.client.force_login(self.operator)
        response = self.upload(b"%PDF-1.4 a pdf renamed", name="courses.xlsx")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["result"].file_error)
        response = self.client.post("/courses/import/", {})
        self.assertTrue(response.context["form"].errors["file"])

    def test_another_platforms_token_is_refused(self):
        self.client.force_login(self.operator)
        token = self.upload(workbook([course_row("C1")], [lesson_row("C1")])).context["token"]
        self.client.force_login(self.other_operator)
        response = self.client.post("/courses/import/commit/", {"token": token, "choice": "import"})
        self.assertRedirects(response, "/courses/import/")
        self.assertFalse(Course.objects.exists())


class ReviewPageTests(CatalogueTestCase):
    def setUp(self):
        self.course, _ = services.publish_course(self.platform, data=course_data(), by=None)

    def test_queue_in_scope_with_few_queries(self):
        for n in range(3):
            services.publish_course(self.platform, data=course_data(f"N{n}"), by=None)
        self.client.force_login(self.county)
        with self.assertNumQueries(8):
            # session, user, role check, officer prefixes, count, nav roles, courses (with
            # platform, organisation, region), their occupations
            response = self.client.get("/courses/review/")
        self.assertContains(response, "人工智能训练入门")
        self.client.force_login(self.outsider)
        self.assertNotContains(self.client.get("/courses/review/"), "人工智能训练入门")

    def test_approve_in_place_with_htmx(self):
        self.client.force_login(self.county)
        response = self.client.post(
            f"/courses/review/{self.course.pk}/approve/",
            {"note": "好"},
            headers={"HX-Request": "true"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="review-box"')
        self.assertTemplateUsed(response, "catalog/courses/_partials/review_box.html")
        self.course.refresh_from_db()
        self.assertEqual(self.course.status, S.APPROVED)

    def test_return_needs_a_note(self):
        self.client.force_login(self.county)
        response = self.client.post(f"/courses/review/{self.course.pk}/return/", {"note": ""})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["note_form"].errors["note"])
        self.course.refresh_from_db()
        self.assertEqual(self.course.status, S.SUBMITTED)
        response = self.client.post(f"/courses/review/{self.course.pk}/reject/", {"note": "不合格"})
        self.assertRedirects(response, f"/courses/{self.course.pk}/")

    def test_outsider_404_and_wrong_roles_403(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(f"/courses/{self.course.pk}/").status_code, 404)
        self.assertEqual(
            self.client.post(f"/courses/review/{self.course.pk}/approve/").status_code, 404
        )
        for user in (self.finance, self.operator, self.learner):
            self.client.force_login(user)
            self.assertEqual(self.client.get("/courses/review/").status_code, 403)
            self.assertEqual(
                self.client.post(f"/courses/review/{self.course.pk}/approve/").status_code, 403
            )
        self.client.force_login(self.county)
        self.assertEqual(
            self.client.post(f"/courses/review/{self.course.pk}/bless/").status_code, 404
        )


class CataloguePageTests(CatalogueTestCase):
    def entry(self, region=None):
        return services.create_institution_entry(
            self.platform.organisation,
            region=region or self.wuhan,
            nature="online_platform",
            occupations=[],
            valid_from=date(2020, 1, 1),
            by=None,
        )

    def test_institution_list_in_scope_with_few_queries(self):
        self.entry()
        services.create_institution_entry(
            self.other.organisation,
            region=self.xiling,
            nature="online_platform",
            occupations=[],
            valid_from=date(2020, 1, 1),
            by=None,
        )
        self.client.force_login(self.city)
        with self.assertNumQueries(9):
            # session, user, catalogue role, system-admin check, officer prefixes, count,
            # nav roles, entries (with region, organisation), their occupations
            response = self.client.get("/courses/catalogues/institutions/")
        self.assertContains(response, "江岸在线学院")
        self.assertNotContains(response, "另一个平台")

    def test_create_institution_entry(self):
        self.client.force_login(self.city)
        data = {
            "uscc": self.platform.organisation.uscc,
            "region": self.wuhan.pk,
            "nature": "online_platform",
            "address": "",
            "occupation_codes": "4-04-05-05",
            "valid_from": "2020-03-01",
            "valid_to": "",
        }
        response = self.client.post("/courses/catalogues/institutions/new/", data)
        entry = InstitutionCatalogueEntry.objects.get()
        self.assertRedirects(response, f"/courses/catalogues/institutions/{entry.pk}/")

    def test_create_institution_entry_field_errors(self):
        self.client.force_login(self.city)
        base = {
            "uscc": self.platform.organisation.uscc,
            "region": self.wuhan.pk,
            "nature": "online_platform",
            "occupation_codes": "",
            "valid_from": "2020-03-01",
        }
        cases: list[tuple[dict[str, Any], str]] = [
            ({"uscc": "91420102000000000X"}, "uscc"),
            ({"region": self.xiling.pk}, "region"),  # outside the officer's regions
            ({"occupation_codes": "4-04"}, "occupation_codes"),
            ({"valid_to": "2020-01-01"}, "valid_to"),
            ({"valid_from": "not a date"}, "valid_from"),
        ]
        for overrides, field in cases:
            with self.subTest(field=field):
                response = self.client.post(
                    "/courses/catalogues/institutions/new/", {**base, **overrides}
                )
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.context["form"].errors[field])
        self.assertFalse(InstitutionCatalogueEntry.objects.exists())

    def test_suspend_needs_a_reason_and_outsiders_get_404(self):
        entry = self.entry()
        url = f"/courses/catalogues/institutions/{entry.pk}/"
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(url + "suspend/", {"reason": "x"}).status_code, 404)
        self.client.force_login(self.finance)
        self.assertEqual(self.client.get(url).status_code, 403)
        self.client.force_login(self.city)
        self.assertEqual(self.client.get(url).status_code, 200)
        response = self.client.post(url + "suspend/", {"reason": ""})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["reason_form"].errors["reason"])
        self.assertRedirects(self.client.post(url + "suspend/", {"reason": "整改"}), url)
        entry.refresh_from_db()
        self.assertEqual(entry.status, CatalogueStatus.SUSPENDED)
        # an edit of the validity
        response = self.client.post(
            url,
            {
                "nature": "online_platform",
                "address": "",
                "occupation_codes": "",
                "valid_from": "2020-01-01",
                "valid_to": "2020-12-31",
            },
        )
        self.assertRedirects(response, url)
        entry.refresh_from_db()
        self.assertEqual(entry.valid_to, date(2020, 12, 31))

    def test_project_entry_pages(self):
        self.client.force_login(self.city)
        data = {
            "region": self.wuhan.pk,
            "occupation_code": "4-04-05-05",
            "trade": "",
            "skill_level": "",
            "training_type": "online",
            "class_hours": "40",
            "subsidy_standard": "800.50",
            "valid_from": "2020-01-01",
            "valid_to": "",
        }
        response = self.client.post("/courses/catalogues/projects/new/", data)
        entry = ProjectCatalogueEntry.objects.get()
        self.assertRedirects(response, f"/courses/catalogues/projects/{entry.pk}/")
        self.assertEqual(entry.subsidy_standard_fen, 80050)
        response = self.client.post(
            "/courses/catalogues/projects/new/", {**data, "occupation_code": "9-99-99-99"}
        )
        self.assertTrue(response.context["form"].errors["occupation_code"])
        response = self.client.post(
            "/courses/catalogues/projects/new/", {**data, "trade": "不存在"}
        )
        self.assertTrue(response.context["form"].errors["trade"])
        list_response = self.client.get("/courses/catalogues/projects/")
        self.assertContains(list_response, "人工智能训练师")
        self.client.post(f"/courses/catalogues/projects/{entry.pk}/remove/", {"reason": "不再需要"})
        entry.refresh_from_db()
        self.assertEqual(entry.status, CatalogueStatus.REMOVED)
        self.client.force_login(self.outsider)
        self.assertEqual(
            self.client.get(f"/courses/catalogues/projects/{entry.pk}/").status_code, 404
        )
