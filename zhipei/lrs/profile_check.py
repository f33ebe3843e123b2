"""Checking statements against the Zhipei reporting profile (docs/xapi-profile.md), for a
platform before it goes live: POST /api/v1/profile/validate and `manage.py
validate_statements`. The LRS stores every statement that is valid xAPI, even off-profile
ones; this is the only place that tells a platform, statement by statement, what breaks the
profile and why.

`check_statements` is pure (no database, no clock). Each statement is first checked as the
LRS checks it (zhipei.lrs.validation, plus the LRS's refusal of resident ID numbers); a
statement the LRS would refuse is reported with that one xAPI error and nothing else. Then
the profile: the statement template of its verb (zhipei.lrs_documents.profile: the object's
activity type and every included / excluded / recommended rule), the value types of the
profile's extensions, timestamps and durations, and, across the statements given, the
session pattern (initialized before the session's other events, terminated last, one lesson
and registration per session). `catalogue_for` reads what the database knows about the
platform's learners and courses; given to `check_statements`, unknown pseudonyms and activity
IRIs become warnings (such statements are stored but not credited).

Every problem has a stable `code`; its message is rendered with gettext from the code and
the problem's parameters when it is shown (`RULE_CODES` lists them all).
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import Any, TypeGuard

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhipei.core.text import is_storable_text
from zhipei.lrs.formats import (
    XapiInvalid,
    finite_float,
    parse_duration_seconds,
    parse_timestamp,
)
from zhipei.lrs.services import payload_bytes, refuse_id_numbers
from zhipei.lrs.validation import MAX_JSON_DEPTH, VOIDED_VERB, depth_exceeds, prepare_statement
from zhipei.lrs_documents import profile as xp

ERROR = "error"
WARNING = "warning"

# The LRS's limits for one POST /xapi/statements (zhipei.lrs.views), used by the validator's
# endpoint too, so that what passes here fits one request to the LRS.
DEFAULT_MAX_STATEMENTS = 1000

# Heartbeats come at least every 60 seconds (docs/xapi-profile.md §5).
HEARTBEAT_SECONDS = 60

_SESSION_VERBS = {
    xp.LAUNCHED: "launched",
    xp.INITIALIZED: "initialized",
    xp.PROGRESSED: "progressed",
    xp.SEEKED: "seeked",
    xp.SUSPENDED: "suspended",
    xp.RESUMED: "resumed",
    xp.TERMINATED: "terminated",
}
# Events at the same instant are ordered as the crediting engine orders them.
_VERB_RANK = {
    "launched": 0,
    "initialized": 1,
    "resumed": 2,
    "seeked": 3,
    "progressed": 4,
    "suspended": 5,
    "terminated": 6,
}
_ONCE_PER_SESSION = ("launched", "initialized", "terminated")
# Lesson kinds of zhipei.catalog.models.Lesson reported with the media activity type (§4).
_MEDIA_KINDS = frozenset({"video", "audio"})
_TIMESTAMP_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)\Z", re.ASCII)


@dataclass(frozen=True)
class RuleCode:
    severity: str
    message: str | Promise


RULE_CODES: dict[str, RuleCode] = {
    # --- what the LRS refuses -------------------------------------------------------------
    "xapi_invalid": RuleCode(
        ERROR, _("Not valid xAPI, so the LRS refuses this statement: %(error)s")
    ),
    "nested_too_deeply": RuleCode(
        ERROR,
        _(
            "The statement is nested too deeply to be checked or stored; keep extension "
            "values shallow."
        ),
    ),
    "duplicate_property": RuleCode(
        ERROR,
        _(
            'The property "%(property)s" appears more than once in this object, so the LRS '
            "refuses the statement."
        ),
    ),
    "contains_id_number": RuleCode(
        ERROR,
        _(
            "This holds a resident ID number, so the LRS refuses the statement. Report "
            "learners by the pseudonym from POST /api/v1/learners."
        ),
    ),
    "duplicate_statement_id": RuleCode(
        ERROR,
        _(
            "Statement %(first)s has the same id; the LRS refuses a batch that repeats an id "
            "and a statement id is used only once."
        ),
    ),
    # --- which statement template applies --------------------------------------------------
    "verb_not_in_profile": RuleCode(
        ERROR,
        _(
            "The verb %(verb)s is not in the profile, so the statement is stored but never "
            "credited. The profile's verbs: %(verbs)s."
        ),
    ),
    "object_not_activity": RuleCode(
        ERROR,
        _(
            "The object must be an Activity (the lesson, the course or the test), not "
            "%(object_type)s."
        ),
    ),
    "object_type_missing": RuleCode(
        ERROR,
        _(
            "object.definition.type is missing: the object of %(verb)s statements has the "
            "activity type %(expected)s."
        ),
    ),
    "object_type_not_allowed": RuleCode(
        ERROR,
        _("The activity type %(actual)s does not fit %(verb)s statements: use %(expected)s."),
    ),
    # --- the statement templates' rules ----------------------------------------------------
    "actor_not_account": RuleCode(
        ERROR,
        _(
            "The actor must be the learner's pseudonym account: an Agent with account "
            '{"homePage": "%(home_page)s", "name": <pseudonym from POST /api/v1/learners>} '
            "and no mbox, mbox_sha1sum or openid."
        ),
    ),
    "actor_wrong_home_page": RuleCode(
        ERROR,
        _(
            "The account's homePage is %(actual)s; learners' pseudonym accounts have the "
            "homePage %(expected)s."
        ),
    ),
    "actor_has_name": RuleCode(
        ERROR,
        _(
            "Do not send the learner's name: the actor is the pseudonym account only "
            "(docs/xapi-profile.md §3)."
        ),
    ),
    "missing_timestamp": RuleCode(
        ERROR,
        _(
            "The timestamp is missing: send when the event happened on the learner's device, "
            "with its offset (e.g. 2026-05-01T08:30:00+08:00)."
        ),
    ),
    "missing_registration": RuleCode(
        ERROR,
        _(
            "context.registration is missing: send the enrolment's registration UUID, the "
            "same in every statement of one learner on one course."
        ),
    ),
    "missing_session_id": RuleCode(
        ERROR,
        _(
            "The session id is missing: send it in the context extension %(iri)s, the same "
            "in every statement of the session."
        ),
    ),
    "missing_parent_course": RuleCode(
        ERROR,
        _(
            "context.contextActivities.parent is missing: name the course there by its "
            "activity IRI."
        ),
    ),
    "initialized_without_face_check": RuleCode(
        ERROR,
        _(
            "An initialized statement carries the face check made before the session in the "
            "result extension %(iri)s; a session without a passed check is not credited."
        ),
    ),
    "progressed_without_duration": RuleCode(
        ERROR,
        _(
            "A heartbeat (progressed) needs result.duration, the time since the previous "
            "heartbeat (e.g. PT1M); without it the time is not credited."
        ),
    ),
    "terminated_without_duration": RuleCode(
        ERROR,
        _(
            "A terminated statement needs result.duration, the time since the last heartbeat "
            "(e.g. PT20S); without it that time is not credited."
        ),
    ),
    "seeked_without_positions": RuleCode(
        ERROR,
        _("A seeked statement needs the result extension %(iri)s (a media position in seconds)."),
    ),
    "suspended_without_idle": RuleCode(
        ERROR,
        _("A suspended statement needs the result extension %(iri)s with since (and promptedAt)."),
    ),
    "completed_without_completion": RuleCode(
        ERROR, _("A completed statement needs result.completion: true.")
    ),
    "test_without_success": RuleCode(
        ERROR, _("A test result needs result.success: true for passed, false for failed.")
    ),
    "test_success_mismatch": RuleCode(
        ERROR,
        _(
            "result.success is %(actual)s but the verb is %(verb)s: passed needs true, failed "
            "needs false."
        ),
    ),
    "test_without_score": RuleCode(
        ERROR, _("A test result needs result.score.scaled (from -1 to 1).")
    ),
    "heartbeat_without_segment": RuleCode(
        WARNING,
        _(
            "Recommended: a heartbeat on a video or audio lesson carries the media segment "
            "played in the result extension %(iri)s, so that skipped parts can be told apart."
        ),
    ),
    "heartbeat_without_progress": RuleCode(
        WARNING,
        _("Recommended: report the progress (0 to 100) in the result extension %(iri)s."),
    ),
    # --- values -----------------------------------------------------------------------------
    "timestamp_without_offset": RuleCode(
        WARNING,
        _(
            "The timestamp has no offset and is read as UTC; send the device's offset (e.g. "
            "+08:00) or Z."
        ),
    ),
    "duration_not_positive": RuleCode(
        WARNING,
        _("result.duration is zero: a heartbeat's time is credited only when it is longer."),
    ),
    "heartbeat_too_long": RuleCode(
        WARNING,
        _(
            "result.duration covers %(seconds)s seconds; the profile asks for a heartbeat at "
            "least every %(limit)s seconds, and time beyond the idle limit is not credited."
        ),
    ),
    "session_id_bad_value": RuleCode(ERROR, _("The session id must be a non-empty string.")),
    "face_check_not_object": RuleCode(
        ERROR,
        _(
            "The face check must be an object with result and checkedAt (and optionally "
            "trigger and similarity)."
        ),
    ),
    "face_check_bad_result": RuleCode(
        ERROR, _("The face check's result must be passed, failed or missed.")
    ),
    "face_check_bad_checked_at": RuleCode(
        ERROR,
        _(
            "The face check's checkedAt must be an ISO 8601 timestamp with an offset (e.g. "
            "2026-05-01T08:30:05+08:00)."
        ),
    ),
    "face_check_bad_trigger": RuleCode(
        ERROR, _("The face check's trigger must be session-start or random.")
    ),
    "face_check_bad_similarity": RuleCode(
        ERROR, _("The face check's similarity must be a number from 0 to 1.")
    ),
    "face_check_unknown_property": RuleCode(
        ERROR,
        _(
            '"%(property)s" is not a property of the face check (result, checkedAt, trigger, '
            "similarity)."
        ),
    ),
    "media_segment_not_object": RuleCode(
        ERROR, _("The media segment must be an object with from and to (seconds).")
    ),
    "media_segment_bad_position": RuleCode(
        ERROR,
        _('The media segment\'s "%(property)s" must be a media position in seconds (0 or more).'),
    ),
    "media_segment_unknown_property": RuleCode(
        ERROR, _('"%(property)s" is not a property of the media segment (from, to).')
    ),
    "idle_not_object": RuleCode(
        ERROR, _("The idle extension must be an object with since (and promptedAt).")
    ),
    "idle_bad_since": RuleCode(
        ERROR,
        _(
            "The idle extension's since must be an ISO 8601 timestamp with an offset: the "
            "moment of the learner's last interaction."
        ),
    ),
    "idle_bad_prompted_at": RuleCode(
        ERROR,
        _("The idle extension's promptedAt must be an ISO 8601 timestamp with an offset."),
    ),
    "idle_unknown_property": RuleCode(
        ERROR, _('"%(property)s" is not a property of the idle extension (since, promptedAt).')
    ),
    "media_duration_bad_value": RuleCode(
        ERROR, _("The media duration must be a number of seconds greater than 0.")
    ),
    "progress_bad_value": RuleCode(ERROR, _("The progress must be a number from 0 to 100.")),
    "seek_position_bad_value": RuleCode(
        ERROR, _("A media position must be a number of seconds (0 or more).")
    ),
    "extension_misplaced": RuleCode(
        ERROR,
        _("%(iri)s belongs in %(expected)s; sent in %(actual)s it is ignored."),
    ),
    "extension_wrong_site": RuleCode(
        ERROR,
        _("%(iri)s is not this site's %(name)s extension, so it is ignored: use %(expected)s."),
    ),
    "unknown_profile_extension": RuleCode(
        WARNING,
        _(
            "%(iri)s is not one of the profile's extensions (face-check, media-duration, "
            "media-segment, idle); it is stored but ignored."
        ),
    ),
    # --- the session pattern, across the statements given -----------------------------------
    "session_event_before_initialized": RuleCode(
        ERROR,
        _(
            "This %(verb)s statement is timestamped before the session's initialized "
            "statement (statement %(initialized)s); only time after initialized is credited."
        ),
    ),
    "launched_after_initialized": RuleCode(
        ERROR,
        _(
            "launched is timestamped after the session's initialized statement (statement "
            "%(initialized)s)."
        ),
    ),
    "session_event_after_terminated": RuleCode(
        ERROR,
        _(
            "This %(verb)s statement is timestamped after the session's terminated statement "
            "(statement %(terminated)s); start a new session id for a new sitting."
        ),
    ),
    "session_verb_repeated": RuleCode(
        ERROR,
        _(
            "The session already has its %(verb)s statement (statement %(first)s); a session "
            "has one. Start a new session id for a new sitting."
        ),
    ),
    "session_inconsistent": RuleCode(
        ERROR,
        _(
            "%(property)s differs from the session's first statement (statement %(first)s): "
            "one session is one sitting on one lesson of one enrolment."
        ),
    ),
    "session_without_initialized": RuleCode(
        WARNING,
        _(
            "These statements have no initialized statement for session %(session)s; a "
            "session is credited only from an initialized statement with a passed face check."
        ),
    ),
    "session_without_terminated": RuleCode(
        WARNING,
        _(
            "These statements have no terminated statement for session %(session)s; end "
            "every session with terminated."
        ),
    ),
    "registration_not_constant": RuleCode(
        WARNING,
        _(
            "Statement %(first)s uses another registration (%(other)s) for the same learner "
            "and course; use one registration per enrolment."
        ),
    ),
    # --- against the catalogue (when the platform is known) ---------------------------------
    "unknown_learner": RuleCode(
        WARNING,
        _(
            'Your platform registered no learner with the pseudonym "%(name)s": the statement '
            "is stored but credits nobody."
        ),
    ),
    "unknown_lesson": RuleCode(
        WARNING, _("No lesson your platform published has the activity IRI %(iri)s.")
    ),
    "unknown_course": RuleCode(
        WARNING,
        _(
            "No course your platform published has the activity IRI %(iri)s: the statement is "
            "stored but not credited."
        ),
    ),
    "parent_not_lesson_course": RuleCode(
        ERROR,
        _(
            "The lesson %(lesson)s belongs to the course %(expected)s: name that course in "
            "context.contextActivities.parent."
        ),
    ),
    "object_type_differs_from_lesson": RuleCode(
        WARNING,
        _(
            "The catalogue has this lesson as a %(kind)s lesson, so its activity type is "
            "%(expected)s."
        ),
    ),
    "media_duration_differs": RuleCode(
        WARNING,
        _(
            "The media duration sent (%(sent)s s) differs from the catalogue's (%(catalogue)s "
            "s); the catalogue's is used."
        ),
    ),
}


@dataclass(frozen=True)
class Problem:
    """One way statement `index` breaks the profile. `path` is the JSON path of the value
    (e.g. `statements[3].result.duration`); the message is rendered from `code` and `params`
    in the active language."""

    index: int
    statement_id: str | None
    path: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return RULE_CODES[self.code].severity

    @property
    def message(self) -> str:
        return str(RULE_CODES[self.code].message) % {
            key: _display(value) for key, value in self.params.items()
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.statement_id,
            "path": self.path,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "params": dict(self.params),
        }


class Alternatives(list[str]):
    """A parameter naming the values any one of which would do: shown as "a, b or c" in the
    active language, and as a plain list in the JSON `params`."""


def _display(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Alternatives) and len(value) > 1:
        return _("%(some)s or %(last)s") % {"some": ", ".join(value[:-1]), "last": value[-1]}
    if isinstance(value, list | tuple):
        return ", ".join(_display(item) for item in value)
    return str(value)


@dataclass
class Report:
    """The problems of each statement given, in order (`by_statement[i]` for statement i)."""

    by_statement: list[list[Problem]]

    @property
    def statements(self) -> int:
        return len(self.by_statement)

    @property
    def problems(self) -> list[Problem]:
        return [problem for problems in self.by_statement for problem in problems]

    @property
    def errors(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == WARNING)

    @property
    def statements_with_errors(self) -> int:
        return sum(
            1
            for problems in self.by_statement
            if any(problem.severity == ERROR for problem in problems)
        )

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "statements": self.statements,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [problem.to_json() for problem in self.problems],
        }


@dataclass(frozen=True)
class CatalogueLesson:
    course_iri: str
    kind: str
    media_duration_seconds: int | None


@dataclass(frozen=True)
class Catalogue:
    """What the database knows about one platform, limited to the names and IRIs some
    statements use (see `catalogue_for`)."""

    pseudonyms: frozenset[str] = frozenset()
    courses: frozenset[str] = frozenset()
    lessons: Mapping[str, CatalogueLesson] = field(default_factory=dict)


# --- parsing ---------------------------------------------------------------------------------


class ParsedObject(dict[str, Any]):
    """A JSON object as `parse_json` read it; `duplicates` are the properties it had twice
    (Python keeps the last value; the LRS refuses such a statement)."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> ParsedObject:
    obj = ParsedObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _value in pairs:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        obj.duplicates = tuple(repeated)
    return obj


