"""Middleware of the /xapi/ handler (config/wsgi.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation
from django.utils.cache import patch_vary_headers


class XapiLanguageMiddleware:
    """The language of the LRS's messages: what LocaleMiddleware decides for a path without
    a language prefix (the language cookie, then Accept-Language, then LANGUAGE_CODE), and
    the same Content-Language and Vary headers. It leaves out LocaleMiddleware's work on the
    URL's language prefix, which /xapi/ never has (its paths are fixed by the xAPI
    specification): a twentieth of the CPU of a one-statement request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        language = activate_language(request)
        return label_language(self.get_response(request), language)


def activate_language(request: HttpRequest) -> str:
    """Activate the language of `request`'s messages (the cookie, Accept-Language, the
    site's default) and return it; also set as request.LANGUAGE_CODE."""
    translation.activate(translation.get_language_from_request(request))
    language = translation.get_language()
    request.LANGUAGE_CODE = language
    return language


def label_language(response: HttpResponseBase, language: str) -> HttpResponseBase:
    """The headers LocaleMiddleware sets: Vary on Accept-Language, and Content-Language."""
    patch_vary_headers(response, ("Accept-Language",))
    response.headers.setdefault("Content-Language", language)
    return response
