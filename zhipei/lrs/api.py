"""The profile validator for platforms (mounted at /api/v1/profile by zhipei/api.py).

`POST /api/v1/profile/validate` takes what a platform would POST to /xapi/statements (one
statement or an array) and answers, statement by statement, what breaks the reporting
profile (docs/xapi-profile.md) and why. It never stores anything. Requests are signed like
every platform API request (orgs.signing.PlatformSignatureAuth); a platform still applying
for selection may use it too, to get its statements right before it goes live. The limits
are those of one POST to the LRS: DATA_UPLOAD_MAX_MEMORY_SIZE bytes and XAPI_MAX_BATCH
statements.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Schema

from zhipei.core.errors import DomainError
from zhipei.core.problem import problem_response
from zhipei.lrs import profile_check
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.signing import PlatformSignatureAuth

_DEFAULT_MAX_BYTES = 2_621_440  # Django's default DATA_UPLOAD_MAX_MEMORY_SIZE
XAPI_VERSION_HEADER = "X-Experience-API-Version"


def max_body_bytes() -> int:
    return int(getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None) or _DEFAULT_MAX_BYTES)


def max_statements() -> int:
    return int(getattr(settings, "XAPI_MAX_BATCH", profile_check.DEFAULT_MAX_STATEMENTS))


class BodyTooLarge(DomainError):
    code = "body_too_large"
    status = 413
    default_message = gettext_lazy(
        "The request body is larger than the LRS accepts in one request; check fewer "
        "statements at a time."
    )


class _SizeLimitedSignatureAuth(PlatformSignatureAuth):
    """Signed requests, as on every platform route; a body over the limit is refused (413)
    before it is read, since checking the signature reads the whole body."""

    def __call__(self, request: HttpRequest) -> PlatformCredential:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > max_body_bytes():
            raise BodyTooLarge
        try:
            return super().__call__(request)
        except RequestDataTooBig:
            raise BodyTooLarge from None


router = Router(
    tags=["profile"],
    auth=_SizeLimitedSignatureAuth(
        statuses=frozenset({Platform.Status.REGISTERED, Platform.Status.SELECTED})
    ),
)


class ProblemOut(Schema):
    index: int
    id: str | None
    path: str
    code: str
    severity: str
    message: str
    params: dict[str, Any]


class ValidationOut(Schema):
    valid: bool
    statements: int
    errors: int
    warnings: int
    problems: list[ProblemOut]


_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"type": "object", "description": "One xAPI statement."},
                        {
                            "type": "array",
                            "items": {"type": "object"},
                            "description": "Statements, as in a POST to /xapi/statements.",
                        },
                    ]
                }
            }
        },
    }
}


def _version(request: HttpRequest) -> str | None:
    header = request.headers.get(XAPI_VERSION_HEADER, "").strip()
    if not header or header.startswith("1.0"):
        return "1.0.3"
    if header.startswith("2.0"):
        return "2.0.0"
    return None


class _Refused(Exception):
    """The body cannot be checked at all: answered as one problem document."""

    def __init__(self, status: int, title: str, code: str, **members: Any) -> None:
        super().__init__(title)
        self.status, self.title, self.code, self.members = status, title, code, members


def _statements(body: bytes) -> list[Any]:
    """The statements of the body, or _Refused naming what is wrong with it."""
    invalid_json = _("The request body is not valid JSON.")
    try:
        data = profile_check.parse_json(body)
    except UnicodeDecodeError as exc:
        detail = _("The body is not UTF-8 (byte %(position)s).") % {"position": exc.start}
        raise _Refused(400, invalid_json, "invalid_json", detail=detail) from None
    except profile_check.JsonTooDeep:
        detail = _("The JSON is nested too deeply.")
        raise _Refused(400, invalid_json, "invalid_json", detail=detail) from None
    except json.JSONDecodeError as exc:
        detail = _("Line %(line)s, column %(column)s: %(error)s") % {
            "line": exc.lineno,
            "column": exc.colno,
            "error": exc.msg,
        }
        raise _Refused(
            400,
            invalid_json,
            "invalid_json",
            detail=detail,
            extra={"line": exc.lineno, "column": exc.colno},
        ) from None
    if not isinstance(data, dict | list):
        raise _Refused(
            400,
            _("Send one statement (a JSON object) or an array of statements."),
            "not_statements",
        )
    statements = profile_check.as_statement_list(data)
    if not statements:
        raise _Refused(400, _("The array holds no statements."), "no_statements")
    limit = max_statements()
    if len(statements) > limit:
        raise _Refused(
            413,
            _("Too many statements: check at most %(limit)s in one request.") % {"limit": limit},
            "too_many_statements",
            extra={"limit": limit},
        )
    return statements


@router.post(
    "/validate",
    response={200: ValidationOut},
    summary="Check statements against the reporting profile (nothing is stored)",
    description=(
        "Send what you would POST to /xapi/statements: one statement or an array. The answer "
        "lists, for each statement, every problem with its JSON path, a stable code, "
        "severity (error breaks the profile; warning does not) and a message. Unknown "
        "pseudonyms and activity IRIs of your platform are warnings. An optional "
        "X-Experience-API-Version header (1.0.3 or 2.0.0) sets the xAPI version checked."
    ),
    openapi_extra=_REQUEST_BODY,
)
def validate(request: HttpRequest) -> HttpResponse | dict[str, Any]:
    credential: PlatformCredential = request.auth  # type: ignore[attr-defined]
    version = _version(request)
    try:
        if version is None:
            raise _Refused(
                400,
                _("The X-Experience-API-Version header must be 1.0.x or 2.0.x."),
                "xapi_version_invalid",
                field=XAPI_VERSION_HEADER,
            )
        statements = _statements(request.body)
    except _Refused as refused:
        return problem_response(
            request,
            status=refused.status,
            title=refused.title,
            code=refused.code,
            **refused.members,
        )
    catalogue = profile_check.catalogue_for(credential.platform_id, statements)
    report = profile_check.check_statements(statements, catalogue=catalogue, version=version)
    return report.to_json()
