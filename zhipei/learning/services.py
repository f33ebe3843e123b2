"""Every write of the learning app: enrolment, and the crediting pass that turns statements
into CreditedTime and UncreditedSegment rows (rules in zhipei.learning.crediting.rules)."""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.catalog.models import Course, Lesson
from zhipei.core.bulk import copy_lines, copy_text
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
from zhipei.lrs import evidence
from zhipei.lrs.models import Statement
from zhipei.lrs.queries import (
    CreditingRow,
    StatementHead,
    Watermark,
    crediting_rows,
    rows_by_id,
    statement_heads_after,
)
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
    # The zone of _day_bounds (timezone.localtime would look up the active one each call).
    return moment.astimezone(timezone.get_default_timezone()).date()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MINUTE_US = 60_000_000
# Statements are credited on the days from 2000 to 2099. xAPI takes any timestamp from year 1
# to 9999, and the LRS stores what it is sent; an instant outside these years is no evidence
# of training (the notice dates from 2020) and is counted as `odd_timestamp`, not credited.
CREDITABLE_FROM = datetime(2000, 1, 1, tzinfo=UTC)
CREDITABLE_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)
_CREDITABLE_FROM_US = (CREDITABLE_FROM - _EPOCH) // _MICROSECOND
_CREDITABLE_UNTIL_US = (CREDITABLE_UNTIL - _EPOCH) // _MICROSECOND


class _LocalDays:
    """_local_day of instants given in microseconds since the epoch, worked out once per
    minute: a batch's statements fall in a few hundred minutes. A minute whose first and last
    microsecond are on different local days (a midnight inside it, only in a zone whose
    offset is not whole minutes) is worked out per instant."""

    def __init__(self) -> None:
        self._minutes: dict[int, date | None] = {}

    def __call__(self, micros: int) -> date:
        minute = micros // _MINUTE_US
        try:
            day = self._minutes[minute]
        except KeyError:
            first = _local_day(_EPOCH + minute * _MINUTE_US * _MICROSECOND)
            last = _local_day(_EPOCH + ((minute + 1) * _MINUTE_US - 1) * _MICROSECOND)
            day = self._minutes[minute] = first if first == last else None
        return _local_day(_EPOCH + micros * _MICROSECOND) if day is None else day


@dataclass
class DayOutcome:
    credited_seconds: int = 0
    uncredited_seconds: int = 0


PolicyCache = dict[tuple[int | None, date], rules.Params]
# A person's region with its parents (county → prefecture → province), so that finding the
# policy in force walks the tree without a query per level.
_REGION_CHAIN = ("region__parent__parent",)


def _params_for(person: Person, day: date, cache: PolicyCache | None) -> rules.Params:
    key = (person.region_id, day)
    if cache is not None and key in cache:
        return cache[key]
    params, _policy = policy_in_force(person.region, day)
    if cache is not None:
        cache[key] = params
    return params


MediaUse = dict[rules.MediaKey, int]
_SLACK_SECONDS = int(WINDOW_SLACK.total_seconds())


@dataclass
class _Learner:
    """One person in a recomputation: the days asked for, the live enrolments (course id →
    (enrolment id, platform id)), the media use stored per day (see recompute_days) and the
    crediting events read around the days, in time order (`times` holds their `at`)."""

    person: Person
    requested: set[date]
    enrolments: dict[int, tuple[int, int]] = field(default_factory=dict)
    stored: dict[date, MediaUse] = field(default_factory=dict)
    events: list[rules.Event] = field(default_factory=list)
    times: list[int] = field(default_factory=list)

    def candidates(self) -> list[date]:
        """The requested days and every later stored day a media change may carry to."""
        first = min(self.requested)
        return sorted(self.requested | {day for day in self.stored if day > first})

    def events_around(self, day: date) -> list[rules.Event]:
        """The events of statements from WINDOW_SLACK before the day to WINDOW_SLACK after
        it. Day bounds are whole seconds, so comparing an event's `at` (the timestamp rounded
        down) selects exactly the statements a timestamp range would."""
        start, end = _window(day)
        return self.events[bisect_left(self.times, start) : bisect_left(self.times, end)]


