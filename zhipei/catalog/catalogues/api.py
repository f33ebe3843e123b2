"""The course endpoints of the platform API (mounted at /api/v1/courses by zhipei/api.py).

Every request is signed (orgs.signing.PlatformSignatureAuth; only selected platforms). A
platform only ever sees and changes its own courses: a course is named by the platform's own
id, so another platform's id is simply a course this platform does not have (404 on GET, a new
course of its own on PUT). Publishing is idempotent by that id; POST also honours an
`Idempotency-Key` header (the same key and body answer the same again; the same key with
another body is refused with 422).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from zhipei.catalog import queries
from zhipei.catalog.catalogues import services
from zhipei.catalog.catalogues.services import CourseData, CourseDataInvalid, CourseFields
from zhipei.catalog.models import Course
from zhipei.core import idempotency
from zhipei.core.problem import json_answer, problem_response
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.signing import PlatformSignatureAuth

router = Router(tags=["courses"], auth=PlatformSignatureAuth())

EXTERNAL_ID_PATH = r"{external_id}"


class LessonOut(Schema):
    external_id: str
    title: str
    kind: str
    activity_iri: str
    media_duration_seconds: int | None


class OfflineSessionOut(Schema):
    starts_at: str
    ends_at: str
    location: str
    region_code: str
    capacity: int


class CourseOut(Schema):
    """A course as the platform published it, with its review status."""

    external_id: str
    title: str
    description: str
    kind: str
    master_name: str
    occupation_codes: list[str]
    trade: str
    skill_level: int | None
    categories: list[str]
    class_hours: str
    online_percent: int
    offline_sessions: list[OfflineSessionOut]
    is_free: bool
    free_from: str | None
    free_until: str | None
    requires_test: bool
    activity_iri: str
    url: str
    standard: int | None
    lessons: list[LessonOut]
    status: str
    review_note: str
    status_changed_at: str
    created_at: str
    updated_at: str


class CoursePage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CourseOut]


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)
    status: Course.Status | None = None


def _course_out(course: Course) -> dict[str, Any]:
    return {
        "external_id": course.external_id,
        "title": course.title,
        "description": course.description,
        "kind": course.kind,
        "master_name": course.master_name,
        "occupation_codes": sorted(o.code for o in course.occupations.all()),
        "trade": course.trade.name if course.trade else "",
        "skill_level": course.skill_level,
        "categories": list(course.categories),
        "class_hours": str(course.class_hours),
        "online_percent": course.online_percent,
        "offline_sessions": [
            {
                "starts_at": s.starts_at.isoformat(),
                "ends_at": s.ends_at.isoformat(),
                "location": s.location,
                "region_code": s.region.code,
                "capacity": s.capacity,
            }
            for s in sorted(course.offline_sessions.all(), key=lambda s: s.starts_at)
        ],
        "is_free": course.is_free,
        "free_from": course.free_from.isoformat() if course.free_from else None,
        "free_until": course.free_until.isoformat() if course.free_until else None,
        "requires_test": course.requires_test,
        "activity_iri": course.activity_iri,
        "url": course.url,
        "standard": course.standard_id,
        "lessons": [
            {
                "external_id": le.external_id,
                "title": le.title,
                "kind": le.kind,
                "activity_iri": le.activity_iri,
                "media_duration_seconds": le.media_duration_seconds,
            }
            for le in sorted(course.lessons.all(), key=lambda le: le.position)
        ],
        "status": course.status,
        "review_note": course.review_note,
        "status_changed_at": course.status_changed_at.isoformat(),
        "created_at": course.created_at.isoformat(),
        "updated_at": course.updated_at.isoformat(),
    }


def _platform(request: HttpRequest) -> Platform:
    credential: PlatformCredential = request.auth  # type: ignore[attr-defined]
    return credential.platform


def _invalid(request: HttpRequest, exc: CourseDataInvalid) -> HttpResponse:
    return problem_response(
        request,
        status=exc.status,
        title=str(exc.message),
        code=exc.code,
        field=exc.field,
        errors=[{"location": "body." + e["location"], "message": e["message"]} for e in exc.errors],
    )


def _publish(platform: Platform, data: CourseData) -> tuple[int, dict[str, Any]]:
    course, created = services.publish_course(platform, data=data, by=None)
    fresh = queries.get_course_by_external_id(platform, course.external_id)
    assert fresh is not None
    return (201 if created else 200), _course_out(fresh)


@router.get("", response=CoursePage, summary="The calling platform's courses, by title")
def list_courses(request: HttpRequest, params: Query[PageQuery]) -> dict[str, Any]:
    courses = queries.courses_of(_platform(request), status=params.status or "")
    courses = courses.select_related("trade").prefetch_related(
        "lessons", "offline_sessions__region"
    )
    start = (params.page - 1) * params.page_size
    return {
        "count": courses.count(),
        "page": params.page,
        "page_size": params.page_size,
        "items": [_course_out(c) for c in courses[start : start + params.page_size]],
    }


@router.get(
    "/" + EXTERNAL_ID_PATH,
    response=CourseOut,
    summary="One of the calling platform's courses, by the platform's own id",
)
def get_course(request: HttpRequest, external_id: str) -> dict[str, Any]:
    course = queries.get_course_by_external_id(_platform(request), external_id)
    if course is None:
        raise HttpError(404, "No course of yours has this id.")
    return _course_out(course)


@router.put(
    "/" + EXTERNAL_ID_PATH,
    response={200: CourseOut, 201: CourseOut},
    summary="Create or update the course with the platform's own id (idempotent)",
)
def put_course(request: HttpRequest, external_id: str, data: CourseFields) -> HttpResponse:
    if data.external_id is not None and data.external_id != external_id:
        return problem_response(
            request,
            status=422,
            title="The external_id in the body differs from the one in the path.",
            code="invalid_input",
            field="external_id",
            errors=[{"location": "body.external_id", "message": "must match the path"}],
        )
    try:
        course_data = CourseData.model_validate(
            {**data.model_dump(exclude_unset=True), "external_id": external_id}
        )
    except ValueError:
        return problem_response(
            request,
            status=422,
            title="The course id in the path is not valid.",
            code="invalid_input",
            field="external_id",
            errors=[
                {
                    "location": "path.external_id",
                    "message": "1-100 characters: letters, digits and . _ ~ - "
                    "(not starting with a symbol)",
                }
            ],
        )
    try:
        status, body = _publish(_platform(request), course_data)
    except CourseDataInvalid as exc:
        return _invalid(request, exc)
    return json_answer(status, body)


@router.post(
    "",
    response={200: CourseOut, 201: CourseOut},
    summary="Create or update the course named by external_id (idempotent; Idempotency-Key)",
)
def post_course(request: HttpRequest, data: CourseData) -> HttpResponse:
    platform = _platform(request)
    key = request.headers.get(idempotency.HEADER)
    digest = hashlib.sha256(request.body).hexdigest()
    if key is not None:
        early = idempotency.invalid_key(request, key) or idempotency.replay(
            request, services.find_idempotent_response(platform, key), digest
        )
        if early is not None:
            return early
    try:
        with transaction.atomic():
            status, body = _publish(platform, data)
            if key is not None:
                services.record_idempotent_response(
                    platform,
                    key=key,
                    method="POST",
                    path=request.path,
                    request_sha256=digest,
                    status=status,
                    body=body,
                )
    except CourseDataInvalid as exc:
        return _invalid(request, exc)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        replay = (
            idempotency.replay(request, services.find_idempotent_response(platform, key), digest)
            if key is not None
            else None
        )
        if replay is None:
            raise
        return replay
    return json_answer(status, body)
