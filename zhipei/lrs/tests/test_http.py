"""The shared /xapi/ edge (Communication §1.1-1.3, §2.8, §3.3, §4): about, Basic auth, the
version header, the alternate request syntax, CSRF exemption and slash handling."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from django.test import RequestFactory, TestCase, override_settings

from zhipei.lrs.http import (
    XapiError,
    alternate_request,
    clear_auth_cache,
    xapi_auth,
    xapi_version,
)
from zhipei.lrs.tests.helpers import basic, make_platform
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.services import revoke_credential
from zhipei.regions.testing import make_region_tree


class AboutTests(TestCase):
    def test_about_lists_supported_versions_without_auth(self):
        response = self.client.get("/xapi/about")
        self.assertEqual(response.status_code, 200)
        versions = response.json()["version"]
        self.assertIn("1.0.3", versions)
        self.assertIn("2.0.0", versions)

    def test_about_with_trailing_slash_is_not_redirected(self):
        self.assertEqual(self.client.get("/xapi/about/").status_code, 200)

    def test_head_returns_headers_without_body(self):
        response = self.client.head("/xapi/about")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"")
        # RFC 9110 §8.6: the length a GET would send, or none
        self.assertEqual(
            response["Content-Length"], str(len(self.client.get("/xapi/about").content))
        )

    def test_unknown_parameters_are_400(self):
        # Communication §3.2.s3.b7: parameters the LRS does not recognise are refused
        response = self.client.get("/xapi/about", {"foo": "bar"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("foo", response.json()["error"]["message"])

    def test_answers_in_the_version_the_client_speaks(self):
        response = self.client.get("/xapi/about", headers={"X-Experience-API-Version": "2.0.0"})
        self.assertEqual(response["X-Experience-API-Version"], "2.0.0")
        self.assertEqual(self.client.get("/xapi/about")["X-Experience-API-Version"], "1.0.3")


class AuthAndVersionTests(TestCase):
    platform: Platform
    credential: PlatformCredential
    secret: str

    @classmethod
    def setUpTestData(cls):
        regions = make_region_tree()
        cls.platform, cls.credential, cls.secret = make_platform(regions["420102"])

    def setUp(self):
        clear_auth_cache()
        self.factory = RequestFactory()

    def request(self, **headers):
        return self.factory.get("/xapi/statements", headers=headers)

    def test_basic_auth_returns_the_credential(self):
        request = self.request(Authorization=basic(self.credential.key_id, self.secret))
        self.assertEqual(xapi_auth(request).pk, self.credential.pk)

    def test_missing_auth_is_401_with_www_authenticate(self):
        with self.assertRaises(XapiError) as caught:
            xapi_auth(self.request())
        self.assertEqual(caught.exception.status, 401)
        self.assertIn("Basic", caught.exception.headers["WWW-Authenticate"])

    def test_wrong_secret_is_401(self):
        with self.assertRaises(XapiError) as caught:
            xapi_auth(self.request(Authorization=basic(self.credential.key_id, "nope")))
        self.assertEqual(caught.exception.status, 401)

    def test_garbage_basic_header_is_401(self):
        with self.assertRaises(XapiError) as caught:
            xapi_auth(self.request(Authorization="Basic !!!not-base64"))
        self.assertEqual(caught.exception.status, 401)

    def test_platform_not_selected_is_401(self):
        Platform.objects.filter(pk=self.platform.pk).update(status=Platform.Status.SUSPENDED)
        with self.assertRaises(XapiError):
            xapi_auth(self.request(Authorization=basic(self.credential.key_id, self.secret)))

    @override_settings(XAPI_AUTH_CACHE_SECONDS=0)
    def test_revoked_key_is_refused_at_once_without_cache(self):
        header = basic(self.credential.key_id, self.secret)
        xapi_auth(self.request(Authorization=header))
        revoke_credential(self.credential, by=None, reason="test")
        with self.assertRaises(XapiError):
            xapi_auth(self.request(Authorization=header))

    def test_cache_answers_repeat_requests_without_queries(self):
        header = basic(self.credential.key_id, self.secret)
        xapi_auth(self.request(Authorization=header))
        with self.assertNumQueries(0):
            xapi_auth(self.request(Authorization=header))

    def test_cache_does_not_accept_a_wrong_secret_for_a_cached_key(self):
        xapi_auth(self.request(Authorization=basic(self.credential.key_id, self.secret)))
        with self.assertRaises(XapiError):
            xapi_auth(self.request(Authorization=basic(self.credential.key_id, "wrong")))

    def test_version_header_required(self):
        with self.assertRaises(XapiError) as caught:
            xapi_version(self.request())
        self.assertEqual(caught.exception.status, 400)

    def test_versions_1_0_x_and_2_0_x_accepted(self):
        self.assertEqual(xapi_version(self.request(**{"X-Experience-API-Version": "1.0"})), "1.0.3")
        self.assertEqual(
            xapi_version(self.request(**{"X-Experience-API-Version": "1.0.1"})), "1.0.3"
        )
        self.assertEqual(
            xapi_version(self.request(**{"X-Experience-API-Version": "2.0.0"})), "2.0.0"
        )

    def test_version_before_1_0_0_rejected(self):
        for value in ("0.95", "0.9", "1.1.0", "3.0.0", "banana"):
            with self.assertRaises(XapiError, msg=value):
                xapi_version(self.request(**{"X-Experience-API-Version": value}))


class ConsistentThroughOnEveryAnswerTests(TestCase):
    """Communication §2.1.3.s2.b5: the header is on all responses of the Statement
    resource, the refusals made before its view runs included (a missing or unknown
    version, wrong credentials, a method it does not take)."""

    HEADER = "X-Experience-API-Consistent-Through"
    credential: PlatformCredential
    secret: str

    @classmethod
    def setUpTestData(cls):
        regions = make_region_tree()
        _platform, cls.credential, cls.secret = make_platform(regions["420102"])

    def setUp(self):
        clear_auth_cache()
        self.auth = basic(self.credential.key_id, self.secret)

    def assert_refused_with_header(self, response, status):
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response.json()["error"]["status"], status)
        stamp = datetime.fromisoformat(response[self.HEADER])
        self.assertIsNotNone(stamp.tzinfo)
        self.assertEqual(response["X-Experience-API-Version"], "1.0.3")

    def send(self, method="get", url="/xapi/statements", *, auth=None, version="1.0.3"):
        headers = {"Authorization": auth or self.auth}
        if version is not None:
            headers["X-Experience-API-Version"] = version
        return getattr(self.client, method)(url, headers=headers)

    def test_missing_version_header(self):
        self.assert_refused_with_header(self.send(version=None), 400)

    def test_unknown_version(self):
        self.assert_refused_with_header(self.send(version="1.1.0"), 400)

    def test_wrong_credentials(self):
        response = self.send(auth=basic(self.credential.key_id, "wrong"))
        self.assert_refused_with_header(response, 401)
        self.assertIn("Basic", response["WWW-Authenticate"])

    def test_method_not_allowed(self):
        self.assert_refused_with_header(self.send("delete"), 405)

    def test_refusal_in_the_view_keeps_its_headers_too(self):
        self.assert_refused_with_header(self.send(url="/xapi/statements?foo=bar"), 400)

    def test_other_resources_do_not_carry_it(self):
        response = self.client.get("/xapi/activities/state", headers={"Authorization": self.auth})
        self.assertEqual(response.status_code, 400)
        self.assertNotIn(self.HEADER, response)

    def test_head_refusal_has_no_body(self):
        response = self.client.head(
            "/xapi/statements",
            headers={"Authorization": basic(self.credential.key_id, "wrong")},
        )
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.content, b"")
        self.assertIn(self.HEADER, response)


class AlternateSyntaxTests(TestCase):
    def setUp(self):
        self.factory = RequestFactory()

    def test_not_alternate_without_method_parameter(self):
        self.assertIsNone(alternate_request(self.factory.get("/xapi/statements")))

    def test_form_fields_become_headers_params_and_content(self):
        auth = "Basic " + base64.b64encode(b"k:s").decode()
        body = (
            "Authorization="
            + auth.replace(" ", "%20").replace("=", "%3D")
            + "&X-Experience-API-Version=1.0.3&Content-Type=application%2Fjson"
            + "&statementId=abc&content=%7B%22a%22%3A1%7D"
        )
        request = self.factory.post(
            "/xapi/statements?method=PUT",
            data=body,
            content_type="application/x-www-form-urlencoded",
        )
        alt = alternate_request(request)
        assert alt is not None
        self.assertEqual(alt.method, "PUT")
        self.assertEqual(alt.headers["authorization"], auth)
        self.assertEqual(alt.headers["x-experience-api-version"], "1.0.3")
        self.assertEqual(alt.params, {"statementId": "abc"})
        self.assertEqual(json.loads(alt.body), {"a": 1})

    def test_other_query_parameters_are_rejected(self):
        request = self.factory.post(
            "/xapi/statements?method=GET&limit=1",
            data="",
            content_type="application/x-www-form-urlencoded",
        )
        with self.assertRaises(XapiError) as caught:
            alternate_request(request)
        self.assertEqual(caught.exception.status, 400)

    def test_must_be_post(self):
        with self.assertRaises(XapiError):
            alternate_request(self.factory.get("/xapi/statements?method=GET"))

    def test_unknown_method_rejected(self):
        request = self.factory.post(
            "/xapi/statements?method=PATCH",
            data="",
            content_type="application/x-www-form-urlencoded",
        )
        with self.assertRaises(XapiError):
            alternate_request(request)
