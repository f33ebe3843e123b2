"""Course services: publishing by platforms (idempotent by the platform's own id) and review
by labour officers of the course's region (STYLE §5 state machine). Re-exported by
zhipei.catalog.catalogues.services, which callers import from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from zhipei.accounts.models import Role, User
from zhipei.accounts.scope import has_role
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.catalog.models import (
    ContentCategory,
    Course,
    CourseCategory,
    IdempotencyRecord,
    Lesson,
    OfflineSession,
    SkillStandard,
)
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.occupations.models import Occupation, SkillLevel, Trade
from zhipei.orgs.models import Platform
from zhipei.orgs.queries import has_active_hold
from zhipei.regions.models import Region

CourseS = Course.Status


# --- Courses ----------------------------------------------------------------------------------
#
# What a platform sends (CourseData) is checked in two steps: its shape by pydantic (types,
# lengths, value lists; the API turns failures into problem+json with field locations), then
# against the database by `check_course_data` (occupations exist, IRIs are free, the trade and
# the standard fit), which collects every problem with its field path before anything is saved.

EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,99}$"
MAX_LESSONS = 500
MAX_SESSIONS = 200
_url_validator = URLValidator(schemes=["http", "https"])


def _check_iri(value: str) -> str:
    value = value.strip()
    try:
        _url_validator(value)
    except ValidationError:
        raise ValueError("must be an absolute http:// or https:// IRI") from None
    return value


Iri = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_check_iri)]
ExternalId = Annotated[str, Field(pattern=EXTERNAL_ID_PATTERN)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class LessonData(BaseModel):
    """One lesson as a platform describes it; `media_duration_seconds` is required for video
    and audio (crediting never counts more time on a lesson than its media lasts)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    external_id: ExternalId
    title: Title
    kind: Lesson.Kind
    activity_iri: Iri
    media_duration_seconds: Annotated[int, Field(gt=0, le=86_400)] | None = None

    @model_validator(mode="after")
    def _media_has_duration(self) -> LessonData:
        if self.kind in (Lesson.Kind.VIDEO, Lesson.Kind.AUDIO) and not self.media_duration_seconds:
            raise ValueError("media_duration_seconds is required for video and audio lessons")
        return self


class OfflineSessionData(BaseModel):
    """One offline practical session of a blended course (R5)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    region_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    capacity: Annotated[int, Field(gt=0, le=100_000)]

    @model_validator(mode="after")
    def _ends_after_start(self) -> OfflineSessionData:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CourseFields(BaseModel):
    """A course as a platform describes it, its own id aside (the body of
    PUT /api/v1/courses/{external_id}; `external_id` may be repeated there and must match)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    external_id: ExternalId | None = None
    title: Title
    description: Annotated[str, Field(max_length=5000)] = ""
    kind: Course.Kind = Course.Kind.STANDARD
    master_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    occupation_codes: Annotated[list[str], Field(min_length=1, max_length=20)]
    trade: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    skill_level: SkillLevel | None = None
    categories: Annotated[list[ContentCategory], Field(min_length=1, max_length=10)]
    class_hours: Annotated[Decimal, Field(gt=0, le=Decimal("9999.9"), decimal_places=1)]
    online_percent: Annotated[int, Field(ge=0, le=100)] = 100
    offline_sessions: Annotated[list[OfflineSessionData], Field(max_length=MAX_SESSIONS)] = []
    is_free: bool = False
    free_from: date | None = None
    free_until: date | None = None
    requires_test: bool = True
    activity_iri: Iri
    url: Iri
    lessons: Annotated[list[LessonData], Field(min_length=1, max_length=MAX_LESSONS)]
    standard: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == Course.Kind.MICRO_COURSE and not self.master_name:
            raise ValueError("master_name is required for a skill master's micro-course")
        if self.online_percent < 100 and not self.offline_sessions:
            raise ValueError(
                "a blended course (online_percent below 100) needs its offline_sessions"
            )
        if self.online_percent == 100 and self.offline_sessions:
            raise ValueError("a fully online course (online_percent 100) has no offline_sessions")
        if not self.is_free and (self.free_from or self.free_until):
            raise ValueError("free_from and free_until only go with is_free")
        if self.free_from and self.free_until and self.free_until < self.free_from:
            raise ValueError("free_until is before free_from")
        return self


