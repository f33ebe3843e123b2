"""Learner registration for platforms (mounted at /api/v1/learners by zhipei/api.py).

A platform registers each learner once with the learner's real name and ID number and gets
back the pseudonym under which it reports that learner to the LRS (docs/xapi-profile.md):

    actor = {"objectType": "Agent", "account": {"homePage": "<SITE_URL>/learners",
                                                "name": <pseudonym>}}

Signed requests only (orgs.signing.PlatformSignatureAuth; selected platforms). The ID number
is never echoed, logged or put in audit data; problems name the field, not the value. POST
honours an `Idempotency-Key` header: the same key and body get the same answer again, the
same key with another body is refused with 422.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from zhipei.core import idempotency
from zhipei.core.crypto import blind_index
from zhipei.core.problem import json_answer
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.signing import PlatformSignatureAuth
from zhipei.people import queries, services
from zhipei.people.models import LearnerRegistrationKey

router = Router(tags=["learners"], auth=PlatformSignatureAuth())

_FINGERPRINT_PURPOSE = "people.learner.idempotency"


def learner_actor(pseudonym: str) -> dict[str, Any]:
    """The xAPI Agent a platform puts in its statements for the learner with `pseudonym`."""
    return {
        "objectType": "Agent",
        "account": {"homePage": queries.learners_home_page(), "name": pseudonym},
    }


class LearnerIn(Schema):
    name: str = Field(..., max_length=200, description="The learner's real name (实名).")
    id_number: str = Field(
        ..., max_length=40, description="公民身份号码, 18 characters; never echoed back."
    )
    phone: str = Field("", max_length=40, description="Mainland mobile number (optional).")


class AccountOut(Schema):
    homePage: str  # noqa: N815 - the xAPI property name
    name: str


class ActorOut(Schema):
    objectType: str  # noqa: N815 - the xAPI property name
    account: AccountOut


class LearnerOut(Schema):
    pseudonym: str
    actor: ActorOut
    created: bool


def _body(pseudonym: str, created: bool) -> dict[str, Any]:
    return {"pseudonym": pseudonym, "actor": learner_actor(pseudonym), "created": created}


def _fingerprint(body: bytes) -> str:
    # Keyed: the body holds an ID number, which a plain hash would expose to a dictionary search.
    return blind_index(hashlib.sha256(body).hexdigest(), purpose=_FINGERPRINT_PURPOSE)


def _replay(
    request: HttpRequest, platform: Platform, key: str, fingerprint: str
) -> HttpResponse | None:
    earlier = queries.learner_registration(platform.pk, key)
    return None if earlier is None else _kept_answer(request, earlier, fingerprint)


def _kept_answer(
    request: HttpRequest, kept: LearnerRegistrationKey, fingerprint: str
) -> HttpResponse:
    """The answer kept under a key, again; the 422 when it answered another body."""
    if kept.request_fingerprint != fingerprint:
        return idempotency.key_reused(request)
    return json_answer(
        201 if kept.created_pseudonym else 200,
        _body(kept.pseudonym.pseudonym, kept.created_pseudonym),
        **{"Idempotent-Replayed": "true"},
    )


@router.post(
    "",
    response={200: LearnerOut, 201: LearnerOut},
    summary="Register a learner and get the pseudonym to report them under (idempotent)",
    description=(
        "201 when this platform had no pseudonym for the person yet, 200 when it had. "
        "The same name and ID number always give the same pseudonym to the same platform "
        "and a different one to every other platform."
    ),
)
def register_learner(request: HttpRequest, data: LearnerIn) -> HttpResponse:
    credential: PlatformCredential = request.auth  # type: ignore[attr-defined]
    platform = credential.platform
    key = request.headers.get(idempotency.HEADER)
    fingerprint = _fingerprint(request.body)
    if key is not None:
        early = idempotency.invalid_key(request, key) or _replay(
            request, platform, key, fingerprint
        )
        if early is not None:
            return early
    _person, pseudonym, created = services.register_learner(
        platform=platform, name=data.name, id_number=data.id_number, phone=data.phone, by=None
    )
    if key is not None:
        kept = services.remember_learner_registration(
            platform, key=key, request_fingerprint=fingerprint, pseudonym=pseudonym, created=created
        )
        # Another request with this key won the race: answer as it was answered.
        if (kept.request_fingerprint, kept.pseudonym.pseudonym, kept.created_pseudonym) != (
            fingerprint,
            pseudonym,
            created,
        ):
            return _kept_answer(request, kept, fingerprint)
    return json_answer(201 if created else 200, _body(pseudonym, created))
