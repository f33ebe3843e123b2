"""Every write of the learning app: enrolment, and the crediting pass that turns statements
into CreditedTime and UncreditedSegment rows (rules in zhipei.learning.crediting.rules)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.catalog.models import Course, Lesson
from zhipei.core.errors import Conflict, InvalidInput, NotInScope
from zhipei.learning.crediting import events as ev
from zhipei.learning.crediting import rules
from zhipei.learning.models import (
    CreditedTime,
    CreditingState,
    Enrolment,
    UncreditedSegment,
)
from zhipei.learning.queries import policy_in_force
from zhipei.lrs.models import Statement
from zhipei.lrs.queries import Watermark, statements_after
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Platform
from zhipei.people.models import Person
from zhipei.regions.models import Region

logger = logging.getLogger("zhipei.learning")

STATE_NAME = "crediting"
# Statements this long before and after a day are read with it, so that sessions crossing
# midnight are built whole (their time is still only counted inside the day).
WINDOW_SLACK = timedelta(hours=12)


# --- Enrolment -------------------------------------------------------------------------------


class CourseNotSelectable(InvalidInput):
    code = "course_not_selectable"


class OccupationRequired(InvalidInput):
    code = "occupation_required"


class OccupationNotServed(InvalidInput):
    code = "occupation_not_served"


class EnrolledForAnotherOccupation(Conflict):
    code = "enrolled_for_another_occupation"

    def __init__(self, enrolment: Enrolment) -> None:
        self.enrolment = enrolment
        super().__init__(
            _("The learner is already enrolled on this course for another occupation."),
            field="occupation",
        )


def _occupation_for(course: Course, occupation: Occupation | None) -> int | None:
    occupation_ids = list(course.occupations.values_list("pk", flat=True))
    if occupation is None:
        if len(occupation_ids) > 1:
            raise OccupationRequired(
                _("This course trains for several occupations: choose one."), field="occupation"
            )
        return occupation_ids[0] if occupation_ids else None
    if occupation.pk not in occupation_ids:
        raise OccupationNotServed(
            _("The occupation chosen is not one this course trains for."), field="occupation"
        )
    return occupation.pk


def _enrol(
    person: Person,
    course: Course,
    occupation: Occupation | None,
    *,
    by: User | None,
    audit_data: dict[str, object],
) -> tuple[Enrolment, bool]:
    """The shared part of enrol and enrol_for_platform: (enrolment, created)."""
    if course.status != Course.Status.APPROVED:
        raise CourseNotSelectable(_("This course is not open for enrolment."), field="course")
    occupation_id = _occupation_for(course, occupation)
    live = Enrolment.objects.filter(
        person=person, course=course, status=Enrolment.Status.ACTIVE
    ).first()
    if live is None:
        try:
            with transaction.atomic():
                enrolment = Enrolment.objects.create(
                    person=person,
                    course=course,
                    platform_id=course.platform_id,
                    occupation_id=occupation_id,
                    enrolled_at=timezone.now(),
                )
        except IntegrityError:
            # A concurrent request enrolled the same person on the same course first.
            live = Enrolment.objects.filter(
                person=person, course=course, status=Enrolment.Status.ACTIVE
            ).first()
            if live is None:
                raise Conflict(_("You are already enrolled on this course.")) from None
        else:
            record(
                "learning.enrolment.created",
                actor=by,
                obj=enrolment,
                region_code=person.region.code,
                data={"course": course.pk, "occupation": occupation_id, **audit_data},
            )
            return enrolment, True
    if live.occupation_id == occupation_id:
        return live, False
    raise EnrolledForAnotherOccupation(live)


@transaction.atomic
def enrol(
    person: Person, course: Course, *, occupation: Occupation | None = None, by: User
) -> Enrolment:
    """Enrol `person` on an approved `course` (on the course's platform). For a course that
    serves several occupations, `occupation` (one of them) is required and fixed now; for a
    course with one it defaults to that one. Enrolling again with the same occupation returns
    the live enrolment unchanged; with another occupation it is a Conflict
    (EnrolledForAnotherOccupation).

    The learner enrols themself; a platform operator may enrol learners on their own
    platform's courses (NotAllowed / NotInScope otherwise). Raises CourseNotSelectable,
    OccupationRequired, OccupationNotServed (all InvalidInput)."""
    if getattr(by, "person_id", None) != person.pk:
        require_role(by, Role.PLATFORM_OPERATOR, organisation=course.platform.organisation)
    enrolment, _created = _enrol(person, course, occupation, by=by, audit_data={})
    return enrolment


@transaction.atomic
def enrol_for_platform(
    platform: Platform, person: Person, course: Course, *, occupation: Occupation | None = None
) -> tuple[Enrolment, bool]:
    """A platform enrols a learner it registered on one of its own courses (the signed
    platform API; the caller has checked the platform's signature and resolved the learner's
    pseudonym on this platform). Returns (enrolment, created): the same request again returns
    the live enrolment with created False. The rules are enrol's; a course of another platform
    is NotInScope."""
    if course.platform_id != platform.pk:
        raise NotInScope()
    return _enrol(
        person,
        course,
        occupation,
        by=None,
        audit_data={"platform": platform.pk, "channel": "api"},
    )


# --- Crediting -------------------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


@dataclass
class DayOutcome:
    credited_seconds: int = 0
    uncredited_seconds: int = 0


PolicyCache = dict[tuple[int | None, date], rules.Params]


def _params_for(person: Person, day: date, cache: PolicyCache | None) -> rules.Params:
    key = (person.region_id, day)
    if cache is not None and key in cache:
        return cache[key]
    params, _policy = policy_in_force(person.region, day)
    if cache is not None:
        cache[key] = params
    return params


def _events_of_day(
    person: Person, day: date, enrolments: dict[int, tuple[int, int]]
) -> list[rules.Event]:
    """The crediting events of a person's statements around `day` on their live enrolments
    (`enrolments`: course id → (enrolment id, platform id))."""
    day_start, day_end = _day_bounds(day)
    iris = ev.ProfileIris.for_site(settings.SITE_URL)
    events: list[rules.Event] = []
    if not enrolments:
        return events
    # By person and time only, so the (person, timestamp) index is the one used: a course's
    # statements are many, one person's day is a few hundred. Courses and voided statements
    # are filtered here.
    rows = Statement.objects.filter(
        person=person,
        timestamp__gte=day_start - WINDOW_SLACK,
        timestamp__lt=day_end + WINDOW_SLACK,
    ).values_list(
        "statement_id",
        "verb_id",
        "timestamp",
        "course_id",
        "platform_id",
        "activity_id",
        "duration_seconds",
        "payload",
        "voided",
        "is_voiding",
    )
    for row in rows:
        statement_id, verb_id, at, course_id, platform_id, activity, duration, payload = row[:8]
        verb = ev.crediting_verb(verb_id)
        enrolment = enrolments.get(course_id) if course_id is not None else None
        if verb is None or enrolment is None or row[8] or row[9]:
            continue
        enrolment_id, enrolment_platform = enrolment
        if platform_id != enrolment_platform:
            continue
        events.append(
            ev.event_from_payload(
                statement_id=str(statement_id),
                verb=verb,
                at=at,
                enrolment=enrolment_id,
                lesson=activity,
                duration_seconds=duration,
                payload=ev.parse_payload(payload),
                iris=iris,
            )
        )
    return events


MediaUse = dict[rules.MediaKey, int]


def _stored_media_use(enrolment_ids: list[int]) -> dict[date, MediaUse]:
    """Seconds credited per (enrolment, media lesson) on each stored day."""
    out: dict[date, MediaUse] = defaultdict(dict)
    rows = CreditedTime.objects.filter(enrolment_id__in=enrolment_ids).values_list(
        "enrolment_id", "day", "media_seconds"
    )
    for enrolment_id, day, media_seconds in rows:
        if not isinstance(media_seconds, dict):
            continue
        for lesson, seconds in media_seconds.items():
            if isinstance(seconds, int):
                out[day][(enrolment_id, lesson)] = seconds
    return out


def _credit_one_day(
    person: Person,
    day: date,
    enrolments: dict[int, tuple[int, int]],
    used_before: MediaUse,
    *,
    now: datetime,
    cache: PolicyCache | None,
) -> tuple[DayOutcome, MediaUse]:
    """Credit one day and replace its stored rows; returns the outcome and the seconds
    credited per (enrolment, media lesson)."""
    day_start, day_end = _day_bounds(day)
    enrolment_ids = [value[0] for value in enrolments.values()]
    params = _params_for(person, day, cache)
    events = _events_of_day(person, day, enrolments)
    lessons = {event.lesson for event in events if event.lesson}
    media = {
        iri: seconds
        for iri, seconds in Lesson.objects.filter(
            activity_iri__in=lessons, media_duration_seconds__isnull=False
        ).values_list("activity_iri", "media_duration_seconds")
        if seconds is not None
    }
    result = rules.credit_day(
        events,
        day_start=int(day_start.timestamp()),
        day_end=int(day_end.timestamp()),
        params=params,
        media_durations=media,
        media_used=used_before,
    )
    totals = result.totals()
    per_enrolment: dict[int, dict[str, int]] = defaultdict(dict)
    for (enrolment_id, lesson), seconds in result.media_credited.items():
        per_enrolment[enrolment_id][lesson] = seconds
    zone = timezone.get_default_timezone()
    CreditedTime.objects.filter(enrolment_id__in=enrolment_ids, day=day).delete()
    UncreditedSegment.objects.filter(enrolment_id__in=enrolment_ids, day=day).delete()
    CreditedTime.objects.bulk_create(
        CreditedTime(
            enrolment_id=enrolment_id,
            day=day,
            credited_seconds=credited,
            uncredited_seconds=uncredited,
            parameters=params.to_json(),
            media_seconds=dict(sorted(per_enrolment.get(enrolment_id, {}).items())),
            computed_at=now,
        )
        for enrolment_id, (credited, uncredited) in sorted(totals.items())
    )
    UncreditedSegment.objects.bulk_create(
        UncreditedSegment(
            enrolment_id=piece.enrolment,
            day=day,
            start=datetime.fromtimestamp(piece.start, tz=zone),
            end=datetime.fromtimestamp(piece.end, tz=zone),
            seconds=piece.seconds,
            rule=piece.rule,
            parameters=dict(piece.parameters),
            statement_ids=list(piece.statement_ids),
        )
        for piece in result.uncredited
    )
    outcome = DayOutcome()
    for credited, uncredited in totals.values():
        outcome.credited_seconds += credited
        outcome.uncredited_seconds += uncredited
    return outcome, dict(result.media_credited)


def recompute_days(
    person: Person,
    days: Iterable[date],
    *,
    now: datetime | None = None,
    cache: PolicyCache | None = None,
) -> dict[date, DayOutcome]:
    """Credit `days` of one person from the statements, replacing whatever was stored for
    them (idempotent: the same statements always give the same rows). Only the person's live
    enrolments are credited; a statement needs a live enrolment on its course and platform.

    A media lesson is never credited longer than its media lasts over all days, the earlier
    days keeping the budget: a day's budget is what the stored earlier days left, and when a
    day's credit on a lesson changes, the later stored days with time on that lesson are
    recomputed too (in day order, so the result is the same whatever order days arrive in).
    Returns the outcome of every day recomputed, those carried along included. The person's
    live enrolment rows are locked for the duration, so two recomputations of one person
    never interleave."""
    now = now or timezone.now()
    requested = set(days)
    outcomes: dict[date, DayOutcome] = {}
    if not requested:
        return outcomes
    with transaction.atomic():
        rows = list(
            Enrolment.objects.select_for_update()
            .filter(person=person, status=Enrolment.Status.ACTIVE)
            .order_by("pk")
            .values_list("pk", "course_id", "platform_id")
        )
        enrolments = {course_id: (pk, platform_id) for pk, course_id, platform_id in rows}
        stored = _stored_media_use([pk for pk, _c, _p in rows])
        first = min(requested)
        candidates = sorted(requested | {d for d in stored if d > first})
        changed: set[rules.MediaKey] = set()
        for day in candidates:
            before = stored.get(day, {})
            if day not in requested and not (changed & before.keys()):
                continue
            used: MediaUse = defaultdict(int)
            for other, use in stored.items():
                if other < day:
                    for key, seconds in use.items():
                        used[key] += seconds
            outcome, after = _credit_one_day(person, day, enrolments, used, now=now, cache=cache)
            outcomes[day] = outcome
            changed |= {
                key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
            }
            stored[day] = after
    return outcomes


def recompute_day(
    person: Person, day: date, *, now: datetime | None = None, cache: PolicyCache | None = None
) -> DayOutcome:
    """Credit one person's day (and carry a change to later days, see recompute_days)."""
    return recompute_days(person, [day], now=now, cache=cache)[day]


@dataclass
class PassSummary:
    """What one crediting pass read and did. Statements that cannot be credited are counted:
    unknown learner (no registered pseudonym), unknown course (activity not in the
    catalogue), not enrolled (learner and course known, no live enrolment)."""

    statements: int = 0
    batches: int = 0
    days_recomputed: int = 0
    unknown_learner: int = 0
    unknown_course: int = 0
    not_enrolled: int = 0

    def add(self, other: PassSummary) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def _affected_days(statement: Statement) -> set[date]:
    days = {_local_day(statement.timestamp)}
    if statement.duration_seconds and statement.duration_seconds > 0:
        days.add(_local_day(statement.timestamp - timedelta(seconds=statement.duration_seconds)))
    return days


def _classify(batch: list[Statement], summary: PassSummary) -> dict[int, set[date]]:
    """The (person, days) a batch touches; counts what cannot be credited in `summary`."""
    touched: dict[int, set[date]] = defaultdict(set)
    enrolled = set(
        Enrolment.objects.filter(
            person_id__in={s.person_id for s in batch if s.person_id},
            status=Enrolment.Status.ACTIVE,
        ).values_list("person_id", "course_id")
    )
    voided_targets = [s.object_statement_id for s in batch if s.is_voiding]
    for statement in batch:
        if statement.is_voiding:
            continue
        if statement.person_id is None:
            summary.unknown_learner += 1
        elif statement.course_id is None:
            summary.unknown_course += 1
        elif (statement.person_id, statement.course_id) not in enrolled:
            summary.not_enrolled += 1
        else:
            touched[statement.person_id] |= _affected_days(statement)
    if voided_targets:
        for target in Statement.objects.filter(
            statement_id__in=voided_targets, person__isnull=False
        ):
            if target.person_id is not None:
                touched[target.person_id] |= _affected_days(target)
    return touched


def _credit_batch(batch_size: int) -> PassSummary | None:
    """One batch in one transaction: lock the state row (another pass holding it means this
    one has nothing to do), read statements after the watermark, recompute the (person, day)
    pairs they touch, move the watermark. None when there was nothing new."""
    with transaction.atomic():
        CreditingState.objects.get_or_create(
            name=STATE_NAME, defaults={"updated_at": timezone.now()}
        )
        state = (
            CreditingState.objects.select_for_update(skip_locked=True)
            .filter(name=STATE_NAME)
            .first()
        )
        if state is None:
            return None
        watermark = Watermark.decode(state.watermark)
        batch, new_watermark = statements_after(watermark, limit=batch_size)
        if not batch:
            return None
        summary = PassSummary(statements=len(batch), batches=1)
        touched = _classify(batch, summary)
        people = Person.objects.select_related("region").in_bulk(list(touched))
        cache: PolicyCache = {}
        for person_id in sorted(touched):
            outcomes = recompute_days(people[person_id], touched[person_id], cache=cache)
            summary.days_recomputed += len(outcomes)
        state.watermark = new_watermark.encode()
        state.last_summary = asdict(summary)
        state.updated_at = timezone.now()
        state.save(update_fields=["watermark", "last_summary", "updated_at"])
    return summary


def credit_new_statements(*, batch_size: int = 1000, max_batches: int = 100) -> PassSummary:
    """The incremental crediting pass: read committed statements after the stored watermark
    in batches and recompute every (person, day) they touch. Safe to run concurrently (a
    second pass finds the state row locked and stops) and to repeat."""
    total = PassSummary()
    for _i in range(max_batches):
        summary = _credit_batch(batch_size)
        if summary is None:
            break
        total.add(summary)
    if total.statements:
        logger.info("crediting pass: %s", asdict(total))
    return total


@dataclass
class RecreditSummary:
    people: int = 0
    days: int = 0


def _days_touched(at: datetime, duration: float | None) -> set[date]:
    days = {_local_day(at)}
    if duration and duration > 0:
        days.add(_local_day(at - timedelta(seconds=duration)))
    return days


def recredit_period(
    period_start: date, period_end: date, *, region: Region | None = None, by: User | None = None
) -> RecreditSummary:
    """Re-apply the policy in force to every (person, day) with statements from period_start
    to period_end (inclusive), for learners of `region`'s subtree or everyone; later days a
    change carries to (media lessons) are recomputed as well. Each person is one transaction,
    so a long period never holds one huge transaction; repeating it changes nothing (crediting
    a day is idempotent). Used after a CreditingPolicy change. Raises InvalidInput when the
    period ends before it starts."""
    if period_end < period_start:
        raise InvalidInput(_("The period ends before it starts."), field="period_end")
    start, _unused = _day_bounds(period_start)
    _unused, end = _day_bounds(period_end)
    statements = Statement.objects.filter(
        person__isnull=False,
        course__isnull=False,
        timestamp__gte=start,
        # A heartbeat just after the period can hold time inside it.
        timestamp__lt=end + WINDOW_SLACK,
    )
    if region is not None:
        statements = statements.filter(person__region__code__startswith=region.scope_prefix)
    touched: dict[int, set[date]] = defaultdict(set)
    rows = statements.values_list("person_id", "timestamp", "duration_seconds").iterator()
    for person_id, at, duration in rows:
        if person_id is None:
            continue
        for day in _days_touched(at, duration):
            if period_start <= day <= period_end:
                touched[person_id].add(day)
    people = Person.objects.select_related("region").in_bulk(list(touched))
    cache: PolicyCache = {}
    summary = RecreditSummary()
    for person_id in sorted(touched):
        outcomes = recompute_days(people[person_id], touched[person_id], cache=cache)
        summary.people += 1
        summary.days += len(outcomes)
    record(
        "learning.crediting.recredited",
        actor=by,
        object_type="learning.creditingpolicy",
        region_code=region.code if region is not None else "",
        data={
            "period_start": period_start.isoformat(),
            "period_end": period_end.isoformat(),
            "people": summary.people,
            "days": summary.days,
        },
    )
    return summary


def recredit(
    period_start: date, period_end: date, *, region: Region | None = None, by: User | None = None
) -> int:
    """recredit_period, returning the number of days recomputed."""
    return recredit_period(period_start, period_end, region=region, by=by).days
