"""WSGI entry. Requests under /xapi/ (platforms reporting learning records, the hottest path)
go through a second Django handler whose middleware is only what that API uses: security
headers, the language of its error messages from Accept-Language, and a Content-Length.
Sessions, CSRF (the xAPI views are exempt), log-in, messages, htmx, static files and framing
headers serve pages, and cost about a tenth of a one-statement request. Everything else gets
settings.MIDDLEWARE. See docs/decisions/0004-xapi-wsgi-entry.md."""

import gc
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest
from django.http.response import HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

XAPI_PREFIX = "/xapi/"
XAPI_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "zhipei.lrs.middleware.XapiLanguageMiddleware",  # LocaleMiddleware without URL prefixes
]


class XapiWSGIHandler(WSGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler reads settings.MIDDLEWARE; this handler is built once, at start-up,
        # before any request thread runs.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = XAPI_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        response = super().get_response(request)
        # What CommonMiddleware does for the site: a length, so no chunked encoding is needed.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))  # type: ignore[attr-defined]
        return response


def _dispatcher() -> Callable[..., Iterable[bytes]]:
    pages = get_wsgi_application()  # django.setup() happens here
    xapi = XapiWSGIHandler()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith(XAPI_PREFIX):
            return xapi(environ, start_response)
        return pages(environ, start_response)

    return application


application = _dispatcher()

# The cyclic garbage collector, tuned for a web process (bench/README.md, xAPI ingest: about a
# sixth of the CPU of a 100-statement POST went to it). What start-up built — modules,
# settings, URL maps — lives as long as the process: frozen, no collection walks it again.
# A request allocates thousands of short-lived containers (a parsed batch), which reference
# counting frees; with the default threshold of 700 they set off a young collection every
# few hundred statements, so the threshold is raised to 50,000 allocations.
gc.freeze()
gc.set_threshold(50_000, 20, 20)
