"""Reading a stored statement as a crediting `Event`: the verb, the session id and the
profile's extensions (docs/xapi-profile.md §5–§8, zhipei/lrs_documents/profile.py).
Pure apart from the statement's own fields; anything malformed is simply left out of the
event (the statement is stored all the same and its time just is not backed by evidence)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from zhipei.learning.crediting import rules
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
_FACE_RESULTS = {"passed", "failed", "missed"}


@dataclass(frozen=True)
class ProfileIris:
    face_check: str
    media_segment: str
    idle: str

    @classmethod
    def for_site(cls, site_url: str) -> ProfileIris:
        return cls(
            face_check=profile.face_check_iri(site_url),
            media_segment=profile.media_segment_iri(site_url),
            idle=profile.idle_iri(site_url),
        )


def crediting_verb(verb_iri: str) -> str | None:
    """The short verb name for a session verb, None for verbs crediting ignores."""
    return _VERBS.get(verb_iri)


def _epoch(text: object) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return math.floor(moment.timestamp())


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


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
    """The event of one session statement (`verb` already mapped by `crediting_verb`)."""
    context = payload.get("context")
    context = context if isinstance(context, dict) else {}
    context_ext = context.get("extensions")
    context_ext = context_ext if isinstance(context_ext, dict) else {}
    session = context_ext.get(profile.SESSION_ID)
    if not isinstance(session, str) or not session:
        # Off-profile: without a session id each registration and lesson is one session.
        session = f"~{context.get('registration') or ''}~{lesson}"
    result = payload.get("result")
    result = result if isinstance(result, dict) else {}
    result_ext = result.get("extensions")
    result_ext = result_ext if isinstance(result_ext, dict) else {}
    moment = math.floor(at.timestamp())

    face_check: tuple[str, int] | None = None
    face = result_ext.get(iris.face_check)
    if isinstance(face, dict) and face.get("result") in _FACE_RESULTS:
        checked_at = _epoch(face.get("checkedAt"))
        face_check = (str(face["result"]), moment if checked_at is None else checked_at)

    segment: tuple[float, float] | None = None
    raw_segment = result_ext.get(iris.media_segment)
    if isinstance(raw_segment, dict):
        seg_from, seg_to = _number(raw_segment.get("from")), _number(raw_segment.get("to"))
        if seg_from is not None and seg_to is not None:
            segment = (seg_from, seg_to)

    seek: tuple[float, float] | None = None
    if verb == rules.SEEKED:
        time_from = _number(result_ext.get(profile.TIME_FROM))
        time_to = _number(result_ext.get(profile.TIME_TO))
        if time_from is not None and time_to is not None:
            seek = (time_from, time_to)

    idle_since: int | None = None
    if verb == rules.SUSPENDED:
        idle = result_ext.get(iris.idle)
        if isinstance(idle, dict):
            idle_since = _epoch(idle.get("since"))

    duration: int | None = None
    if duration_seconds is not None and math.isfinite(duration_seconds) and duration_seconds > 0:
        duration = round(duration_seconds)

    return rules.Event(
        statement_id=statement_id,
        at=moment,
        verb=verb,
        enrolment=enrolment,
        session=session,
        lesson=lesson,
        duration=duration,
        face_check=face_check,
        segment=segment,
        seek=seek,
        idle_since=idle_since,
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
