"""Reads for crediting results: the policy in force, credited minutes and class hours of an
enrolment, the reasons for uncredited time, and a learner's enrolments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from zhipei.catalog.models import Course
from zhipei.learning.crediting.rules import DEFAULT_PARAMS, Params
from zhipei.learning.models import CreditedTime, CreditingPolicy, Enrolment, UncreditedSegment
from zhipei.learning.reasons import render_reason
from zhipei.occupations.models import Occupation
from zhipei.people.models import Person
from zhipei.regions.models import Region


def _params(policy: CreditingPolicy) -> Params:
    return Params(
        minutes_per_class_hour=policy.minutes_per_class_hour,
        daily_cap_minutes=policy.daily_cap_minutes,
        face_check_required=policy.face_check_required,
        face_check_interval_minutes=policy.face_check_interval_minutes,
        idle_after_minutes=policy.idle_after_minutes,
        allow_seek_forward=policy.allow_seek_forward,
    )


def region_chain(region: Region | None) -> list[int]:
    """The region's id and its ancestors' ids, nearest first."""
    chain: list[int] = []
    seen: set[int] = set()
    while region is not None and region.pk not in seen:
        chain.append(region.pk)
        seen.add(region.pk)
        region = region.parent
    return chain


def policy_in_force(region: Region | None, day: date) -> tuple[Params, CreditingPolicy | None]:
    """The crediting parameters for a person of `region` on `day`: the nearest region up the
    tree with a policy in force wins, else the national policy, else the built-in defaults.
    Among several policies of one region in force, the latest effective_from wins."""
    chain = region_chain(region)
    candidates = list(
        CreditingPolicy.objects.filter(Q(region_id__in=chain) | Q(region__isnull=True))
        .filter(effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from", "-pk")
    )
    rank = {region_id: index for index, region_id in enumerate(chain)}
    best: CreditingPolicy | None = None
    for policy in candidates:
        position = rank.get(policy.region_id, len(chain)) if policy.region_id else len(chain)
        if best is None:
            best = policy
            best_position = position
        elif position < best_position:
            best, best_position = policy, position
    if best is None:
        return DEFAULT_PARAMS, None
    return _params(best), best


def credited_seconds(enrolment: Enrolment) -> int:
    total = CreditedTime.objects.filter(enrolment=enrolment).aggregate(s=Sum("credited_seconds"))
    return int(total["s"] or 0)


def credited_minutes(enrolment: Enrolment) -> int:
    """Whole minutes credited to the enrolment so far (partial sessions accumulate)."""
    return credited_seconds(enrolment) // 60


def minutes_per_class_hour(enrolment: Enrolment) -> int:
    params, _policy = policy_in_force(enrolment.person.region, timezone.localdate())
    return params.minutes_per_class_hour


def class_hours_credited(enrolment: Enrolment) -> Decimal:
    """Credited minutes / minutes per class hour (the learner's policy in force today),
    rounded down to one decimal like Course.class_hours."""
    hours = Decimal(credited_minutes(enrolment)) / Decimal(minutes_per_class_hour(enrolment))
    return hours.quantize(Decimal("0.1"), rounding=ROUND_DOWN)


@dataclass(frozen=True)
class Reason:
    code: str
    minutes: int
    message: str


def _reasons(rows: Iterable[tuple[str, int, object]]) -> list[Reason]:
    seconds: dict[str, int] = defaultdict(int)
    longest: dict[str, tuple[int, dict[str, object]]] = {}
    for rule, segment_seconds, parameters in rows:
        seconds[rule] += segment_seconds
        if rule not in longest or segment_seconds > longest[rule][0]:
            longest[rule] = (segment_seconds, parameters if isinstance(parameters, dict) else {})
    reasons = [
        Reason(code=rule, minutes=total // 60, message=render_reason(rule, longest[rule][1]))
        for rule, total in seconds.items()
    ]
    reasons.sort(key=lambda r: (-r.minutes, r.code))
    return reasons


def uncredited_reasons(enrolment: Enrolment) -> list[Reason]:
    """Uncredited time by rule, most minutes first, with the sentence rendered now (in the
    active language) from the code and the parameters of its longest stretch."""
    return _reasons(
        UncreditedSegment.objects.filter(enrolment=enrolment).values_list(
            "rule", "seconds", "parameters"
        )
    )


@dataclass(frozen=True)
class EnrolmentProgress:
    enrolment: Enrolment
    class_hours_credited: Decimal
    class_hours_required: Decimal
    credited_minutes: int
    reasons: list[Reason]

    @property
    def percent(self) -> int:
        if self.class_hours_required <= 0:
            return 0
        return min(100, int(self.class_hours_credited * 100 / self.class_hours_required))


def learning_of(person: Person) -> list[EnrolmentProgress]:
    """A learner's enrolments (live first, newest first) with credited hours and reasons."""
    enrolments = list(
        Enrolment.objects.filter(person=person)
        .select_related("course", "platform__organisation", "occupation", "person__region")
        .order_by("status", "-enrolled_at")
    )
    params, _policy = policy_in_force(person.region, timezone.localdate())
    totals = dict(
        CreditedTime.objects.filter(enrolment__person=person)
        .values_list("enrolment")
        .annotate(s=Sum("credited_seconds"))
        .values_list("enrolment", "s")
    )
    segments: dict[int, list[tuple[str, int, object]]] = defaultdict(list)
    for enrolment_id, rule, seconds, parameters in UncreditedSegment.objects.filter(
        enrolment__person=person
    ).values_list("enrolment_id", "rule", "seconds", "parameters"):
        segments[enrolment_id].append((rule, seconds, parameters))
    out: list[EnrolmentProgress] = []
    for enrolment in enrolments:
        minutes = int(totals.get(enrolment.pk) or 0) // 60
        hours = (Decimal(minutes) / Decimal(params.minutes_per_class_hour)).quantize(
            Decimal("0.1"), rounding=ROUND_DOWN
        )
        out.append(
            EnrolmentProgress(
                enrolment=enrolment,
                class_hours_credited=hours,
                class_hours_required=enrolment.course.class_hours,
                credited_minutes=minutes,
                reasons=_reasons(segments.get(enrolment.pk, [])),
            )
        )
    return out


def course_of_platform(platform_id: int, reference: str) -> Course | None:
    """One of a platform's own courses, named by the platform's own id (`external_id`, as in
    /api/v1/courses/{external_id}) or by its xAPI activity IRI; None when the platform has no
    such course (another platform's course is not found either)."""
    courses = Course.objects.filter(platform_id=platform_id).select_related("platform")
    if reference.startswith(("https://", "http://")):
        return courses.filter(activity_iri=reference).first()
    return courses.filter(external_id=reference).first()


def occupation_by_code(code: str) -> Occupation | None:
    return Occupation.objects.filter(code=code.strip()).first()
