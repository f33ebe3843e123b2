"""The `Idempotency-Key` header of the platform API's POSTs (ARCHITECTURE "Platform API"):
its syntax and the two problems a client meets with it. The same key with the same request
gets the first answer again; the same key with another request is refused.

Where the answers are kept is the endpoint's business: `catalog.IdempotencyRecord` (body
digest, path and answer) for courses and enrolments, `people.LearnerRegistrationKey` for
learner registration, whose body holds an ID number and so is kept only as a keyed
fingerprint."""

from __future__ import annotations

import re
from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse

from zhipei.core.problem import json_answer, problem_response

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,100}\Z")


def invalid_key(request: HttpRequest, key: str) -> HttpResponse | None:
    """The 400 problem when `key` is not 1 to 100 visible ASCII characters; None when it is."""
    if _KEY.match(key):
        return None
    return problem_response(
        request,
        status=400,
        title="The Idempotency-Key header must be 1 to 100 visible ASCII characters.",
        code="idempotency_key_invalid",
        field=HEADER,
    )


def key_reused(request: HttpRequest) -> HttpResponse:
    """The 422 problem for a key already used with another request."""
    return problem_response(
        request,
        status=422,
        title="This Idempotency-Key was already used with another request.",
        code="idempotency_key_reused",
        field=HEADER,
    )


class RecordedAnswer(Protocol):
    """An answer kept under a key with the request it answered (catalog.IdempotencyRecord)."""

    @property
    def request_sha256(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def response_status(self) -> int: ...
    @property
    def response_body(self) -> Any: ...


def replay(
    request: HttpRequest, recorded: RecordedAnswer | None, digest: str
) -> HttpResponse | None:
    """The answer kept under the request's key, again, when it answered this same request
    (body digest and path: one store serves several endpoints); the 422 when it answered
    another; None when none is kept."""
    if recorded is None:
        return None
    if recorded.request_sha256 != digest or recorded.path != request.path[:300]:
        return key_reused(request)
    return json_answer(
        recorded.response_status, recorded.response_body, **{"Idempotent-Replayed": "true"}
    )