class NotJsonConstant:
    """NaN, Infinity or -Infinity where a value should be: Python's parser reads them, JSON
    has no such values and the LRS refuses them."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token


class JsonTooDeep(ValueError):
    """JSON nested deeper than Python's parser follows."""


class _NumberTooLong(Exception):
    """An integer literal with more digits than Python converts (sys.get_int_max_str_digits)."""


def _parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _NumberTooLong from None


def parse_json(text: str | bytes) -> Any:
    """Parse JSON as the LRS reads it, but keep going past a property given twice: such
    objects are reported per statement (`duplicate_property`), and so are NaN and Infinity
    (`xapi_invalid`). Raises json.JSONDecodeError (with line and column; also for an integer
    with more digits than Python reads, which the LRS refuses as not JSON), UnicodeDecodeError
    or JsonTooDeep."""
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_constant=NotJsonConstant,
            parse_int=_parse_int,
        )
    except RecursionError:
        raise JsonTooDeep from None
    except _NumberTooLong:
        document = text if isinstance(text, str) else text.decode("utf-8", "replace")
        limit = sys.get_int_max_str_digits()
        run = re.search(r"[0-9]{%d,}" % (limit + 1), document)  # noqa: UP031 - a regex
        message = str(_("a number has more than %(limit)s digits") % {"limit": limit})
        raise json.JSONDecodeError(message, document, run.start() if run else 0) from None


