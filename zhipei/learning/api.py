"""Enrolment for platforms (mounted at /api/v1/enrolments by zhipei/api.py).

A platform enrols a learner it registered (POST /api/v1/learners gave it the learner's
pseudonym) on one of its own approved courses. For a course that trains for several
occupations the occupation is required and is fixed at enrolment. Enrolling again returns the
live enrolment (200 instead of 201), so a retry is harmless; POST also honours an
`Idempotency-Key` header (the same key and body answer the same again; the same key with
another body is refused with 422).

Signed requests only (orgs.signing.PlatformSignatureAuth; selected platforms). Every refusal
is an RFC 9457 problem with a stable `code` and the `field` it is about.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from zhipei.catalog.catalogues.services import (
    find_idempotent_response,
    record_idempotent_response,
)
from zhipei.catalog.models import Course
from zhipei.core import idempotency
from zhipei.core.errors import InvalidInput
from zhipei.core.problem import json_answer, problem_response
from zhipei.learning import queries, services
from zhipei.learning.models import Enrolment
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.signing import PlatformSignatureAuth
from zhipei.people.models import Person
from zhipei.people.queries import person_for_pseudonym

router = Router(tags=["enrolments"], auth=PlatformSignatureAuth())


class EnrolmentIn(Schema):
    learner: str = Field(
        ...,
        min_length=1,
        max_length=64,
        description="The learner's pseudonym on this platform (from POST /api/v1/learners).",
    )
    course: str = Field(
        ...,
        min_length=1,
        max_length=500,
        description=(
            "The course: the platform's own course id (external_id, as in "
            "/api/v1/courses/{external_id}) or the course's xAPI activity IRI."
        ),
    )
    occupation: str | None = Field(
        None,
        max_length=12,
        description=(
            "Occupation code (职业分类大典, e.g. 6-18-02-04) the learner trains for; required "
            "when the course trains for several occupations, and then fixed."
        ),
    )


class CourseRefOut(Schema):
    external_id: str
    activity_iri: str
    title: str


class OccupationOut(Schema):
    code: str
    name: str


class EnrolmentOut(Schema):
    id: int
    learner: str
    course: CourseRefOut
    occupation: OccupationOut | None
    status: str
    enrolled_at: str
    created: bool


def _platform(request: HttpRequest) -> Platform:
    credential: PlatformCredential = request.auth  # type: ignore[attr-defined]
    return credential.platform


def _enrolment_out(enrolment: Enrolment, pseudonym: str, created: bool) -> dict[str, Any]:
    occupation = enrolment.occupation
    return {
        "id": enrolment.pk,
        "learner": pseudonym,
        "course": {
            "external_id": enrolment.course.external_id,
            "activity_iri": enrolment.course.activity_iri,
            "title": enrolment.course.title,
        },
        "occupation": (
            {"code": occupation.code, "name": occupation.name} if occupation is not None else None
        ),
        "status": enrolment.status,
        "enrolled_at": enrolment.enrolled_at.isoformat(),
        "created": created,
    }


class LearnerUnknown(InvalidInput):
    code = "learner_unknown"


class CourseUnknown(InvalidInput):
    code = "course_unknown"


def _resolve(platform: Platform, data: EnrolmentIn) -> tuple[Person, Course, Occupation | None]:
    """The learner, course and occupation the body names, as this platform knows them."""
    person_id = person_for_pseudonym(platform.pk, data.learner)
    if person_id is None:
        raise LearnerUnknown(
            "This platform has registered no learner under this pseudonym.", field="learner"
        )
    course = queries.course_of_platform(platform.pk, data.course)
    if course is None:
        raise CourseUnknown(
            "No course of this platform has this id or activity IRI.", field="course"
        )
    occupation = None
    if data.occupation is not None and data.occupation.strip():
        occupation = queries.occupation_by_code(data.occupation)
        if occupation is None:
            raise services.OccupationNotServed(
                "The occupation chosen is not one this course trains for.", field="occupation"
            )
    person = Person.objects.select_related("region").get(pk=person_id)
    return person, course, occupation


@router.post(
    "",
    response={200: EnrolmentOut, 201: EnrolmentOut},
    summary="Enrol a registered learner on one of the platform's courses (idempotent)",
    description=(
        "201 with the new enrolment, 200 with the live one when the learner is already "
        "enrolled on the course for the same occupation. Problems (application/problem+json, "
        "`code` and `field`): learner_unknown, course_unknown, course_not_selectable, "
        "occupation_required, occupation_not_served (422); enrolled_for_another_occupation "
        "(409); idempotency_key_invalid (400), idempotency_key_reused (422)."
    ),
)
def create_enrolment(request: HttpRequest, data: EnrolmentIn) -> HttpResponse:
    platform = _platform(request)
    key = request.headers.get(idempotency.HEADER)
    digest = hashlib.sha256(request.body).hexdigest()
    if key is not None:
        early = idempotency.invalid_key(request, key) or idempotency.replay(
            request, find_idempotent_response(platform, key), digest
        )
        if early is not None:
            return early

    person, course, occupation = _resolve(platform, data)
    try:
        with transaction.atomic():
            enrolment, created = services.enrol_for_platform(
                platform, person, course, occupation=occupation
            )
            body = _enrolment_out(enrolment, data.learner, created)
            status = 201 if created else 200
            if key is not None:
                record_idempotent_response(
                    platform,
                    key=key,
                    method="POST",
                    path=request.path,
                    request_sha256=digest,
                    status=status,
                    body=body,
                )
    except services.EnrolledForAnotherOccupation as exc:
        live = exc.enrolment
        return problem_response(
            request,
            status=exc.status,
            title=str(exc.message),
            code=exc.code,
            field=exc.field,
            extra={"enrolment": _enrolment_out(live, data.learner, False)},
        )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        replay = (
            idempotency.replay(request, find_idempotent_response(platform, key), digest)
            if key is not None
            else None
        )
        if replay is None:
            raise
        return replay
    return json_answer(status, body)
