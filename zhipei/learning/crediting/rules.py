"""The crediting rules as pure functions (no database, no clock): from one person's events
around one day, build sessions and decide, second by second, what is credited and, for what
is not, which rule decided it (ARCHITECTURE invariant 8).

Time is whole seconds since the epoch. A session (docs/xapi-profile.md §5) is the events with
one session id: `initialized` (with the start face check), `progressed` heartbeats and
`terminated`, each heartbeat's `result.duration` covering the time since the previous one.
Observed time is the union of those heartbeat intervals, never earlier than the session's start
nor earlier than the previous heartbeat. Each observed second is then either credited or taken
by the first rule that applies, in this order:

1. `face_check_failed` / `face_check_missing` — no passed face check before the session, a failed
   or missed check (until the next passed one), or no passed check within the policy's interval;
2. `idle` — from `idle.since` of a `suspended` statement until `resumed` (or the session's end),
   and the part of any heartbeat longer than the idle limit beyond that limit;
3. `seek_forward` — heartbeats playing media beyond the furthest position reached without a
   forward jump (when the policy does not allow seeking forward); the touching heartbeats
   past one jump make one block, from the jump's positions, decided on all their statements;
4. `overlap` — time another session of the same person (any course, any platform) already
   holds: the earlier-started session keeps it;
5. `beyond_media_duration` — credited time on a media lesson beyond the media's length, counted
   over all days: what earlier days credited on the lesson (`media_used`) comes off its budget
   first, and within the day the earlier time keeps it;
6. `daily_cap` — the person's credited time of the day beyond the policy's cap.

So credited + uncredited = observed, no wall-clock second is credited twice for a person, and
the cap is never exceeded; the same events in any order give the same result.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Verbs, by the short names events carry (zhipei.lrs_documents.profile has the IRIs).
LAUNCHED = "launched"
INITIALIZED = "initialized"
PROGRESSED = "progressed"
SUSPENDED = "suspended"
RESUMED = "resumed"
TERMINATED = "terminated"
SEEKED = "seeked"

FACE_CHECK_MISSING = "face_check_missing"
FACE_CHECK_FAILED = "face_check_failed"
IDLE = "idle"
SEEK_FORWARD = "seek_forward"
OVERLAP = "overlap"
BEYOND_MEDIA_DURATION = "beyond_media_duration"
DAILY_CAP = "daily_cap"

# Media positions reported by heartbeats are rounded by players: a jump of up to this many
# seconds past the furthest position is not a seek.
SEEK_TOLERANCE_SECONDS = 5.0

_VERB_RANK = {
    LAUNCHED: 0,
    INITIALIZED: 1,
    RESUMED: 2,
    SEEKED: 3,
    PROGRESSED: 4,
    SUSPENDED: 5,
    TERMINATED: 6,
}
_FOREVER = 1 << 62


@dataclass(frozen=True)
class Params:
    """The crediting policy's parameters (policy-rules.md §15); defaults are the built-in
    ones used when no CreditingPolicy is in force."""

    minutes_per_class_hour: int = 45
    daily_cap_minutes: int | None = None
    face_check_required: bool = True
    face_check_interval_minutes: int | None = 30
    idle_after_minutes: int = 10
    allow_seek_forward: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "minutes_per_class_hour": self.minutes_per_class_hour,
            "daily_cap_minutes": self.daily_cap_minutes,
            "face_check_required": self.face_check_required,
            "face_check_interval_minutes": self.face_check_interval_minutes,
            "idle_after_minutes": self.idle_after_minutes,
            "allow_seek_forward": self.allow_seek_forward,
        }


DEFAULT_PARAMS = Params()


class Event(NamedTuple):
    """One statement as the rules see it. `enrolment` is the enrolment id the statement's
    learner and course resolve to; `session` the session id (cmi5 extension); `lesson` the
    object's activity IRI. `face_check` is (result, checked_at), `segment` the media positions
    (from, to) played, `seek` the positions (from, to) of a seek, `idle_since` the start of an
    idle pause. A named tuple: the crediting pass builds one per statement, and a tuple is
    built in a third of a frozen dataclass's time."""

    statement_id: str
    at: int
    verb: str
    enrolment: int
    session: str
    lesson: str = ""
    duration: int | None = None
    face_check: tuple[str, int] | None = None
    segment: tuple[float, float] | None = None
    seek: tuple[float, float] | None = None
    idle_since: int | None = None


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch [start, end) of one enrolment's observed time: credited when `rule` is
    empty, else not credited because of `rule` with `parameters`, decided on `statement_ids`."""

    start: int
    end: int
    enrolment: int
    rule: str = ""
    parameters: tuple[tuple[str, Any], ...] = ()
    statement_ids: tuple[str, ...] = ()

    @property
    def seconds(self) -> int:
        return self.end - self.start


MediaKey = tuple[int, str]  # (enrolment, lesson activity IRI)


@dataclass
class DayResult:
    """The day's credited and uncredited pieces. `media_credited` holds, for every media
    lesson with time left after rules 1–4, the seconds credited on it this day (0 included),
    so that later days can take them off the lesson's budget."""

    credited: list[Piece] = field(default_factory=list)
    uncredited: list[Piece] = field(default_factory=list)
    media_credited: dict[MediaKey, int] = field(default_factory=dict)

    def totals(self) -> dict[int, tuple[int, int]]:
        """enrolment → (credited seconds, uncredited seconds)."""
        out: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for piece in self.credited:
            out[piece.enrolment][0] += piece.seconds
        for piece in self.uncredited:
            out[piece.enrolment][1] += piece.seconds
        return {key: (value[0], value[1]) for key, value in out.items()}


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    end: int
    rule: str
    parameters: tuple[tuple[str, Any], ...]
    statement_ids: tuple[str, ...]


