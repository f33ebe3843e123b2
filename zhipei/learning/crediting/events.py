"""Reading a stored statement as a crediting `Event`: the verb, the session id and the
profile's extensions (docs/xapi-profile.md §5–§8, zhipei/lrs_documents/profile.py).
Pure apart from the statement's own fields; anything malformed is simply left out of the
event (the statement is stored all the same and its time just is not backed by evidence)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import orjson

from zhipei.learning.crediting import rules
from zhipei.lrs import evidence
from zhipei.lrs.formats import BIG_INTEGER_DIGITS, has_digit_run
from zhipei.lrs_documents import profile

_VERBS = {
    profile.LAUNCHED: rules.LAUNCHED,
    profile.INITIALIZED: rules.INITIALIZED,
    profile.PROGRESSED: rules.PROGRESSED,
    profile.SUSPENDED: rules.SUSPENDED,
    profile.RESUMED: rules.RESUMED,
    profile.TERMINATED: rules.TERMINATED,
    profile.SEEKED: rules.SEEKED,
}
_IRIS = {short: iri for iri, short in _VERBS.items()}
# The profile's extension IRIs of a site (kept here under the name crediting used first).
ProfileIris = evidence.ProfileIris


def crediting_verb(verb_iri: str) -> str | None:
    """The short verb name for a session verb, None for verbs crediting ignores."""
    return _VERBS.get(verb_iri)


# A heartbeat's result.duration covers the time since the previous one. A platform's session
# has none over a day; a longer one (P3000000Y is valid xAPI) is read as a day, so the idle
# rule explains the time, and no date arithmetic leaves the calendar.
MAX_DURATION_SECONDS = 86_400


def credible_duration(seconds: float | None) -> float | None:
    """A statement's extracted duration as crediting reads it: None unless finite and
    positive, at most MAX_DURATION_SECONDS."""
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(seconds, MAX_DURATION_SECONDS)


def event_from_evidence(  # noqa: PLR0917 - once per statement: keywords cost a third more
    statement_id: str,
    verb: str,
    at: int,
    enrolment: int,
    lesson: str,
    duration_seconds: float | None,
    found: evidence.Evidence,
    /,
) -> rules.Event:
    """The event of one session statement (`verb` already mapped by `crediting_verb`, `at`
    its time in epoch seconds) from its stored evidence. Positional, as the Event it builds:
    the crediting pass calls it once per statement, and keywords cost a third more."""
    credible = credible_duration(duration_seconds)
    duration = None if credible is None else round(credible)
    (session, face, face_at, segment_from, segment_to, seek_from, seek_to, idle_since) = found
    return rules.Event(
        statement_id,
        at,
        verb,
        enrolment,
        session,
        lesson,
        duration,
        None if face is None else (face, at if face_at is None else face_at),
        # (extract gives both ends of a segment or a seek, or neither)
        None if segment_from is None or segment_to is None else (segment_from, segment_to),
        None if seek_from is None or seek_to is None else (seek_from, seek_to),
        idle_since,
    )


def event_from_payload(
    *,
    statement_id: str,
    verb: str,
    at: datetime,
    enrolment: int,
    lesson: str,
    duration_seconds: float | None,
    payload: dict[str, Any],
    iris: ProfileIris,
) -> rules.Event:
    """The event of one session statement (`verb` already mapped by `crediting_verb`) from
    the statement itself, for statements stored before their evidence was."""
    return event_from_evidence(
        statement_id,
        verb,
        math.floor(at.timestamp()),
        enrolment,
        lesson,
        duration_seconds,
        evidence.extract(payload, verb_id=_IRIS[verb], lesson=lesson, iris=iris),
    )


def parse_payload(text: str) -> dict[str, Any]:
    """The stored statement JSON as a dict ({} when it is not an object), exactly as
    json.loads reads it. orjson is several times faster; what it refuses and json takes (NaN,
    Infinity, numbers out of a double's range, lone surrogates) goes to json, and so does
    anything with an integer literal it could read differently (as the LRS's load_json)."""
    try:
        exact = has_digit_run(text, BIG_INTEGER_DIGITS)
        data = json.loads(text) if exact else orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            data = json.loads(text)
        except ValueError:
            return {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
