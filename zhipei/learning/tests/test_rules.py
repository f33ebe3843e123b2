"""The crediting rules on small hand-built sessions (pure functions, no database)."""

from __future__ import annotations

from zhipei.learning.crediting import rules
from zhipei.learning.crediting.rules import Event, Params

T = 1_777_600_000  # some instant; days below are [DAY0, DAY0 + 86400)
DAY0 = T - 8 * 3600
DAY1 = DAY0 + 86400
NO_FACE = Params(face_check_required=False)


def session(
    enrolment: int = 1,
    sid: str = "s1",
    start: int = T,
    beats: int = 10,
    every: int = 60,
    *,
    face: str | None = "passed",
    lesson: str = "https://p.example/l1",
) -> list[Event]:
    events = [
        Event(
            f"{sid}-init",
            start,
            rules.INITIALIZED,
            enrolment,
            sid,
            lesson,
            face_check=(face, start - 5) if face else None,
        )
    ]
    events.extend(
        Event(
            f"{sid}-hb{i:03d}", start + i * every, rules.PROGRESSED, enrolment, sid, lesson, every
        )
        for i in range(1, beats + 1)
    )
    return events


def credit(
    events: list[Event], params: Params = rules.DEFAULT_PARAMS, **kw: object
) -> rules.DayResult:
    return rules.credit_day(events, day_start=DAY0, day_end=DAY1, params=params, **kw)  # type: ignore[arg-type]


def rules_of(result: rules.DayResult) -> dict[str, int]:
    out: dict[str, int] = {}
    for piece in result.uncredited:
        out[piece.rule] = out.get(piece.rule, 0) + piece.seconds
    return out


def test_a_session_with_a_passed_start_check_is_credited_in_full() -> None:
    result = credit(session(beats=10))
    assert result.totals() == {1: (600, 0)}


def test_partial_sessions_accumulate() -> None:
    result = credit(session(sid="a", beats=5) + session(sid="b", start=T + 3600, beats=7))
    assert result.totals() == {1: (720, 0)}


def test_no_start_face_check_credits_nothing() -> None:
    result = credit(session(face=None))
    assert result.totals() == {1: (0, 600)}
    assert rules_of(result) == {rules.FACE_CHECK_MISSING: 600}
    assert result.uncredited[0].parameters == (("when", "session_start"),)


def test_a_failed_random_check_stops_credit_until_the_next_passed_one() -> None:
    events = session(beats=10)
    events.append(Event("fail", T + 240, rules.PROGRESSED, 1, "s1", face_check=("missed", T + 180)))
    events.append(Event("pass", T + 420, rules.PROGRESSED, 1, "s1", face_check=("passed", T + 360)))
    result = credit(events)
    assert rules_of(result) == {rules.FACE_CHECK_FAILED: 180}
    (piece,) = result.uncredited
    assert (piece.start, piece.end, piece.statement_ids) == (T + 180, T + 360, ("fail",))
    assert dict(piece.parameters) == {"result": "missed"}


def test_credit_stops_when_no_check_passed_within_the_interval() -> None:
    result = credit(session(beats=40), Params(face_check_interval_minutes=30))
    # Start check at T-5: credit until T-5+1800, the rest (2400-1795 s) is not.
    assert result.totals() == {1: (1795, 605)}
    assert dict(result.uncredited[0].parameters) == {"interval_minutes": 30}


def test_no_interval_means_one_passed_check_covers_the_session() -> None:
    result = credit(session(beats=40), Params(face_check_interval_minutes=None))
    assert result.totals() == {1: (2400, 0)}


def test_a_reported_idle_pause_is_not_credited() -> None:
    events = session(beats=10)
    events.append(Event("susp", T + 400, rules.SUSPENDED, 1, "s1", idle_since=T + 300))
    events.append(Event("res", T + 480, rules.RESUMED, 1, "s1"))
    result = credit(events)
    assert rules_of(result) == {rules.IDLE: 180}
    assert result.uncredited[0].statement_ids == ("susp",)


def test_a_heartbeat_longer_than_the_idle_limit_is_credited_only_up_to_it() -> None:
    events = session(beats=1)
    events.append(Event("late", T + 60 + 900, rules.TERMINATED, 1, "s1", duration=900))
    result = credit(events, Params(idle_after_minutes=10))
    assert result.totals() == {1: (660, 300)}
    assert rules_of(result) == {rules.IDLE: 300}


def test_a_heartbeat_cannot_claim_time_before_the_session_started() -> None:
    events = session(beats=0)
    events.append(Event("hb", T + 60, rules.PROGRESSED, 1, "s1", duration=3600))
    assert credit(events, Params(idle_after_minutes=100)).totals() == {1: (60, 0)}