class CourseData(CourseFields):
    """A course as a platform publishes it (POST body, Excel row, UI form)."""

    external_id: ExternalId


class CourseDataInvalid(InvalidInput):
    """The course data fails checks against the database; `errors` lists every problem as
    {"location": "lessons.1.activity_iri", "message": ...}; `field` is the first one's."""

    code = "course_invalid"

    def __init__(self, errors: list[dict[str, str]], *, status: int = 422) -> None:
        self.errors = errors
        self.status = status
        super().__init__(errors[0]["message"], field=errors[0]["location"])


COURSE_ALLOWED: dict[str, set[str]] = {
    CourseS.DRAFT: {CourseS.SUBMITTED, CourseS.WITHDRAWN},
    CourseS.SUBMITTED: {CourseS.APPROVED, CourseS.RETURNED, CourseS.REJECTED, CourseS.WITHDRAWN},
    CourseS.RETURNED: {CourseS.SUBMITTED, CourseS.WITHDRAWN},
    # An approved course goes back to review when its platform changes it materially.
    CourseS.APPROVED: {CourseS.SUBMITTED, CourseS.WITHDRAWN},
    CourseS.WITHDRAWN: {CourseS.SUBMITTED},
}  # rejected is terminal: the platform publishes a new course under a new id instead

# Changes to these need an officer's review again; the others (how the course is presented
# and when it is free) do not.
NON_MATERIAL_FIELDS = frozenset(
    {"description", "master_name", "url", "is_free", "free_from", "free_until"}
)


@dataclass(frozen=True)
class _Resolved:
    occupations: list[Occupation]
    trade: Trade | None
    standard: SkillStandard | None
    session_regions: dict[str, Region]


def _iri_owner_errors(
    data: CourseData, *, platform: Platform, course: Course | None
) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    own_pk = course.pk if course is not None else None
    wanted = [("activity_iri", data.activity_iri)] + [
        (f"lessons.{i}.activity_iri", lesson.activity_iri) for i, lesson in enumerate(data.lessons)
    ]
    iris = [iri for _loc, iri in wanted]
    courses = Course.objects.filter(activity_iri__in=iris)
    lessons = Lesson.objects.filter(activity_iri__in=iris)
    if own_pk is not None:
        courses = courses.exclude(pk=own_pk)
        lessons = lessons.exclude(course_id=own_pk)
    taken: dict[str, int] = dict(courses.values_list("activity_iri", "platform_id"))
    taken.update(lessons.values_list("activity_iri", "course__platform_id"))
    for loc, iri in wanted:
        if iri in taken:
            if taken[iri] == platform.pk:
                message = _("This activity IRI is already used by another of your courses.")
            else:
                message = _("This activity IRI belongs to another platform.")
            errors.append({"location": loc, "message": str(message)})
    # Within the request itself every IRI is used once.
    seen: dict[str, str] = {}
    for loc, iri in wanted:
        if iri in seen:
            errors.append(
                {
                    "location": loc,
                    "message": str(
                        _("This activity IRI is already used at %(other)s.") % {"other": seen[iri]}
                    ),
                }
            )
        else:
            seen[iri] = loc
    return errors


