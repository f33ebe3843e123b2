"""Filing pages: staff (my filings, new per kind, attachments, submit, withdraw) and officers
(queue with filters and reminders, detail, decide): happy paths, outsiders 404, wrong roles
403, bad input with field errors, list query counts."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from zhipei.catalog.filings import services
from zhipei.catalog.models import Filing
from zhipei.catalog.tests.filings.helpers import FilingTestCase, pdf

S = Filing.Status


class StaffPageTests(FilingTestCase):
    def test_my_filings_lists_own_organisations_filings_and_kinds_to_file(self) -> None:
        mine = self.draft("training_project")
        theirs = self.draft("apprenticeship")
        self.client.force_login(self.school)
        response = self.client.get(reverse("filings:mine"))
        self.assertContains(response, mine.reference)
        self.assertNotContains(response, theirs.reference)
        self.assertContains(response, reverse("filings:new", args=["training_institution"]))
        self.assertNotContains(response, reverse("filings:new", args=["apprenticeship"]))

    def test_my_filings_query_count(self) -> None:
        for _ in range(3):
            self.draft("training_project")
        self.client.force_login(self.school)
        self.client.get(reverse("filings:mine"))
        # session, user, organisation roles, count, page rows, organisations with their
        # capacities (kinds to file), navigation roles
        with self.assertNumQueries(7):
            self.client.get(reverse("filings:mine"))

    def test_pages_refuse_people_without_an_organisation(self) -> None:
        filing = self.draft("training_project")
        for user in (self.county, self.plain):
            self.client.force_login(user)
            for url in (
                reverse("filings:mine"),
                reverse("filings:new", args=["training_project"]),
                reverse("filings:detail", args=[filing.pk]),
            ):
                with self.subTest(user=user.username, url=url):
                    self.assertEqual(self.client.get(url).status_code, 403)

    def test_anonymous_is_sent_to_login(self) -> None:
        response = self.client.get(reverse("filings:mine"))
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("accounts:login"), response["Location"])

    def test_kind_the_user_cannot_file_is_403_and_unknown_kind_404(self) -> None:
        self.client.force_login(self.hr)
        self.assertEqual(
            self.client.get(reverse("filings:new", args=["training_institution"])).status_code, 403
        )
        self.assertEqual(self.client.get(reverse("filings:new", args=["castle"])).status_code, 404)

    def test_another_organisations_filing_is_404(self) -> None:
        filing = self.draft("apprenticeship")
        self.client.force_login(self.school)
        for name in ("filings:detail", "filings:edit"):
            self.assertEqual(self.client.get(reverse(name, args=[filing.pk])).status_code, 404)
        for name in ("filings:submit", "filings:withdraw"):
            self.assertEqual(self.client.post(reverse(name, args=[filing.pk])).status_code, 404)
        response = self.client.post(
            reverse("filings:attach", args=[filing.pk]), {"kind": "other", "file": pdf()}
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(filing.attachments.exists())

    def test_new_form_renders_the_kinds_fields(self) -> None:
        self.client.force_login(self.school)
        response = self.client.get(reverse("filings:new", args=["training_project"]))
        self.assertContains(response, 'name="teaching_plan"')
        self.assertContains(response, 'name="assessment_plan"')
        self.assertContains(response, 'name="organisation"')

    def test_create_draft_then_attach_and_submit(self) -> None:
        self.client.force_login(self.school)
        data = {"organisation": self.school_org.pk, **self.project_data()}
        response = self.client.post(reverse("filings:new", args=["training_project"]), data)
        filing = Filing.objects.get()
        self.assertRedirects(response, reverse("filings:detail", args=[filing.pk]))
        response = self.client.get(reverse("filings:detail", args=[filing.pk]))
        self.assertContains(response, "Teaching plan")  # still missing: the attachment
        self.assertContains(response, 'id="missing"')
        response = self.client.post(
            reverse("filings:attach", args=[filing.pk]),
            {"kind": "teaching_plan", "file": pdf("plan.pdf")},
        )
        self.assertRedirects(response, reverse("filings:detail", args=[filing.pk]))
        response = self.client.get(reverse("filings:detail", args=[filing.pk]))
        self.assertNotContains(response, 'id="missing"')
        upload = filing.attachments.get()
        download = self.client.get(reverse("filings:attachment", args=[filing.pk, upload.pk]))
        self.assertEqual(download.status_code, 200)
        content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
        self.assertEqual(content[:5], b"%PDF-")
        response = self.client.post(reverse("filings:submit", args=[filing.pk]))
        self.assertRedirects(response, reverse("filings:detail", args=[filing.pk]))
        filing.refresh_from_db()
        self.assertEqual(filing.status, S.SUBMITTED)

    def test_bad_fields_are_shown_on_their_fields_and_nothing_is_saved(self) -> None:
        self.client.force_login(self.school)
        data = {
            "organisation": self.school_org.pk,
            **self.project_data(occupation="9-99-99-99", end_on="2020-01-01"),
        }
        response = self.client.post(reverse("filings:new", args=["training_project"]), data)
        self.assertEqual(response.status_code, 200)
        self.assertFalse(Filing.objects.exists())
        errors = response.context["form"].errors
        self.assertIn("occupation", errors)
        self.assertIn("end_on", errors)
        self.assertContains(response, "人工智能训练师（四级）开班")  # what was typed stays

    def test_incomplete_draft_is_saved_and_submit_lists_what_is_missing(self) -> None:
        self.client.force_login(self.school)
        response = self.client.post(
            reverse("filings:new", args=["training_institution"]),
            {"organisation": self.school_org.pk, "name": "蓝天"},
        )
        filing = Filing.objects.get()
        self.assertEqual(filing.data, {"name": "蓝天"})
        response = self.client.post(reverse("filings:submit", args=[filing.pk]))
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "Address", status_code=422)
        filing.refresh_from_db()
        self.assertEqual(filing.status, S.DRAFT)

    def test_wrong_file_type_is_a_field_error(self) -> None:
        filing = self.draft("training_project")
        self.client.force_login(self.school)
        fake = SimpleUploadedFile("plan.pdf", b"MZ not a pdf at all")
        response = self.client.post(
            reverse("filings:attach", args=[filing.pk]), {"kind": "teaching_plan", "file": fake}
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("file", response.context["attach_form"].errors)
        self.assertFalse(filing.attachments.exists())

    def test_edit_and_withdraw(self) -> None:
        filing = self.draft("training_project")
        self.client.force_login(self.school)
        response = self.client.get(reverse("filings:edit", args=[filing.pk]))
        self.assertContains(response, "张老师")
        response = self.client.post(
            reverse("filings:edit", args=[filing.pk]), self.project_data(course="新的开班")
        )
        self.assertRedirects(response, reverse("filings:detail", args=[filing.pk]))
        filing.refresh_from_db()
        self.assertEqual(filing.title, "新的开班")
        response = self.client.post(
            reverse("filings:edit", args=[filing.pk]), self.project_data(teachers="x" * 150)
        )
        self.assertIn("teachers", response.context["form"].errors)
        self.client.post(reverse("filings:withdraw", args=[filing.pk]))
        filing.refresh_from_db()
        self.assertEqual(filing.status, S.WITHDRAWN)
        response = self.client.get(reverse("filings:edit", args=[filing.pk]))
        self.assertRedirects(response, reverse("filings:detail", args=[filing.pk]))

    def test_remove_attachment(self) -> None:
        filing = self.draft("training_project")
        upload = services.attach_document(filing, pdf(), kind="other", by=self.school)
        self.client.force_login(self.school)
        self.client.post(reverse("filings:remove_attachment", args=[filing.pk, upload.pk]))
        self.assertFalse(filing.attachments.exists())


class OfficerPageTests(FilingTestCase):
    def test_queue_shows_filings_reviewed_in_scope_not_drafts(self) -> None:
        submitted = self.submitted("training_project")  # 江岸 county
        draft = self.draft("training_project")
        self.client.force_login(self.county)
        response = self.client.get(reverse("filings:queue"))
        self.assertContains(response, submitted.title)
        self.assertNotContains(response, draft.reference)
        self.client.force_login(self.outsider)
        response = self.client.get(reverse("filings:queue"))
        self.assertNotContains(response, submitted.title)

    def test_queue_filters(self) -> None:
        project = self.submitted("training_project")
        institution = self.submitted("training_institution")
        self.client.force_login(self.city)  # sees county and city review regions in 武汉
        response = self.client.get(reverse("filings:queue"), {"kind": "training_institution"})
        self.assertContains(response, reverse("filings:review_detail", args=[institution.pk]))
        self.assertNotContains(response, reverse("filings:review_detail", args=[project.pk]))
        Filing.objects.filter(pk=project.pk).update(due_at=timezone.now() - timedelta(days=1))
        response = self.client.get(reverse("filings:queue"), {"overdue": "on"})
        self.assertContains(response, reverse("filings:review_detail", args=[project.pk]))
        self.assertNotContains(response, reverse("filings:review_detail", args=[institution.pk]))
        response = self.client.get(reverse("filings:queue"), {"status": "approved"})
        self.assertContains(response, "No filings found")
        response = self.client.get(reverse("filings:queue"), {"status": "castle"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("status", response.context["filter_form"].errors)

    def test_queue_shows_reminders_as_notices(self) -> None:
        filing = self.submitted("training_project")
        assert filing.due_at is not None
        services.send_due_reminders(now=filing.due_at + timedelta(minutes=5))
        self.client.force_login(self.county)
        response = self.client.get(reverse("filings:queue"))
        self.assertContains(response, 'id="notices-heading"')
        self.assertEqual([f.pk for f in response.context["notices"]], [filing.pk])

    def test_queue_query_count(self) -> None:
        for _ in range(3):
            self.submitted("training_project")
        self.client.force_login(self.county)
        self.client.get(reverse("filings:queue"))
        # session, user, is_reviewer, scope prefixes, count, page rows, notices, navigation
        with self.assertNumQueries(8):
            self.client.get(reverse("filings:queue"))

    def test_queue_is_for_labour_officers_only(self) -> None:
        for user in (self.finance, self.school, self.plain):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                self.assertEqual(self.client.get(reverse("filings:queue")).status_code, 403)

    def test_outsider_gets_404_on_detail_decide_and_documents(self) -> None:
        filing = self.submitted("training_project")
        upload = filing.attachments.get()
        self.client.force_login(self.outsider)
        self.assertEqual(
            self.client.get(reverse("filings:review_detail", args=[filing.pk])).status_code, 404
        )
        response = self.client.post(
            reverse("filings:decide", args=[filing.pk]), {"decision": "approve"}
        )
        self.assertEqual(response.status_code, 404)
        response = self.client.get(reverse("filings:attachment", args=[filing.pk, upload.pk]))
        self.assertEqual(response.status_code, 404)
        filing.refresh_from_db()
        self.assertEqual(filing.status, S.SUBMITTED)

    def test_officer_at_the_wrong_level_may_read_but_not_decide(self) -> None:
        filing = self.submitted("training_project")  # county reviews
        self.client.force_login(self.city)
        self.assertEqual(
            self.client.get(reverse("filings:review_detail", args=[filing.pk])).status_code, 200
        )
        response = self.client.post(
            reverse("filings:decide", args=[filing.pk]), {"decision": "approve"}
        )
        self.assertEqual(response.status_code, 403)

    def test_decide_approve_and_return_with_note(self) -> None:
        filing = self.submitted("training_project")
        self.client.force_login(self.county)
        response = self.client.get(reverse("filings:review_detail", args=[filing.pk]))
        self.assertContains(response, "张老师")
        response = self.client.post(
            reverse("filings:decide", args=[filing.pk]), {"decision": "return", "note": ""}
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("note", response.context["form"].errors)
        response = self.client.post(
            reverse("filings:decide", args=[filing.pk]),
            {"decision": "return", "note": "请补充教学计划"},
        )
        self.assertRedirects(response, reverse("filings:review_detail", args=[filing.pk]))
        filing.refresh_from_db()
        self.assertEqual(filing.status, S.RETURNED)
        response = self.client.post(
            reverse("filings:decide", args=[filing.pk]), {"decision": "approve"}
        )
        self.assertEqual(response.status_code, 422)  # returned: not decidable now
        self.assertTrue(response.context["form"].non_field_errors())

    def test_bad_decision_value_is_a_field_error(self) -> None:
        filing = self.submitted("training_project")
        self.client.force_login(self.county)
        response = self.client.post(
            reverse("filings:decide", args=[filing.pk]), {"decision": "burn"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("decision", response.context["form"].errors)

    def test_routing_note_shown_when_reviewed_above_the_level(self) -> None:
        filing = services.create_filing(
            self.xt_firm, kind="apprenticeship", data=self.apprenticeship_data(), by=self.xt_hr
        )
        services.attach_document(filing, pdf(), kind="contract", by=self.xt_hr)
        services.submit_filing(filing, by=self.xt_hr)
        self.client.force_login(self.province)
        response = self.client.get(reverse("filings:review_detail", args=[filing.pk]))
        self.assertTrue(response.context["routed_up"])