def test_skipping_forward_in_a_video_is_not_credited() -> None:
    events = session(beats=0)
    positions = [(0, 60), (60, 120), (900, 960), (960, 1020), (120, 180)]
    for i, (a, b) in enumerate(positions, start=1):
        events.append(
            Event(f"hb{i}", T + 60 * i, rules.PROGRESSED, 1, "s1", duration=60, segment=(a, b))
        )
    events.append(Event("seek", T + 121, rules.SEEKED, 1, "s1", seek=(120, 900)))
    result = credit(events)
    assert rules_of(result) == {rules.SEEK_FORWARD: 120}
    [skipped] = result.uncredited  # the two heartbeats past the jump, as one piece
    assert (skipped.start, skipped.end) == (T + 120, T + 240)
    assert skipped.statement_ids == ("seek", "hb3", "hb4")
    assert dict(skipped.parameters) == {"position_from": 120, "position_to": 900}
    allowed = credit(events, Params(allow_seek_forward=True))
    assert allowed.totals() == {1: (300, 0)}


def test_each_jump_past_the_furthest_position_gets_its_own_piece() -> None:
    events = session(beats=0)
    positions = [(0, 60), (60, 120), (900, 960), (120, 180), (1200, 1260), (1260, 1320)]
    for i, (a, b) in enumerate(positions, start=1):
        events.append(
            Event(f"hb{i}", T + 60 * i, rules.PROGRESSED, 1, "s1", duration=60, segment=(a, b))
        )
    result = credit(events)
    assert [
        (p.start - T, p.end - T, dict(p.parameters), p.statement_ids) for p in result.uncredited
    ] == [
        (120, 180, {"position_from": 120, "position_to": 900}, ("hb3",)),
        (240, 360, {"position_from": 180, "position_to": 1200}, ("hb5", "hb6")),
    ]


def test_overlapping_sessions_on_two_courses_are_credited_once_earlier_first() -> None:
    first = session(enrolment=1, sid="a", start=T, beats=10)
    second = session(enrolment=2, sid="b", start=T + 300, beats=10)
    result = credit(first + second)
    assert result.totals() == {1: (600, 0), 2: (300, 300)}
    (piece,) = result.uncredited
    assert piece.rule == rules.OVERLAP and (piece.start, piece.end) == (T + 300, T + 600)
    assert dict(piece.parameters) == {"other_enrolment": 1}


def test_no_more_credit_on_a_media_lesson_than_it_lasts() -> None:
    result = credit(session(beats=10), media_durations={"https://p.example/l1": 420})
    assert result.totals() == {1: (420, 180)}
    assert rules_of(result) == {rules.BEYOND_MEDIA_DURATION: 180}


def test_earlier_days_take_their_share_of_the_media_budget() -> None:
    lesson = "https://p.example/l1"
    result = credit(session(beats=10), media_durations={lesson: 720}, media_used={(1, lesson): 300})
    assert result.totals() == {1: (420, 180)}
    (piece,) = result.uncredited
    assert piece.rule == rules.BEYOND_MEDIA_DURATION
    assert (piece.start, piece.end) == (T + 420, T + 600)
    assert dict(piece.parameters) == {
        "media_duration_seconds": 720,
        "credited_earlier_seconds": 300,
    }
    assert result.media_credited == {(1, lesson): 420}


def test_a_lesson_used_up_on_earlier_days_credits_nothing_and_says_so() -> None:
    lesson = "https://p.example/l1"
    result = credit(session(beats=10), media_durations={lesson: 420}, media_used={(1, lesson): 500})
    assert result.totals() == {1: (0, 600)}
    assert result.media_credited == {(1, lesson): 0}
    # Another enrolment's use of the same lesson is its own.
    other = credit(
        session(enrolment=2, beats=10),
        media_durations={lesson: 420},
        media_used={(1, lesson): 500},
    )
    assert other.totals() == {2: (420, 180)}


def test_media_credited_counts_what_the_daily_cap_left() -> None:
    lesson = "https://p.example/l1"
    result = credit(session(beats=10, face=None), NO_FACE, media_durations={lesson: 3600})
    assert result.media_credited == {(1, lesson): 600}
    capped = credit(session(beats=10), Params(daily_cap_minutes=4), media_durations={lesson: 3600})
    assert capped.media_credited == {(1, lesson): 240}
    # Lessons without a media length are not budgeted.
    assert credit(session(beats=10)).media_credited == {}


def test_the_daily_cap_is_applied_across_courses_in_time_order() -> None:
    events = session(enrolment=1, sid="a", beats=10) + session(
        enrolment=2, sid="b", start=T + 3600, beats=10
    )
    result = credit(events, Params(daily_cap_minutes=15))
    assert result.totals() == {1: (600, 0), 2: (300, 300)}
    assert rules_of(result) == {rules.DAILY_CAP: 300}


def test_only_time_inside_the_day_counts() -> None:
    result = rules.credit_day(session(start=DAY1 - 300, beats=10), day_start=DAY0, day_end=DAY1)
    assert result.totals() == {1: (300, 0)}
    next_day = rules.credit_day(
        session(start=DAY1 - 300, beats=10), day_start=DAY1, day_end=DAY1 + 86400
    )
    assert next_day.totals() == {1: (300, 0)}


def test_a_session_without_heartbeats_credits_nothing() -> None:
    assert credit(session(beats=0)).totals() == {}


def test_without_face_check_rule_everything_observed_is_credited() -> None:
    assert credit(session(face=None), NO_FACE).totals() == {1: (600, 0)}