def _resolve(
    data: CourseData, *, platform: Platform, course: Course | None
) -> tuple[_Resolved, list[dict[str, str]]]:
    errors: list[dict[str, str]] = []
    codes = list(dict.fromkeys(code.strip() for code in data.occupation_codes))
    by_code = {
        o.code: o
        for o in Occupation.objects.filter(code__in=codes, level=Occupation.Level.OCCUPATION)
    }
    unknown = [code for code in codes if code not in by_code]
    if unknown:
        errors.append(
            {
                "location": "occupation_codes",
                "message": str(
                    _("Unknown occupation codes (level-4 occupations only): %(codes)s.")
                    % {"codes": ", ".join(unknown)}
                ),
            }
        )
    occupations = [by_code[code] for code in codes if code in by_code]
    trade = None
    if data.trade:
        trade = (
            Trade.objects.filter(name=data.trade, occupation__in=occupations).order_by("pk").first()
        )
        if trade is None:
            errors.append(
                {
                    "location": "trade",
                    "message": str(
                        _("No trade named %(name)s under the course's occupations.")
                        % {"name": data.trade}
                    ),
                }
            )
    standard = None
    if data.standard is not None:
        standard = SkillStandard.objects.filter(pk=data.standard).first()
        if standard is None:
            errors.append(
                {
                    "location": "standard",
                    "message": str(_("No skill standard with id %(id)s.") % {"id": data.standard}),
                }
            )
        elif occupations and standard.occupation_id not in {o.pk for o in occupations}:
            errors.append(
                {
                    "location": "standard",
                    "message": str(
                        _("The skill standard is for another occupation than the course's.")
                    ),
                }
            )
    lesson_ids: dict[str, int] = {}
    for i, lesson in enumerate(data.lessons):
        if lesson.external_id in lesson_ids:
            errors.append(
                {
                    "location": f"lessons.{i}.external_id",
                    "message": str(
                        _("Lesson id %(id)s is used twice (also lesson %(other)d).")
                        % {"id": lesson.external_id, "other": lesson_ids[lesson.external_id] + 1}
                    ),
                }
            )
        else:
            lesson_ids[lesson.external_id] = i
    region_codes = {s.region_code for s in data.offline_sessions}
    session_regions = {
        r.code: r for r in Region.objects.filter(code__in=region_codes, valid_to_year__isnull=True)
    }
    for i, session in enumerate(data.offline_sessions):
        if session.region_code not in session_regions:
            errors.append(
                {
                    "location": f"offline_sessions.{i}.region_code",
                    "message": str(
                        _("Unknown region code %(code)s.") % {"code": session.region_code}
                    ),
                }
            )
    errors += _iri_owner_errors(data, platform=platform, course=course)
    return _Resolved(occupations, trade, standard, session_regions), errors


def _snapshot_of_data(data: CourseData, resolved: _Resolved) -> dict[str, object]:
    return {
        "title": data.title,
        "description": data.description,
        "kind": str(data.kind),
        "master_name": data.master_name,
        "occupations": sorted(o.pk for o in resolved.occupations),
        "trade": resolved.trade.pk if resolved.trade else None,
        "skill_level": int(data.skill_level) if data.skill_level is not None else None,
        "categories": sorted({str(c) for c in data.categories}),
        "class_hours": Decimal(data.class_hours).quantize(Decimal("0.1")),
        "online_percent": data.online_percent,
        "offline_sessions": sorted(
            (s.starts_at, s.ends_at, s.location, s.region_code, s.capacity)
            for s in data.offline_sessions
        ),
        "is_free": data.is_free,
        "free_from": data.free_from,
        "free_until": data.free_until,
        "requires_test": data.requires_test,
        "activity_iri": data.activity_iri,
        "url": data.url,
        "lessons": [
            (le.external_id, le.title, str(le.kind), le.activity_iri, le.media_duration_seconds)
            for le in data.lessons
        ],
        "standard": resolved.standard.pk if resolved.standard else None,
    }


def _snapshot_of_course(course: Course) -> dict[str, object]:
    return {
        "title": course.title,
        "description": course.description,
        "kind": course.kind,
        "master_name": course.master_name,
        "occupations": sorted(o.pk for o in course.occupations.all()),
        "trade": course.trade_id,
        "skill_level": course.skill_level,
        "categories": sorted(set(course.categories)),
        "class_hours": Decimal(course.class_hours).quantize(Decimal("0.1")),
        "online_percent": course.online_percent,
        "offline_sessions": sorted(
            (s.starts_at, s.ends_at, s.location, s.region.code, s.capacity)
            for s in course.offline_sessions.select_related("region")
        ),
        "is_free": course.is_free,
        "free_from": course.free_from,
        "free_until": course.free_until,
        "requires_test": course.requires_test,
        "activity_iri": course.activity_iri,
        "url": course.url,
        "lessons": [
            (le.external_id, le.title, le.kind, le.activity_iri, le.media_duration_seconds)
            for le in course.lessons.order_by("position")
        ],
        "standard": course.standard_id,
    }


