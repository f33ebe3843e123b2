"""config/wsgi.py: what the WSGI server (granian) serves. /xapi/ runs on its own handler with less middleware;
these requests go through that callable, as a WSGI server calls it (the test client builds
its own handler from settings.MIDDLEWARE and would not see the split)."""

from __future__ import annotations

import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

from django.conf import settings
from django.core import signals
from django.db import close_old_connections
from django.test import TestCase

from config.wsgi import XAPI_MIDDLEWARE, application
from zhipei.lrs.http import clear_auth_cache
from zhipei.lrs.models import Statement
from zhipei.lrs.tests.helpers import basic, make_platform, statement
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.regions.testing import make_region_tree

XAPI_LANGUAGE = "zhipei.lrs.middleware.XapiLanguageMiddleware"


def call(
    method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[str, dict[str, str], bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    setup_testing_defaults(environ)
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info=None):
        started["status"] = status
        started["headers"] = dict(response_headers)

    # As django.test.Client does: the request signals would close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return started["status"], started["headers"], content


class WsgiEntryTests(TestCase):
    platform: Platform
    credential: PlatformCredential
    secret: str

    @classmethod
    def setUpTestData(cls):
        regions = make_region_tree()
        cls.platform, cls.credential, cls.secret = make_platform(regions["420102"], 1)

    def setUp(self):
        clear_auth_cache()
        self.xapi_headers = {
            "Authorization": basic(self.credential.key_id, self.secret),
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json",
        }

    def test_xapi_middleware_is_a_subset_of_the_sites_in_the_same_order(self):
        # XapiLanguageMiddleware stands where the site has LocaleMiddleware.
        site_names = [
            "django.middleware.locale.LocaleMiddleware" if name == XAPI_LANGUAGE else name
            for name in XAPI_MIDDLEWARE
        ]
        positions = [settings.MIDDLEWARE.index(name) for name in site_names]
        self.assertEqual(positions, sorted(positions))
        self.assertIn(XAPI_LANGUAGE, XAPI_MIDDLEWARE)

    def test_a_statement_is_stored_through_the_xapi_handler(self):
        sent = statement()
        status, headers, content = call(
            "POST", "/xapi/statements", json.dumps(sent).encode(), **self.xapi_headers
        )
        self.assertEqual(status, "200 OK", content)
        self.assertEqual(json.loads(content), [sent["id"]])
        self.assertEqual(headers["Content-Length"], str(len(content)))
        self.assertTrue(Statement.objects.filter(statement_id=sent["id"]).exists())
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")  # SecurityMiddleware
        self.assertNotIn("Set-Cookie", headers)  # no session, no CSRF cookie
        self.assertNotIn("X-Frame-Options", headers)

    def test_xapi_errors_speak_the_language_the_platform_asks_for(self):
        bad = json.dumps(statement(verb={"id": "not an IRI"})).encode()
        answers = {}
        for language in ("zh-hans", "en"):
            status, headers, content = call(
                "POST",
                "/xapi/statements",
                bad,
                **self.xapi_headers,
                **{"Accept-Language": language},
            )
            self.assertEqual(status[:3], "400")
            self.assertEqual(headers["Content-Language"], language)
            self.assertEqual(headers["Vary"], "Accept-Language")
            answers[language] = json.loads(content)["error"]["message"]
        self.assertEqual(
            answers["en"], "verb.id: must be an absolute IRI with a scheme (e.g. https://…)"
        )
        self.assertEqual(answers["zh-hans"], "verb.id: 须为带协议名的绝对IRI（例如https://…）")
        # Without Accept-Language: the site's language; "fr" is not offered, so the same.
        for default in ("zh-hans", "en"):
            with self.settings(LANGUAGE_CODE=default):
                for extra in ({}, {"Accept-Language": "fr"}):
                    _status, headers, content = call(
                        "POST", "/xapi/statements", bad, **self.xapi_headers, **extra
                    )
                    self.assertEqual(headers["Content-Language"], default)
                    self.assertEqual(json.loads(content)["error"]["message"], answers[default])

    def test_wrong_credentials_are_401_through_the_xapi_handler(self):
        status, headers, _content = call(
            "GET",
            "/xapi/statements",
            b"",
            **{
                "Authorization": basic(self.credential.key_id, "wrong"),
                "X-Experience-API-Version": "1.0.3",
            },
        )
        self.assertEqual(status[:3], "401")
        self.assertIn("WWW-Authenticate", headers)

    def test_pages_keep_the_whole_middleware(self):
        status, headers, _content = call("GET", "/accounts/login/")
        self.assertEqual(status, "200 OK")
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertIn("csrftoken", headers.get("Set-Cookie", ""))
