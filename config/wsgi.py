"""WSGI entry. Requests under /xapi/ (platforms reporting learning records, the hottest path)
go to a lean handler of their own: the xAPI resources' fixed paths map straight to their views,
and the only middleware is what that API uses (security headers, the language of its error
messages from Accept-Language, a Content-Length), applied inline. Sessions, CSRF (the xAPI
views are exempt), log-in, messages, htmx, static files and framing headers serve pages.
Everything else gets Django's handler with settings.MIDDLEWARE.
See docs/decisions/0004-xapi-wsgi-entry.md and 0011-lean-xapi-handler.md."""

import gc
import os
import weakref
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.conf import settings
from django.core import signals
from django.core.cache import caches, close_caches
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.base import reset_urlconf
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIHandler, get_script_name
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connections, reset_queries
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.security import SecurityMiddleware
from django.urls import resolve, set_script_prefix
from django.utils.log import log_response

from zhipei.lrs.middleware import activate_language, label_language

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

XAPI_PREFIX = "/xapi/"
# What the lean handler applies, in this order (outermost first); the pages' list holds them
# in the same order (a test checks it). XapiLanguageMiddleware stands for LocaleMiddleware.
XAPI_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "zhipei.lrs.middleware.XapiLanguageMiddleware",  # LocaleMiddleware without URL prefixes
]
# The receivers Django itself connects to the request signals. While they are the only ones,
# the lean handler does their work itself; with another receiver connected, or one of these
# disconnected (as django.test.Client does), it sends the signals as usual.
_STARTED = {reset_queries, close_old_connections}
_FINISHED = {close_old_connections, close_caches, reset_urlconf}


def _receivers(signal: Any) -> set[Any]:
    return {
        ref() if isinstance(ref, weakref.ReferenceType) else ref
        for _key, ref, _async in signal.receivers
    }


def xapi_routes() -> dict[str, Callable[..., HttpResponseBase]]:
    """Each xAPI resource path, with and without the trailing slash its pattern allows, and
    the view the URLconf resolves it to (zhipei.lrs.urls: one fixed path each)."""
    from zhipei.lrs.urls import urlpatterns  # after django.setup()

    routes: dict[str, Callable[..., HttpResponseBase]] = {}
    for pattern in urlpatterns:
        regex = pattern.pattern.regex.pattern
        name = regex.removeprefix("^").removesuffix("/?$")
        if not name.replace("/", "").isalpha() or not name.isascii():
            raise ImproperlyConfigured(f"xAPI route {regex!r} is not one fixed path")
        for path in (XAPI_PREFIX + name, XAPI_PREFIX + name + "/"):
            match = resolve(path)
            if match.args or match.kwargs:
                raise ImproperlyConfigured(f"xAPI route {regex!r} takes arguments")
            routes[path] = match.func
    return routes


class XapiWSGIHandler(WSGIHandler):
    """The /xapi/ handler. A request for one of the resources (xapi_routes) is answered as
    Django's handler would answer it through XAPI_MIDDLEWARE, without the machinery that
    costs about a sixth of a one-statement request's CPU: the URL resolver (the paths are
    fixed), the middleware chain's wrappers (the two middlewares are called inline), and the
    request signals' dispatch (their standard receivers' work is done directly). Any other
    path under /xapi/ (a 404) goes through the full Django path with XAPI_MIDDLEWARE."""

    def __init__(self) -> None:
        super().__init__()
        self.routes = xapi_routes()
        self.security = SecurityMiddleware(_never_called)
        self.started = list(signals.request_started.receivers)
        self.finished = list(signals.request_finished.receivers)
        self.own_signals = (
            _receivers(signals.request_started) == _STARTED
            and _receivers(signals.request_finished) == _FINISHED
        )
        # close_caches closes each cache used; the backends whose close does nothing (the
        # database cache, local memory) need no call.
        self.caches_need_closing = any(
            type(caches[alias]).close is not BaseCache.close for alias in settings.CACHES
        )

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
        return _with_length(super().get_response(request))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        view = self.routes.get(environ.get("PATH_INFO", ""))
        if view is None:
            return super().__call__(environ, start_response)
        set_script_prefix(get_script_name(environ))
        direct = self._direct_signals()
        if direct:
            self._release_connections()
        else:
            signals.request_started.send(sender=self.__class__, environ=environ)
        request = self.request_class(environ)
        response = self.respond(view, request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        status = f"{response.status_code} {response.reason_phrase}"
        start_response(
            status,
            [
                *response.items(),
                *(("Set-Cookie", c.output(header="")) for c in response.cookies.values()),
            ],
        )
        if not direct or response.streaming:
            # The server's response.close() closes the request and sends request_finished.
            response._resource_closers.append(request.close)  # type: ignore[attr-defined]
            return response
        body = [response.content]  # type: ignore[attr-defined]
        # What response.close() does: the request's closers, then request_finished's
        # receivers (reset_urlconf has nothing to reset: this path never sets a urlconf).
        request.close()
        self._release_connections()
        if self.caches_need_closing:
            close_caches()
        return body

    def _direct_signals(self) -> bool:
        return (
            self.own_signals
            and signals.request_started.receivers == self.started
            and signals.request_finished.receivers == self.finished
        )

    def _release_connections(self) -> None:
        """reset_queries and close_old_connections, for the connections this thread opened."""
        for conn in connections.all(initialized_only=True):
            conn.queries_log.clear()
            conn.close_if_unusable_or_obsolete()

    def respond(
        self, view: Callable[..., HttpResponseBase], request: HttpRequest
    ) -> HttpResponseBase:
        """The view's answer to `request` as XAPI_MIDDLEWARE's chain gives it: SecurityMiddleware,
        then XapiLanguageMiddleware, around the view; an exception becomes its response where
        the view raised it, and an answer of 400 or more is logged, as Django's handler does."""
        response: HttpResponseBase | None = self.security.process_request(request)
        if response is None:
            language = activate_language(request)
            try:
                response = view(request)
            except Exception as exc:  # Django's own conversion, as in the chain
                response = response_for_exception(request, exc)
            label_language(response, language)
        response = _with_length(
            self.security.process_response(request, cast(HttpResponse, response))
        )
        if response.status_code >= 400:
            log_response(
                "%s: %s",
                response.reason_phrase,
                request.path,
                response=cast(HttpResponse, response),
                request=request,
            )
        return response


def _never_called(request: HttpRequest) -> HttpResponseBase:
    raise AssertionError("the lean handler calls SecurityMiddleware's hooks, not the middleware")


def _with_length(response: HttpResponseBase) -> HttpResponseBase:
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
