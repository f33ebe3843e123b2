"""Pages: happy paths, outsiders get 404, wrong roles 403, bad input shown on the form."""

from __future__ import annotations

from datetime import date

from django.core.signals import request_finished
from django.db import close_old_connections
from django.urls import reverse

from zhipei.enterprises import services
from zhipei.enterprises.models import Employment, RosterImport, ShutdownDeclaration
from zhipei.enterprises.tests.helpers import EnterpriseTestCase, pdf, xlsx
from zhipei.people.testing import make_id_number

S = ShutdownDeclaration.Status


class AdminDeclarationPageTests(EnterpriseTestCase):
    def test_declare_add_evidence_submit(self):
        self.client.force_login(self.admin)
        self.assertEqual(self.client.get(reverse("enterprises:declarations")).status_code, 200)
        response = self.client.post(
            reverse("enterprises:declaration_create"),
            {
                "kind": "partial",
                "starts_on": "2026-02-01",
                "ends_on": "2026-02-20",
                "cause": "epidemic",
                "affected_employee_count": "10",
            },
        )
        declaration = ShutdownDeclaration.objects.get()
        self.assertRedirects(
            response, reverse("enterprises:declaration_detail", args=[declaration.pk])
        )
        url = reverse("enterprises:declaration_action", args=[declaration.pk, "evidence"])
        self.client.post(url, {"file": pdf(), "description": "Order"})
        self.client.post(reverse("enterprises:declaration_action", args=[declaration.pk, "submit"]))
        declaration.refresh_from_db()
        self.assertEqual(declaration.status, S.SUBMITTED)
        page = self.client.get(reverse("enterprises:declaration_detail", args=[declaration.pk]))
        self.assertContains(page, "order.pdf")
        evidence = declaration.evidence.get()
        download = self.client.get(
            reverse("enterprises:evidence_download", args=[declaration.pk, evidence.pk])
        )
        self.assertEqual(download.status_code, 200)
        self.assertEqual(b"".join(download.streaming_content), evidence.file.read())  # type: ignore[attr-defined]
        evidence.file.close()
        # Close the streamed file as the server would, without closing the test's database
        # connection (what the test client itself does around request_finished).
        request_finished.disconnect(close_old_connections)
        try:
            download.close()
        finally:
            request_finished.connect(close_old_connections)

    def test_invalid_declaration_shows_field_errors(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            reverse("enterprises:declaration_create"),
            {"kind": "partial", "starts_on": "2026-02-10", "ends_on": "2026-02-01", "cause": "x"},
        )
        self.assertContains(response, "Select a valid choice", status_code=422)
        response = self.client.post(
            reverse("enterprises:declaration_create"),
            {
                "kind": "full",
                "starts_on": "2026-02-10",
                "ends_on": "2026-02-01",
                "cause": "epidemic",
            },
        )
        self.assertContains(response, "cannot be before the first day", status_code=422)
        self.assertFalse(ShutdownDeclaration.objects.exists())

    def test_bad_evidence_and_submit_without_evidence(self):
        declaration = self.declare(evidence=False)
        self.client.force_login(self.admin)
        url = reverse("enterprises:declaration_action", args=[declaration.pk, "evidence"])
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = self.client.post(url, {"file": SimpleUploadedFile("a.pdf", b"not a pdf")})
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "not of an accepted type", status_code=422)
        response = self.client.post(
            reverse("enterprises:declaration_action", args=[declaration.pk, "submit"]),
            follow=True,
        )
        self.assertContains(response, "Add at least one evidence document")

    def test_other_enterprise_gets_404_and_wrong_roles_403(self):
        declaration = self.declare()
        detail = reverse("enterprises:declaration_detail", args=[declaration.pk])
        self.client.force_login(self.other_admin)
        self.assertEqual(self.client.get(detail).status_code, 404)
        submit = reverse("enterprises:declaration_action", args=[declaration.pk, "submit"])
        self.assertEqual(self.client.post(submit).status_code, 404)
        for user in (self.officer, self.learner):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                self.assertEqual(
                    self.client.get(reverse("enterprises:declarations")).status_code, 403
                )
                self.assertEqual(self.client.get(detail).status_code, 403)
        self.client.logout()
        self.assertEqual(self.client.get(detail).status_code, 302)

    def test_edit_draft_and_remove_evidence(self):
        declaration = self.declare()
        self.client.force_login(self.admin)
        url = reverse("enterprises:declaration_edit", args=[declaration.pk])
        self.assertContains(self.client.get(url), "2026-02-28")
        response = self.client.post(
            url,
            {
                "kind": "partial",
                "starts_on": "2026-02-01",
                "ends_on": "2026-02-10",
                "cause": "epidemic",
                "affected_employee_count": "99",
            },
        )
        self.assertContains(response, "More employees affected", status_code=422)
        response = self.client.post(
            url,
            {
                "kind": "partial",
                "starts_on": "2026-02-01",
                "ends_on": "2026-02-10",
                "cause": "epidemic",
                "affected_employee_count": "9",
            },
        )
        self.assertEqual(response.status_code, 302)
        declaration.refresh_from_db()
        self.assertEqual((declaration.kind, declaration.ends_on), ("partial", date(2026, 2, 10)))
        remove = reverse("enterprises:declaration_action", args=[declaration.pk, "remove_evidence"])
        self.assertEqual(self.client.post(remove, {"evidence": "nonsense"}).status_code, 404)
        self.client.post(remove, {"evidence": declaration.evidence.get().pk})
        self.assertFalse(declaration.evidence.exists())
        services.add_evidence(declaration, pdf(), by=self.admin)
        services.submit_declaration(declaration, by=self.admin)
        response = self.client.get(url, follow=True)
        self.assertContains(response, "can no longer be changed")

    def test_unknown_action_404(self):
        declaration = self.declare()
        self.client.force_login(self.admin)
        url = reverse("enterprises:declaration_action", args=[declaration.pk, "explode"])
        self.assertEqual(self.client.post(url).status_code, 404)