@dataclass
class _Rows:
    """What replaces the stored rows of the recomputed (enrolment, day) pairs."""

    now: datetime
    cleared: dict[date, set[int]] = field(default_factory=lambda: defaultdict(set))
    # (enrolment, day, credited, uncredited, parameters, media seconds)
    credited: list[tuple[int, date, int, int, dict[str, Any], dict[str, int]]] = field(
        default_factory=list
    )
    # (enrolment, day, start, end, seconds, rule, parameters, statement ids); epoch seconds
    segments: list[tuple[int, date, int, int, int, str, dict[str, Any], list[str]]] = field(
        default_factory=list
    )


def _window(day: date) -> tuple[int, int]:
    """The statements read with `day`, as epoch seconds [start, end)."""
    start, end = _day_bounds(day)
    return int(start.timestamp()) - _SLACK_SECONDS, int(end.timestamp()) + _SLACK_SECONDS


def _merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _lock_enrolments(learners: dict[int, _Learner]) -> None:
    """Lock the learners' live enrolments in one query, in primary-key order (every
    recomputation locks in that order, so two of them never deadlock), and note them."""
    rows = (
        Enrolment.objects.select_for_update()
        .filter(person_id__in=list(learners), status=Enrolment.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", "person_id", "course_id", "platform_id")
    )
    for pk, person_id, course_id, platform_id in rows:
        learners[person_id].enrolments[course_id] = (pk, platform_id)


def _read_media_use(learners: dict[int, _Learner]) -> None:
    """Seconds credited per (enrolment, media lesson) on each stored day of the learners'
    live enrolments."""
    owner = {
        pk: learner
        for learner in learners.values()
        for pk, _platform in learner.enrolments.values()
    }
    if not owner:
        return
    rows = CreditedTime.objects.filter(enrolment_id__in=list(owner)).values_list(
        "enrolment_id", "day", "media_seconds"
    )
    for enrolment_id, day, media_seconds in rows:
        if not isinstance(media_seconds, dict):
            continue
        for lesson, seconds in media_seconds.items():
            if isinstance(seconds, int):
                owner[enrolment_id].stored.setdefault(day, {})[(enrolment_id, lesson)] = seconds


@dataclass(frozen=True)
class _Batch:
    """The statements a pass's batch read (statement_heads_after), after the watermark
    `after` up to and including `through`."""

    heads: list[StatementHead]
    after: Watermark
    through: Watermark


def _read_events(learners: dict[int, _Learner], batch: _Batch | None = None) -> None:
    """The crediting events of every learner's statements around their candidate days on
    their live enrolments, in one query (lrs.queries.crediting_rows) for the union of the
    learners' windows; other learners' windows, courses and voided statements are filtered
    here. The statements of `batch`, which the pass has read already, are not read again."""
    spans = {
        person_id: _merge_spans(_window(day) for day in learner.candidates())
        for person_id, learner in learners.items()
        if learner.enrolments
    }
    if not spans:
        return
    zone = timezone.get_default_timezone()
    windows = [
        (datetime.fromtimestamp(start, tz=zone), datetime.fromtimestamp(end, tz=zone))
        for start, end in _merge_spans(span for each in spans.values() for span in each)
    ]
    rows: list[CreditingRow | StatementHead] = []
    rows += crediting_rows(
        sorted(spans), windows, skip=None if batch is None else (batch.after, batch.through)
    )
    if batch is not None:  # a head's first columns are a CreditingRow's
        rows += [head for head in batch.heads if head.person_id in spans]
    iris = ev.ProfileIris.for_site(settings.SITE_URL)
    for row in rows:
        (person_id, _id, verb_id, moment, course_id, platform_id) = row[:6]
        verb = ev.crediting_verb(verb_id)
        learner = learners.get(person_id)  # type: ignore[arg-type]
        if verb is None or learner is None or row.voided or row.is_voiding:
            continue
        enrolment = learner.enrolments.get(course_id) if course_id is not None else None
        if enrolment is None:
            continue
        enrolment_id, enrolment_platform = enrolment
        if platform_id != enrolment_platform:
            continue
        for start, end in spans[person_id]:  # type: ignore[index]
            if start <= moment < end:
                break
        else:
            continue  # read for another learner's window
        learner.events.append(_event(row, verb, enrolment_id, iris))
    for learner in learners.values():
        learner.events.sort(key=lambda event: event.at)
        learner.times = [event.at for event in learner.events]


def _event(
    row: CreditingRow | StatementHead, verb: str, enrolment_id: int, iris: ev.ProfileIris
) -> rules.Event:
    """A statement's event from the evidence the LRS stored, or for a statement stored before
    it did, from the payload (the same extraction: lrs.evidence)."""
    if not row.evidence:
        return ev.event_from_payload(
            statement_id=row.statement_id,
            verb=verb,
            # The event keeps the time to the second only, so the second is what is read.
            at=datetime.fromtimestamp(row.at, tz=UTC),
            enrolment=enrolment_id,
            lesson=row.activity_id,
            duration_seconds=row.duration_seconds,
            payload=ev.parse_payload(row.payload or ""),
            iris=iris,
        )
    found = evidence.decode(row.evidence)
    if found is None:
        logger.warning("statement %s: stored evidence unreadable, none used", row.statement_id)
        found = evidence.Evidence(f"~~{row.activity_id}")
    return ev.event_from_evidence(
        row.statement_id, verb, row.at, enrolment_id, row.activity_id, row.duration_seconds, found
    )


def _media_durations(learners: dict[int, _Learner]) -> dict[str, int]:
    """Length in seconds of every media lesson the learners' events are on."""
    lessons = {event.lesson for learner in learners.values() for event in learner.events}
    lessons.discard("")
    if not lessons:
        return {}
    return {
        iri: seconds
        for iri, seconds in Lesson.objects.filter(
            activity_iri__in=lessons, media_duration_seconds__isnull=False
        ).values_list("activity_iri", "media_duration_seconds")
        if seconds is not None
    }


def _credit_one_day(
    learner: _Learner,
    day: date,
    used_before: MediaUse,
    *,
    media: dict[str, int],
    cache: PolicyCache | None,
    rows: _Rows,
) -> tuple[DayOutcome, MediaUse]:
    """Credit one day of a learner and note the rows replacing its stored ones; returns the
    outcome and the seconds credited per (enrolment, media lesson)."""
    day_start, day_end = _day_bounds(day)
    params = _params_for(learner.person, day, cache)
    result = rules.credit_day(
        learner.events_around(day),
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
    rows.cleared[day].update(pk for pk, _platform in learner.enrolments.values())
    parameters = params.to_json()
    rows.credited.extend(
        (
            enrolment_id,
            day,
            credited,
            uncredited,
            parameters,
            dict(sorted(per_enrolment.get(enrolment_id, {}).items())),
        )
        for enrolment_id, (credited, uncredited) in sorted(totals.items())
    )
    rows.segments.extend(
        (
            piece.enrolment,
            day,
            piece.start,
            piece.end,
            piece.seconds,
            piece.rule,
            dict(piece.parameters),
            list(piece.statement_ids),
        )
        for piece in result.uncredited
    )
    outcome = DayOutcome()
    for credited, uncredited in totals.values():
        outcome.credited_seconds += credited
        outcome.uncredited_seconds += uncredited
    return outcome, dict(result.media_credited)


def _credit_learner(
    learner: _Learner, *, media: dict[str, int], cache: PolicyCache | None, rows: _Rows
) -> dict[date, DayOutcome]:
    """The days of one learner in day order, carrying media changes (see recompute_days)."""
    outcomes: dict[date, DayOutcome] = {}
    stored = learner.stored
    changed: set[rules.MediaKey] = set()
    for day in learner.candidates():
        before = stored.get(day, {})
        if day not in learner.requested and not (changed & before.keys()):
            continue
        used: MediaUse = defaultdict(int)
        for other, use in stored.items():
            if other < day:
                for key, seconds in use.items():
                    used[key] += seconds
        outcome, after = _credit_one_day(learner, day, used, media=media, cache=cache, rows=rows)
        outcomes[day] = outcome
        changed |= {
            key for key in before.keys() | after.keys() if before.get(key) != after.get(key)
        }
        stored[day] = after
    return outcomes


# Terms of one DELETE's WHERE clause: SQLite limits an expression's depth.
_DELETE_TERMS = 200


def _replace_rows(rows: _Rows) -> None:
    """Delete what was stored for the recomputed (enrolment, day) pairs and insert the new
    rows: one DELETE per table (pairs grouped by their set of enrolments) and one insert per
    table (COPY on PostgreSQL)."""
    days_of: dict[tuple[int, ...], list[date]] = defaultdict(list)
    for day, cleared in sorted(rows.cleared.items()):
        if cleared:
            days_of[tuple(sorted(cleared))].append(day)
    groups = list(days_of.items())
    for index in range(0, len(groups), _DELETE_TERMS):
        condition = Q()
        for enrolment_ids, days in groups[index : index + _DELETE_TERMS]:
            condition |= Q(enrolment_id__in=enrolment_ids, day__in=days)
        CreditedTime.objects.filter(condition).delete()
        UncreditedSegment.objects.filter(condition).delete()
    if connection.vendor == "postgresql":
        _copy_rows(rows)
        return
    zone = timezone.get_default_timezone()
    CreditedTime.objects.bulk_create(
        CreditedTime(
            enrolment_id=enrolment_id,
            day=day,
            credited_seconds=credited,
            uncredited_seconds=uncredited,
            parameters=parameters,
            media_seconds=media_seconds,
            computed_at=rows.now,
        )
        for enrolment_id, day, credited, uncredited, parameters, media_seconds in rows.credited
    )
    UncreditedSegment.objects.bulk_create(
        UncreditedSegment(
            enrolment_id=enrolment_id,
            day=day,
            start=datetime.fromtimestamp(start, tz=zone),
            end=datetime.fromtimestamp(end, tz=zone),
            seconds=seconds,
            rule=rule,
            parameters=parameters,
            statement_ids=statement_ids,
        )
        for enrolment_id, day, start, end, seconds, rule, parameters, statement_ids in rows.segments
    )


def _json_text(value: object) -> str:
    # jsonb keeps the value, not the text: orjson's text stores what json.dumps' would.
    return copy_text(orjson.dumps(value).decode())


def _copy_rows(rows: _Rows) -> None:
    """The new rows by COPY (PostgreSQL): a bulk insert would send each JSON column as an
    array that psycopg quotes character by character."""
    computed_at = rows.now.isoformat()
    moments: dict[int, str] = {}

    def moment(epoch: int) -> str:
        text = moments.get(epoch)
        if text is None:
            text = moments[epoch] = datetime.fromtimestamp(epoch, tz=UTC).isoformat()
        return text

    credited = [
        f"{enrolment_id}\t{day.isoformat()}\t{credited}\t{uncredited}\t"
        f"{_json_text(parameters)}\t{_json_text(media_seconds)}\t{computed_at}\n"
        for enrolment_id, day, credited, uncredited, parameters, media_seconds in rows.credited
    ]
    segments = [
        f"{enrolment_id}\t{day.isoformat()}\t{moment(start)}\t{moment(end)}\t{seconds}\t"
        f"{copy_text(rule)}\t{_json_text(parameters)}\t{_json_text(statement_ids)}\n"
        for enrolment_id, day, start, end, seconds, rule, parameters, statement_ids in rows.segments
    ]
    copy_lines(
        CreditedTime,
        (
            "enrolment_id",
            "day",
            "credited_seconds",
            "uncredited_seconds",
            "parameters",
            "media_seconds",
            "computed_at",
        ),
        credited,
    )
    copy_lines(
        UncreditedSegment,
        ("enrolment_id", "day", "start", "end", "seconds", "rule", "parameters", "statement_ids"),
        segments,
    )


def _recompute(
    people: dict[int, Person],
    days: dict[int, set[date]],
    *,
    now: datetime,
    cache: PolicyCache | None,
    batch: _Batch | None = None,
) -> dict[int, dict[date, DayOutcome]]:
    """recompute_days for several people at once (person id → days), inside the caller's
    transaction, in as many queries whatever the number of people and days: lock their live
    enrolments, read their stored media use, the statements around all their candidate days
    (less the pass's `batch`, which it holds) and the media lengths; the policies through
    `cache` (one query per region and day); one delete and one insert per table. Returns each
    person's outcomes (see recompute_days)."""
    learners = {
        person_id: _Learner(people[person_id], set(requested))
        for person_id, requested in sorted(days.items())
        if requested
    }
    if not learners:
        return {}
    _lock_enrolments(learners)
    _read_media_use(learners)
    _read_events(learners, batch)
    media = _media_durations(learners)
    rows = _Rows(now=now)
    outcomes = {
        person_id: _credit_learner(learner, media=media, cache=cache, rows=rows)
        for person_id, learner in learners.items()
    }
    _replace_rows(rows)
    return outcomes


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
    never interleave. The crediting pass does the same for all the people of a batch at once
    (`_recompute`)."""
    requested = set(days)
    if not requested:
        return {}
    with transaction.atomic():
        outcomes = _recompute(
            {person.pk: person},
            {person.pk: requested},
            now=now or timezone.now(),
            cache={} if cache is None else cache,
        )
    return outcomes[person.pk]


def recompute_day(
    person: Person, day: date, *, now: datetime | None = None, cache: PolicyCache | None = None
) -> DayOutcome:
    """Credit one person's day (and carry a change to later days, see recompute_days)."""
    return recompute_days(person, [day], now=now, cache=cache)[day]


@dataclass
class PassSummary:
    """What one crediting pass read and did. Statements that cannot be credited are counted:
    unknown learner (no registered pseudonym), unknown course (activity not in the
    catalogue), not enrolled (learner and course known, no live enrolment), odd timestamp
    (outside the years CREDITABLE_FROM to CREDITABLE_UNTIL)."""

    statements: int = 0
    batches: int = 0
    days_recomputed: int = 0
    unknown_learner: int = 0
    unknown_course: int = 0
    not_enrolled: int = 0
    odd_timestamp: int = 0

    def add(self, other: PassSummary) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def _classify(batch: list[StatementHead], summary: PassSummary) -> dict[int, set[date]]:
    """The (person, days) a batch touches; counts what cannot be credited in `summary`."""
    touched: dict[int, set[date]] = defaultdict(set)
    enrolled = set(
        Enrolment.objects.filter(
            person_id__in={s.person_id for s in batch if s.person_id},
            status=Enrolment.Status.ACTIVE,
        ).values_list("person_id", "course_id")
    )
    voided_targets = [
        s.object_statement_id for s in batch if s.is_voiding and s.object_statement_id is not None
    ]
    local_day = _LocalDays()
    # A duration's length in microseconds, as _days_touched takes it (heartbeats repeat a few).
    lengths: dict[float, int] = {}
    for statement in batch:
        if statement.is_voiding:
            continue
        if not _CREDITABLE_FROM_US <= statement.timestamp_us < _CREDITABLE_UNTIL_US:
            summary.odd_timestamp += 1
        elif statement.person_id is None:
            summary.unknown_learner += 1
        elif statement.course_id is None:
            summary.unknown_course += 1
        elif (statement.person_id, statement.course_id) not in enrolled:
            summary.not_enrolled += 1
        else:  # the days of _days_touched
            days = touched[statement.person_id]
            days.add(local_day(statement.timestamp_us))
            duration = ev.credible_duration(statement.duration_seconds)
            if duration is not None:
                length = lengths.get(duration)
                if length is None:
                    length = lengths[duration] = timedelta(seconds=duration) // _MICROSECOND
                days.add(local_day(statement.timestamp_us - length))
    if voided_targets:
        targets = rows_by_id(voided_targets, "person", "timestamp", "duration_seconds")
        for person_id, at, duration in targets:
            if person_id is not None:
                touched[person_id] |= _days_touched(at, duration)
    return touched


class _HeadsReader:
    """The pass's reads of statement heads (statement_heads_after). On PostgreSQL, when the
    pass is not inside a caller's transaction and a batch came back full, the next batch is
    read ahead on a thread with a connection of its own while this one is credited: the read
    is mostly the database's work, which the other core does meanwhile.

    A batch read ahead is as good as one read later: heads are immutable apart from `voided`
    and a voiding statement read later recomputes its target's days; the commit-safe horizon
    holds for the earlier read. It is used only when the watermark it was read from is the
    one the next batch starts at, and only when it found something (else it is read again)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ahead = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.executor: ThreadPoolExecutor | None = None
        self.pending: tuple[Watermark, Future[tuple[list[StatementHead], Watermark]]] | None = None

    def read(self, after: Watermark) -> tuple[list[StatementHead], Watermark]:
        pending, self.pending = self.pending, None
        if pending is not None and pending[0] == after:
            try:
                heads, through = pending[1].result()
            except DatabaseError:
                logger.warning("crediting: the batch read ahead failed; reading it again")
            else:
                if heads:
                    return heads, through
        elif pending is not None:
            pending[1].cancel()
        return statement_heads_after(after, limit=self.limit)

    def read_ahead(self, after: Watermark, *, full: bool) -> None:
        """Start reading the batch after `after`, when the batch that ended there was full."""
        if not (self.ahead and full):
            return
        if self.executor is None:
            self.executor = ThreadPoolExecutor(1, thread_name_prefix="crediting-heads")
        self.pending = (after, self.executor.submit(statement_heads_after, after, limit=self.limit))

    def close(self) -> None:
        """Wait for the thread, close its connection and end it."""
        if self.executor is None:
            return
        if self.pending is not None:
            self.pending[1].cancel()
            self.pending = None
        self.executor.submit(connections.close_all).result()  # the thread's own connections
        self.executor.shutdown()
        self.executor = None


def _credit_batch(reader: _HeadsReader) -> PassSummary | None:
    """One batch in one transaction: lock the state row (credit_new_statements creates it;
    another pass holding it means this one has nothing to do), read statements after the
    watermark, recompute the (person, day) pairs they touch (all at once, `_recompute`), move
    the watermark. None when there was nothing new."""
    with transaction.atomic():
        state = (
            CreditingState.objects.select_for_update(skip_locked=True)
            .filter(name=STATE_NAME)
            .first()
        )
        if state is None:
            return None
        watermark = Watermark.decode(state.watermark)
        batch, new_watermark = reader.read(watermark)
        if not batch:
            return None
        reader.read_ahead(new_watermark, full=len(batch) >= reader.limit)
        summary = PassSummary(statements=len(batch), batches=1)
        touched = _classify(batch, summary)
        people = Person.objects.select_related(*_REGION_CHAIN).in_bulk(list(touched))
        outcomes = _recompute(
            people,
            touched,
            now=timezone.now(),
            cache={},
            batch=_Batch(batch, watermark, new_watermark),
        )
        summary.days_recomputed = sum(len(days) for days in outcomes.values())
        state.watermark = new_watermark.encode()
        state.last_summary = asdict(summary)
        state.updated_at = timezone.now()
        state.save(update_fields=["watermark", "last_summary", "updated_at"])
    return summary


def credit_new_statements(*, batch_size: int = 5000, max_batches: int = 100) -> PassSummary:
    """The incremental crediting pass: read committed statements after the stored watermark
    in batches and recompute every (person, day) they touch. Safe to run concurrently (a
    second pass finds the state row locked and stops) and to repeat.

    Batches of 5,000: the per-batch queries are a fixed number (see _recompute), so larger
    batches cost less per statement, while one batch's transaction stays around a tenth of a
    second; the next batch is read ahead meanwhile (_HeadsReader). About 54,000 statements/s
    on a 2-core machine with PostgreSQL beside it (bench/README.md, crediting)."""
    total = PassSummary()
    CreditingState.objects.get_or_create(name=STATE_NAME, defaults={"updated_at": timezone.now()})
    reader = _HeadsReader(batch_size)
    try:
        for _i in range(max_batches):
            summary = _credit_batch(reader)
            if summary is None:
                break
            total.add(summary)
    finally:
        reader.close()
    if total.statements:
        logger.info("crediting pass: %s", asdict(total))
    return total


@dataclass
class RecreditSummary:
    people: int = 0
    days: int = 0


def _days_touched(at: datetime, duration: float | None) -> set[date]:
    if not CREDITABLE_FROM <= at < CREDITABLE_UNTIL:
        return set()
    days = {_local_day(at)}
    credible = ev.credible_duration(duration)
    if credible is not None:
        days.add(_local_day(at - timedelta(seconds=credible)))
    return days


def check_period(period_start: date, period_end: date) -> None:
    """Raises InvalidInput (on the field at fault) when a period to credit again ends before
    it starts or reaches outside the years credited (CREDITABLE_FROM to CREDITABLE_UNTIL)."""
    if period_end < period_start:
        raise InvalidInput(_("The period ends before it starts."), field="period_end")
    first, last = CREDITABLE_FROM.date(), CREDITABLE_UNTIL.date() - timedelta(days=1)
    if period_start < first or period_end > last:
        raise InvalidInput(
            _("Statements are credited on the days from %(first)s to %(last)s.")
            % {"first": first.isoformat(), "last": last.isoformat()},
            field="period_start" if period_start < first else "period_end",
        )


def recredit_period(
    period_start: date, period_end: date, *, region: Region | None = None, by: User | None = None
) -> RecreditSummary:
    """Re-apply the policy in force to every (person, day) with statements from period_start
    to period_end (inclusive), for learners of `region`'s subtree or everyone; later days a
    change carries to (media lessons) are recomputed as well. Each person is one transaction,
    so a long period never holds one huge transaction; repeating it changes nothing (crediting
    a day is idempotent). Used after a CreditingPolicy change. Raises InvalidInput when the
    period ends before it starts or reaches outside the years credited (CREDITABLE_FROM)."""
    check_period(period_start, period_end)
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
    people = Person.objects.select_related(*_REGION_CHAIN).in_bulk(list(touched))
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
