"""Client IP from trusted proxies only (fraud screens and rate limits rely on it), and no
U+0000 in what a request sends (PostgreSQL text cannot hold it)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from zhipei.core.problem import problem_response


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(remote_addr: str, forwarded_for: str, trusted: list[str]) -> str:
    """Walk X-Forwarded-For from the right, skipping trusted proxies; the first untrusted hop
    is the client. Without a trusted direct peer the header is ignored (it can be forged)."""
    if not trusted or not _is_trusted(remote_addr, trusted):
        return remote_addr
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return remote_addr
            return hop
    return hops[0] if hops else remote_addr


class ClientIPMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.client_ip = client_ip(  # type: ignore[attr-defined]
            request.META.get("REMOTE_ADDR", ""),
            request.META.get("HTTP_X_FORWARDED_FOR", ""),
            settings.TRUSTED_PROXIES,
        )
        return self.get_response(request)


def get_client_ip(request: HttpRequest) -> str:
    value: str = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")
    return value


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _nul_path(value: Any) -> str | None:
    """The JSON path of the first key or string in `value` that holds U+0000, if any
    (iteratively: a body may nest as deep as the parser goes)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                where = f"{path}.{key}" if path else str(key)
                if "\x00" in str(key):
                    return where
                stack.append((child, where))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
        elif isinstance(item, str) and "\x00" in item:
            return path or "(body)"
    return None


def nul_field(request: HttpRequest, *, body: bool) -> str | None:
    """Which parameter of `request` holds U+0000, if any; with `body`, also which form field
    or JSON property."""
    sources = [request.GET]
    if body and request.content_type in _FORM_TYPES:
        sources.append(request.POST)
    for data in sources:
        for name, values in data.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "\\u0000")
    # In JSON a NUL is always escaped (a raw one is invalid), and the escape is rare enough
    # that finding it first spares every other body a parse here.
    if body and request.content_type == "application/json":
        try:
            raw = request.body
        except RequestDataTooBig:
            return None  # the view answers that (413), unread
        if b"\\u0000" in raw:
            try:
                return _nul_path(json.loads(raw))
            except (ValueError, RecursionError):
                return None  # the view's parser words what is wrong with it
    return None


class NulCharacterMiddleware:
    """Refuse (400) a request whose query parameters hold U+0000 (NUL), and under /api/ also
    one whose form fields or JSON body do: PostgreSQL text cannot hold it, so it would fail
    deep in a query instead. A page's form posts are left to its form, which refuses NUL
    (Django's ProhibitNullCharactersValidator) beside the field, on the page. /xapi/ has its
    own handler and checks (zhipei.lrs.http)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/xapi/"):
            return self.get_response(request)
        api = request.path.startswith("/api/")
        field = nul_field(request, body=api)
        if field is None:
            return self.get_response(request)
        title = _("%(field)s must not contain the character U+0000 (NUL).") % {"field": field}
        if api:
            return problem_response(
                request, status=400, title=title, code="nul_character", field=field
            )
        return HttpResponseBadRequest(title, content_type="text/plain; charset=utf-8")
