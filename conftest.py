"""Suite-wide fixtures and the no-silent-skips rule: under CI=true a test that needs Chromium
or ../shared/data fails instead of skipping."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.test import override_settings
from django.utils import translation

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def skip_or_fail(reason: str) -> None:
    """Skip on a developer machine; fail under CI=true (STYLE §11: no silent skips in CI)."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run here)")
    pytest.skip(reason)


@pytest.fixture
def shared_data() -> Path:
    """The full reference files in ../shared/data."""
    path = Path(settings.SHARED_DATA_DIR)
    if not path.is_dir():
        skip_or_fail(f"{path} not found; set SHARED_DATA_DIR to run the full-data tests")
    return path


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        skip_or_fail(
            "Chromium not found; install it with `apt-get install -y chromium` to run browser tests"
        )
    return CHROMIUM


@pytest.fixture(autouse=True, scope="session")
def _xapi_as_served() -> Iterator[None]:
    """The test client answers the xAPI resources as production does: through config.wsgi's
    lean handler (decision 0011) instead of settings.MIDDLEWARE, so the LRS's tests test the
    path platforms use. Other paths, and the request signals, are the test client's own."""
    from django.test.client import ClientHandler

    from config.wsgi import XapiWSGIHandler

    lean = XapiWSGIHandler()
    django_get_response = ClientHandler.get_response

    def get_response(self: ClientHandler, request: HttpRequest) -> HttpResponseBase:
        view = lean.routes.get(request.path_info)
        if view is None:
            return django_get_response(self, request)
        response = lean.respond(view, request)
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]
        return response

    ClientHandler.get_response = get_response  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        ClientHandler.get_response = django_get_response  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _english_unless_marked_chinese(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests read messages and pages in English (the msgids), so a wording change in the
    Chinese catalogue never breaks a behaviour test. Tests of the Chinese-first UI itself carry
    `@pytest.mark.chinese` and run with the real default (zh-hans)."""
    if request.node.get_closest_marker("chinese"):
        yield
        return
    with override_settings(LANGUAGE_CODE="en"), translation.override("en"):
        yield