def _require_publisher(platform: Platform, by: User | None) -> None:
    """The platform itself (by=None: a signed API request or the system) or one of its
    operators; only selected platforms publish."""
    if by is not None:
        if not by.is_authenticated or not by.is_active:
            raise NotAllowed()
        if not has_role(by, Role.SYSTEM_ADMIN):
            require_role(by, Role.PLATFORM_OPERATOR, organisation=platform.organisation)
    if platform.status != Platform.Status.SELECTED:
        raise NotAllowed(
            _("Only a selected platform can publish courses (this one is %(status)s).")
            % {"status": Platform.Status(platform.status).label}
        )


def check_course_data(
    platform: Platform, data: CourseData, *, course: Course | None = None
) -> list[dict[str, str]]:
    """Every problem `data` has against the database, as [{"location", "message"}]; empty when
    it can be published. `course` is the course it would update (its own IRIs are free)."""
    return _resolve(data, platform=platform, course=course)[1]


def _write_course_fields(course: Course, data: CourseData, resolved: _Resolved) -> None:
    course.title = data.title
    course.description = data.description
    course.kind = data.kind
    course.master_name = data.master_name
    course.trade = resolved.trade
    course.skill_level = data.skill_level
    course.categories = sorted({str(c) for c in data.categories})
    course.class_hours = Decimal(data.class_hours).quantize(Decimal("0.1"))
    course.online_percent = data.online_percent
    course.is_free = data.is_free
    course.free_from = data.free_from
    course.free_until = data.free_until
    course.requires_test = data.requires_test
    course.activity_iri = data.activity_iri
    course.url = data.url
    course.standard = resolved.standard


def _sync_children(course: Course, data: CourseData, resolved: _Resolved) -> None:
    course.occupations.set(resolved.occupations)
    wanted_categories = {str(c) for c in data.categories}
    CourseCategory.objects.filter(course=course).exclude(category__in=wanted_categories).delete()
    have = set(CourseCategory.objects.filter(course=course).values_list("category", flat=True))
    CourseCategory.objects.bulk_create(
        CourseCategory(course=course, category=c) for c in sorted(wanted_categories - have)
    )
    # Lessons by their external id: update, add, drop. An IRI that moves between two lessons
    # of this course would collide mid-way, so changed IRIs first get a placeholder.
    existing = {le.external_id: le for le in course.lessons.all()}
    wanted_ids = {le.external_id for le in data.lessons}
    Lesson.objects.filter(course=course).exclude(external_id__in=wanted_ids).delete()
    moving = [
        existing[le.external_id]
        for le in data.lessons
        if le.external_id in existing and existing[le.external_id].activity_iri != le.activity_iri
    ]
    for lesson in moving:
        Lesson.objects.filter(pk=lesson.pk).update(activity_iri=f"urn:zhipei:moving:{lesson.pk}")
    for position, item in enumerate(data.lessons, start=1):
        values = {
            "position": position,
            "title": item.title,
            "kind": item.kind,
            "activity_iri": item.activity_iri,
            "media_duration_seconds": item.media_duration_seconds,
        }
        if item.external_id in existing:
            Lesson.objects.filter(pk=existing[item.external_id].pk).update(**values)
        else:
            Lesson.objects.create(course=course, external_id=item.external_id, **values)
    # Offline sessions: keep those unchanged, drop the others (never one with attendance).
    wanted_sessions = {
        (s.starts_at, s.ends_at, s.location, s.region_code, s.capacity): s
        for s in data.offline_sessions
    }
    kept: set[tuple[object, ...]] = set()
    for session in course.offline_sessions.select_related("region"):
        key = (
            session.starts_at,
            session.ends_at,
            session.location,
            session.region.code,
            session.capacity,
        )
        if key in wanted_sessions and key not in kept:
            kept.add(key)
            continue
        if session.attendance.exists():
            raise CourseDataInvalid(
                [
                    {
                        "location": "offline_sessions",
                        "message": str(
                            _(
                                "The session of %(date)s at %(location)s has attendance "
                                "recorded and cannot be removed or changed."
                            )
                            % {
                                "date": timezone.localtime(session.starts_at).date(),
                                "location": session.location,
                            }
                        ),
                    }
                ],
                status=409,
            )
        session.delete()
    OfflineSession.objects.bulk_create(
        OfflineSession(
            course=course,
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            location=s.location,
            region=resolved.session_regions[s.region_code],
            capacity=s.capacity,
        )
        for key, s in wanted_sessions.items()
        if key not in kept
    )


