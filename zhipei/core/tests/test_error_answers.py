"""The site's 400, 404 and 500 answers (config.errors): programs calling the platform API or
the LRS get their JSON errors, people get pages."""

from __future__ import annotations

from django.test import RequestFactory, TestCase, override_settings

from config import errors
from zhipei.lrs.tests.helpers import make_platform
from zhipei.orgs.signing import signed_headers
from zhipei.regions.testing import make_region_tree


class ErrorAnswerTests(TestCase):
    def test_an_unknown_api_address_is_a_404_problem(self):
        response = self.client.get("/api/v1/no-such-thing")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        problem = response.json()
        self.assertEqual(problem["code"], "not_found")
        self.assertEqual(problem["instance"], "/api/v1/no-such-thing")

    def test_an_unknown_xapi_resource_is_a_404_in_the_lrs_error_format(self):
        response = self.client.get("/xapi/no-such-resource")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json()["error"]["status"], 404)
        self.assertEqual(response["X-Experience-API-Version"], "1.0.3")

    def test_an_unknown_page_is_the_404_page(self):
        response = self.client.get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertTrue(response["Content-Type"].startswith("text/html"))

    @override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=3)
    def test_too_many_parameters_for_the_api_is_a_400_problem(self):
        # Django refuses the request before any view when the API reads its parameters.
        query = "&".join(f"p{n}=1" for n in range(10))
        response = self.client.get(f"/api/v1/courses?{query}")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        self.assertEqual(response.json()["code"], "bad_request")

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
    def test_a_body_too_large_for_the_api_is_a_413_problem(self):
        # Signed, so the API reads the body to check the signature: Django refuses it there.
        _platform, credential, secret = make_platform(make_region_tree()["420102"])
        body = b"{" + b" " * 200 + b"}"
        headers = signed_headers(
            credential.key_id, secret, method="POST", path="/api/v1/learners", body=body
        )
        response = self.client.post(
            "/api/v1/learners", body, content_type="application/json", headers=headers
        )
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json()["code"], "body_too_large")

    def test_a_server_error_under_the_api_is_a_500_problem(self):
        response = errors.server_error(RequestFactory().get("/api/v1/courses"))
        self.assertEqual(response.status_code, 500)
        self.assertEqual(response["Content-Type"], "application/problem+json")

    def test_a_server_error_elsewhere_is_the_500_page(self):
        response = errors.server_error(RequestFactory().get("/people/"))
        self.assertEqual(response.status_code, 500)
        self.assertTrue(response["Content-Type"].startswith("text/html"))
