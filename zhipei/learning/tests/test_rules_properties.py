"""Properties of the crediting rules over generated sessions (hypothesis)."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from zhipei.learning.crediting import rules
from zhipei.learning.crediting.rules import Event, Params

DAY0 = 1_777_564_800
DAY1 = DAY0 + 86400
LESSONS = ["https://p.example/l1", "https://p.example/l2"]


@st.composite
def a_session(draw: st.DrawFn, index: int) -> list[Event]:
    enrolment = draw(st.integers(1, 3))
    sid = f"s{index}"
    lesson = draw(st.sampled_from(LESSONS))
    start = DAY0 + draw(st.integers(-7200, 86400))
    events: list[Event] = []
    if draw(st.booleans()):
        face = draw(st.sampled_from(["passed", "passed", "failed", "missed"]))
        events.append(
            Event(
                f"{sid}-i",
                start,
                rules.INITIALIZED,
                enrolment,
                sid,
                lesson,
                face_check=(face, start),
            )
        )
    at = start
    position = 0.0
    for beat in range(draw(st.integers(0, 12))):
        duration = draw(st.integers(0, 1500))
        at += draw(st.integers(0, 1500))
        face_check = None
        if draw(st.integers(0, 4)) == 0:
            face_check = (
                draw(st.sampled_from(["passed", "failed", "missed"])),
                at - draw(st.integers(0, 120)),
            )
        jump = draw(st.sampled_from([0, 0, 0, 300]))
        segment = (position + jump, position + jump + duration)
        position = segment[1]
        verb = draw(st.sampled_from([rules.PROGRESSED, rules.PROGRESSED, rules.TERMINATED]))
        events.append(
            Event(f"{sid}-{beat}", at, verb, enrolment, sid, lesson, duration, face_check, segment)
        )
        if draw(st.integers(0, 5)) == 0:
            since = at - draw(st.integers(0, 600))
            events.append(
                Event(f"{sid}-p{beat}", at, rules.SUSPENDED, enrolment, sid, idle_since=since)
            )
        if draw(st.integers(0, 5)) == 0:
            events.append(Event(f"{sid}-r{beat}", at + 1, rules.RESUMED, enrolment, sid))
    return events


@st.composite
def a_day(draw: st.DrawFn) -> list[Event]:
    events: list[Event] = []
    for index in range(draw(st.integers(0, 5))):
        events.extend(draw(a_session(index)))
    return events


params_strategy = st.builds(
    Params,
    minutes_per_class_hour=st.just(45),
    daily_cap_minutes=st.one_of(st.none(), st.integers(0, 600)),
    face_check_required=st.booleans(),
    face_check_interval_minutes=st.one_of(st.none(), st.integers(1, 60)),
    idle_after_minutes=st.integers(1, 30),
    allow_seek_forward=st.booleans(),
)
media_strategy = st.dictionaries(st.sampled_from(LESSONS), st.integers(1, 4000))


def _credit(events: list[Event], params: Params, media: dict[str, int]) -> rules.DayResult:
    return rules.credit_day(
        events, day_start=DAY0, day_end=DAY1, params=params, media_durations=media
    )


@settings(max_examples=300, deadline=None)
@given(a_day(), params_strategy, media_strategy)
def test_credited_plus_uncredited_is_observed_time(
    events: list[Event], params: Params, media: dict[str, int]
) -> None:
    result = _credit(events, params, media)
    observed = rules.observed_seconds(events, day_start=DAY0, day_end=DAY1, params=params)
    totals = result.totals()
    assert {k: c + u for k, (c, u) in totals.items() if c + u} == {
        k: v for k, v in observed.items() if v
    }
    for piece in result.credited + result.uncredited:
        assert DAY0 <= piece.start < piece.end <= DAY1
    assert all(piece.rule for piece in result.uncredited)


@settings(max_examples=300, deadline=None)
@given(a_day(), params_strategy, media_strategy)
def test_no_wall_clock_second_is_credited_twice_and_the_cap_holds(
    events: list[Event], params: Params, media: dict[str, int]
) -> None:
    result = _credit(events, params, media)
    spans = sorted((p.start, p.end) for p in result.credited)
    for (_a, end), (start, _b) in itertools.pairwise(spans):
        assert start >= end
    total = sum(end - start for start, end in spans)
    if params.daily_cap_minutes is not None:
        assert total <= params.daily_cap_minutes * 60
    # Media rule: never more credited on an enrolment's lessons than they last (in the day).
    if set(media) == set(LESSONS):
        for credited, _uncredited in result.totals().values():
            assert credited <= sum(media.values())


@settings(max_examples=200, deadline=None)
@given(a_day(), params_strategy, media_strategy, st.randoms(use_true_random=False))
def test_same_statements_in_any_order_give_the_same_result(
    events: list[Event], params: Params, media: dict[str, int], rnd: random.Random
) -> None:
    first = _credit(events, params, media)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    again = _credit(shuffled, params, media)
    assert first == again
    assert _credit(events, params, media) == first


@settings(max_examples=200, deadline=None)
@given(a_day(), media_strategy)
def test_with_no_rules_in_the_way_only_overlap_is_uncredited(
    events: list[Event], media: dict[str, int]
) -> None:
    lenient = Params(face_check_required=False, idle_after_minutes=10_000, allow_seek_forward=True)
    events = [e for e in events if e.verb != rules.SUSPENDED]
    result = _credit(events, lenient, {})
    assert {p.rule for p in result.uncredited} <= {rules.OVERLAP}