@dataclass
class _Session:
    enrolment: int
    session: str
    lesson: str
    start: int
    first_statement: str
    observed: list[tuple[int, int]]
    blocks: list[_Block]


def _sort_key(event: Event) -> tuple[int, int, str]:
    return (event.at, _VERB_RANK.get(event.verb, 9), event.statement_id)


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _cut(
    pieces: list[tuple[int, int]], block: _Block, taken: list[_Block]
) -> list[tuple[int, int]]:
    """Remove `block` from the disjoint `pieces`; what it removes goes to `taken`."""
    kept: list[tuple[int, int]] = []
    for start, end in pieces:
        if end <= block.start or start >= block.end:
            kept.append((start, end))
            continue
        if start < block.start:
            kept.append((start, block.start))
        low, high = max(start, block.start), min(end, block.end)
        taken.append(_Block(low, high, block.rule, block.parameters, block.statement_ids))
        if end > block.end:
            kept.append((block.end, end))
    return kept


def _face_blocks(events: Sequence[Event], start: int, end: int, params: Params) -> list[_Block]:
    interval = params.face_check_interval_minutes
    checks = sorted(
        (event.face_check[1], event.face_check[0], event.statement_id)
        for event in events
        if event.face_check is not None
    )
    blocks: list[_Block] = []
    cursor = start
    ok_until = -_FOREVER
    code = FACE_CHECK_MISSING
    parameters: tuple[tuple[str, Any], ...] = (("when", "session_start"),)
    ids: tuple[str, ...] = ()

    def advance(until: int) -> None:
        nonlocal cursor
        until = min(until, end)
        if until <= cursor:
            return
        blocked_from = max(cursor, min(ok_until, until))
        if blocked_from < until:
            blocks.append(_Block(blocked_from, until, code, parameters, ids))
        cursor = until

    for checked_at, result, statement_id in checks:
        advance(checked_at)
        if result == "passed":
            ok_until = _FOREVER if interval is None else checked_at + interval * 60
            code = FACE_CHECK_MISSING
            parameters = (("interval_minutes", interval),)
            ids = (statement_id,)
        else:
            ok_until = min(ok_until, checked_at)
            code = FACE_CHECK_FAILED
            parameters = (("result", result),)
            ids = (statement_id,)
    advance(end)
    return blocks