class OfficerPageTests(EnterpriseTestCase):
    def test_queue_detail_confirm(self):
        declaration = self.submitted()
        self.client.force_login(self.officer)
        queue = self.client.get(reverse("enterprises:review_queue"))
        self.assertContains(queue, "江岸制造有限公司")
        self.assertContains(
            self.client.get(reverse("enterprises:review_detail", args=[declaration.pk])),
            "Confirm",
        )
        response = self.client.post(
            reverse("enterprises:review_action", args=[declaration.pk, "confirm"])
        )
        self.assertEqual(response.status_code, 302)
        declaration.refresh_from_db()
        self.assertEqual(declaration.status, S.CONFIRMED)

    def test_return_without_note_shows_error(self):
        declaration = self.submitted()
        self.client.force_login(self.officer)
        url = reverse("enterprises:review_action", args=[declaration.pk, "return"])
        response = self.client.post(url, {"note": ""})
        self.assertContains(response, "This field is required", status_code=422)
        declaration.refresh_from_db()
        self.assertEqual(declaration.status, S.SUBMITTED)

    def test_confirming_twice_is_harmless_and_rejecting_after_is_refused(self):
        declaration = self.submitted()
        self.client.force_login(self.officer)
        url = reverse("enterprises:review_action", args=[declaration.pk, "confirm"])
        self.client.post(url)
        self.assertEqual(self.client.post(url).status_code, 302)
        response = self.client.post(
            reverse("enterprises:review_action", args=[declaration.pk, "reject"]), {"note": "x"}
        )
        self.assertContains(response, "Cannot move", status_code=422)

    def test_outsider_gets_404_other_roles_403(self):
        declaration = self.submitted()
        self.client.force_login(self.outsider)
        self.assertNotContains(self.client.get(reverse("enterprises:review_queue")), "江岸制造")
        for url in (
            reverse("enterprises:review_detail", args=[declaration.pk]),
            reverse("enterprises:officer_roster", args=[self.enterprise.pk]),
        ):
            self.assertEqual(self.client.get(url).status_code, 404)
        confirm = reverse("enterprises:review_action", args=[declaration.pk, "confirm"])
        self.assertEqual(self.client.post(confirm).status_code, 404)
        for user in (self.admin, self.finance, self.learner):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                self.assertEqual(
                    self.client.get(reverse("enterprises:review_queue")).status_code, 403
                )
                self.assertEqual(self.client.post(confirm).status_code, 403)
        declaration.refresh_from_db()
        self.assertEqual(declaration.status, S.SUBMITTED)

    def test_drafts_are_invisible_to_officers(self):
        draft = self.declare()
        self.client.force_login(self.officer)
        url = reverse("enterprises:review_detail", args=[draft.pk])
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_officer_sees_roster_masked(self):
        number = make_id_number("420102", "19880808", 51)
        services.add_employment_by_id_number(
            self.enterprise,
            name="李雷",
            id_number=number,
            kind="employee",
            start_on=date(2025, 1, 1),
            by=self.admin,
        )
        self.client.force_login(self.officer)
        self.assertContains(
            self.client.get(reverse("enterprises:officer_enterprises")), "江岸制造有限公司"
        )
        page = self.client.get(reverse("enterprises:officer_roster", args=[self.enterprise.pk]))
        self.assertContains(page, "李雷")
        self.assertNotContains(page, number)
        self.assertContains(page, number[:3] + "*" * 11 + number[-4:])


