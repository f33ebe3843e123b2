"""The HTTP edge shared by every xAPI resource under /xapi/ (zhipei.lrs and zhipei.lrs_documents):
Basic authentication with platform credentials, the X-Experience-API-Version header, errors, the
1.0.3 alternate request syntax (Communication §1.3), HEAD (§1.1), CSRF exemption and no slash
redirects.

A resource view is written as `def view(xreq: XapiRequest) -> HttpResponse` and wrapped with
`@xapi_endpoint({"GET", "PUT", …})`; the wrapper resolves the alternate syntax, authenticates,
checks the version, turns `XapiError` / `XapiInvalid` into responses and sets the version header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.common import no_append_slash
from django.views.decorators.csrf import csrf_exempt

from zhipei.lrs.formats import XapiInvalid, compact_json
from zhipei.orgs.models import PlatformCredential
from zhipei.orgs.services import authenticate_basic

VERSION_HEADER = "X-Experience-API-Version"
LATEST_1 = "1.0.3"
LATEST_2 = "2.0.0"
_VERSION_1 = re.compile(r"^1\.0(\.\d+)?\Z", re.ASCII)
_VERSION_2 = re.compile(r"^2\.0(\.\d+)?\Z", re.ASCII)
# Header names the alternate syntax may carry as form parameters (Communication §1.3.s3.b6).
ALT_HEADER_PARAMS = frozenset(
    {
        "authorization",
        "x-experience-api-version",
        "content-type",
        "content-length",
        "if-match",
        "if-none-match",
    }
)
ALT_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
WWW_AUTHENTICATE = 'Basic realm="xAPI"'


class XapiError(Exception):
    """An xAPI request refused with `status` and a message for the client."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.message = message
        self.headers = headers or {}
        super().__init__(message)


