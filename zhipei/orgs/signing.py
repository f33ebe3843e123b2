"""HMAC-SHA256 request signing for the platform API (docs/api-auth.md).

    canonical string = METHOD "\\n" PATH "\\n" QUERY "\\n" TIMESTAMP "\\n" NONCE "\\n" hex(SHA-256(body))
    signature        = hex(HMAC-SHA256(secret, canonical string))

* METHOD: upper case. PATH: the request path without the query, decoded and then
  percent-encoded per RFC 3986 (everything but A-Z a-z 0-9 - . _ ~ and "/", UTF-8, upper-case
  hex). QUERY: each name and value decoded (form rules: "+" is a space), percent-encoded the
  same way (also "/"), the pairs sorted by name then value and joined as name=value with "&".
* TIMESTAMP: unix seconds exactly as sent in X-Zhipei-Timestamp; NONCE: X-Zhipei-Nonce.
* The HMAC key is the secret's ASCII bytes, exactly as issued.

The functions here are pure except `PlatformSignatureAuth`, which looks the key up, checks the
window, the signature and finally spends the nonce (so unsigned requests cannot burn nonces).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security.base import AuthBase

from zhipei.core import crypto
from zhipei.core.errors import NotAllowed
from zhipei.orgs import services
from zhipei.orgs.models import Platform, PlatformCredential

logger = logging.getLogger(__name__)

HEADER_KEY = "X-Zhipei-Key"
HEADER_TIMESTAMP = "X-Zhipei-Timestamp"
HEADER_NONCE = "X-Zhipei-Nonce"
HEADER_SIGNATURE = "X-Zhipei-Signature"
HEADERS = (HEADER_KEY, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}\Z")
TIMESTAMP_RE = re.compile(r"^[0-9]{1,12}\Z")
SIGNATURE_RE = re.compile(r"^[0-9a-fA-F]{64}\Z")
AUTH_SCHEME = "Zhipei-HMAC-SHA256"


def canonical_path(path: str) -> str:
    """RFC 3986 percent-encoding of the decoded path; "/" and unreserved characters stay."""
    return quote(unquote(path), safe="/")


def canonical_query(query_string: str) -> str:
    """Decoded name/value pairs, re-encoded per RFC 3986, sorted by name then value."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    encoded = sorted((quote(name, safe=""), quote(value, safe="")) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_string(
    *, method: str, path: str, query: str, timestamp: str, nonce: str, body: bytes
) -> str:
    """The text that is signed; `query` is the raw query string (without "?")."""
    return "\n".join(
        (
            method.upper(),
            canonical_path(path),
            canonical_query(query),
            timestamp,
            nonce,
            body_sha256(body),
        )
    )