class RosterPageTests(EnterpriseTestCase):
    def test_add_search_and_end(self):
        self.client.force_login(self.admin)
        number = make_id_number("420102", "19900303", 61)
        response = self.client.post(
            reverse("enterprises:employment_add"),
            {
                "name": "王芳",
                "id_number": number,
                "kind": "dispatched",
                "start_on": "2025-01-01",
                "dispatcher_name": "某劳务派遣公司",
            },
        )
        self.assertRedirects(response, reverse("enterprises:roster"))
        employment = Employment.objects.get()
        page = self.client.get(reverse("enterprises:roster"), {"q": "王"})
        self.assertContains(page, "王芳")
        self.assertNotContains(page, number)
        partial = self.client.post(
            reverse("enterprises:roster"), {"q": number}, headers={"hx-request": "true"}
        )
        self.assertContains(partial, "王芳")
        self.assertNotContains(partial, "<html")
        self.assertNotContains(partial, number)
        # An ID number in a URL is ignored: the whole roster is shown, not a search.
        self.client.post(
            reverse("enterprises:employment_add"),
            {
                "name": "李雷",
                "id_number": make_id_number("420102", "19900303", 65),
                "kind": "employee",
                "start_on": "2025-01-01",
            },
        )
        by_url = self.client.get(reverse("enterprises:roster"), {"q": number})
        self.assertContains(by_url, "李雷")
        self.client.post(
            reverse("enterprises:employment_end", args=[employment.pk]),
            {"end_on": "2025-05-31", "reason": "Left"},
        )
        employment.refresh_from_db()
        self.assertEqual(employment.end_on, date(2025, 5, 31))

    def test_invalid_add_shows_errors_and_saves_nothing(self):
        self.client.force_login(self.admin)
        number = make_id_number("420102", "19900303", 62)
        bad = number[:17] + ("0" if number[17] != "0" else "1")
        response = self.client.post(
            reverse("enterprises:employment_add"),
            {"name": "王芳", "id_number": bad, "kind": "employee", "start_on": "2025-01-01"},
        )
        self.assertContains(response, "check character", status_code=422)
        self.assertFalse(Employment.objects.exists())

    def test_end_with_bad_date_is_a_message_not_a_500(self):
        self.client.force_login(self.admin)
        employment = services.add_employment_by_id_number(
            self.enterprise,
            name="王芳",
            id_number=make_id_number("420102", "19900303", 63),
            kind="employee",
            start_on=date(2025, 1, 1),
            by=self.admin,
        )
        url = reverse("enterprises:employment_end", args=[employment.pk])
        response = self.client.post(url, {"end_on": "2024-01-01", "reason": "x"}, follow=True)
        self.assertContains(response, "cannot be before the start date")
        response = self.client.post(url, {"end_on": "nonsense"}, follow=True)
        self.assertEqual(response.status_code, 200)
        self.client.force_login(self.other_admin)
        self.assertEqual(
            self.client.post(url, {"end_on": "2025-02-01", "reason": "x"}).status_code, 404
        )

    def test_roster_pages_refuse_other_roles(self):
        for user in (self.officer, self.learner):
            self.client.force_login(user)
            for name in ("enterprises:roster", "enterprises:employment_add", "enterprises:import"):
                with self.subTest(user=user.username, page=name):
                    self.assertEqual(self.client.get(reverse(name)).status_code, 403)


