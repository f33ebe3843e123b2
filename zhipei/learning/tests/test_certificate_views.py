"""The public verification pages (QR link, number + name lookup, rate limit) and the PDF
download for the holder and officers in scope."""

from __future__ import annotations

import re
from typing import Any

from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from zhipei.learning.certificates.services import issue_certificate, revoke_certificate
from zhipei.learning.tests.certificate_helpers import CertificateWorld
from zhipei.people.models import Person


class VerifyWorld(CertificateWorld):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        # A three-character name shows the middle masked (王*芳).
        Person.objects.filter(pk=cls.person.pk).update(name="王小芳")
        cls.person.refresh_from_db()

    def setUp(self) -> None:
        cache.clear()
        self.credit(90)
        self.report_test()
        self.certificate = issue_certificate(self.enrolment)

    def url(self) -> str:
        return reverse("verify:completion", args=[self.certificate.token])

    def assert_no_personal_data(self, html: str) -> None:
        self.assertNotIn("王小芳", html)
        self.assertNotIn(self.person.id_masked, html)
        # Nothing shaped like an 18-character ID number, masked or not.
        self.assertIsNone(re.search(r"[0-9]{3}[0-9*]{11}[0-9*]{3}[0-9Xx*]", html))


class VerifyByTokenTests(VerifyWorld):
    def test_valid_certificate_shows_particulars_with_masked_holder(self) -> None:
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('id="certificate-status"><span class="badge badge-ok">', html)
        self.assertIn(self.certificate.number, html)
        self.assertIn("王*芳", html)
        self.assertIn(self.course.title, html)
        self.assertIn("6-18", html)
        self.assertIn("焊工", html)
        self.assertIn("2.0", html)
        self.assertIn(self.certificate.started_on.isoformat(), html)
        self.assertIn(self.certificate.completed_on.isoformat(), html)
        self.assertIn(self.platform.organisation.name, html)
        self.assert_no_personal_data(html)
        self.assertEqual(response["Cache-Control"], "no-store")
        self.assertEqual(response["Referrer-Policy"], "same-origin")

    def test_status_and_title_read_right_in_each_language(self) -> None:
        response = self.client.get(self.url(), headers={"Accept-Language": "zh-hans"})
        html = response.content.decode()
        self.assertIn('<span class="badge badge-ok">有效</span>', html)  # valid, not 有效期
        self.assertIn("<h1>培训合格证明</h1>", html)  # the document's name once, not twice
        response = self.client.get(self.url(), headers={"Accept-Language": "en"})
        html = response.content.decode()
        self.assertIn('<span class="badge badge-ok">Valid</span>', html)
        self.assertIn('<small class="muted" lang="zh-Hans">培训合格证明</small>', html)

    def test_revoked_certificate_says_so_with_the_date(self) -> None:
        revoked = revoke_certificate(self.certificate, reason="fraud case 3", by=self.officer)
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("badge-hold", html)
        self.assertNotIn("badge-ok", html)
        assert revoked.revoked_at is not None
        self.assertIn(timezone.localtime(revoked.revoked_at).date().isoformat(), html)
        self.assertNotIn("fraud case 3", html)

    def test_unknown_token_is_404(self) -> None:
        response = self.client.get(reverse("verify:completion", args=["x" * 32]))
        self.assertEqual(response.status_code, 404)
        response = self.client.get(reverse("verify:completion", args=["y" * 80]))
        self.assertEqual(response.status_code, 404)

    def test_number_is_not_a_token(self) -> None:
        response = self.client.get(reverse("verify:completion", args=[self.certificate.number]))
        self.assertEqual(response.status_code, 404)

    def test_post_is_refused(self) -> None:
        self.assertEqual(self.client.post(self.url()).status_code, 405)

    @override_settings(VERIFY_RATE_LIMIT=3, VERIFY_RATE_WINDOW_SECONDS=600)
    def test_too_many_lookups_from_one_address_get_429(self) -> None:
        for _i in range(3):
            self.assertEqual(
                self.client.get(self.url(), REMOTE_ADDR="203.0.113.9").status_code, 200
            )
        response = self.client.get(self.url(), REMOTE_ADDR="203.0.113.9")
        self.assertEqual(response.status_code, 429)
        self.assertIn('id="rate-limited"', response.content.decode())
        self.assertGreater(int(response["Retry-After"]), 0)
        self.assertNotIn(self.certificate.number, response.content.decode())
        # Unknown tokens count too, so guessing is limited as well.
        self.assertEqual(
            self.client.get(
                reverse("verify:completion", args=["z" * 32]), REMOTE_ADDR="203.0.113.9"
            ).status_code,
            429,
        )
        # Another address is not affected.
        self.assertEqual(self.client.get(self.url(), REMOTE_ADDR="203.0.113.10").status_code, 200)


