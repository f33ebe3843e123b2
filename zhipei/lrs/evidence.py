"""A session statement's evidence under the reporting profile (docs/xapi-profile.md §5–§8):
the session id, a face check, the media positions played, a seek and the start of an idle
pause. The LRS extracts it once, when it stores the statement, into `Statement.evidence`,
so the crediting pass reads a short column instead of parsing the statement JSON again
(docs/decisions/0005-statement-evidence.md).

Extraction never refuses anything: what is malformed is left out (the statement is stored
all the same and its time is simply not backed by that evidence). Statements stored before
the column existed have none; the crediting pass extracts theirs from the payload with the
same function, so both give the same events.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from zhipei.lrs.formats import finite_float
from zhipei.lrs_documents import profile

# The verbs of a learning session; only their statements carry evidence.
SESSION_VERBS = frozenset(
    {
        profile.LAUNCHED,
        profile.INITIALIZED,
        profile.PROGRESSED,
        profile.SUSPENDED,
        profile.RESUMED,
        profile.TERMINATED,
        profile.SEEKED,
    }
)
FACE_RESULTS = frozenset({"passed", "failed", "missed"})


@dataclass(frozen=True)
class ProfileIris:
    """The site's own extension IRIs (they are under SITE_URL)."""

    face_check: str
    media_segment: str
    idle: str

    @classmethod
    def for_site(cls, site_url: str) -> ProfileIris:
        return _iris(site_url)


@lru_cache(maxsize=8)
def _iris(site_url: str) -> ProfileIris:
    return ProfileIris(
        face_check=profile.face_check_iri(site_url),
        media_segment=profile.media_segment_iri(site_url),
        idle=profile.idle_iri(site_url),
    )


class Evidence(NamedTuple):
    """`session` is the cmi5 session id, or for an off-profile statement without one
    "~<registration>~<lesson>" (each registration and lesson is then one session).
    `face_result` is passed, failed or missed, `face_at` the check's own time (epoch seconds)
    when it gave a valid one; `segment_*` the media positions played; `seek_*` the positions
    of a seek (seeked only); `idle_since` the start of an idle pause (suspended only)."""

    session: str
    face_result: str | None = None
    face_at: int | None = None
    segment_from: float | None = None
    segment_to: float | None = None
    seek_from: float | None = None
    seek_to: float | None = None
    idle_since: int | None = None


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
    number = finite_float(value)
    return number if number is not None and number >= 0 else None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def extract(data: dict[str, Any], *, verb_id: str, lesson: str, iris: ProfileIris) -> Evidence:
    """The evidence of a statement (`data`, the parsed statement) with a session verb;
    `lesson` is its stored activity id."""
    context = _object(data.get("context"))
    session = _object(context.get("extensions")).get(profile.SESSION_ID)
    if not isinstance(session, str) or not session:
        session = f"~{context.get('registration') or ''}~{lesson}"
    result_ext = _object(_object(data.get("result")).get("extensions"))

    face_result = face_at = None
    face = result_ext.get(iris.face_check)
    if isinstance(face, dict) and face.get("result") in FACE_RESULTS:
        face_result, face_at = str(face["result"]), _epoch(face.get("checkedAt"))

    segment_from = segment_to = None
    segment = result_ext.get(iris.media_segment)
    if isinstance(segment, dict):
        segment_from, segment_to = _number(segment.get("from")), _number(segment.get("to"))
        if segment_from is None or segment_to is None:
            segment_from = segment_to = None

    seek_from = seek_to = None
    if verb_id == profile.SEEKED:
        seek_from, seek_to = (
            _number(result_ext.get(profile.TIME_FROM)),
            _number(result_ext.get(profile.TIME_TO)),
        )
        if seek_from is None or seek_to is None:
            seek_from = seek_to = None

    idle_since = None
    if verb_id == profile.SUSPENDED:
        idle = result_ext.get(iris.idle)
        if isinstance(idle, dict):
            idle_since = _epoch(idle.get("since"))

    return Evidence(
        session, face_result, face_at, segment_from, segment_to, seek_from, seek_to, idle_since
    )


def encode(evidence: Evidence) -> str:
    """The stored text: a JSON array in field order."""
    try:
        return orjson.dumps(tuple(evidence)).decode()
    except TypeError:  # a string with a lone surrogate, which only json writes (escaped)
        return json.dumps(evidence)


_FIELDS = len(Evidence._fields)


def decode(text: str) -> Evidence | None:
    """The evidence from its stored text; None when the text is not what encode writes."""
    try:
        values = orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            values = json.loads(text)
        except ValueError:
            return None
    if type(values) is not list or len(values) != _FIELDS or type(values[0]) is not str:
        return None
    return Evidence._make(values)


def for_statement(data: dict[str, Any], *, verb_id: str, lesson: str, site_url: str) -> str:
    """What the LRS stores in `Statement.evidence`: the encoded evidence of a statement with
    a session verb, "" for any other."""
    if verb_id not in SESSION_VERBS:
        return ""
    return encode(extract(data, verb_id=verb_id, lesson=lesson, iris=_iris(site_url)))