# --- the profile, compiled -------------------------------------------------------------------

_STEP = re.compile(r"\.([A-Za-z_$][A-Za-z0-9_]*)|\['([^']+)'\]|(\[\*\])")


def _steps(location: str) -> tuple[str | None, ...]:
    """The steps of the JSONPath subset the profile's rules use: `$`, `.name`, `['key']` and
    `[*]` (None)."""
    if not location.startswith("$"):
        raise ValueError(location)
    steps: list[str | None] = []
    position = 1
    while position < len(location):
        match = _STEP.match(location, position)
        if match is None:
            raise ValueError(location)
        name, key, _star = match.groups()
        steps.append(name if name is not None else key)
        position = match.end()
    return tuple(steps)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


def _child(path: str, key: str) -> str:
    if _NAME.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _location_path(base: str, steps: Iterable[str | None]) -> str:
    """Where a missing value belongs: the location's path up to its first `[*]`."""
    path = base
    for step in steps:
        if step is None:
            break
        path = _child(path, step)
    return path


@dataclass(frozen=True)
class _Rule:
    location: str
    steps: tuple[str | None, ...]
    presence: str
    allowed: tuple[Any, ...] | None
    code: str
    value_code: str | None
    params: Mapping[str, Any]
    media_only: bool = False


@dataclass(frozen=True)
class _Template:
    name: str
    verb: str
    object_types: tuple[str, ...]
    rules: tuple[_Rule, ...]