def xapi_error(status: int, message: str, *, path: str | None = None) -> HttpResponse:
    """A JSON error body: {"error": {"status", "message", "path"?}}."""
    body: dict[str, Any] = {"status": status, "message": message}
    if path:
        body["path"] = path
    return HttpResponse(
        json.dumps({"error": body}, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


class Headers(dict[str, str]):
    """Request headers keyed by lower-case name."""

    def get_header(self, name: str, default: str = "") -> str:
        return self.get(name.lower(), default)


@dataclass
class AltRequest:
    """A 1.0.3 alternate-syntax request unpacked: the intended method, the header parameters
    (lower-case names) from the form, the other form parameters as query parameters, and the
    `content` form parameter as the body (UTF-8)."""

    method: str
    headers: dict[str, str]
    params: dict[str, str]
    body: bytes


def alternate_request(request: HttpRequest) -> AltRequest | None:
    """The alternate request if `request` uses the syntax (a `method` query parameter), else
    None. Raises XapiError(400) when the syntax is broken: not a POST, other query parameters
    beside `method`, an unknown method, or a body that is not form-encoded."""
    if "method" not in request.GET:
        return None
    if request.method != "POST":
        raise XapiError(400, _("The alternate request syntax must be sent as POST."))
    if set(request.GET.keys()) != {"method"} or len(request.GET.getlist("method")) != 1:
        raise XapiError(
            400,
            _("With the alternate request syntax, method must be the only query parameter."),
        )
    method = request.GET["method"].upper()
    if method not in ALT_METHODS:
        raise XapiError(400, _("The method query parameter names an unsupported HTTP method."))
    content_type = request.content_type or ""
    if content_type and content_type != "application/x-www-form-urlencoded":
        raise XapiError(
            400,
            _("The alternate request syntax needs an application/x-www-form-urlencoded body."),
        )
    try:
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise XapiError(400, _("The form body is not valid UTF-8.")) from exc
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    body = b""
    for name, values in form.items():
        if len(values) != 1:
            raise XapiError(400, _("A form parameter of the alternate syntax was given twice."))
        value = values[0]
        lower = name.lower()
        if lower in ALT_HEADER_PARAMS:
            headers[lower] = value
        elif name == "content":
            body = value.encode("utf-8")
        else:
            params[name] = value
    return AltRequest(method=method, headers=headers, params=params, body=body)


# --- Authentication -------------------------------------------------------------------------
# A short in-process cache of successful Basic checks, keyed by key id and the SHA-256 of the
# secret (never the secret itself): one credential lookup per key per TTL instead of per
# request. A revoked key or a suspended platform is refused at most TTL seconds later.
_auth_cache: dict[tuple[str, str], tuple[float, PlatformCredential]] = {}
_auth_lock = threading.Lock()
_AUTH_CACHE_MAX = 1024


def clear_auth_cache() -> None:
    with _auth_lock:
        _auth_cache.clear()


def _auth_ttl() -> float:
    return float(getattr(settings, "XAPI_AUTH_CACHE_SECONDS", 10))


def _unauthorised(message: str) -> XapiError:
    return XapiError(401, message, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def xapi_auth(request: HttpRequest, alt: AltRequest | None = None) -> PlatformCredential:
    """The platform credential of an HTTP Basic request (user = key id, password = secret).
    Raises XapiError(401, with WWW-Authenticate) when the header is missing, malformed or
    wrong, or the platform is not selected."""
    header = (alt.headers.get("authorization") if alt else None) or request.headers.get(
        "Authorization", ""
    )
    scheme, _sep, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise _unauthorised(_("HTTP Basic authentication with a platform key is required."))
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _unauthorised(_("The Authorization header is not valid Basic credentials.")) from exc
    key_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _unauthorised(_("The Authorization header is not valid Basic credentials."))
    cache_key = (key_id, hashlib.sha256(secret.encode("utf-8")).hexdigest())
    ttl = _auth_ttl()
    now = time.monotonic()
    if ttl > 0:
        cached = _auth_cache.get(cache_key)
        if cached is not None and cached[0] > now:
            return cached[1]
    credential = authenticate_basic(key_id, secret)
    if credential is None:
        with _auth_lock:
            _auth_cache.pop(cache_key, None)
        raise _unauthorised(_("The key id or secret is wrong, or the platform may not report."))
    if ttl > 0:
        with _auth_lock:
            if len(_auth_cache) >= _AUTH_CACHE_MAX:
                _auth_cache.clear()
            _auth_cache[cache_key] = (now + ttl, credential)
    return credential


# --- Version --------------------------------------------------------------------------------
def xapi_version(request: HttpRequest, alt: AltRequest | None = None) -> str:
    """The version this request speaks, as the LRS answers it ("1.0.3" or "2.0.0"), from the
    X-Experience-API-Version header (Communication §3.3). Raises XapiError(400) when the
    header is missing or names another version. `xapi_endpoint` sets the response header."""
    value = ((alt.headers.get("x-experience-api-version") if alt else None) or "").strip()
    value = value or request.headers.get(VERSION_HEADER, "").strip()
    if not value:
        raise XapiError(400, _("The X-Experience-API-Version header is required."))
    if _VERSION_1.match(value):
        return LATEST_1
    if _VERSION_2.match(value):
        return LATEST_2
    raise XapiError(
        400,
        _(
            "This LRS speaks xAPI 1.0.x and 2.0.x; the X-Experience-API-Version header asks for another version."
        ),
    )


# --- The request a resource view sees -------------------------------------------------------
@dataclass
class XapiRequest:
    """One xAPI request after the alternate syntax is resolved: `method` is the intended
    method (GET for HEAD), `params` the query (or form) parameters, `headers` lower-cased,
    `body` the raw content, `content_type` without parameters."""

    request: HttpRequest
    method: str
    params: dict[str, str]
    headers: Headers
    body: bytes
    content_type: str
    credential: PlatformCredential
    version: str
    alternate: bool = False
    content_type_header: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def platform_id(self) -> int:
        return self.credential.platform_id

    @property
    def is_v2(self) -> bool:
        return self.version.startswith("2.")


XapiView = Callable[[XapiRequest], HttpResponse]


def _single_params(request: HttpRequest) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, values in request.GET.lists():
        if len(values) != 1:
            raise XapiError(400, _("A query parameter was given more than once."))
        params[name] = values[0]
    return params


def build_xapi_request(request: HttpRequest, *, require_version: bool = True) -> XapiRequest:
    try:
        return _build_xapi_request(request, require_version=require_version)
    except RequestDataTooBig as exc:
        raise XapiError(413, _("The request is larger than this LRS accepts.")) from exc


def _build_xapi_request(request: HttpRequest, *, require_version: bool) -> XapiRequest:
    alt = alternate_request(request)
    credential = xapi_auth(request, alt)
    version = xapi_version(request, alt) if require_version else LATEST_1
    if alt is not None and version.startswith("2."):
        raise XapiError(400, _("xAPI 2.0 has no alternate request syntax."))
    if alt is not None:
        headers = Headers({k.lower(): v for k, v in request.headers.items()})
        headers.update(alt.headers)
        content_type_header = alt.headers.get("content-type", "application/json")
        method, params, body = alt.method, alt.params, alt.body
    else:
        headers = Headers({k.lower(): v for k, v in request.headers.items()})
        content_type_header = request.headers.get("Content-Type", "")
        method = request.method or "GET"
        params = _single_params(request)
        body = request.body if method in {"PUT", "POST"} else b""
    for name, value in params.items():
        if "\x00" in name or "\x00" in value:
            # PostgreSQL text cannot hold it: no statement, document or filter can name it.
            raise XapiError(
                400,
                _("Parameter %(name)s must not contain the character U+0000 (NUL).")
                % {"name": name.replace("\x00", "\\u0000")},
            )
    return XapiRequest(
        request=request,
        method="GET" if method == "HEAD" else method,
        params=params,
        headers=headers,
        body=body,
        content_type=content_type_header.split(";", 1)[0].strip().lower(),
        content_type_header=content_type_header,
        credential=credential,
        version=version,
        alternate=alt is not None,
        extra={"head": method == "HEAD"},
    )


def xapi_endpoint(
    methods: Iterable[str],
    *,
    require_version: bool = True,
    every_response: Callable[[HttpResponse, XapiRequest | None], None] | None = None,
) -> Callable[[XapiView], Callable[[HttpRequest], HttpResponse]]:
    """Wrap an xAPI resource view: CSRF-exempt, never slash-redirected, HEAD answered as GET
    without a body, errors as JSON with the right status, version header on every answer.
    `every_response` adds what a resource puts on all its answers, the refusals before the
    view runs included (a bad version header, credentials or method); it gets the request
    as parsed, or None when the refusal came before that."""
    allowed = frozenset(method.upper() for method in methods)

    def decorate(view: XapiView) -> Callable[[HttpRequest], HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            version = LATEST_1
            xreq: XapiRequest | None = None
            try:
                xreq = build_xapi_request(request, require_version=require_version)
                version = xreq.version
                if xreq.method not in allowed:
                    raise XapiError(405, _("This resource does not support that HTTP method."))
                response = view(xreq)
            except XapiError as exc:
                response = xapi_error(exc.status, exc.message)
                for name, value in exc.headers.items():
                    response[name] = value
            except XapiInvalid as exc:
                response = xapi_error(400, str(exc), path=exc.path or None)
            if request.method == "HEAD" or (xreq is not None and xreq.extra.get("head")):
                strip_body(response, head=request.method == "HEAD")
            response[VERSION_HEADER] = version
            if every_response is not None:
                every_response(response, xreq)
            return response

        return csrf_exempt(no_append_slash(wrapper))

    return decorate


def strip_body(response: HttpResponse, *, head: bool) -> None:
    """A HEAD answer (Communication §1.1), a refusal too: no body. Under a real HEAD the
    Content-Length is the GET's (RFC 9110 §8.6: it may only say what a GET would send); under
    the alternate syntax (a POST with method=HEAD) the body really is empty, and so is the
    length."""
    if head and not response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    response.content = b""


def json_response(
    data: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> HttpResponse:
    response = HttpResponse(
        compact_json(data),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