def _move_course(course: Course, to: str, *, by: User | None, note: str = "") -> Course:
    """Compare-and-swap the course's status with its audit event (STYLE §5)."""
    expected = course.status
    if to not in COURSE_ALLOWED.get(expected, set()):
        raise TransitionNotAllowed(expected, to)
    now = timezone.now()
    changed = Course.objects.filter(pk=course.pk, status=expected).update(
        status=to, status_changed_at=now, review_note=note
    )
    if changed != 1:
        raise StaleObject()
    record(
        f"catalog.course.{to}",
        actor=by,
        obj=course,
        region_code=course.region.code,
        data={"from": expected, "to": to, "note": note, "platform_id": course.platform_id},
    )
    course.refresh_from_db(fields=["status", "status_changed_at", "review_note"])
    return course


@transaction.atomic
def publish_course(platform: Platform, *, data: CourseData, by: User | None) -> tuple[Course, bool]:
    """Create or update the platform's course `data.external_id`; returns (course, created).

    Idempotent: the same data again changes nothing and writes no audit event. A new course
    goes straight to review (submitted). Changing a course:
    * submitted or draft: updated in place, still awaiting review;
    * returned: updated and submitted again (the correction is the resubmission);
    * approved: a change to anything but its description, master, link or free period goes
      back to review (submitted); those four alone keep it approved;
    * withdrawn: changed data submits it again;
    * rejected: refused (Conflict) — publish under a new id instead.
    Raises NotAllowed (not an operator of this platform, platform not selected),
    CourseDataInvalid (unknown occupation codes, IRIs taken, duplicate lesson ids, …; nothing
    is saved), Conflict or StaleObject.
    """
    _require_publisher(platform, by)
    course = (
        Course.objects.select_related("region")
        .filter(platform=platform, external_id=data.external_id)
        .first()
    )
    resolved, errors = _resolve(data, platform=platform, course=course)
    if errors:
        raise CourseDataInvalid(errors)
    now = timezone.now()
    if course is None:
        course = Course(
            platform=platform,
            external_id=data.external_id,
            region=platform.organisation.region,
            status=CourseS.SUBMITTED,
            status_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        _write_course_fields(course, data, resolved)
        try:
            with transaction.atomic():
                course.save()
        except IntegrityError:
            # A concurrent request took the id or an IRI between the check and the insert.
            raise Conflict(
                _("This course id or activity IRI was taken meanwhile; send the request again."),
                field="external_id",
            ) from None
        _sync_children(course, data, resolved)
        record(
            "catalog.course.created",
            actor=by,
            obj=course,
            region_code=course.region.code,
            data={
                "platform_id": platform.pk,
                "external_id": course.external_id,
                "status": course.status,
                "occupations": sorted(o.code for o in resolved.occupations),
                "class_hours": course.class_hours,
            },
        )
        return course, True
    before = _snapshot_of_course(course)
    after = _snapshot_of_data(data, resolved)
    changed = sorted(name for name in after if before[name] != after[name])
    if not changed:
        return course, False
    if course.status == CourseS.REJECTED:
        raise Conflict(
            _("This course was rejected and cannot be changed; publish it under a new id."),
            field="external_id",
        )
    material = [name for name in changed if name not in NON_MATERIAL_FIELDS]
    _write_course_fields(course, data, resolved)
    course.updated_at = now
    try:
        with transaction.atomic():
            course.save()
            _sync_children(course, data, resolved)
    except IntegrityError:
        raise Conflict(
            _("An activity IRI was taken meanwhile; send the request again."),
            field="activity_iri",
        ) from None
    record(
        "catalog.course.updated",
        actor=by,
        obj=course,
        region_code=course.region.code,
        data={"platform_id": platform.pk, "changed": changed, "material": material},
    )
    resubmit = course.status in (CourseS.RETURNED, CourseS.WITHDRAWN) or (
        course.status == CourseS.APPROVED and material
    )
    if resubmit:
        _move_course(course, CourseS.SUBMITTED, by=by, note="")
    return course, False


# --- Course review ----------------------------------------------------------------------------


def _require_reviewer(course: Course, by: User) -> None:
    require_role(by, Role.LABOUR_OFFICER, region=course.region)


@transaction.atomic
def submit_course(course: Course, *, by: User | None) -> Course:
    """The platform submits a draft, returned or withdrawn course for review (a replay of
    `submitted` returns it unchanged). Raises NotAllowed, TransitionNotAllowed, StaleObject."""
    _require_publisher(course.platform, by)
    if course.status == CourseS.SUBMITTED:
        return course
    return _move_course(course, CourseS.SUBMITTED, by=by)


@transaction.atomic
def approve_course(course: Course, *, by: User, note: str = "") -> Course:
    """A labour officer of the course's region approves it: it shows in the public catalogue.
    Refused while the platform's organisation is on hold (OnHold). Raises NotAllowed,
    NotInScope, OnHold, TransitionNotAllowed or StaleObject."""
    _require_reviewer(course, by)
    if course.status == CourseS.APPROVED:
        return course
    if has_active_hold(course.platform.organisation):
        raise OnHold()
    return _move_course(course, CourseS.APPROVED, by=by, note=(note or "").strip())


@transaction.atomic
def return_course(course: Course, *, by: User, note: str) -> Course:
    """Send a submitted course back for correction; the note says what to correct."""
    _require_reviewer(course, by)
    if course.status == CourseS.RETURNED:
        return course
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Say what the platform must correct."), field="note")
    return _move_course(course, CourseS.RETURNED, by=by, note=note)


@transaction.atomic
def reject_course(course: Course, *, by: User, note: str) -> Course:
    """Reject a submitted course for good; the note gives the reason."""
    _require_reviewer(course, by)
    if course.status == CourseS.REJECTED:
        return course
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("Give the reason for rejecting the course."), field="note")
    return _move_course(course, CourseS.REJECTED, by=by, note=note)