def signature(secret: str, canonical: str) -> str:
    """Lower-case hex HMAC-SHA256 of the canonical string under the secret."""
    return hmac.new(secret.encode("utf-8"), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(
    key_id: str,
    secret: str,
    *,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers of a signed request (what a platform's client does)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce if nonce is not None else secrets.token_urlsafe(18)
    canonical = canonical_string(
        method=method, path=path, query=query, timestamp=stamp, nonce=nonce, body=body
    )
    return {
        HEADER_KEY: key_id,
        HEADER_TIMESTAMP: stamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, canonical),
    }


class SignatureRejected(AuthenticationError):
    """A signed request was refused (401). `code` is stable for machines; the message names
    exactly what was wrong."""

    def __init__(
        self, message: str, *, code: str, detail: str = "", extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(401, message)
        self.code = code
        self.detail = detail
        self.extra = extra or {}
        self.www_authenticate = AUTH_SCHEME


def credential_secret(credential: PlatformCredential) -> str:
    """The clear secret of a credential, decrypted for checking a signature (never logged)."""
    clear = crypto.decrypt(
        credential.secret_key_id,
        bytes(credential.secret_ciphertext),
        associated_data=services.credential_associated_data(credential.key_id),
    )
    return clear.decode("utf-8")


class PlatformSignatureAuth(AuthBase):
    """django-ninja auth for endpoints called by platforms: verifies the X-Zhipei-* headers and
    sets request.auth to the PlatformCredential. `statuses` are the platform statuses allowed
    through; others get 403 after a correct signature."""

    openapi_type = "apiKey"
    openapi_in = "header"
    openapi_name = HEADER_SIGNATURE
    openapi_description = (
        "HMAC-SHA256 request signature with the headers X-Zhipei-Key, X-Zhipei-Timestamp, "
        "X-Zhipei-Nonce and X-Zhipei-Signature; see docs/api-auth.md."
    )

    def __init__(self, *, statuses: frozenset[str] = frozenset({Platform.Status.SELECTED})) -> None:
        self.statuses = statuses
        super().__init__()

    def __call__(self, request: HttpRequest) -> PlatformCredential:
        values = {}
        for header in HEADERS:
            value = request.headers.get(header, "").strip()
            if not value:
                raise SignatureRejected(
                    f"Missing header {header}.",
                    code="signature_header_missing",
                    detail="Signed requests carry " + ", ".join(HEADERS) + ".",
                )
            values[header] = value
        key_id, stamp = values[HEADER_KEY], values[HEADER_TIMESTAMP]
        nonce, provided = values[HEADER_NONCE], values[HEADER_SIGNATURE]
        if not TIMESTAMP_RE.match(stamp):
            raise SignatureRejected(
                f"Header {HEADER_TIMESTAMP} must be whole seconds since 1970-01-01 UTC.",
                code="signature_timestamp_invalid",
            )
        if not NONCE_RE.match(nonce):
            raise SignatureRejected(
                f"Header {HEADER_NONCE} must be 16 to 64 characters from A-Z, a-z, 0-9, _ and -.",
                code="signature_nonce_invalid",
            )
        if not SIGNATURE_RE.match(provided):
            raise SignatureRejected(
                f"Header {HEADER_SIGNATURE} must be 64 hexadecimal characters (HMAC-SHA256).",
                code="signature_invalid",
            )
        now = int(time.time())
        skew = settings.API_SIGNATURE_MAX_SKEW_SECONDS
        if abs(now - int(stamp)) > skew:
            raise SignatureRejected(
                f"Timestamp is outside the allowed window of ±{skew} seconds.",
                code="signature_timestamp_skew",
                detail=f"Server time is {now}; the request said {stamp}.",
                extra={"server_time": now},
            )
        credential = services.active_credential(key_id)
        if credential is None:
            raise SignatureRejected("Unknown or revoked key.", code="signature_key_unknown")
        try:
            secret = credential_secret(credential)
        except crypto.CryptoError:
            logger.exception("cannot decrypt the secret of API key %s", key_id)
            raise HttpError(503, "The server cannot check signatures right now.") from None
        canonical = canonical_string(
            method=request.method or "",
            # request.path is decoded already: encoded once more it is what the client sent
            # (up to escape style), which canonical_string decodes and encodes (step 2).
            path=quote(request.path, safe="/"),
            query=request.META.get("QUERY_STRING", ""),
            timestamp=stamp,
            nonce=nonce,
            body=request.body,
        )
        expected = signature(secret, canonical)
        if not hmac.compare_digest(expected.encode(), provided.lower().encode()):
            raise SignatureRejected(
                "Signature mismatch.",
                code="signature_mismatch",
                detail="The signature does not match the canonical string shown here.",
                extra={"canonical_string": canonical},
            )
        platform = credential.platform
        if platform.status not in self.statuses:
            raise NotAllowed(
                f"The platform's status ({platform.status}) does not allow this request."
            )
        if not services.use_nonce(key_id, nonce):
            raise SignatureRejected(
                "Nonce already used.",
                code="signature_nonce_reused",
                detail="Each request needs a fresh nonce; a replayed request is refused.",
            )
        services.mark_used(credential)
        return credential