class VerifyByNumberTests(VerifyWorld):
    def lookup(self, number: str, name: str, ip: str = "127.0.0.1") -> Any:
        return self.client.post(
            reverse("verify:lookup"), {"number": number, "name": name}, REMOTE_ADDR=ip
        )

    def test_a_form_without_its_csrf_token_gets_the_sites_page(self) -> None:
        client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "zh-hans"})
        response = client.post(reverse("verify:lookup"), {"number": "1", "name": "2"})
        self.assertEqual(response.status_code, 403)
        html = response.content.decode()
        self.assertIn('<html lang="zh-hans">', html)
        self.assertIn("重新", html)  # reload the page and send the form again
        self.assertNotIn("DEBUG", html)

    def test_form_page_renders(self) -> None:
        response = self.client.get(reverse("verify:lookup"))
        self.assertEqual(response.status_code, 200)
        self.assertIn('name="number"', response.content.decode())

    def test_number_and_full_name_show_the_certificate(self) -> None:
        typed = self.certificate.number.replace("-", " ").lower()
        response = self.lookup(typed, " 王小芳 ")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn(self.certificate.number, html)
        self.assertIn("王*芳", html)
        self.assert_no_personal_data(html)
        self.assertNotIn(self.certificate.token, html)

    def test_mismatch_never_says_which_was_wrong(self) -> None:
        wrong_name = self.lookup(self.certificate.number, "王小明").content.decode()
        number = self.certificate.number
        other_number = number[:12] + "000099-" + number[-1]
        wrong_number = self.lookup(other_number, "王小芳").content.decode()
        unknown = self.lookup("420102-2099-000001-0", "王小芳").content.decode()
        for html in (wrong_name, wrong_number, unknown):
            self.assertIn('id="lookup-errors"', html)
            self.assertNotIn('id="certificate-facts"', html)
            self.assertNotIn("王*芳", html)
        errors = [
            re.search(r'id="lookup-errors">(.*?)</div>', h, re.S)
            for h in (wrong_name, wrong_number, unknown)
        ]
        self.assertEqual(len({m.group(1) for m in errors if m}), 1)

    def test_empty_fields_are_field_errors(self) -> None:
        response = self.lookup("", "")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.context["form"].errors), {"number", "name"})

    @override_settings(VERIFY_RATE_LIMIT=2)
    def test_lookups_are_rate_limited(self) -> None:
        self.lookup(self.certificate.number, "王小明", ip="198.51.100.7")
        self.lookup(self.certificate.number, "王小明", ip="198.51.100.7")
        response = self.lookup(self.certificate.number, "王小芳", ip="198.51.100.7")
        self.assertEqual(response.status_code, 429)
        self.assertNotIn(self.certificate.number, response.content.decode())


class PdfDownloadTests(VerifyWorld):
    def pdf_url(self) -> str:
        return reverse("certificates:pdf", args=[self.certificate.pk])

    def test_holder_downloads_the_pdf(self) -> None:
        self.client.force_login(self.learner)
        response = self.client.get(self.pdf_url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF-"))
        self.assertIn(self.certificate.number, response["Content-Disposition"])

    def test_officer_in_scope_downloads_outsider_gets_404(self) -> None:
        self.client.force_login(self.officer)
        self.assertEqual(self.client.get(self.pdf_url()).status_code, 200)
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.pdf_url()).status_code, 404)

    def test_another_learner_gets_404_and_anonymous_is_sent_to_login(self) -> None:
        response = self.client.get(self.pdf_url())
        self.assertEqual(response.status_code, 302)
        from zhipei.learning.tests.helpers import make_user
        from zhipei.people.testing import make_person

        other = make_user("li", person=make_person(self.region, name="李雷"))
        self.client.force_login(other)
        self.assertEqual(self.client.get(self.pdf_url()).status_code, 404)
        self.assertEqual(
            self.client.get(reverse("certificates:pdf", args=[99999])).status_code, 404
        )

    def test_my_learning_links_the_valid_certificate(self) -> None:
        self.client.force_login(self.learner)
        html = self.client.get(reverse("learning:mine")).content.decode()
        self.assertIn(self.certificate.number, html)
        self.assertIn(self.pdf_url(), html)
        revoke_certificate(self.certificate, reason="fraud", by=self.officer)
        html = self.client.get(reverse("learning:mine")).content.decode()
        self.assertNotIn(self.pdf_url(), html)

    def test_revoked_certificate_is_not_downloadable(self) -> None:
        revoke_certificate(self.certificate, reason="fraud", by=self.officer)
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get(self.pdf_url()).status_code, 404)