def _observe(
    beats: Sequence[Event], seeks: Sequence[tuple[int, str]], start: int, params: Params
) -> tuple[list[tuple[int, int]], list[_Block], list[_Block]]:
    """Observed intervals of a session's heartbeats, the idle blocks of over-long heartbeats
    and the seek-forward blocks of heartbeats playing past a forward jump."""
    idle_limit = params.idle_after_minutes * 60
    observed: list[tuple[int, int]] = []
    blocks_idle: list[_Block] = []
    blocks_seek: list[_Block] = []
    previous = start
    frontier: float | None = None
    last_seek: tuple[str, ...] = ()
    seek_index = 0
    for beat in beats:
        low = max(beat.at - (beat.duration or 0), previous)
        high = beat.at
        previous = max(previous, high)
        if high <= low:
            continue
        observed.append((low, high))
        if high - low > idle_limit:
            idle_parameters = (("idle_after_minutes", params.idle_after_minutes),)
            blocks_idle.append(
                _Block(low + idle_limit, high, IDLE, idle_parameters, (beat.statement_id,))
            )
        while seek_index < len(seeks) and seeks[seek_index][0] <= beat.at:
            last_seek = (seeks[seek_index][1],)
            seek_index += 1
        if beat.segment is None:
            continue
        seg_from, seg_to = beat.segment
        if frontier is None:
            frontier = max(seg_from, seg_to)
        elif seg_from > frontier + SEEK_TOLERANCE_SECONDS and not params.allow_seek_forward:
            last = blocks_seek[-1] if blocks_seek else None
            if last is not None and last.end == low and last.parameters[0][1] == round(frontier):
                # Still past the same jump: one block from the jump on, with every statement.
                ids = last.statement_ids + tuple(
                    i for i in (*last_seek, beat.statement_id) if i not in last.statement_ids
                )
                blocks_seek[-1] = _Block(last.start, high, SEEK_FORWARD, last.parameters, ids)
                continue
            seek_parameters = (("position_from", round(frontier)), ("position_to", round(seg_from)))
            blocks_seek.append(
                _Block(low, high, SEEK_FORWARD, seek_parameters, (*last_seek, beat.statement_id))
            )
        else:
            frontier = max(frontier, seg_to)
    return observed, blocks_idle, blocks_seek


def _pause_blocks(events: Sequence[Event], start: int, end: int) -> list[_Block]:
    """Idle pauses reported by the platform: from idle.since until resumed (or the end)."""
    blocks: list[_Block] = []
    pause_since: int | None = None
    pause_id = ""
    parameters = (("source", "suspended"),)
    for event in events:
        if event.verb == SUSPENDED and event.idle_since is not None and pause_since is None:
            pause_since, pause_id = max(event.idle_since, start), event.statement_id
        elif event.verb == RESUMED and pause_since is not None:
            blocks.append(_Block(pause_since, event.at, IDLE, parameters, (pause_id,)))
            pause_since = None
    if pause_since is not None:
        blocks.append(_Block(pause_since, end, IDLE, parameters, (pause_id,)))
    return blocks


def _build_session(events: Sequence[Event], params: Params) -> _Session | None:
    initialized = [e.at for e in events if e.verb == INITIALIZED]
    beats = [e for e in events if e.verb in (PROGRESSED, TERMINATED) and e.duration is not None]
    if not beats:
        return None
    start = min(initialized) if initialized else min(b.at - (b.duration or 0) for b in beats)
    seeks = sorted((e.at, e.statement_id) for e in events if e.verb == SEEKED and e.seek)
    observed, blocks_idle, blocks_seek = _observe(beats, seeks, start, params)
    if not observed:
        return None
    end = max(high for _low, high in observed)
    blocks: list[_Block] = []
    if params.face_check_required:
        blocks.extend(_face_blocks(events, start, end, params))
    blocks.extend(blocks_idle)
    blocks.extend(_pause_blocks(events, start, end))
    blocks.extend(blocks_seek)
    return _Session(
        enrolment=events[0].enrolment,
        session=events[0].session,
        lesson=next((e.lesson for e in events if e.lesson), ""),
        start=start,
        first_statement=min(e.statement_id for e in events if e.at == events[0].at),
        observed=_merge(observed),
        blocks=blocks,
    )


