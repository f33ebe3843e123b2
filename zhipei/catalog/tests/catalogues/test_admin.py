"""The catalog admin is read-only and for operators only."""

from __future__ import annotations

from zhipei.catalog.catalogues.services import publish_course

from .helpers import CatalogueTestCase, course_data


class CatalogAdminTests(CatalogueTestCase):
    def setUp(self):
        self.course, _ = publish_course(self.platform, data=course_data(), by=None)

    def test_operator_can_look_but_not_change(self):
        self.sysadmin.is_staff = True
        self.sysadmin.save(update_fields=["is_staff"])
        self.client.force_login(self.sysadmin)
        for url in (
            "/admin/catalog/course/",
            f"/admin/catalog/course/{self.course.pk}/change/",
            "/admin/catalog/institutioncatalogueentry/",
            "/admin/catalog/projectcatalogueentry/",
            "/admin/catalog/idempotencyrecord/",
        ):
            self.assertEqual(self.client.get(url).status_code, 200, url)
        self.assertEqual(self.client.get("/admin/catalog/course/add/").status_code, 403)
        self.assertEqual(
            self.client.post(f"/admin/catalog/course/{self.course.pk}/delete/").status_code, 403
        )

    def test_staff_without_the_admin_role_cannot_look(self):
        self.county.is_staff = True
        self.county.save(update_fields=["is_staff"])
        self.client.force_login(self.county)
        self.assertEqual(self.client.get("/admin/catalog/course/").status_code, 403)
