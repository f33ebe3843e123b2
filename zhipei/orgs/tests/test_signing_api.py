"""Signed requests against GET /api/v1/platform: each refusal with its status and title."""

from __future__ import annotations

import json
import time

from django.test import override_settings

from zhipei.orgs.models import ApiNonce, Platform
from zhipei.orgs.services import issue_credential, revoke_credential
from zhipei.orgs.signing import signed_headers
from zhipei.orgs.tests.helpers import OrgsTestCase, make_organisation

URL = "/api/v1/platform"


class SignedRequestTests(OrgsTestCase):
    def setUp(self):
        self.organisation = make_organisation(
            region=self.jiangan,
            name="示例在线培训平台",
            capacities={"platform"},
            platform_status="selected",
        )
        self.credential, self.secret = issue_credential(self.organisation.platform, by=None)

    def call(self, *, path=URL, query="", method="GET", body=b"", headers=None, **sign):
        if headers is None:
            headers = signed_headers(
                self.credential.key_id,
                self.secret,
                method=method,
                path=path,
                query=query,
                body=body,
                **sign,
            )
        url = path + ("?" + query if query else "")
        return self.client.generic(
            method, url, data=body, content_type="application/json", headers=headers
        )

    def assert_problem(self, response, status, code, title):
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        problem = json.loads(response.content)
        self.assertEqual(
            (problem["status"], problem["code"], problem["title"]), (status, code, title)
        )
        if status == 401:
            self.assertEqual(response["WWW-Authenticate"], "Zhipei-HMAC-SHA256")
        return problem

    def test_good_request_returns_the_calling_platform(self):
        response = self.call()
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            response.json(),
            {
                "name": "示例在线培训平台",
                "uscc": self.organisation.uscc,
                "status": "selected",
                "key_id": self.credential.key_id,
            },
        )
        self.credential.refresh_from_db()
        self.assertIsNotNone(self.credential.last_used_at)
        self.assertTrue(ApiNonce.objects.filter(key_id=self.credential.key_id).exists())

    def test_good_request_with_a_query_string_in_any_order(self):
        headers = signed_headers(
            self.credential.key_id, self.secret, method="GET", path=URL, query="a=1&b=%E5%BC%A0+x"
        )
        response = self.client.get(URL + "?b=%E5%BC%A0%20x&a=1", headers=headers)
        self.assertEqual(response.status_code, 200, response.content)

    def test_a_path_whose_text_holds_a_percent_sign_is_signed_as_the_guide_says(self):
        # "a%2541" decodes to "a%41" (a course id with a percent sign): the client encodes
        # that again, "a%2541"; the server, given the path decoded once, must not decode it
        # a second time ("aA"), or no such request could ever be signed.
        for path in ("/api/v1/courses/a%2541", "/api/v1/courses/%E7%84%8A%20%25"):
            response = self.call(path=path)
            self.assertEqual(response.status_code, 404, (path, response.content))  # not 401

    def test_registered_platform_may_test_its_signing(self):
        Platform.objects.filter(pk=self.organisation.platform.pk).update(status="registered")
        self.assertEqual(self.call().json()["status"], "registered")

    def test_suspended_platform_is_refused_after_a_correct_signature(self):
        Platform.objects.filter(pk=self.organisation.platform.pk).update(status="suspended")
        self.assert_problem(
            self.call(),
            403,
            "not_allowed",
            "The platform's status (suspended) does not allow this request.",
        )

    def test_each_missing_header_is_named(self):
        full = signed_headers(self.credential.key_id, self.secret, method="GET", path=URL)
        for header in full:
            with self.subTest(header=header):
                headers = {k: v for k, v in full.items() if k != header}
                self.assert_problem(
                    self.call(headers=headers),
                    401,
                    "signature_header_missing",
                    f"Missing header {header}.",
                )
        self.assertFalse(ApiNonce.objects.exists())

    def test_forged_signature_is_a_mismatch_and_shows_the_canonical_string(self):
        headers = signed_headers(self.credential.key_id, "not-the-secret", method="GET", path=URL)
        problem = self.assert_problem(
            self.call(headers=headers), 401, "signature_mismatch", "Signature mismatch."
        )
        self.assertTrue(problem["canonical_string"].startswith("GET\n/api/v1/platform\n\n"))
        self.assertNotIn(self.secret, json.dumps(problem))
        self.assertFalse(ApiNonce.objects.exists())  # an unsigned request burns no nonce

    def test_signature_of_another_key_is_a_mismatch(self):
        _other, other_secret = issue_credential(self.organisation.platform, by=None)
        headers = signed_headers(self.credential.key_id, other_secret, method="GET", path=URL)
        self.assert_problem(
            self.call(headers=headers), 401, "signature_mismatch", "Signature mismatch."
        )

    def test_unknown_key(self):
        headers = signed_headers("pk_unknown0000000000000", self.secret, method="GET", path=URL)
        self.assert_problem(
            self.call(headers=headers), 401, "signature_key_unknown", "Unknown or revoked key."
        )

    def test_revoked_key(self):
        revoke_credential(self.credential, by=None, reason="test")
        self.assert_problem(self.call(), 401, "signature_key_unknown", "Unknown or revoked key.")

    def test_timestamp_too_old_or_too_new(self):
        now = int(time.time())
        for stamp in (now - 400, now + 400):
            with self.subTest(stamp=stamp):
                problem = self.assert_problem(
                    self.call(timestamp=stamp),
                    401,
                    "signature_timestamp_skew",
                    "Timestamp is outside the allowed window of ±300 seconds.",
                )
                self.assertAlmostEqual(problem["server_time"], now, delta=5)

    def test_timestamp_inside_the_window_passes(self):
        self.assertEqual(self.call(timestamp=int(time.time()) - 250).status_code, 200)

    @override_settings(API_SIGNATURE_MAX_SKEW_SECONDS=30)
    def test_window_follows_the_setting(self):
        self.assert_problem(
            self.call(timestamp=int(time.time()) - 60),
            401,
            "signature_timestamp_skew",
            "Timestamp is outside the allowed window of ±30 seconds.",
        )

    def test_replayed_nonce_is_refused(self):
        headers = signed_headers(self.credential.key_id, self.secret, method="GET", path=URL)
        self.assertEqual(self.call(headers=headers).status_code, 200)
        self.assert_problem(
            self.call(headers=headers), 401, "signature_nonce_reused", "Nonce already used."
        )

    def test_same_nonce_under_another_key_is_fine(self):
        other, other_secret = issue_credential(self.organisation.platform, by=None)
        nonce = "shared-nonce-0123456789"
        self.assertEqual(self.call(nonce=nonce).status_code, 200)
        headers = signed_headers(other.key_id, other_secret, method="GET", path=URL, nonce=nonce)
        self.assertEqual(self.call(headers=headers).status_code, 200)

    def test_tampered_query_is_a_mismatch(self):
        headers = signed_headers(
            self.credential.key_id, self.secret, method="GET", path=URL, query="page=1"
        )
        response = self.client.get(URL + "?page=2", headers=headers)
        self.assert_problem(response, 401, "signature_mismatch", "Signature mismatch.")

    def test_tampered_body_is_a_mismatch(self):
        headers = signed_headers(
            self.credential.key_id, self.secret, method="GET", path=URL, body=b'{"a": 1}'
        )
        response = self.call(body=b'{"a": 2}', headers=headers)
        self.assert_problem(response, 401, "signature_mismatch", "Signature mismatch.")

    def test_tampered_method_or_path_is_a_mismatch(self):
        headers = signed_headers(
            self.credential.key_id, self.secret, method="GET", path="/api/v1/ping"
        )
        self.assert_problem(
            self.call(headers=headers), 401, "signature_mismatch", "Signature mismatch."
        )

    def test_malformed_headers_are_named(self):
        good = signed_headers(self.credential.key_id, self.secret, method="GET", path=URL)
        cases = [
            (
                {"X-Zhipei-Timestamp": "1767225600000.5"},
                "signature_timestamp_invalid",
                "Header X-Zhipei-Timestamp must be whole seconds since 1970-01-01 UTC.",
            ),
            (
                {"X-Zhipei-Nonce": "short"},
                "signature_nonce_invalid",
                "Header X-Zhipei-Nonce must be 16 to 64 characters from A-Z, a-z, 0-9, _ and -.",
            ),
            (
                {"X-Zhipei-Nonce": "has spaces in it, not ok"},
                "signature_nonce_invalid",
                "Header X-Zhipei-Nonce must be 16 to 64 characters from A-Z, a-z, 0-9, _ and -.",
            ),
            (
                {"X-Zhipei-Signature": "c2lnbmF0dXJl"},
                "signature_invalid",
                "Header X-Zhipei-Signature must be 64 hexadecimal characters (HMAC-SHA256).",
            ),
        ]
        for change, code, title in cases:
            with self.subTest(code=code, change=change):
                self.assert_problem(self.call(headers={**good, **change}), 401, code, title)

    def test_upper_case_hex_signature_is_accepted(self):
        headers = signed_headers(self.credential.key_id, self.secret, method="GET", path=URL)
        headers["X-Zhipei-Signature"] = headers["X-Zhipei-Signature"].upper()
        self.assertEqual(self.call(headers=headers).status_code, 200)