def build_sessions(events: Iterable[Event], params: Params) -> list[_Session]:
    """Group events by (enrolment, session id) and build each session, earliest start first."""
    grouped: dict[tuple[int, str], list[Event]] = defaultdict(list)
    for event in events:
        grouped[(event.enrolment, event.session)].append(event)
    sessions: list[_Session] = []
    for group in grouped.values():
        group.sort(key=_sort_key)
        built = _build_session(group, params)
        if built is not None:
            sessions.append(built)
    sessions.sort(key=lambda s: (s.start, s.enrolment, s.session))
    return sessions


class _Timeline:
    """Credited wall-clock time of one person: disjoint intervals sorted by start, each with
    the session holding it."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.items: list[tuple[int, int, _Session]] = []

    def subtract(
        self, start: int, end: int
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int, _Session]]]:
        """Split [start, end) into the free parts and the parts already held (with holder)."""
        free: list[tuple[int, int]] = []
        held: list[tuple[int, int, _Session]] = []
        index = max(bisect.bisect_right(self.starts, start) - 1, 0)
        cursor = start
        while index < len(self.items) and cursor < end:
            low, high, owner = self.items[index]
            index += 1
            if high <= cursor:
                continue
            if low >= end:
                break
            if low > cursor:
                free.append((cursor, low))
            held.append((max(low, cursor), min(high, end), owner))
            cursor = min(high, end)
        if cursor < end:
            free.append((cursor, end))
        return free, held

    def add(self, start: int, end: int, owner: _Session) -> None:
        index = bisect.bisect_left(self.starts, start)
        self.starts.insert(index, start)
        self.items.insert(index, (start, end, owner))


def credit_day(
    events: Iterable[Event],
    *,
    day_start: int,
    day_end: int,
    params: Params = DEFAULT_PARAMS,
    media_durations: Mapping[str, int] | None = None,
    media_used: Mapping[MediaKey, int] | None = None,
) -> DayResult:
    """Credit one person's day [day_start, day_end). `events` may include statements from
    around the day (sessions crossing midnight); only time inside the day is counted.
    `media_durations` maps a media lesson's activity IRI to its length in seconds;
    `media_used` the seconds already credited on (enrolment, lesson) on earlier days."""
    media = media_durations or {}
    sessions = build_sessions(events, params)
    timeline = _Timeline()
    uncredited: list[Piece] = []
    candidates: list[tuple[int, int, _Session]] = []

    def clip(start: int, end: int) -> tuple[int, int] | None:
        low, high = max(start, day_start), min(end, day_end)
        return (low, high) if high > low else None

    for session in sessions:
        remaining = session.observed
        taken: list[_Block] = []
        for block in session.blocks:
            remaining = _cut(remaining, block, taken)
        for block in taken:
            span = clip(block.start, block.end)
            if span:
                uncredited.append(
                    Piece(
                        span[0],
                        span[1],
                        session.enrolment,
                        block.rule,
                        block.parameters,
                        block.statement_ids,
                    )
                )
        for start, end in remaining:
            free, held = timeline.subtract(start, end)
            for low, high, owner in held:
                span = clip(low, high)
                if span:
                    uncredited.append(
                        Piece(
                            span[0],
                            span[1],
                            session.enrolment,
                            OVERLAP,
                            (("other_enrolment", owner.enrolment),),
                            (owner.first_statement,),
                        )
                    )
            for low, high in free:
                timeline.add(low, high, session)
                span = clip(low, high)
                if span:
                    candidates.append((span[0], span[1], session))

    media_credited: dict[MediaKey, int] = {}
    credited = _apply_budgets(
        candidates,
        params,
        media=media,
        media_used=media_used or {},
        uncredited=uncredited,
        media_credited=media_credited,
    )
    return DayResult(
        credited=_coalesce(credited),
        uncredited=_coalesce(uncredited),
        media_credited=media_credited,
    )


def _media_parameters(duration: int, earlier: int) -> tuple[tuple[str, Any], ...]:
    if earlier > 0:
        return (("media_duration_seconds", duration), ("credited_earlier_seconds", earlier))
    return (("media_duration_seconds", duration),)


def _apply_budgets(
    candidates: list[tuple[int, int, _Session]],
    params: Params,
    *,
    media: Mapping[str, int],
    media_used: Mapping[MediaKey, int],
    uncredited: list[Piece],
    media_credited: dict[MediaKey, int],
) -> list[Piece]:
    """In time order, take what exceeds a media lesson's length (per enrolment and lesson,
    less what earlier days credited on it) and then what exceeds the daily cap; the rest is
    credited. `media_credited` receives the seconds credited on each media lesson."""
    candidates.sort(key=lambda c: (c[0], c[1]))
    budgets: dict[MediaKey, int] = {}
    cap = None if params.daily_cap_minutes is None else params.daily_cap_minutes * 60
    used = 0
    credited: list[Piece] = []
    for start, end, session in candidates:
        pieces = [(start, end)]
        duration = media.get(session.lesson)
        key = (session.enrolment, session.lesson)
        if duration is not None:
            earlier = max(media_used.get(key, 0), 0)
            left = budgets.get(key, max(duration - earlier, 0))
            allowed = min(left, end - start)
            budgets[key] = left - allowed
            media_credited.setdefault(key, 0)
            if allowed < end - start:
                uncredited.append(
                    Piece(
                        start + allowed,
                        end,
                        session.enrolment,
                        BEYOND_MEDIA_DURATION,
                        _media_parameters(duration, earlier),
                        (session.first_statement,),
                    )
                )
                pieces = [(start, start + allowed)] if allowed > 0 else []
        for low, high in pieces:
            upto = high
            if cap is not None:
                upto = low + max(min(cap - used, high - low), 0)
                if upto < high:
                    cap_parameters = (("daily_cap_minutes", params.daily_cap_minutes),)
                    uncredited.append(
                        Piece(upto, high, session.enrolment, DAILY_CAP, cap_parameters, ())
                    )
            if upto > low:
                used += upto - low
                credited.append(Piece(low, upto, session.enrolment))
                if duration is not None:
                    media_credited[key] += upto - low
    return credited


def _coalesce(pieces: list[Piece]) -> list[Piece]:
    """Sort, and join touching pieces of one enrolment with the same rule and reason."""
    pieces.sort(key=lambda p: (p.enrolment, p.start, p.end, p.rule, p.parameters, p.statement_ids))
    out: list[Piece] = []
    for piece in pieces:
        if out:
            last = out[-1]
            if (
                last.enrolment == piece.enrolment
                and last.end == piece.start
                and last.rule == piece.rule
                and last.parameters == piece.parameters
                and last.statement_ids == piece.statement_ids
            ):
                out[-1] = Piece(
                    last.start,
                    piece.end,
                    last.enrolment,
                    last.rule,
                    last.parameters,
                    last.statement_ids,
                )
                continue
        out.append(piece)
    return out


def observed_seconds(
    events: Iterable[Event], *, day_start: int, day_end: int, params: Params = DEFAULT_PARAMS
) -> dict[int, int]:
    """enrolment → observed seconds inside the day (before any rule)."""
    out: dict[int, int] = defaultdict(int)
    for session in build_sessions(events, params):
        for start, end in session.observed:
            low, high = max(start, day_start), min(end, day_end)
            if high > low:
                out[session.enrolment] += high - low
    return dict(out)