@transaction.atomic
def withdraw_course(course: Course, *, by: User | None, note: str = "") -> Course:
    """Take a course out of the catalogue: by its platform (an operator, or the platform
    itself with by=None), or by a labour officer of its region."""
    if (
        by is not None
        and has_role(by, Role.LABOUR_OFFICER)
        and not has_role(by, Role.PLATFORM_OPERATOR)
    ):
        _require_reviewer(course, by)
    elif by is not None and not has_role(by, Role.SYSTEM_ADMIN):
        require_role(by, Role.PLATFORM_OPERATOR, organisation=course.platform.organisation)
    if course.status == CourseS.WITHDRAWN:
        return course
    return _move_course(course, CourseS.WITHDRAWN, by=by, note=(note or "").strip())


# --- Idempotency-Key on platform API POSTs ----------------------------------------------------


def find_idempotent_response(platform: Platform, key: str) -> IdempotencyRecord | None:
    """The answer already given to `platform` under `key`, if any."""
    return IdempotencyRecord.objects.filter(platform=platform, key=key).first()


def record_idempotent_response(
    platform: Platform,
    *,
    key: str,
    method: str,
    path: str,
    request_sha256: str,
    status: int,
    body: dict[str, object],
) -> IdempotencyRecord:
    """Keep the answer given under `key` (call it inside the transaction that made the
    change, so both commit or neither). Raises IntegrityError when a concurrent request with
    the same key got there first; the caller then answers from that record."""
    return IdempotencyRecord.objects.create(
        platform=platform,
        key=key,
        method=method,
        path=path[:300],
        request_sha256=request_sha256,
        response_status=status,
        response_body=body,
        created_at=timezone.now(),
    )