class OpenApiTests(OrgsTestCase):
    def test_openapi_document_lists_the_platform_endpoint_and_its_security(self):
        response = self.client.get("/api/v1/openapi.json")
        self.assertEqual(response.status_code, 200)
        document = response.json()
        operation = document["paths"]["/api/v1/platform"]["get"]
        self.assertEqual(operation["security"], [{"PlatformSignatureAuth": []}])
        scheme = document["components"]["securitySchemes"]["PlatformSignatureAuth"]
        self.assertEqual(
            (scheme["type"], scheme["in"], scheme["name"]),
            ("apiKey", "header", "X-Zhipei-Signature"),
        )
        self.assertIn("docs/api-auth.md", document["info"]["description"])

    def test_every_operation_documents_its_problem_answers(self):
        # Generated clients and schema checkers (schemathesis) see the refusals as documented
        # answers, each a problem document.
        document = self.client.get("/api/v1/openapi.json").json()
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"]
                expected = {"400", "403", "404", "413", "422", "500"}
                if operation.get("security"):
                    expected.add("401")
                with self.subTest(path=path, method=method):
                    self.assertLessEqual(expected, set(responses))
                    for status in expected:
                        content = responses[status]["content"]["application/problem+json"]
                        self.assertEqual(content, problem)
        required = document["components"]["schemas"]["Problem"]["required"]
        self.assertEqual(required, ["type", "title", "status", "code"])
        answer = self.client.get("/api/v1/platform").json()  # unsigned: a 401 problem
        self.assertLessEqual(set(required), set(answer))