@dataclass(frozen=True)
class _Profile:
    site_url: str
    home_page: str
    templates: Mapping[str, _Template]
    face_check: str
    media_duration: str
    media_segment: str
    idle: str
    # The JSON Schema (inlineSchema) of each of the profile's own extensions, by IRI.
    schemas: Mapping[str, dict[str, Any]]

    def properties(self, iri: str) -> dict[str, dict[str, Any]]:
        properties: dict[str, dict[str, Any]] = self.schemas[iri]["properties"]
        return properties


def _rule_codes(
    face_check: str, media_segment: str, idle: str
) -> dict[tuple[str, str], tuple[str, str | None, dict[str, Any]]]:
    """(template name or "*", rule location) → (code when missing or present against the
    rule, code when the value is not an allowed one, message parameters)."""
    return {
        ("*", "$.actor.account.homePage"): ("actor_not_account", "actor_wrong_home_page", {}),
        ("*", "$.actor.account.name"): ("actor_not_account", None, {}),
        ("*", "$.actor.mbox"): ("actor_not_account", None, {}),
        ("*", "$.actor.mbox_sha1sum"): ("actor_not_account", None, {}),
        ("*", "$.actor.openid"): ("actor_not_account", None, {}),
        ("*", "$.timestamp"): ("missing_timestamp", None, {}),
        ("*", "$.context.registration"): ("missing_registration", None, {}),
        ("*", f"$.context.extensions['{xp.SESSION_ID}']"): (
            "missing_session_id",
            None,
            {"iri": xp.SESSION_ID},
        ),
        ("*", "$.context.contextActivities.parent[*].id"): ("missing_parent_course", None, {}),
        ("initialized", f"$.result.extensions['{face_check}']"): (
            "initialized_without_face_check",
            None,
            {"iri": face_check},
        ),
        ("progressed", "$.result.duration"): ("progressed_without_duration", None, {}),
        ("terminated", "$.result.duration"): ("terminated_without_duration", None, {}),
        ("progressed", f"$.result.extensions['{media_segment}']"): (
            "heartbeat_without_segment",
            None,
            {"iri": media_segment},
        ),
        ("progressed", f"$.result.extensions['{xp.PROGRESS}']"): (
            "heartbeat_without_progress",
            None,
            {"iri": xp.PROGRESS},
        ),
        ("seeked", f"$.result.extensions['{xp.TIME_FROM}']"): (
            "seeked_without_positions",
            None,
            {"iri": xp.TIME_FROM},
        ),
        ("seeked", f"$.result.extensions['{xp.TIME_TO}']"): (
            "seeked_without_positions",
            None,
            {"iri": xp.TIME_TO},
        ),
        ("suspended", f"$.result.extensions['{idle}']"): (
            "suspended_without_idle",
            None,
            {"iri": idle},
        ),
        ("completed", "$.result.completion"): (
            "completed_without_completion",
            "completed_without_completion",
            {},
        ),
        ("passed", "$.result.success"): ("test_without_success", "test_success_mismatch", {}),
        ("failed", "$.result.success"): ("test_without_success", "test_success_mismatch", {}),
        ("passed", "$.result.score.scaled"): ("test_without_score", None, {}),
        ("failed", "$.result.score.scaled"): ("test_without_score", None, {}),
    }


# Template rules the checks below apply with codes of their own.
_OBJECT_TYPE = "$.object.definition.type"
_ACTOR_NAME = "$.actor.name"


@lru_cache(maxsize=8)
def _compiled(site_url: str) -> _Profile:
    """The profile of `site_url` with a code for each rule of each statement template. A
    rule without a code is a programming error (a test checks every rule has one)."""
    document = xp.reporting_profile(site_url)
    site_url = site_url.rstrip("/")
    face_check = xp.face_check_iri(site_url)
    media_segment = xp.media_segment_iri(site_url)
    idle = xp.idle_iri(site_url)
    codes = _rule_codes(face_check, media_segment, idle)
    templates: dict[str, _Template] = {}
    for template in document["templates"]:
        name = str(template["id"]).rsplit("/", 1)[-1]
        # One activity type is the template's objectActivityType; a lesson's two (lesson, or
        # media for video and audio, docs/xapi-profile.md §4) are a rule on the object's type.
        object_types: tuple[str, ...] = ()
        if "objectActivityType" in template:
            object_types = (str(template["objectActivityType"]),)
        rules: list[_Rule] = []
        for rule in template["rules"]:
            location = str(rule["location"])
            if location == _OBJECT_TYPE:
                object_types = tuple(str(iri) for iri in rule["any"])
                continue  # checked by _check_object_type, with its own codes
            if location == _ACTOR_NAME:
                continue  # checked with the learner (actor_has_name)
            found = codes.get((name, location)) or codes.get(("*", location))
            if found is None:
                raise LookupError(f"no rule code for {location} in the {name} template")
            code, value_code, params = found
            allowed = tuple(rule["all"]) if "all" in rule else None
            if allowed is not None and value_code is None:
                raise LookupError(f"no value rule code for {location} in the {name} template")
            rules.append(
                _Rule(
                    location=location,
                    steps=_steps(location),
                    presence=str(rule["presence"]),
                    allowed=allowed,
                    code=code,
                    value_code=value_code,
                    params=params,
                    media_only=location == f"$.result.extensions['{media_segment}']",
                )
            )
        templates[str(template["verb"])] = _Template(
            name=name, verb=str(template["verb"]), object_types=object_types, rules=tuple(rules)
        )
    from zhipei.people.queries import learners_home_page

    return _Profile(
        site_url=site_url,
        home_page=learners_home_page(site_url),
        templates=templates,
        face_check=face_check,
        media_duration=xp.media_duration_iri(site_url),
        media_segment=media_segment,
        idle=idle,
        schemas={
            str(concept["id"]): json.loads(concept["inlineSchema"])
            for concept in document["concepts"]
            if "inlineSchema" in concept
        },
    )


