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
def a_session(draw: st.DrawFn, index: int, day0: int = DAY0) -> list[Event]:
    enrolment = draw(st.integers(1, 3))
    sid = f"s{index}"
    lesson = draw(st.sampled_from(LESSONS))
    start = day0 + draw(st.integers(-7200, 86400))
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


DAYS = 3


@st.composite
def some_days(draw: st.DrawFn) -> list[Event]:
    """Sessions over three consecutive days (some crossing midnight)."""
    events: list[Event] = []
    for index in range(draw(st.integers(0, 9))):
        day = draw(st.integers(0, DAYS - 1))
        events.extend(draw(a_session(index, DAY0 + day * 86400)))
    return events


def _credit_days(
    events: list[Event], params: Params, media: dict[str, int]
) -> list[rules.DayResult]:
    """Each day in order, earlier days' credit on a media lesson taken off its budget (what
    learning.services.recompute_days does with the stored days)."""
    used: dict[tuple[int, str], int] = {}
    results = []
    for day in range(DAYS):
        start = DAY0 + day * 86400
        result = rules.credit_day(
            events,
            day_start=start,
            day_end=start + 86400,
            params=params,
            media_durations=media,
            media_used=dict(used),
        )
        for key, seconds in result.media_credited.items():
            used[key] = used.get(key, 0) + seconds
        results.append(result)
    return results


@settings(max_examples=300, deadline=None)
@given(
    some_days(),
    params_strategy,
    st.fixed_dictionaries(dict.fromkeys(LESSONS, st.integers(1, 4000))),
)
def test_a_media_lesson_is_never_credited_longer_than_it_lasts_over_all_days(
    events: list[Event], params: Params, media: dict[str, int]
) -> None:
    results = _credit_days(events, params, media)
    per_lesson: dict[tuple[int, str], int] = {}
    for day, result in enumerate(results):
        start = DAY0 + day * 86400
        # Every lesson has a media length here, so the day's credit is all on media lessons.
        per_enrolment: dict[int, int] = {}
        for (enrolment, lesson), seconds in result.media_credited.items():
            assert seconds >= 0
            per_lesson[(enrolment, lesson)] = per_lesson.get((enrolment, lesson), 0) + seconds
            per_enrolment[enrolment] = per_enrolment.get(enrolment, 0) + seconds
        assert {k: c for k, (c, _u) in result.totals().items() if c} == {
            k: v for k, v in per_enrolment.items() if v
        }
        observed = rules.observed_seconds(
            events, day_start=start, day_end=start + 86400, params=params
        )
        assert {k: c + u for k, (c, u) in result.totals().items() if c + u} == {
            k: v for k, v in observed.items() if v
        }
        for piece in result.uncredited:
            if piece.rule == rules.BEYOND_MEDIA_DURATION:
                parameters = dict(piece.parameters)
                assert parameters["media_duration_seconds"] in media.values()
                assert parameters.get("credited_earlier_seconds", 1) > 0
    for (_enrolment, lesson), seconds in per_lesson.items():
        assert seconds <= media[lesson]


@settings(max_examples=200, deadline=None)
@given(some_days(), params_strategy, media_strategy)
def test_earlier_days_only_take_media_time_away(
    events: list[Event], params: Params, media: dict[str, int]
) -> None:
    """Against each day credited alone: the rules before the media rule decide the same, and
    the day credits no more in total (the cap may then let other time through)."""
    chained = _credit_days(events, params, media)
    media_rules = {rules.BEYOND_MEDIA_DURATION, rules.DAILY_CAP}
    for day, result in enumerate(chained):
        start = DAY0 + day * 86400
        alone = rules.credit_day(
            events, day_start=start, day_end=start + 86400, params=params, media_durations=media
        )
        assert [p for p in result.uncredited if p.rule not in media_rules] == [
            p for p in alone.uncredited if p.rule not in media_rules
        ]
        assert sum(p.seconds for p in result.credited) <= sum(p.seconds for p in alone.credited)
        if day == 0:
            assert result == alone
