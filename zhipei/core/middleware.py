"""Client IP from trusted proxies only (fraud screens and rate limits rely on it), and no
U+0000 in what a request sends, nor a lone surrogate in an API's JSON (PostgreSQL text cannot
hold either)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from zhipei.core.problem import problem_response
from zhipei.core.text import is_unicode_text


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


def _bad_text_path(value: Any, *, surrogates: bool) -> tuple[str, str] | None:
    """The JSON path of the first key or string in `value` that holds U+0000 (or, with
    `surrogates`, a lone surrogate), and which of the two ("nul" or "surrogate"); None when
    none does. Iterative: a body may nest as deep as the parser goes."""

    def fault(text: str) -> str | None:
        if "\x00" in text:
            return "nul"
        if surrogates and not is_unicode_text(text):
            return "surrogate"
        return None

    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                name = str(key)
                where = f"{path}.{name}" if path else name
                kind = fault(name)
                if kind is not None:
                    return where, kind
                stack.append((child, where))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
        elif isinstance(item, str):
            kind = fault(item)
            if kind is not None:
                return path or "(body)", kind
    return None


def _printable(field: str) -> str:
    """A field path fit to show: NUL and lone surrogates as their JSON escapes."""
    return field.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _nul_name(data: QueryDict) -> str | None:
    """The name of the first parameter of `data` whose name or a value holds U+0000."""
    for name, values in data.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "\\u0000")
    return None


def bad_text_field(request: HttpRequest, *, api: bool) -> tuple[str, str] | None:
    """Which parameter or form field of `request` holds U+0000, if any, and (under the API,
    `api`) which JSON property holds U+0000 or a lone surrogate. Returns (field, "nul" |
    "surrogate").

    Under the API the raw body is read before the form is parsed (Django keeps it, so the
    view can read it again: the signature covers it); a body too large, or a form Django
    cannot parse, is left to the view, which answers it."""
    name = _nul_name(request.GET)
    if name is not None:
        return name, "nul"
    if request.method not in {"POST", "PUT", "PATCH"}:
        return None
    if api:
        try:
            raw = request.body
        except RequestDataTooBig:
            return None  # the view answers that (413), unread
        if request.content_type == "application/json":
            return _json_fault(raw)
    return _form_fault(request) if request.content_type in _FORM_TYPES else None


def _form_fault(request: HttpRequest) -> tuple[str, str] | None:
    try:
        form = request.POST
    except (MultiPartParserError, BadRequest, RequestDataTooBig):
        return None  # the view refuses what it cannot parse
    name = _nul_name(form)
    return (name, "nul") if name is not None else None


def _json_fault(raw: bytes) -> tuple[str, str] | None:
    # In JSON a NUL is always escaped (a raw one is invalid), and so is a lone surrogate
    # (UTF-8 cannot spell one); such escapes are rare enough that finding one first spares
    # every other body a parse here.
    nul = b"\\u0000" in raw
    surrogate = b"\\ud" in raw or b"\\uD" in raw
    if not (nul or surrogate):
        return None
    try:
        found = _bad_text_path(json.loads(raw), surrogates=surrogate)
    except (ValueError, RecursionError):
        return None  # the view's parser words what is wrong with it
    return (_printable(found[0]), found[1]) if found is not None else None


class NulCharacterMiddleware:
    """Refuse (400) a request whose path, query parameters or form fields hold U+0000 (NUL),
    and under /api/ also one whose JSON body holds it or a lone surrogate: PostgreSQL text
    cannot hold either, so it would fail deep in a query instead. No person types a NUL
    (browsers drop it), so a page's form with one is refused as a whole, not beside a field:
    every custom field and view that queries with what was posted is covered at once. /xapi/
    has its own handler and checks (zhipei.lrs.http)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/xapi/"):
            return self.get_response(request)
        api = request.path.startswith("/api/")
        if "\x00" in request.path:
            title = _("The address must not contain the character U+0000 (NUL).")
            return self._refuse(request, api=api, title=title, code="nul_character", field=None)
        found = bad_text_field(request, api=api)
        if found is None:
            return self.get_response(request)
        field, kind = found
        if kind == "nul":
            title = _("%(field)s must not contain the character U+0000 (NUL).") % {"field": field}
            code = "nul_character"
        else:
            title = _(
                "%(field)s holds text that is not valid Unicode (a lone surrogate escape)."
            ) % {"field": field}
            code = "invalid_unicode"
        return self._refuse(request, api=api, title=title, code=code, field=field)

    @staticmethod
    def _refuse(
        request: HttpRequest, *, api: bool, title: str, code: str, field: str | None
    ) -> HttpResponse:
        if api:
            return problem_response(request, status=400, title=title, code=code, field=field)
        return HttpResponseBadRequest(title, content_type="text/plain; charset=utf-8")
