"""Platform operator pages: open calls, applying, documents, submitting, my platform."""

from __future__ import annotations

from django.urls import reverse

from zhipei.catalog.models import PlatformApplication, Upload
from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import (
    PNG_BYTES,
    SelectionTestCase,
    application_data,
    upload,
)
from zhipei.orgs.models import Platform

A = PlatformApplication.Status


def _application_post(**overrides: str) -> dict[str, str]:
    data = {
        "website": "https://learn.example.cn",
        "summary": "Courses for AI trainers.",
        "occupation_codes": "4-04-05-05，4-04-05-01",
        "offered_courses": "AI trainer level 4",
        "interface_contact_name": "张工",
        "interface_contact_phone": "13800001111",
        "interface_contact_email": "api@learn.example.cn",
    }
    data.update(overrides)
    return data


class OpenCallsTests(SelectionTestCase):
    def test_open_calls_for_the_operators_region_only(self) -> None:
        wuhan = self.make_call(title="武汉征集")
        self.make_call(title="宜昌征集", region=self.regions["420500"], by=self.province)
        self.client.force_login(self.operator)
        # session, user, roles (view), organisations, calls, nav roles
        with self.assertNumQueries(6):
            response = self.client.get(reverse("selection:open_calls"))
        self.assertContains(response, "武汉征集")
        self.assertNotContains(response, "宜昌征集")
        self.assertContains(response, reverse("selection:apply", args=[wuhan.pk]))

    def test_wrong_role_403(self) -> None:
        for user in (self.city, self.plain):
            self.client.force_login(user)
            for name in ("open_calls", "my_applications", "my_platform"):
                with self.subTest(user=user.username, name=name):
                    self.assertEqual(self.client.get(reverse(f"selection:{name}")).status_code, 403)


class ApplyTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call = self.make_call()

    def test_apply_upload_submit(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.post(
            reverse("selection:apply", args=[self.call.pk]),
            {**_application_post(), "organisation": self.org.pk},
        )
        application = PlatformApplication.objects.get()
        url = reverse("selection:my_application", args=[application.pk])
        self.assertRedirects(response, url)
        self.assertEqual(application.offered_occupations.count(), 2)

        response = self.client.post(
            reverse("selection:my_application_upload", args=[application.pk]),
            {"kind": "business_licence", "file": upload("营业执照.pdf")},
        )
        self.assertRedirects(response, url)
        self.assertEqual(Upload.objects.get().original_name, "营业执照.pdf")

        response = self.client.post(
            reverse("selection:my_application_submit", args=[application.pk]), follow=True
        )
        self.assertContains(response, "submitted")
        self.assertEqual(PlatformApplication.objects.get().status, A.SUBMITTED)

    def test_apply_invalid_input(self) -> None:
        self.client.force_login(self.operator)
        url = reverse("selection:apply", args=[self.call.pk])
        cases = [
            (_application_post(occupation_codes="9-99-99-99"), "occupation_codes"),
            (_application_post(occupation_codes="4-04"), "occupation_codes"),
            (_application_post(website="not a url"), "website"),
            (_application_post(interface_contact_email="x"), "interface_contact_email"),
            (_application_post(summary=""), "summary"),
            ({**_application_post()}, "organisation"),  # missing
        ]
        for data, field in cases:
            if field != "organisation":
                data["organisation"] = str(self.org.pk)
            with self.subTest(field=field):
                response = self.client.post(url, data)
                self.assertEqual(response.status_code, 422)
                self.assertTrue(response.context["form"].errors[field])
        # Another organisation than one's own cannot be chosen.
        response = self.client.post(url, {**_application_post(), "organisation": self.org2.pk})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["form"].errors["organisation"])
        self.assertFalse(PlatformApplication.objects.exists())

    def test_apply_after_deadline_refused(self) -> None:
        self.client.force_login(self.operator)
        call = self.pass_deadline(self.call)
        response = self.client.post(
            reverse("selection:apply", args=[call.pk]),
            {**_application_post(), "organisation": self.org.pk},
        )
        # The call is no longer open: not offered any more.
        self.assertEqual(response.status_code, 404)
        self.assertFalse(PlatformApplication.objects.exists())

    def test_apply_to_a_call_of_another_region_is_404(self) -> None:
        far = self.make_call(title="宜昌", region=self.regions["420500"], by=self.province)
        self.client.force_login(self.operator)
        self.assertEqual(
            self.client.get(reverse("selection:apply", args=[far.pk])).status_code, 404
        )

    def test_upload_errors_are_field_errors(self) -> None:
        application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        self.client.force_login(self.operator)
        url = reverse("selection:my_application_upload", args=[application.pk])
        response = self.client.post(
            url, {"kind": "business_licence", "file": upload("licence.pdf", PNG_BYTES)}
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("licence.pdf", str(response.context["document_form"].errors["file"]))
        response = self.client.post(url, {"kind": "business_licence"})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["document_form"].errors["file"])
        response = self.client.post(url, {"kind": "roster", "file": upload()})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["document_form"].errors["kind"])
        self.assertFalse(Upload.objects.exists())

    def test_submit_without_licence_shows_message(self) -> None:
        application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        self.client.force_login(self.operator)
        response = self.client.post(
            reverse("selection:my_application_submit", args=[application.pk]), follow=True
        )
        self.assertContains(response, "Business licence")
        self.assertEqual(PlatformApplication.objects.get().status, A.DRAFT)

    def test_edit_draft_and_invalid_edit(self) -> None:
        application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        self.client.force_login(self.operator)
        url = reverse("selection:my_application", args=[application.pk])
        response = self.client.get(url)
        self.assertContains(response, "4-04-05-05")
        response = self.client.post(url, _application_post(summary="updated"))
        self.assertRedirects(response, url)
        self.assertEqual(PlatformApplication.objects.get().summary, "updated")
        response = self.client.post(url, _application_post(occupation_codes="1-99"))
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["form"].errors["occupation_codes"])

    def test_remove_document_and_withdraw(self) -> None:
        application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        document = services.add_document(
            application, upload(), kind="business_licence", by=self.operator
        )
        self.client.force_login(self.operator)
        url = reverse("selection:my_application", args=[application.pk])
        response = self.client.post(
            reverse("selection:my_application_remove_document", args=[application.pk, document.pk])
        )
        self.assertRedirects(response, url)
        self.assertFalse(Upload.objects.exists())
        response = self.client.post(
            reverse("selection:my_application_withdraw", args=[application.pk])
        )
        self.assertRedirects(response, url)
        self.assertEqual(PlatformApplication.objects.get().status, A.WITHDRAWN)

    def test_another_operators_application_is_404(self) -> None:
        application = services.create_application(
            self.call, organisation=self.org, data=application_data(), by=self.operator
        )
        document = services.add_document(
            application, upload(), kind="business_licence", by=self.operator
        )
        self.client.force_login(self.operator2)
        self.assertEqual(
            self.client.get(reverse("selection:my_application", args=[application.pk])).status_code,
            404,
        )
        for name, args in (
            ("my_application", [application.pk]),
            ("my_application_upload", [application.pk]),
            ("my_application_submit", [application.pk]),
            ("my_application_withdraw", [application.pk]),
            ("my_application_remove_document", [application.pk, document.pk]),
        ):
            with self.subTest(name=name):
                self.assertEqual(
                    self.client.post(reverse(f"selection:{name}", args=args)).status_code, 404
                )
        self.assertEqual(PlatformApplication.objects.get().status, A.DRAFT)
        self.assertTrue(Upload.objects.exists())

    def test_my_applications_list(self) -> None:
        self.make_application(self.call)
        self.client.force_login(self.operator)
        # session, user, roles (view), count, rows, nav roles
        with self.assertNumQueries(6):
            response = self.client.get(reverse("selection:my_applications"))
        self.assertContains(response, self.call.title)
        self.client.force_login(self.operator2)
        self.assertNotContains(
            self.client.get(reverse("selection:my_applications")), self.call.title
        )


class MyPlatformTests(SelectionTestCase):
    def test_metadata_but_never_the_secret(self) -> None:
        call, _application = self.decided_call("selected")
        results = services.publish_results(call, by=self.city)
        issued = results.issued[0]
        self.client.force_login(self.operator)
        response = self.client.get(reverse("selection:my_platform"))
        self.assertContains(response, issued.credential.key_id)
        self.assertNotContains(response, issued.secret)
        self.assertContains(response, Platform.Status.SELECTED.label)

    def test_not_yet_a_platform(self) -> None:
        self.client.force_login(self.operator)
        response = self.client.get(reverse("selection:my_platform"))
        self.assertContains(response, "not a platform yet")
