"""config/wsgi.py: what the WSGI server (granian) serves. /xapi/ runs on its own lean handler;
these requests go through that callable, as a WSGI server calls it: the split, the signals'
stand-in and the comparison of the lean path with Django's (the test client elsewhere
reaches only the lean handler's `respond`, through conftest.py)."""

from __future__ import annotations

import functools
import io
import json
import unittest
import uuid
from collections.abc import Callable
from typing import Any
from unittest import mock
from wsgiref.util import setup_testing_defaults

from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.test import TestCase, TransactionTestCase
from django.urls import resolve

from config.wsgi import XAPI_MIDDLEWARE, XapiWSGIHandler, application
from zhipei.lrs import views
from zhipei.lrs.http import clear_auth_cache
from zhipei.lrs.models import Statement
from zhipei.lrs.tests.helpers import basic, make_platform, statement
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.regions.testing import make_region_tree

XAPI_LANGUAGE = "zhipei.lrs.middleware.XapiLanguageMiddleware"


def environ_for(method: str, path: str, body: bytes = b"", /, **headers: str) -> dict[str, Any]:
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "HTTP_HOST": "testserver",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    setup_testing_defaults(environ)
    return environ


def run(
    app: Callable[..., Any], environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI application as a server does: start_response, the body, close()."""
    started: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info=None):
        started["status"] = status
        started["headers"] = response_headers

    chunks = app(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return started["status"], started["headers"], content


def run_in_test(
    app: Callable[..., Any], environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    # As django.test.Client does: the request signals would close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        return run(app, environ)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def call(
    method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[str, dict[str, str], bytes]:
    status, headers_list, content = run_in_test(
        application, environ_for(method, path, body, **headers)
    )
    return status, dict(headers_list), content


class OnePlatformTestCase(TestCase):
    """A selected platform with a Basic credential; `auth` its headers, `xapi_headers` with
    a JSON body's Content-Type too."""

    platform: Platform
    credential: PlatformCredential
    secret: str

    @classmethod
    def setUpTestData(cls):
        regions = make_region_tree()
        cls.platform, cls.credential, cls.secret = make_platform(regions["420102"], 1)

    def setUp(self):
        clear_auth_cache()
        self.auth = {
            "Authorization": basic(self.credential.key_id, self.secret),
            "X-Experience-API-Version": "1.0.3",
        }
        self.xapi_headers = {**self.auth, "Content-Type": "application/json"}


class WsgiEntryTests(OnePlatformTestCase):
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


Answer = tuple[str, list[tuple[str, str]], bytes]
# Headers whose value is the moment of the answer.
_MOMENT_HEADERS = {"X-Experience-API-Consistent-Through"}


class LeanHandlerTests(OnePlatformTestCase):
    """The lean path of XapiWSGIHandler answers each request as Django's handler does through
    XAPI_MIDDLEWARE (the same handler's WSGIHandler.__call__): status, headers in order, body."""

    handler: XapiWSGIHandler

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.handler = XapiWSGIHandler()

    def both(self, make_environ: Callable[[], dict[str, Any]]) -> list[Answer]:
        """The answer of the lean path and of Django's path, each to a fresh environ."""
        django_path = lambda environ, start: WSGIHandler.__call__(self.handler, environ, start)  # noqa: E731
        answers: list[Answer] = []
        for app in (self.handler, django_path):
            status, headers, content = run_in_test(app, make_environ())
            headers = [(n, "…" if n in _MOMENT_HEADERS else v) for n, v in headers]
            answers.append((status, headers, content))
        return answers

    def assert_same(self, make_environ: Callable[[], dict[str, Any]]) -> Answer:
        lean, django_path = self.both(make_environ)
        self.assertEqual(lean, django_path)
        return lean

    def test_the_resources_are_answered_without_the_url_resolver(self):
        self.assertEqual(
            set(self.handler.routes),
            {
                f"/xapi/{name}{slash}"
                for name in (
                    "about",
                    "statements",
                    "activities",
                    "activities/state",
                    "activities/profile",
                    "agents",
                    "agents/profile",
                )
                for slash in ("", "/")
            },
        )
        for path, view in self.handler.routes.items():
            self.assertIs(view, resolve(path).func)

    def test_the_lean_path_applies_exactly_the_xapi_middleware(self):
        # A middleware added to XAPI_MIDDLEWARE must be added to XapiWSGIHandler.respond too.
        self.assertEqual(
            XAPI_MIDDLEWARE,
            ["django.middleware.security.SecurityMiddleware", XAPI_LANGUAGE],
        )

    def test_a_stored_statement_is_answered_alike(self):
        sent = statement()
        lean, django_path = self.both(
            lambda: environ_for(
                "POST",
                "/xapi/statements",
                json.dumps(statement()).encode(),
                **self.xapi_headers,
            )
        )
        self.assertEqual(lean[0], "200 OK")
        self.assertEqual((lean[0], lean[1]), (django_path[0], django_path[1]))
        self.assertEqual(Statement.objects.count(), 2)
        # and read back alike, a PUT alike (204, no body)
        status, _h, _c = call(
            "PUT",
            f"/xapi/statements?statementId={sent['id']}",
            json.dumps(sent).encode(),
            **self.xapi_headers,
        )
        self.assertEqual(status[:3], "204")
        for query in (f"statementId={sent['id']}", "limit=1", f"verb={sent['verb']['id']}"):
            answer = self.assert_same(
                functools.partial(environ_for, "GET", f"/xapi/statements?{query}", **self.auth)
            )
            self.assertEqual(answer[0], "200 OK")
        put = self.both(
            lambda: environ_for(
                "PUT",
                f"/xapi/statements/?statementId={uuid.uuid4()}",
                json.dumps(statement(id=None)).encode(),
                **self.xapi_headers,
            )
        )
        self.assertEqual(put[0], put[1])
        self.assertEqual(put[0][0][:3], "204")

    def test_refusals_are_answered_alike(self):
        bad = json.dumps(statement(verb={"id": "not an IRI"})).encode()
        cases: list[tuple[str, str, bytes, dict[str, str], str]] = [
            ("POST", "/xapi/statements", bad, {"Accept-Language": "en"}, "400"),
            ("POST", "/xapi/statements", bad, {"Accept-Language": "zh-hans"}, "400"),
            ("POST", "/xapi/statements", b"[", {}, "400"),
            ("DELETE", "/xapi/statements", b"", {}, "405"),
            ("GET", "/xapi/statements?since=yesterday", b"", {}, "400"),
            ("HEAD", "/xapi/statements?since=yesterday", b"", {}, "400"),
            ("GET", "/xapi/activities?activityId=https://x.example/none", b"", {}, "200"),
            ("GET", "/xapi/activities/state", b"", {}, "400"),
            ("GET", "/xapi/about", b"", {}, "200"),
            ("HEAD", "/xapi/about/", b"", {}, "200"),
        ]
        for method, path, body, extra, expected in cases:
            with self.subTest(method=method, path=path, **extra):
                answer = self.assert_same(
                    functools.partial(
                        environ_for,
                        method,
                        path,
                        body,
                        **self.xapi_headers,
                        **extra,
                    )
                )
                self.assertEqual(answer[0][:3], expected)
        wrong = {**self.auth, "Authorization": basic(self.credential.key_id, "wrong")}
        answer = self.assert_same(lambda: environ_for("GET", "/xapi/statements", **wrong))
        self.assertEqual(answer[0][:3], "401")
        self.assertIn(("WWW-Authenticate", 'Basic realm="xAPI"'), answer[1])

    def test_an_unknown_path_under_xapi_takes_djangos_path(self):
        status, headers, content = run_in_test(
            self.handler, environ_for("GET", "/xapi/statementz", **self.auth)
        )
        self.assertEqual(status[:3], "404")
        self.assertIn("error", json.loads(content))
        self.assertIn(("X-Content-Type-Options", "nosniff"), headers)

    def test_https_is_demanded_alike(self):
        with self.settings(SECURE_SSL_REDIRECT=True):
            handler = XapiWSGIHandler()  # SecurityMiddleware reads its settings when built
            self.handler, kept = handler, self.handler
            try:
                answer = self.assert_same(
                    lambda: environ_for("POST", "/xapi/statements", b"[]", **self.auth)
                )
            finally:
                self.handler = kept
        self.assertEqual(answer[0][:3], "301")
        self.assertIn(("Location", "https://testserver/xapi/statements"), answer[1])

    def test_an_unexpected_error_is_answered_alike(self):
        with (
            mock.patch.object(views, "store_batch", side_effect=RuntimeError("boom")),
            self.assertLogs("django.request", "ERROR") as logged,
        ):
            answer = self.assert_same(
                lambda: environ_for(
                    "POST",
                    "/xapi/statements",
                    json.dumps(statement()).encode(),
                    **self.xapi_headers,
                )
            )
        self.assertEqual(answer[0][:3], "500")
        self.assertEqual(json.loads(answer[2])["error"]["status"], 500)
        self.assertEqual(len(logged.records), 2)  # one each, as Django logs it
        self.assertEqual(Statement.objects.count(), 0)


class LeanHandlerSignalsTests(TransactionTestCase):
    """Outside a test's transaction the lean path does the request signals' work itself while
    their receivers are Django's own, and sends the signals when they are not."""

    def setUp(self):
        regions = make_region_tree()
        _platform, credential, secret = make_platform(regions["420102"], 1)
        clear_auth_cache()
        self.environ = lambda: environ_for(
            "POST",
            "/xapi/statements",
            json.dumps(statement()).encode(),
            **{
                "Authorization": basic(credential.key_id, secret),
                "X-Experience-API-Version": "1.0.3",
                "Content-Type": "application/json",
            },
        )

    def test_djangos_receivers_are_the_ones_the_lean_path_stands_in_for(self):
        self.assertTrue(XapiWSGIHandler().own_signals)

    @unittest.skipUnless(connection.vendor == "postgresql", "SQLite's test database stays open")
    def test_an_obsolete_connection_is_closed_after_the_request(self):
        # DB_CONN_MAX_AGE is 0 in the tests: each request's connection is obsolete at its
        # end, as close_old_connections would find it (SQLite's in-memory test database is
        # never closed, hence PostgreSQL only).
        handler = XapiWSGIHandler()
        connection.ensure_connection()
        status, _headers, _content = run(handler, self.environ())
        self.assertEqual(status, "200 OK")
        self.assertIsNone(connection.connection)
        self.assertEqual(Statement.objects.count(), 1)

    def test_another_receiver_makes_the_lean_path_send_the_signals(self):
        handler = XapiWSGIHandler()
        heard: list[str] = []

        def started(**kwargs: Any) -> None:
            heard.append("started")

        def finished(**kwargs: Any) -> None:
            heard.append("finished")

        signals.request_started.connect(started)
        signals.request_finished.connect(finished)
        try:
            status, _headers, _content = run(handler, self.environ())
        finally:
            signals.request_started.disconnect(started)
            signals.request_finished.disconnect(finished)
        self.assertEqual(status, "200 OK")
        self.assertEqual(heard, ["started", "finished"])
        heard.clear()
        run(handler, self.environ())
        self.assertEqual(heard, [])  # gone again: the lean path's own work