class ImportPageTests(EnterpriseTestCase):
    def test_template_upload_preview_commit(self):
        self.client.force_login(self.admin)
        template = self.client.get(reverse("enterprises:import_template"))
        self.assertEqual(template.status_code, 200)
        good = make_id_number("420102", "19900404", 71)
        bad = good[:17] + ("0" if good[17] != "0" else "1")
        rows = [
            ["王芳", good, "", "职工", "2025-01-01", ""],
            ["张三", bad, "", "职工", "2025-01-01", ""],
        ]
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(reverse("enterprises:import"), {"file": xlsx(rows)})
        roster_import = RosterImport.objects.get()
        detail = reverse("enterprises:import_detail", args=[roster_import.pk])
        self.assertRedirects(response, detail)
        page = self.client.get(detail)
        self.assertContains(page, "Checked: waiting for your choice")
        self.assertContains(page, "The check character")
        self.assertNotContains(page, good)
        self.assertNotContains(page, bad)
        self.assertContains(page, good[:3] + "*" * 11 + good[-4:])
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("enterprises:import_action", args=[roster_import.pk, "commit"])
            )
        roster_import.refresh_from_db()
        self.assertEqual(roster_import.status, RosterImport.Status.COMMITTED)
        self.assertEqual(Employment.objects.count(), 1)
        self.assertContains(self.client.get(detail), "1 added, 0 skipped")

    def test_progress_partial_while_running_and_refresh_when_done(self):
        self.client.force_login(self.admin)
        rows = [["王芳", make_id_number("420102", "19900404", 72), "", "职工", "2025-01-01", ""]]
        # Without running the on-commit callback the check has not started: still "parsing".
        response = self.client.post(reverse("enterprises:import"), {"file": xlsx(rows)})
        roster_import = RosterImport.objects.get()
        detail = reverse("enterprises:import_detail", args=[roster_import.pk])
        self.assertRedirects(response, detail)
        partial = self.client.get(detail, {"progress": "1"}, headers={"hx-request": "true"})
        self.assertContains(partial, "every 2s")
        self.assertContains(self.client.get(detail), "import-progress")
        from zhipei.enterprises.imports import parse_roster_import

        parse_roster_import(roster_import.pk)
        done = self.client.get(detail, {"progress": "1"}, headers={"hx-request": "true"})
        self.assertEqual(done.status_code, 204)
        self.assertEqual(done["HX-Refresh"], "true")

    def test_wrong_type_is_a_form_error(self):
        self.client.force_login(self.admin)
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = self.client.post(
            reverse("enterprises:import"), {"file": SimpleUploadedFile("r.xlsx", b"a,b\n")}
        )
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "not of an accepted type", status_code=422)
        response = self.client.post(reverse("enterprises:import"), {})
        self.assertEqual(response.status_code, 422)
        self.assertFalse(RosterImport.objects.exists())

    def test_other_enterprise_gets_404_on_import(self):
        self.client.force_login(self.admin)
        rows = [["王芳", make_id_number("420102", "19900404", 73), "", "职工", "2025-01-01", ""]]
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(reverse("enterprises:import"), {"file": xlsx(rows)})
        roster_import = RosterImport.objects.get()
        self.client.force_login(self.other_admin)
        self.assertEqual(
            self.client.get(
                reverse("enterprises:import_detail", args=[roster_import.pk])
            ).status_code,
            404,
        )
        commit = reverse("enterprises:import_action", args=[roster_import.pk, "commit"])
        self.assertEqual(self.client.post(commit).status_code, 404)
        self.client.force_login(self.admin)
        cancel = reverse("enterprises:import_action", args=[roster_import.pk, "cancel"])
        self.client.post(cancel)
        response = self.client.post(commit, follow=True)
        self.assertContains(response, "Cannot move")
        self.assertFalse(Employment.objects.exists())


class NavigationTests(EnterpriseTestCase):
    def test_menu_entries_by_role(self):
        self.client.force_login(self.admin)
        home = self.client.get("/")
        self.assertContains(home, reverse("enterprises:roster"))
        self.assertNotContains(home, reverse("enterprises:review_queue"))
        self.client.force_login(self.officer)
        home = self.client.get("/")
        self.assertContains(home, reverse("enterprises:review_queue"))


class QueryCountTests(EnterpriseTestCase):
    def fill_roster(self, count: int) -> None:
        start = Employment.objects.count()
        for index in range(start, start + count):
            services.add_employment_by_id_number(
                self.enterprise,
                name="王芳",
                id_number=make_id_number("420102", "19700101", 101 + index),
                kind="employee",
                start_on=date(2025, 1, 1),
                by=self.admin,
            )

    def test_roster_page_queries_do_not_grow_with_rows(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.client.force_login(self.admin)
        self.fill_roster(2)
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("enterprises:roster"))
        self.fill_roster(6)
        with CaptureQueriesContext(connection) as many:
            self.client.get(reverse("enterprises:roster"))
        self.assertEqual(len(few), len(many))
        # session, user, roles for the menu, the administered enterprise, count, page rows
        self.assertLessEqual(len(many), 8)

    def test_review_queue_queries_do_not_grow_with_rows(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.submitted(starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 5))
        self.client.force_login(self.officer)
        with CaptureQueriesContext(connection) as few:
            self.client.get(reverse("enterprises:review_queue"))
        for month in (3, 5, 7):
            self.submitted(starts_on=date(2026, month, 1), ends_on=date(2026, month, 5))
        with CaptureQueriesContext(connection) as many:
            self.client.get(reverse("enterprises:review_queue"))
        self.assertEqual(len(few), len(many))
        # session, user, roles for the menu, role check, officer scope, count, page rows
        self.assertLessEqual(len(many), 9)
