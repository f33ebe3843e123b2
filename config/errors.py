"""The site's 400, 404 and 500 answers (config.urls: handler400, handler404, handler500).

A program calling the platform API (/api/) gets a problem document and one calling the LRS
(/xapi/) its JSON error, as their own views answer; everything else gets Django's pages (the
400.html, 404.html and 500.html templates). These answers come when Django itself refuses a
request before any view (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many parameters, a form
it cannot parse), when no route matches, and after an error nobody caught. A form refused by
the CSRF check gets the site's page that says to reload it (settings.CSRF_FAILURE_VIEW)."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from zhipei.core.problem import problem_response
from zhipei.lrs.http import LATEST_1, VERSION_HEADER, xapi_error


def _machine_answer(
    request: HttpRequest, status: int, title: str, code: str
) -> HttpResponse | None:
    if request.path.startswith("/api/"):
        return problem_response(request, status=status, title=title, code=code)
    if request.path.startswith("/xapi/"):
        response = xapi_error(status, title)
        response[VERSION_HEADER] = LATEST_1
        return response
    return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        answer = _machine_answer(
            request,
            413,
            _("The request body is larger than this service accepts."),
            "body_too_large",
        )
    else:
        answer = _machine_answer(
            request,
            400,
            _("The request could not be read: a malformed body or too many parameters."),
            "bad_request",
        )
    return answer or defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    answer = _machine_answer(request, 404, _("There is nothing at this address."), "not_found")
    return answer or defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    answer = _machine_answer(
        request, 500, _("Something went wrong on our side; it has been logged."), "server_error"
    )
    return answer or defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its CSRF token or cookie (an old page, cookies blocked, a stale
    tab after logging in elsewhere): the site's page, in the visitor's language, not Django's
    developer page. The API and the LRS take no cookies and are exempt."""
    return render(request, "403_csrf.html", status=403)