def rule_locations(site_url: str | None = None) -> list[tuple[str, str, str]]:
    """(template, location, code) of every rule of the profile, for the documentation and
    the tests."""
    compiled = _compiled(site_url or settings.SITE_URL)
    return [
        (template.name, rule.location, rule.code)
        for template in compiled.templates.values()
        for rule in template.rules
    ]


# --- small value checks ----------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float]:
    return finite_float(value) is not None


def _is_timestamp_with_offset(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_timestamp(value, "")
    except XapiInvalid:
        return False
    return _TIMESTAMP_OFFSET.search(value) is not None


def _select(value: Any, steps: Sequence[str | None], base: str) -> list[tuple[str, Any]]:
    """Every (path, value) the location reaches; `[*]` also takes a single object (the
    0.95 form of contextActivities, which the LRS accepts)."""
    current: list[tuple[str, Any]] = [(base, value)]
    for step in steps:
        reached: list[tuple[str, Any]] = []
        for where, item in current:
            if step is None:
                items = item if isinstance(item, list) else [item] if isinstance(item, dict) else []
                reached.extend((f"{where}[{number}]", each) for number, each in enumerate(items))
            elif isinstance(item, dict) and step in item:
                reached.append((_child(where, step), item[step]))
        current = reached
    return current


def _same_json(value: Any, allowed: Iterable[Any]) -> bool:
    return any(type(value) is type(candidate) and value == candidate for candidate in allowed)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _parents(statement: Mapping[str, Any]) -> list[str]:
    parent = _dict(_dict(statement.get("context")).get("contextActivities")).get("parent")
    items = parent if isinstance(parent, list) else [parent] if isinstance(parent, dict) else []
    return [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]


# --- one statement ---------------------------------------------------------------------------

_Add = Callable[..., None]
# (statement index, code, path below statements[i], **params)
_AddAt = Callable[..., None]


@dataclass
class _Seen:
    """What the pattern checks need of one statement that passed the xAPI checks."""

    index: int
    verb: str
    actor: str
    at: datetime | None
    session: str | None
    object_id: str
    registration: str | None
    course: str | None


def _not_json(value: Any, path: str, add: _Add) -> None:
    """Report every property given twice and every NaN or Infinity, anywhere in the statement
    (iteratively: the LRS takes deep extension values and so must this)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, NotJsonConstant):
            error = _("%(token)s is not a JSON value") % {"token": item.token}
            add("xapi_invalid", where, error=error)
        if isinstance(item, ParsedObject):
            for key in item.duplicates:
                add("duplicate_property", _child(where, key), property=key)
        if isinstance(item, dict):
            stack.extend((child, _child(where, key)) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{n}]") for n, child in reversed(list(enumerate(item))))


def _deep_copy(value: Any) -> Any:
    """A copy of JSON data, iteratively (copy.deepcopy recurses twice per level)."""
    if not isinstance(value, dict | list):
        return value
    top: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any]] = [(value, top)]
    while stack:
        source, target = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in pairs:
            copied = child
            if isinstance(child, dict | list):
                copied = {} if isinstance(child, dict) else []
                stack.append((child, copied))
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return top


def _check_rules(
    data: Mapping[str, Any], base: str, template: _Template, is_media: bool, add: _Add
) -> None:
    actor = _dict(data.get("actor"))
    actor_ok = actor.get("objectType", "Agent") == "Agent" and isinstance(
        actor.get("account"), dict
    )
    for rule in template.rules:
        if rule.location.startswith("$.actor") and not actor_ok:
            continue  # reported once, as actor_not_account on the actor itself
        found = _select(data, rule.steps, base)
        if rule.presence == "included" and not found:
            add(rule.code, _location_path(base, rule.steps), **rule.params)
        elif rule.presence == "excluded" and found:
            add(rule.code, found[0][0], **rule.params)
        elif rule.presence == "recommended" and not found and (is_media or not rule.media_only):
            add(rule.code, _location_path(base, rule.steps), **rule.params)
        if rule.allowed is not None and rule.value_code is not None:
            for where, value in found:
                if not _same_json(value, rule.allowed):
                    add(
                        rule.value_code,
                        where,
                        actual=value,
                        expected=list(rule.allowed),
                        verb=template.name,
                    )


def _check_actor(data: Mapping[str, Any], base: str, compiled: _Profile, add: _Add) -> None:
    actor = _dict(data.get("actor"))
    if actor.get("objectType", "Agent") != "Agent" or not isinstance(actor.get("account"), dict):
        add("actor_not_account", f"{base}.actor", home_page=compiled.home_page)
    if "name" in actor:
        add("actor_has_name", f"{base}.actor.name")


def _check_object_type(data: Mapping[str, Any], base: str, template: _Template, add: _Add) -> None:
    obj = _dict(data.get("object"))
    object_type = obj.get("objectType", "Activity")
    if object_type != "Activity":
        add("object_not_activity", f"{base}.object.objectType", object_type=object_type)
        return
    activity_type = _dict(obj.get("definition")).get("type")
    expected = Alternatives(template.object_types)
    if activity_type is None:
        add(
            "object_type_missing",
            f"{base}.object.definition.type",
            verb=template.name,
            expected=expected,
        )
    elif activity_type not in template.object_types:
        add(
            "object_type_not_allowed",
            f"{base}.object.definition.type",
            actual=activity_type,
            verb=template.name,
            expected=expected,
        )


def _check_face_check(value: Any, where: str, properties: dict[str, Any], add: _Add) -> None:
    """The face check against its schema in the profile: result and trigger from their
    enums, checkedAt a timestamp with offset, similarity within its bounds."""
    if not isinstance(value, dict):
        add("face_check_not_object", where)
        return
    if value.get("result") not in properties["result"]["enum"]:
        add("face_check_bad_result", _child(where, "result"))
    if not _is_timestamp_with_offset(value.get("checkedAt")):
        add("face_check_bad_checked_at", _child(where, "checkedAt"))
    if "trigger" in value and value["trigger"] not in properties["trigger"]["enum"]:
        add("face_check_bad_trigger", _child(where, "trigger"))
    if "similarity" in value:
        similarity, bounds = value["similarity"], properties["similarity"]
        if not _is_number(similarity) or not bounds["minimum"] <= similarity <= bounds["maximum"]:
            add("face_check_bad_similarity", _child(where, "similarity"))
    for key in value:
        if key not in properties:
            add("face_check_unknown_property", _child(where, key), property=key)


def _check_media_segment(value: Any, where: str, properties: dict[str, Any], add: _Add) -> None:
    if not isinstance(value, dict):
        add("media_segment_not_object", where)
        return
    for key, schema in properties.items():
        position = value.get(key)
        if not _is_number(position) or position < schema["minimum"]:
            add("media_segment_bad_position", _child(where, key), property=key)
    for key in value:
        if key not in properties:
            add("media_segment_unknown_property", _child(where, key), property=key)


def _check_idle(value: Any, where: str, properties: dict[str, Any], add: _Add) -> None:
    if not isinstance(value, dict):
        add("idle_not_object", where)
        return
    if not _is_timestamp_with_offset(value.get("since")):
        add("idle_bad_since", _child(where, "since"))
    if "promptedAt" in value and not _is_timestamp_with_offset(value["promptedAt"]):
        add("idle_bad_prompted_at", _child(where, "promptedAt"))
    for key in value:
        if key not in properties:
            add("idle_unknown_property", _child(where, key), property=key)


def _check_media_duration(value: Any, where: str, add: _Add) -> None:
    if not _is_number(value) or value <= 0:
        add("media_duration_bad_value", where)


def _extension_places(data: Mapping[str, Any], base: str) -> list[tuple[str, str, Any, str]]:
    """(place, iri, value, path) of every extension of the statement: "context", "result"
    or "activity" (the object's definition)."""
    places = (
        ("context", _dict(data.get("context")).get("extensions"), f"{base}.context.extensions"),
        ("result", _dict(data.get("result")).get("extensions"), f"{base}.result.extensions"),
        (
            "activity",
            _dict(_dict(data.get("object")).get("definition")).get("extensions"),
            f"{base}.object.definition.extensions",
        ),
    )
    return [
        (place, iri, value, _child(path, iri))
        for place, mapping, path in places
        if isinstance(mapping, dict)
        for iri, value in mapping.items()
    ]


_PLACE_LABELS = {
    "context": "context.extensions",
    "result": "result.extensions",
    "activity": "object.definition.extensions",
}


def _check_extensions(  # noqa: PLR0912 - one branch per extension of the profile
    data: Mapping[str, Any], base: str, compiled: _Profile, add: _Add
) -> None:
    own_prefix = xp.extension_iri(compiled.site_url, "")
    known_names = {
        "face-check": compiled.face_check,
        "media-duration": compiled.media_duration,
        "media-segment": compiled.media_segment,
        "idle": compiled.idle,
    }
    expected_place: dict[str, tuple[str, ...]] = {
        xp.SESSION_ID: ("context",),
        compiled.face_check: ("result",),
        compiled.media_segment: ("result",),
        compiled.idle: ("result",),
        xp.PROGRESS: ("result",),
        xp.TIME_FROM: ("result",),
        xp.TIME_TO: ("result",),
        compiled.media_duration: ("activity", "context"),
    }
    for place, iri, value, where in _extension_places(data, base):
        if iri in expected_place and place not in expected_place[iri]:
            add(
                "extension_misplaced",
                where,
                iri=iri,
                expected=Alternatives(_PLACE_LABELS[p] for p in expected_place[iri]),
                actual=_PLACE_LABELS[place],
            )
            continue
        if iri == xp.SESSION_ID:
            if not isinstance(value, str) or not value:
                add("session_id_bad_value", where)
        elif iri == compiled.face_check:
            _check_face_check(value, where, compiled.properties(iri), add)
        elif iri == compiled.media_segment:
            _check_media_segment(value, where, compiled.properties(iri), add)
        elif iri == compiled.idle:
            _check_idle(value, where, compiled.properties(iri), add)
        elif iri == compiled.media_duration:
            _check_media_duration(value, where, add)
        elif iri == xp.PROGRESS:
            if not _is_number(value) or not 0 <= value <= 100:
                add("progress_bad_value", where)
        elif iri in {xp.TIME_FROM, xp.TIME_TO}:
            if not _is_number(value) or value < 0:
                add("seek_position_bad_value", where)
        elif iri.startswith(own_prefix):
            add("unknown_profile_extension", where, iri=iri)
        else:
            name = iri.rsplit("/xapi/extensions/", 1)[-1] if "/xapi/extensions/" in iri else ""
            if name in known_names:
                add("extension_wrong_site", where, iri=iri, name=name, expected=known_names[name])


def _check_values(
    data: Mapping[str, Any], base: str, template: _Template, add: _Add
) -> datetime | None:
    """Timestamp offset and heartbeat durations; returns the timestamp (None if absent)."""
    at: datetime | None = None
    if isinstance(data.get("timestamp"), str):
        at = parse_timestamp(data["timestamp"], f"{base}.timestamp")
        if _TIMESTAMP_OFFSET.search(data["timestamp"]) is None:
            add("timestamp_without_offset", f"{base}.timestamp")
    duration = _dict(data.get("result")).get("duration")
    if template.name in {"progressed", "terminated"} and isinstance(duration, str):
        seconds = parse_duration_seconds(duration, f"{base}.result.duration")
        if seconds <= 0 and template.name == "progressed":
            add("duration_not_positive", f"{base}.result.duration")
        elif seconds > HEARTBEAT_SECONDS:
            add(
                "heartbeat_too_long",
                f"{base}.result.duration",
                seconds=round(seconds) if math.isfinite(seconds) else "∞",  # PT9…9S
                limit=HEARTBEAT_SECONDS,
            )
    return at


def _check_catalogue(  # noqa: PLR0912 - one branch per kind of catalogue fact
    data: Mapping[str, Any],
    base: str,
    *,
    template: _Template,
    compiled: _Profile,
    catalogue: Catalogue,
    add: _Add,
) -> None:
    account = _dict(_dict(data.get("actor")).get("account"))
    name = account.get("name")
    if account.get("homePage") == compiled.home_page and name not in catalogue.pseudonyms:
        add("unknown_learner", f"{base}.actor.account.name", name=name)
    obj = _dict(data.get("object"))
    object_id = obj.get("id")
    if obj.get("objectType", "Activity") != "Activity" or not isinstance(object_id, str):
        return
    parents = _parents(data)
    parent_path = f"{base}.context.contextActivities.parent"
    if template.name == "completed":
        if object_id not in catalogue.courses:
            add("unknown_course", f"{base}.object.id", iri=object_id)
        return
    if template.name in {"passed", "failed"}:
        if parents and not any(parent in catalogue.courses for parent in parents):
            add("unknown_course", parent_path, iri=parents[0])
        return
    lesson = catalogue.lessons.get(object_id)
    if lesson is None:
        add("unknown_lesson", f"{base}.object.id", iri=object_id)
        if parents and not any(parent in catalogue.courses for parent in parents):
            add("unknown_course", parent_path, iri=parents[0])
        return
    if parents and lesson.course_iri not in parents:
        add("parent_not_lesson_course", parent_path, lesson=object_id, expected=lesson.course_iri)
    activity_type = _dict(obj.get("definition")).get("type")
    expected_type = xp.MEDIA if lesson.kind in _MEDIA_KINDS else xp.LESSON
    if activity_type in {xp.MEDIA, xp.LESSON} and activity_type != expected_type:
        add(
            "object_type_differs_from_lesson",
            f"{base}.object.definition.type",
            kind=lesson.kind,
            expected=expected_type,
        )
    if lesson.media_duration_seconds is not None:
        for place, iri, value, where in _extension_places(data, base):
            if (
                iri == compiled.media_duration
                and place in {"activity", "context"}
                and _is_number(value)
                and abs(float(value) - lesson.media_duration_seconds) >= 1
            ):
                add(
                    "media_duration_differs",
                    where,
                    sent=value,
                    catalogue=lesson.media_duration_seconds,
                )


def _is_media(data: Mapping[str, Any], catalogue: Catalogue | None) -> bool:
    obj = _dict(data.get("object"))
    if catalogue is not None:
        lesson = catalogue.lessons.get(str(obj.get("id")))
        if lesson is not None:
            return lesson.kind in _MEDIA_KINDS
    return _dict(obj.get("definition")).get("type") == xp.MEDIA


# --- across statements -----------------------------------------------------------------------


def _check_sessions(seen: list[_Seen], add_at: _AddAt) -> None:
    """The session pattern (profile pattern "session"): per learner and session id, in
    timestamp order, (launched) → initialized → study events → terminated, all on one lesson
    of one registration."""
    sessions: dict[tuple[str, str], list[_Seen]] = {}
    for item in seen:
        if item.verb in _VERB_RANK and item.session and item.at is not None:
            sessions.setdefault((item.actor, item.session), []).append(item)
    for (_actor, session), events in sessions.items():
        events.sort(key=lambda e: (e.at, _VERB_RANK[e.verb], e.index))
        first_of, repeated = _once_per_session(events, add_at)
        _session_order(events, first_of, repeated, add_at)
        studied = [event for event in events if event.verb != "launched"]
        session_path = _child("context.extensions", xp.SESSION_ID)
        if studied and "initialized" not in first_of:
            add_at(studied[0].index, "session_without_initialized", session_path, session=session)
        if studied and "terminated" not in first_of:
            add_at(studied[-1].index, "session_without_terminated", session_path, session=session)
        head = events[0]
        for event in events[1:]:
            for suffix, differs in (
                ("object.id", event.object_id != head.object_id),
                ("context.registration", event.registration != head.registration),
            ):
                if differs:
                    add_at(
                        event.index,
                        "session_inconsistent",
                        suffix,
                        property=suffix,
                        first=head.index,
                    )


def _once_per_session(events: list[_Seen], add_at: _AddAt) -> tuple[dict[str, _Seen], set[int]]:
    """The first launched, initialized and terminated of a session; later ones are reported
    (and their indexes returned)."""
    first_of: dict[str, _Seen] = {}
    repeated: set[int] = set()
    for event in events:
        if event.verb not in _ONCE_PER_SESSION:
            continue
        if event.verb in first_of:
            first = first_of[event.verb].index
            add_at(event.index, "session_verb_repeated", "verb.id", verb=event.verb, first=first)
            repeated.add(event.index)
        else:
            first_of[event.verb] = event
    return first_of, repeated


def _session_order(
    events: list[_Seen], first_of: dict[str, _Seen], repeated: set[int], add_at: _AddAt
) -> None:
    initialized = first_of.get("initialized")
    terminated = first_of.get("terminated")
    for event in events:
        if event.index in repeated or event.at is None:
            continue
        if initialized is not None and event is not initialized and initialized.at is not None:
            if event.verb == "launched" and event.at > initialized.at:
                add_at(
                    event.index,
                    "launched_after_initialized",
                    "timestamp",
                    initialized=initialized.index,
                )
            elif event.verb != "launched" and event.at < initialized.at:
                add_at(
                    event.index,
                    "session_event_before_initialized",
                    "timestamp",
                    verb=event.verb,
                    initialized=initialized.index,
                )
        if (
            terminated is not None
            and event is not terminated
            and terminated.at is not None
            and event.at > terminated.at
        ):
            add_at(
                event.index,
                "session_event_after_terminated",
                "timestamp",
                verb=event.verb,
                terminated=terminated.index,
            )


def _check_registrations(seen: list[_Seen], add_at: _AddAt) -> None:
    """One registration per learner and course (docs/xapi-profile.md §4)."""
    first: dict[tuple[str, str], _Seen] = {}
    for item in seen:
        if item.course is None or item.registration is None:
            continue
        key = (item.actor, item.course)
        earlier = first.setdefault(key, item)
        if earlier.registration != item.registration:
            add_at(
                item.index,
                "registration_not_constant",
                "context.registration",
                other=earlier.registration,
                first=earlier.index,
            )


# --- entry points ----------------------------------------------------------------------------

_AUTHORITY_NAME = "profile-check"
_STORED = datetime(2000, 1, 1, tzinfo=UTC)


def as_statement_list(statements: object) -> list[Any]:
    """A list of statements from a JSON array or one statement object."""
    if isinstance(statements, dict):
        return [statements]
    if isinstance(statements, list):
        return statements
    raise TypeError("statements must be a JSON array or one statement object")


def check_statements(
    statements: object,
    *,
    site_url: str | None = None,
    catalogue: Catalogue | None = None,
    version: str = "1.0.3",
) -> Report:
    """Check parsed statements (a list, or one statement object) against the profile of the
    deployment at `site_url` (settings.SITE_URL by default). `version` is the xAPI version
    the statements would be sent with; `catalogue` adds the checks against the platform's
    learners and courses. Pure: reads neither the database nor the clock."""
    items = as_statement_list(statements)
    compiled = _compiled((site_url or settings.SITE_URL).rstrip("/"))
    authority = {
        "objectType": "Agent",
        "account": {"homePage": f"{compiled.site_url}/xapi", "name": _AUTHORITY_NAME},
    }
    by_statement: list[list[Problem]] = [[] for _item in items]
    keys: list[set[tuple[str, str]]] = [set() for _item in items]
    ids: dict[str, int] = {}
    seen: list[_Seen] = []

    def add_for(index: int, statement_id: str | None, code: str, path: str, **params: Any) -> None:
        if (code, path) in keys[index]:
            return
        keys[index].add((code, path))
        by_statement[index].append(Problem(index, statement_id, path, code, params))

    for index, raw in enumerate(items):
        base = f"statements[{index}]"
        statement_id = raw.get("id") if isinstance(raw, dict) else None
        statement_id = statement_id if isinstance(statement_id, str) else None

        add = partial(add_for, index, statement_id)
        if _xapi_problems(raw, base, version, authority, add):
            continue
        assert isinstance(raw, dict)
        if statement_id is not None:
            key = statement_id.lower()
            if key in ids:
                add("duplicate_statement_id", f"{base}.id", first=ids[key])
            else:
                ids[key] = index
        verb = str(raw["verb"]["id"])
        if verb == VOIDED_VERB:
            continue  # voiding is plain xAPI: the LRS and crediting honour it
        template = compiled.templates.get(verb)
        if template is None:
            add(
                "verb_not_in_profile",
                f"{base}.verb.id",
                verb=verb,
                verbs=[t.verb for t in compiled.templates.values()],
            )
            continue
        _check_actor(raw, base, compiled, add)
        _check_object_type(raw, base, template, add)
        _check_rules(raw, base, template, _is_media(raw, catalogue), add)
        _check_extensions(raw, base, compiled, add)
        at = _check_values(raw, base, template, add)
        if catalogue is not None:
            _check_catalogue(
                raw, base, template=template, compiled=compiled, catalogue=catalogue, add=add
            )
        seen.append(_seen(index, raw, template, at))

    def add_at(index: int, code: str, suffix: str, **params: Any) -> None:
        raw = items[index]
        statement_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        add_for(index, statement_id, code, f"statements[{index}].{suffix}", **params)

    _check_sessions(seen, add_at)
    _check_registrations(seen, add_at)
    return Report(by_statement=by_statement)


def _xapi_problems(raw: Any, base: str, version: str, authority: dict[str, Any], add: _Add) -> bool:
    """Report what makes the LRS refuse the statement; True when it would."""
    before = 0

    def counting(code: str, path: str, **params: Any) -> None:
        nonlocal before
        before += 1
        add(code, path, **params)

    _not_json(raw, base, counting)
    if not before and depth_exceeds(raw, MAX_JSON_DEPTH - 1):
        counting("nested_too_deeply", base)  # as in a batch: the LRS refuses the request
    if before:
        return True
    try:
        prepared = prepare_statement(
            _deep_copy(raw), base, version=version, stored=_STORED, authority=authority
        )
        payload = payload_bytes(prepared)  # a lone surrogate: XapiInvalid, as the LRS says
    except XapiInvalid as exc:
        add("xapi_invalid", exc.path or base, error=exc.message)
        return True
    except RecursionError:
        add("nested_too_deeply", base)
        return True
    try:
        refuse_id_numbers(prepared, payload)
    except XapiInvalid as exc:
        add("contains_id_number", exc.path or base)
        return True
    return False


def _seen(index: int, data: Mapping[str, Any], template: _Template, at: datetime | None) -> _Seen:
    actor = _dict(data.get("actor"))
    account = _dict(actor.get("account"))
    actor_key = (
        json.dumps([account.get("homePage"), account.get("name")])
        if account
        else json.dumps(actor, sort_keys=True)
    )
    context = _dict(data.get("context"))
    session = _dict(context.get("extensions")).get(xp.SESSION_ID)
    registration = context.get("registration")
    object_id = str(_dict(data.get("object")).get("id", ""))
    parents = _parents(data)
    course = object_id if template.name == "completed" else (parents[0] if parents else None)
    return _Seen(
        index=index,
        verb=template.name if template.verb in _SESSION_VERBS else "",
        actor=actor_key,
        at=at,
        session=session if isinstance(session, str) and session else None,
        object_id=object_id,
        registration=registration.lower() if isinstance(registration, str) else None,
        course=course,
    )


def catalogue_for(platform_id: int, statements: Sequence[Any]) -> Catalogue:
    """What the database knows of the pseudonyms and activity IRIs these statements name, for
    the platform `platform_id` (three queries)."""
    from zhipei.catalog.models import Course, Lesson
    from zhipei.people.models import PlatformPseudonym

    names: set[str] = set()
    iris: set[str] = set()
    for raw in statements:
        if not isinstance(raw, dict):
            continue
        name = _dict(_dict(raw.get("actor")).get("account")).get("name")
        if is_storable_text(name):
            names.add(name)
        object_id = _dict(raw.get("object")).get("id")
        if is_storable_text(object_id):
            iris.add(object_id)
        iris.update(iri for iri in _parents(raw) if is_storable_text(iri))
    pseudonyms = frozenset(
        PlatformPseudonym.objects.filter(platform_id=platform_id, pseudonym__in=names).values_list(
            "pseudonym", flat=True
        )
        if names
        else ()
    )
    courses = frozenset(
        Course.objects.filter(platform_id=platform_id, activity_iri__in=iris).values_list(
            "activity_iri", flat=True
        )
        if iris
        else ()
    )
    lessons = {
        iri: CatalogueLesson(course_iri=course_iri, kind=kind, media_duration_seconds=seconds)
        for iri, course_iri, kind, seconds in (
            Lesson.objects.filter(course__platform_id=platform_id, activity_iri__in=iris)
            .values_list("activity_iri", "course__activity_iri", "kind", "media_duration_seconds")
            .order_by()
            if iris
            else ()
        )
    }
    return Catalogue(pseudonyms=pseudonyms, courses=courses, lessons=lessons)
