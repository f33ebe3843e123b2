import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.test import TestCase
from django.urls import reverse


@pytest.mark.chinese
class HomePageTests(TestCase):
    def test_home_page_renders_in_chinese_by_default(self) -> None:
        response = self.client.get(reverse("portal:home"))

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<html lang="zh-hans">', html=False)
        self.assertContains(response, "职培")
        self.assertContains(response, "人社部发〔2020〕10号")
        self.assertContains(response, 'href="#main"')  # skip link

    def test_language_switch_turns_the_page_english_and_back(self) -> None:
        response = self.client.post(
            reverse("set_language"), {"language": "en", "next": "/"}, follow=True
        )

        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<html lang="en">', html=False)
        self.assertContains(response, 'value="zh-hans"')  # the switch now offers Chinese

        response = self.client.post(
            reverse("set_language"), {"language": "zh-hans", "next": "/"}, follow=True
        )
        self.assertContains(response, '<html lang="zh-hans">', html=False)

    def test_language_switch_refuses_a_foreign_next_url(self) -> None:
        response = self.client.post(
            reverse("set_language"), {"language": "en", "next": "https://evil.example/"}
        )

        self.assertEqual(response.status_code, 302)
        self.assertNotIn("evil.example", response["Location"])

    def test_layout_links_vendored_assets(self) -> None:
        response = self.client.get(reverse("portal:home"))

        self.assertContains(response, "vendor/pico-2.1.1/pico.min.css")
        self.assertContains(response, "vendor/htmx-2.0.11/htmx.min.js")

    def test_vendored_assets_are_found_with_their_licences(self) -> None:
        for path in (
            "vendor/pico-2.1.1/pico.min.css",
            "vendor/pico-2.1.1/LICENSE.md",
            "vendor/htmx-2.0.11/htmx.min.js",
            "vendor/htmx-2.0.11/LICENSE",
            "portal/site.css",
            "portal/site.js",
            "portal/favicon.svg",
        ):
            with self.subTest(path=path):
                self.assertIsNotNone(finders.find(path))


@pytest.mark.chinese
class ErrorPageTests(TestCase):
    def test_unknown_url_gets_the_friendly_404_page(self) -> None:
        response = self.client.get("/no-such-page/")

        self.assertEqual(response.status_code, 404)
        self.assertTemplateUsed(response, "404.html")
        self.assertContains(response, "职培", status_code=404)
        self.assertContains(response, reverse("portal:home"), status_code=404)

    def test_500_page_renders_without_a_request(self) -> None:
        html = render_to_string("500.html")

        self.assertIn('<html lang="zh-hans">', html)
        self.assertIn("职培", html)

    def test_403_page_renders(self) -> None:
        html = render_to_string("403.html", {})

        self.assertIn("职培", html)
