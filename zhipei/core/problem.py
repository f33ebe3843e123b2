"""RFC 9457 problem details, for the API and for any JSON endpoint; and the platform API's
plain JSON answers."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    request: HttpRequest | None,
    *,
    status: int,
    title: str,
    code: str,
    detail: str | None = None,
    field: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """One problem document. `extra` adds members beyond RFC 9457's (extension members, e.g.
    the canonical string the server signed); it cannot replace the standard ones."""
    body: dict[str, Any] = {
        "type": f"https://zhipei.invalid/problems/{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    if request is not None:
        body["instance"] = request.path
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE
    )


def json_answer(status: int, body: dict[str, Any], **headers: str) -> HttpResponse:
    """A platform API answer: `body` as JSON (non-ASCII as is), with `headers`."""
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json"
    )
    for name, value in headers.items():
        response[name] = value
    return response
