"""The `Idempotency-Key` header of the platform API's POSTs (ARCHITECTURE "Platform API"):
its syntax and the two problems a client meets with it. The same key with the same request
gets the first answer again; the same key with another request is refused.

Where the answers are kept is the endpoint's business: `catalog.IdempotencyRecord` (body
digest, path and answer) for courses and enrolments, `people.LearnerRegistrationKey` for
learner registration, whose body holds an ID number and so is kept only as a keyed
fingerprint."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse

from zhipei.core.problem import problem_response

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


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
