"""Checking statements against the reporting profile (zhipei.lrs.profile_check): a session
built from docs/xapi-profile.md conforms, and every rule code has a statement that breaks
it, reported at the right statement and JSON path."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone, translation

from zhipei.catalog.models import Course, Lesson
from zhipei.lrs.profile_check import (
    ERROR,
    RULE_CODES,
    WARNING,
    Catalogue,
    CatalogueLesson,
    JsonTooDeep,
    Report,
    as_statement_list,
    catalogue_for,
    check_statements,
    parse_json,
    rule_locations,
)
from zhipei.lrs.tests.helpers import make_platform
from zhipei.lrs_documents import profile as xp
from zhipei.people.queries import learners_home_page
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person
from zhipei.regions.testing import make_region_tree

COURSE = "https://platform.example.cn/xapi/courses/weld"
LESSON = "https://platform.example.cn/xapi/lessons/weld-01"
OTHER_LESSON = "https://platform.example.cn/xapi/lessons/weld-02"
TEST = "https://platform.example.cn/xapi/tests/weld-final"
REGISTRATION = "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10"
OTHER_REGISTRATION = "0c6b0a4e-2f0d-4a51-8d37-4b0e6f1e9a22"
SESSION = "s-8c1d0f"
PSEUDONYM = "vX3q9Jd0bE2mKp7RtYw1Aa"
MEDIA_SECONDS = 3600


def site() -> str:
    return str(settings.SITE_URL)


def face_check_iri() -> str:
    return xp.face_check_iri(site())


def segment_iri() -> str:
    return xp.media_segment_iri(site())


def idle_iri() -> str:
    return xp.idle_iri(site())


def duration_iri() -> str:
    return xp.media_duration_iri(site())


def _statement(
    verb: str,
    at: str,
    *,
    pseudonym: str,
    object_id: str = LESSON,
    object_type: str = xp.MEDIA,
    result: dict[str, Any] | None = None,
    session: str | None = SESSION,
    parent: str | None = COURSE,
) -> dict[str, Any]:
    context: dict[str, Any] = {"registration": REGISTRATION}
    if parent:
        context["contextActivities"] = {"parent": [{"id": parent}]}
    if session:
        context["extensions"] = {xp.SESSION_ID: session}
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": learners_home_page(), "name": pseudonym},
        },
        "verb": {"id": verb, "display": {"zh-CN": verb.rsplit("/", 1)[-1]}},
        "object": {
            "objectType": "Activity",
            "id": object_id,
            "definition": {"type": object_type},
        },
        "context": context,
        "timestamp": f"2026-05-01T{at}+08:00",
    }
    if result is not None:
        data["result"] = result
    return data


def conforming_session(pseudonym: str = PSEUDONYM) -> list[dict[str, Any]]:
    """One learner's sitting on a video lesson as docs/xapi-profile.md §5-§9 describes it,
    then the course's completion and test: every verb and extension of the profile."""
    face = face_check_iri()
    segment = segment_iri()

    def stmt(verb: str, at: str, **kwargs: Any) -> dict[str, Any]:
        return _statement(verb, at, pseudonym=pseudonym, **kwargs)

    launched = stmt(xp.LAUNCHED, "08:29:50")
    launched["object"]["definition"]["extensions"] = {duration_iri(): MEDIA_SECONDS}
    return [
        launched,  # 0
        stmt(  # 1
            xp.INITIALIZED,
            "08:30:05",
            result={
                "extensions": {
                    face: {
                        "result": "passed",
                        "checkedAt": "2026-05-01T08:30:04+08:00",
                        "trigger": "session-start",
                        "similarity": 0.93,
                    }
                }
            },
        ),
        stmt(  # 2
            xp.PROGRESSED,
            "08:31:05",
            result={
                "duration": "PT1M",
                "extensions": {segment: {"from": 0, "to": 60}, xp.PROGRESS: 2},
            },
        ),
        stmt(  # 3
            xp.SEEKED,
            "08:31:30",
            result={"extensions": {xp.TIME_FROM: 85, xp.TIME_TO: 60}},
        ),
        stmt(  # 4
            xp.PROGRESSED,
            "08:32:05",
            result={
                "duration": "PT1M",
                "extensions": {
                    segment: {"from": 60, "to": 95},
                    xp.PROGRESS: 3,
                    face: {
                        "result": "passed",
                        "checkedAt": "2026-05-01T08:32:00+08:00",
                        "trigger": "random",
                    },
                },
            },
        ),
        stmt(  # 5
            xp.SUSPENDED,
            "08:33:00",
            result={
                "extensions": {
                    idle_iri(): {
                        "since": "2026-05-01T08:32:10+08:00",
                        "promptedAt": "2026-05-01T08:32:40+08:00",
                    }
                }
            },
        ),
        stmt(xp.RESUMED, "08:35:00"),  # 6
        stmt(  # 7
            xp.PROGRESSED,
            "08:36:00",
            result={
                "duration": "PT1M",
                "extensions": {segment: {"from": 95, "to": 155}, xp.PROGRESS: 5},
            },
        ),
        stmt(xp.TERMINATED, "08:36:20", result={"duration": "PT20S"}),  # 8
        stmt(  # 9
            xp.COMPLETED,
            "09:10:00",
            object_id=COURSE,
            object_type=xp.COURSE,
            result={"completion": True},
            session=None,
            parent=None,
        ),
        stmt(  # 10
            xp.PASSED,
            "09:30:00",
            object_id=TEST,
            object_type=xp.ASSESSMENT,
            result={"success": True, "score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100}},
            session="s-test-1",
        ),
    ]


def full_catalogue(**changes: Any) -> Catalogue:
    lesson: dict[str, Any] = {
        "course_iri": COURSE,
        "kind": "video",
        "media_duration_seconds": MEDIA_SECONDS,
    }
    lesson.update(changes.pop("lesson", {}))
    values: dict[str, Any] = {
        "pseudonyms": frozenset({PSEUDONYM}),
        "courses": frozenset({COURSE}),
        "lessons": {LESSON: CatalogueLesson(**lesson)},
    }
    values.update(changes)
    return Catalogue(**values)


def found(report: Report) -> set[tuple[int, str, str]]:
    return {(p.index, p.code, p.path) for p in report.problems}


def ext(base: str, iri: str) -> str:
    return f'{base}["{iri}"]'


# --- the conforming example ------------------------------------------------------------------


def test_session_built_from_the_documentation_conforms():
    report = check_statements(conforming_session())
    assert report.problems == []
    assert (report.valid, report.statements, report.errors, report.warnings) == (True, 11, 0, 0)


def test_session_conforms_against_a_catalogue_that_knows_learner_course_and_lesson():
    report = check_statements(conforming_session(), catalogue=full_catalogue())
    assert report.problems == []


def test_one_statement_object_is_checked_as_a_list_of_one():
    report = check_statements(conforming_session()[9])
    assert report.statements == 1
    assert report.valid


def test_anything_but_a_list_or_an_object_is_refused():
    with pytest.raises(TypeError):
        as_statement_list(42)


def test_a_lesson_activity_type_fits_the_session_templates_as_well_as_media():
    statements = conforming_session()
    for statement in statements[:9]:
        if statement["verb"]["id"] != xp.SEEKED:
            statement["object"]["definition"]["type"] = xp.LESSON
    report = check_statements(statements)
    # A text lesson sends no media segments: the recommendation is for video and audio.
    assert report.problems == []


def test_voiding_statements_are_plain_xapi_and_accepted():
    voiding = {
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": learners_home_page(), "name": PSEUDONYM},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": str(uuid.uuid4())},
    }
    assert check_statements([voiding]).problems == []


def test_statements_shaped_like_the_benchmark_sample_break_the_profile():
    # The shape of /work/shared/bench/sample-statements.json (bench/README.md): valid xAPI,
    # but the platform's own learner ids, ADL verbs outside the profile, "module"
    # activities and no session id.
    sample: dict[str, Any] = {
        "actor": {
            "objectType": "Agent",
            "name": "Learner 463",
            "account": {"homePage": "https://lms.example.com", "name": "learner-000463"},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed", "display": {"en-US": "p"}},
        "object": {
            "objectType": "Activity",
            "id": "https://lms.example.com/courses/c0005/modules/m01",
            "definition": {"type": "http://adlnet.gov/expapi/activities/module"},
        },
        "context": {
            "registration": "4ee207f8-da94-43e8-ab73-738fcf1822ff",
            "platform": "Example Training Platform",
            "contextActivities": {"parent": [{"id": "https://lms.example.com/courses/c0005"}]},
        },
        "timestamp": "2026-11-18T02:59:37.131Z",
        "result": {"duration": "PT1H8M46S", "extensions": {xp.PROGRESS: 78}},
        "id": "6ae3e238-5a14-4210-88a6-a1865a77c937",
    }
    experienced = copy.deepcopy(sample)
    experienced["verb"]["id"] = "http://adlnet.gov/expapi/verbs/experienced"
    report = check_statements([sample, experienced])
    assert not report.valid
    assert {(p.index, p.code) for p in report.problems} >= {
        (0, "actor_wrong_home_page"),
        (0, "actor_has_name"),
        (0, "object_type_not_allowed"),
        (0, "missing_session_id"),
        (0, "heartbeat_too_long"),
        (1, "verb_not_in_profile"),
    }
    assert all(p.statement_id == sample["id"] for p in report.by_statement[0])
    assert (1, "duplicate_statement_id") in {(p.index, p.code) for p in report.problems}


def test_durations_and_timestamps_at_the_ends_of_the_range_are_reported_not_a_crash():
    # Valid xAPI (the LRS stores them); PT9…9S is an infinite number of seconds as a float.
    session = conforming_session()
    beat = next(i for i, item in enumerate(session) if item.get("result", {}).get("duration"))
    session[beat]["result"]["duration"] = "PT" + "9" * 400 + "S"
    session[1]["timestamp"] = "0001-01-01T00:00:00Z"
    session[2]["timestamp"] = "9999-12-31T23:59:59Z"
    session = _set(2, SEGMENT + "|from", 10**400)(session)  # valid JSON, beyond a float
    report = check_statements(session)
    too_long = [p for p in report.problems if p.code == "heartbeat_too_long"]
    assert [p.index for p in too_long] == [beat]
    assert "∞" in too_long[0].message
    assert (2, "media_segment_bad_position") in {(p.index, p.code) for p in report.problems}
    assert not report.valid


# --- every rule code, broken ------------------------------------------------------------------

Mutation = Callable[[list[dict[str, Any]]], Any]


def _set(index: int, path: str, value: Any) -> Mutation:
    """Set (or, with value ..., delete) a dotted path of statement `index`; "{face}" style
    names stand for the profile's extension IRIs."""

    def mutate(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        keys = [_iri(part) for part in path.split("|")]
        target: Any = statements[index]
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if value is ...:
            del target[keys[-1]]
        else:
            target[keys[-1]] = value
        return statements

    return mutate


def _iri(part: str) -> str:
    names = {
        "{face}": face_check_iri,
        "{segment}": segment_iri,
        "{idle}": idle_iri,
        "{duration}": duration_iri,
        "{session}": lambda: xp.SESSION_ID,
        "{progress}": lambda: xp.PROGRESS,
        "{from}": lambda: xp.TIME_FROM,
        "{to}": lambda: xp.TIME_TO,
    }
    return names[part]() if part in names else part


def _then(*mutations: Mutation) -> Mutation:
    def mutate(statements: list[dict[str, Any]]) -> Any:
        for mutation in mutations:
            statements = mutation(statements)
        return statements

    return mutate


def _duplicate_timestamp(statements: list[dict[str, Any]]) -> Any:
    text = json.dumps(statements).replace(
        '"timestamp": ', '"timestamp": "2026-05-01T00:00:00Z", "timestamp": ', 1
    )
    return parse_json(text)


def _repeat_initialized(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    again = copy.deepcopy(statements[1])
    again["id"] = str(uuid.uuid4())
    again["timestamp"] = "2026-05-01T08:34:00+08:00"
    return [*statements, again]


def _drop(index: int) -> Mutation:
    def mutate(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return statements[:index] + statements[index + 1 :]

    return mutate


def _same_id(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statements[3]["id"] = statements[1]["id"].upper()
    return statements


def deep_list(depth: int) -> list[Any]:
    """Nested lists, built without recursion."""
    value: list[Any] = []
    for _level in range(depth):
        value = [value]
    return value


def _mbox_actor(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statements[2]["actor"] = {"objectType": "Agent", "mbox": "mailto:learner@example.cn"}
    return statements


FACE = "result|extensions|{face}"
SEGMENT = "result|extensions|{segment}"
IDLE = "result|extensions|{idle}"
S = "statements"

# code → (mutation, catalogue or None, index, path of the problem)
CASES: dict[str, tuple[Mutation, Callable[[], Catalogue] | None, int, str]] = {
    "xapi_invalid": (_set(2, "result|duration", "1 minute"), None, 2, f"{S}[2].result.duration"),
    "duplicate_property": (_duplicate_timestamp, None, 0, f"{S}[0].timestamp"),
    "nested_too_deeply": (
        _set(2, "context|extensions|https://platform.example.cn/x/deep", deep_list(5000)),
        None,
        2,
        f"{S}[2]",
    ),
    "contains_id_number": (
        _set(0, "context|platform", "11010519491231002X"),
        None,
        0,
        f"{S}[0].context.platform",
    ),
    "duplicate_statement_id": (_same_id, None, 3, f"{S}[3].id"),
    "verb_not_in_profile": (
        _set(2, "verb|id", "http://adlnet.gov/expapi/verbs/experienced"),
        None,
        2,
        f"{S}[2].verb.id",
    ),
    "object_not_activity": (
        _set(9, "object", {"objectType": "StatementRef", "id": str(uuid.uuid4())}),
        None,
        9,
        f"{S}[9].object.objectType",
    ),
    "object_type_missing": (
        _set(2, "object|definition", ...),
        None,
        2,
        f"{S}[2].object.definition.type",
    ),
    "object_type_not_allowed": (
        _set(9, "object|definition|type", xp.LESSON),
        None,
        9,
        f"{S}[9].object.definition.type",
    ),
    "actor_not_account": (_mbox_actor, None, 2, f"{S}[2].actor"),
    "actor_wrong_home_page": (
        _set(1, "actor|account|homePage", "https://lms.example.com"),
        None,
        1,
        f"{S}[1].actor.account.homePage",
    ),
    "actor_has_name": (_set(1, "actor|name", "王芳"), None, 1, f"{S}[1].actor.name"),
    "missing_timestamp": (_set(2, "timestamp", ...), None, 2, f"{S}[2].timestamp"),
    "missing_registration": (
        _set(2, "context|registration", ...),
        None,
        2,
        f"{S}[2].context.registration",
    ),
    "missing_session_id": (
        _set(2, "context|extensions|{session}", ...),
        None,
        2,
        ext(f"{S}[2].context.extensions", xp.SESSION_ID),
    ),
    "missing_parent_course": (
        _set(2, "context|contextActivities", ...),
        None,
        2,
        f"{S}[2].context.contextActivities.parent",
    ),
    "initialized_without_face_check": (
        _set(1, "result", ...),
        None,
        1,
        "FACE1",
    ),
    "progressed_without_duration": (
        _set(2, "result|duration", ...),
        None,
        2,
        f"{S}[2].result.duration",
    ),
    "terminated_without_duration": (
        _set(8, "result|duration", ...),
        None,
        8,
        f"{S}[8].result.duration",
    ),
    "seeked_without_positions": (
        _set(3, "result|extensions|{to}", ...),
        None,
        3,
        ext(f"{S}[3].result.extensions", xp.TIME_TO),
    ),
    "suspended_without_idle": (_set(5, "result", ...), None, 5, "IDLE5"),
    "completed_without_completion": (
        _set(9, "result|completion", False),
        None,
        9,
        f"{S}[9].result.completion",
    ),
    "test_without_success": (
        _set(10, "result|success", ...),
        None,
        10,
        f"{S}[10].result.success",
    ),
    "test_success_mismatch": (
        _set(10, "verb|id", xp.FAILED),
        None,
        10,
        f"{S}[10].result.success",
    ),
    "test_without_score": (
        _set(10, "result|score", ...),
        None,
        10,
        f"{S}[10].result.score.scaled",
    ),
    "heartbeat_without_segment": (_set(2, SEGMENT, ...), None, 2, "SEGMENT2"),
    "heartbeat_without_progress": (
        _set(2, "result|extensions|{progress}", ...),
        None,
        2,
        ext(f"{S}[2].result.extensions", xp.PROGRESS),
    ),
    "timestamp_without_offset": (
        _set(2, "timestamp", "2026-05-01T00:31:05"),
        None,
        2,
        f"{S}[2].timestamp",
    ),
    "duration_not_positive": (
        _set(2, "result|duration", "PT0S"),
        None,
        2,
        f"{S}[2].result.duration",
    ),
    "heartbeat_too_long": (
        _set(7, "result|duration", "PT5M"),
        None,
        7,
        f"{S}[7].result.duration",
    ),
    "session_id_bad_value": (
        _set(2, "context|extensions|{session}", ""),
        None,
        2,
        ext(f"{S}[2].context.extensions", xp.SESSION_ID),
    ),
    "face_check_not_object": (_set(1, FACE, "passed"), None, 1, "FACE1"),
    "face_check_bad_result": (_set(1, FACE + "|result", "ok"), None, 1, "FACE1.result"),
    "face_check_bad_checked_at": (
        _set(1, FACE + "|checkedAt", "2026-05-01T08:30:04"),
        None,
        1,
        "FACE1.checkedAt",
    ),
    "face_check_bad_trigger": (_set(1, FACE + "|trigger", "start"), None, 1, "FACE1.trigger"),
    "face_check_bad_similarity": (
        _set(1, FACE + "|similarity", 93),
        None,
        1,
        "FACE1.similarity",
    ),
    "face_check_unknown_property": (
        _set(1, FACE + "|photo", "data:image/png;base64,AA=="),
        None,
        1,
        "FACE1.photo",
    ),
    "media_segment_not_object": (_set(2, SEGMENT, [0, 60]), None, 2, "SEGMENT2"),
    "media_segment_bad_position": (
        _set(2, SEGMENT + "|from", -1),
        None,
        2,
        "SEGMENT2.from",
    ),
    "media_segment_unknown_property": (
        _set(2, SEGMENT + "|rate", 1.5),
        None,
        2,
        "SEGMENT2.rate",
    ),
    "idle_not_object": (_set(5, IDLE, "2026-05-01T08:32:10+08:00"), None, 5, "IDLE5"),
    "idle_bad_since": (_set(5, IDLE + "|since", "yesterday"), None, 5, "IDLE5.since"),
    "idle_bad_prompted_at": (
        _set(5, IDLE + "|promptedAt", "2026-05-01T08:32:40"),
        None,
        5,
        "IDLE5.promptedAt",
    ),
    "idle_unknown_property": (_set(5, IDLE + "|reason", "no input"), None, 5, "IDLE5.reason"),
    "media_duration_bad_value": (
        _set(0, "object|definition|extensions|{duration}", 0),
        None,
        0,
        "DURATION0",
    ),
    "progress_bad_value": (
        _set(2, "result|extensions|{progress}", 150),
        None,
        2,
        ext(f"{S}[2].result.extensions", xp.PROGRESS),
    ),
    "seek_position_bad_value": (
        _set(3, "result|extensions|{from}", -5),
        None,
        3,
        ext(f"{S}[3].result.extensions", xp.TIME_FROM),
    ),
    "extension_misplaced": (
        _set(2, "result|extensions|{session}", SESSION),
        None,
        2,
        ext(f"{S}[2].result.extensions", xp.SESSION_ID),
    ),
    "extension_wrong_site": (
        _then(
            _set(4, FACE, ...),
            _set(
                4,
                "result|extensions|https://wrong-site.example.org/xapi/extensions/face-check",
                {"result": "passed", "checkedAt": "2026-05-01T08:32:00+08:00"},
            ),
        ),
        None,
        4,
        ext(
            f"{S}[4].result.extensions",
            "https://wrong-site.example.org/xapi/extensions/face-check",
        ),
    ),
    "unknown_profile_extension": (
        _set(4, "result|extensions|{site}/xapi/extensions/facecheck", {"result": "passed"}),
        None,
        4,
        "FACECHECK4",
    ),
    "session_event_before_initialized": (
        _set(2, "timestamp", "2026-05-01T08:29:55+08:00"),
        None,
        2,
        f"{S}[2].timestamp",
    ),
    "launched_after_initialized": (
        _set(0, "timestamp", "2026-05-01T08:30:30+08:00"),
        None,
        0,
        f"{S}[0].timestamp",
    ),
    "session_event_after_terminated": (
        _set(7, "timestamp", "2026-05-01T08:37:00+08:00"),
        None,
        7,
        f"{S}[7].timestamp",
    ),
    "session_verb_repeated": (_repeat_initialized, None, 11, f"{S}[11].verb.id"),
    "session_inconsistent": (_set(7, "object|id", OTHER_LESSON), None, 7, f"{S}[7].object.id"),
    "session_without_initialized": (
        _drop(1),
        None,
        1,
        ext(f"{S}[1].context.extensions", xp.SESSION_ID),
    ),
    "session_without_terminated": (
        _set(8, "context|extensions|{session}", "s-other"),
        None,
        7,
        ext(f"{S}[7].context.extensions", xp.SESSION_ID),
    ),
    "registration_not_constant": (
        _set(9, "context|registration", OTHER_REGISTRATION),
        None,
        9,
        f"{S}[9].context.registration",
    ),
    "unknown_learner": (
        lambda s: s,
        lambda: full_catalogue(pseudonyms=frozenset()),
        0,
        f"{S}[0].actor.account.name",
    ),
    "unknown_lesson": (
        lambda s: s,
        lambda: full_catalogue(lessons={}),
        0,
        f"{S}[0].object.id",
    ),
    "unknown_course": (
        lambda s: s,
        lambda: full_catalogue(courses=frozenset()),
        9,
        f"{S}[9].object.id",
    ),
    "parent_not_lesson_course": (
        lambda s: s,
        lambda: full_catalogue(lesson={"course_iri": "https://platform.example.cn/xapi/c/x"}),
        2,
        f"{S}[2].context.contextActivities.parent",
    ),
    "object_type_differs_from_lesson": (
        lambda s: s,
        lambda: full_catalogue(lesson={"kind": "text", "media_duration_seconds": None}),
        2,
        f"{S}[2].object.definition.type",
    ),
    "media_duration_differs": (
        lambda s: s,
        lambda: full_catalogue(lesson={"media_duration_seconds": 1800}),
        0,
        "DURATION0",
    ),
}


def _expected_path(path: str) -> str:
    """Expand the short names used in CASES for paths into profile extension IRIs."""
    shorthands = {
        "FACE": ("result.extensions", face_check_iri),
        "SEGMENT": ("result.extensions", segment_iri),
        "IDLE": ("result.extensions", idle_iri),
        "DURATION": ("object.definition.extensions", duration_iri),
        "FACECHECK": ("result.extensions", lambda: f"{site()}/xapi/extensions/facecheck"),
    }
    for name, (where, iri) in shorthands.items():
        if path.startswith(name) and path[len(name)].isdigit():
            rest = path[len(name) :]
            index, _dot, tail = rest.partition(".")
            full = ext(f"{S}[{index}].{where}", iri())
            return f"{full}.{tail}" if tail else full
    return path


def _resolve_site(statements: Any) -> Any:
    try:
        text = json.dumps(statements, ensure_ascii=False)
    except RecursionError:
        return statements
    if "{site}" not in text:
        return statements  # as given: a round trip would lose repeated properties
    return parse_json(text.replace("{site}", site()))


@pytest.mark.parametrize("code", sorted(CASES))
def test_every_rule_code_is_reported_where_the_statement_breaks_it(code):
    mutation, catalogue, index, path = CASES[code]
    statements = _resolve_site(mutation(conforming_session()))
    report = check_statements(statements, catalogue=catalogue() if catalogue else None)
    assert (index, code, _expected_path(path)) in found(report), [
        (p.index, p.code, p.path) for p in report.problems
    ]
    problem = next(p for p in report.problems if p.code == code and p.index == index)
    assert problem.severity == RULE_CODES[code].severity
    assert problem.message and "%(" not in problem.message
    assert problem.statement_id == statements[index].get("id")
    assert report.valid == (report.errors == 0)
    if problem.severity == ERROR:
        assert not report.valid


def test_every_rule_code_has_a_failing_example():
    assert set(CASES) == set(RULE_CODES)


def test_severities_are_error_or_warning():
    assert {rule.severity for rule in RULE_CODES.values()} == {ERROR, WARNING}


def test_an_xapi_invalid_statement_gets_only_its_xapi_error():
    statements = conforming_session()
    statements[2]["result"]["duration"] = "1 minute"
    statements[2]["actor"]["account"]["homePage"] = "https://lms.example.com"
    report = check_statements(statements)
    assert [(p.code, p.path) for p in report.by_statement[2]] == [
        ("xapi_invalid", "statements[2].result.duration")
    ]
    assert "ISO 8601 duration" in report.by_statement[2][0].message


def test_deep_extension_values_that_the_lrs_stores_are_checked():
    # The batch's array, statements[2], context, extensions and 60 lists: 64 levels.
    statements = conforming_session()
    statements[2]["context"]["extensions"]["https://platform.example.cn/x/deep"] = deep_list(59)
    assert check_statements(parse_json(json.dumps(statements))).problems == []
    statements[2]["context"]["extensions"]["https://platform.example.cn/x/deep"] = deep_list(60)
    report = check_statements(parse_json(json.dumps(statements)))
    assert [(p.index, p.code) for p in report.problems] == [(2, "nested_too_deeply")]


def test_json_too_deep_for_the_parser_is_refused_as_such():
    with pytest.raises(JsonTooDeep):
        parse_json("[" * 100_000 + "]" * 100_000)


def test_a_statement_id_used_twice_is_compared_without_case():
    statements = conforming_session()
    statements[5]["id"] = statements[4]["id"].upper()
    report = check_statements(statements)
    assert (5, "duplicate_statement_id", "statements[5].id") in found(report)
    assert report.by_statement[5][0].params == {"first": 4}


def test_a_non_object_in_the_array_is_reported_as_invalid_xapi():
    report = check_statements([*conforming_session(), "not a statement"])
    assert [(p.index, p.code, p.path) for p in report.problems] == [
        (11, "xapi_invalid", "statements[11]")
    ]
    assert report.problems[0].statement_id is None


def test_the_xapi_version_decides_what_is_valid_xapi():
    statement = conforming_session()[9]
    statement["version"] = "2.0.0"
    assert check_statements([statement]).problems[0].code == "xapi_invalid"
    assert check_statements([statement], version="2.0.0").valid


def test_actor_problems_are_reported_once_on_the_actor():
    statements = conforming_session()
    statements[1]["actor"] = {"objectType": "Agent", "openid": "https://id.example.cn/u/1"}
    codes = [(p.code, p.path) for p in check_statements(statements).by_statement[1]]
    assert codes.count(("actor_not_account", "statements[1].actor")) == 1
    assert not any(path.startswith("statements[1].actor.") for _code, path in codes)


def test_a_group_actor_is_not_the_learner_account():
    statements = conforming_session()
    statements[2]["actor"] = {
        "objectType": "Group",
        "account": {"homePage": learners_home_page(), "name": PSEUDONYM},
    }
    assert (2, "actor_not_account", "statements[2].actor") in found(check_statements(statements))


def test_heartbeats_on_text_lessons_need_no_media_segment():
    statements = conforming_session()
    del statements[2]["result"]["extensions"][segment_iri()]
    statements[2]["object"]["definition"]["type"] = xp.LESSON
    assert check_statements(statements).problems == []
    # …unless the catalogue says the lesson is a video.
    report = check_statements(statements, catalogue=full_catalogue())
    assert (2, "heartbeat_without_segment") in {(p.index, p.code) for p in report.problems}


def test_passed_with_success_false_is_a_mismatch_and_failed_with_false_conforms():
    statements = conforming_session()
    statements[10]["result"]["success"] = False
    assert (10, "test_success_mismatch") in {
        (p.index, p.code) for p in check_statements(statements).problems
    }
    statements[10]["verb"]["id"] = xp.FAILED
    assert check_statements(statements).problems == []


def test_one_as_success_is_not_true():
    # JSON 1 is not true, even though Python says 1 == True (caught by xAPI already).
    statements = conforming_session()
    statements[9]["result"]["completion"] = 1
    assert check_statements(statements).by_statement[9][0].code == "xapi_invalid"


def test_events_at_the_same_instant_are_ordered_as_crediting_orders_them():
    statements = conforming_session()
    statements[0]["timestamp"] = statements[1]["timestamp"]
    statements[8]["timestamp"] = statements[7]["timestamp"]
    assert check_statements(statements).problems == []


def test_sessions_of_two_learners_with_the_same_session_id_are_apart():
    first = conforming_session()[:9]
    second = conforming_session("another-pseudonym")[:9]
    assert check_statements(first + second).problems == []


def test_statements_given_in_any_order_are_checked_in_timestamp_order():
    statements = conforming_session()
    assert check_statements(list(reversed(statements))).problems == []


def test_a_session_with_only_a_launch_is_not_a_started_session():
    launched = conforming_session()[0]
    assert check_statements([launched]).problems == []


def test_parent_given_as_one_object_in_the_095_form_is_read_like_an_array():
    statements = conforming_session()
    statements[2]["context"]["contextActivities"]["parent"] = {"id": COURSE}
    assert check_statements(statements, catalogue=full_catalogue()).problems == []


def test_test_results_naming_no_known_course_are_warned_about():
    report = check_statements(conforming_session(), catalogue=full_catalogue(courses=frozenset()))
    assert (10, "unknown_course", "statements[10].context.contextActivities.parent") in found(
        report
    )
    assert report.valid  # unknown courses are warnings: stored, not credited


def test_unknown_learner_and_lesson_are_warnings_not_errors():
    report = check_statements(conforming_session(), catalogue=Catalogue())
    assert report.errors == 0
    assert report.valid
    assert {p.code for p in report.problems} == {
        "unknown_learner",
        "unknown_lesson",
        "unknown_course",
    }


def test_messages_name_the_values_they_are_about():
    statements = conforming_session()
    statements[1]["actor"]["account"]["homePage"] = "https://lms.example.com"
    problem = check_statements(statements).by_statement[1][0]
    assert problem.params == {
        "actual": "https://lms.example.com",
        "expected": [learners_home_page()],
        "verb": "initialized",
    }
    assert "https://lms.example.com" in problem.message
    assert learners_home_page() in problem.message
    assert problem.to_json() == {
        "index": 1,
        "id": statements[1]["id"],
        "path": "statements[1].actor.account.homePage",
        "code": "actor_wrong_home_page",
        "severity": "error",
        "message": problem.message,
        "params": problem.params,
    }


def test_report_json_counts_errors_and_warnings():
    statements = conforming_session()
    statements[2]["verb"]["id"] = "http://adlnet.gov/expapi/verbs/experienced"
    statements[7]["result"]["duration"] = "PT2M"
    body = check_statements(statements).to_json()
    assert body["valid"] is False
    assert (body["statements"], body["errors"], body["warnings"]) == (11, 1, 1)
    assert [p["code"] for p in body["problems"]] == ["verb_not_in_profile", "heartbeat_too_long"]


def test_parse_json_keeps_going_past_a_repeated_property_and_reports_its_path():
    text = '[{"actor": {"objectType": "Agent", "objectType": "Agent"}}]'
    report = check_statements(parse_json(text))
    assert [(p.code, p.path, p.params) for p in report.problems] == [
        ("duplicate_property", "statements[0].actor.objectType", {"property": "objectType"})
    ]


def test_every_rule_of_every_statement_template_has_a_code():
    rules = rule_locations("https://zhipei.other.example.cn")
    templates = {template for template, _location, _code in rules}
    assert templates == {
        "launched",
        "initialized",
        "progressed",
        "seeked",
        "suspended",
        "resumed",
        "terminated",
        "completed",
        "passed",
        "failed",
    }
    assert all(code in RULE_CODES for _template, _location, code in rules)


def test_the_profile_is_read_for_the_site_given():
    other = "https://zhipei.other.example.cn"
    statements = conforming_session()
    assert not check_statements(statements, site_url=other).valid
    for statement in statements:
        statement["actor"]["account"]["homePage"] = f"{other}/learners"
    text = json.dumps(statements).replace(site(), other)
    assert check_statements(parse_json(text), site_url=other).problems == []


# --- the catalogue, read from the database ----------------------------------------------------


def make_welding_course(platform: Any, region: Any) -> Course:
    """The approved course the conforming session reports, with its one video lesson."""
    now = timezone.now()
    course = Course.objects.create(
        platform=platform,
        external_id="weld",
        title="Welding",
        class_hours=2,
        activity_iri=COURSE,
        url="https://platform.example.cn/c/weld",
        region=region,
        status=Course.Status.APPROVED,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    Lesson.objects.create(
        course=course,
        position=1,
        external_id="v1",
        title="Video 1",
        kind=Lesson.Kind.VIDEO,
        activity_iri=LESSON,
        media_duration_seconds=MEDIA_SECONDS,
    )
    return course


@pytest.mark.django_db
def test_catalogue_for_reads_only_this_platforms_learners_courses_and_lessons():
    regions = make_region_tree()
    platform, _credential, _secret = make_platform(regions["420102"], 1)
    other, _other_credential, _other_secret = make_platform(regions["420106"], 2)
    person = make_person(regions["420102"])
    pseudonym, _created = pseudonym_for(person, platform=platform)
    other_pseudonym, _created = pseudonym_for(person, platform=other)
    make_welding_course(platform, regions["420102"])
    statements = conforming_session(pseudonym)
    statements[9]["actor"]["account"]["name"] = other_pseudonym

    catalogue = catalogue_for(platform.pk, statements)

    assert catalogue.pseudonyms == {pseudonym}
    assert catalogue.courses == {COURSE}
    assert catalogue.lessons == {
        LESSON: CatalogueLesson(course_iri=COURSE, kind="video", media_duration_seconds=3600)
    }
    report = check_statements(statements, catalogue=catalogue)
    assert [(p.index, p.code) for p in report.problems] == [(9, "unknown_learner")]
    elsewhere = catalogue_for(other.pk, statements)
    assert elsewhere.courses == frozenset()
    assert elsewhere.lessons == {}


@pytest.mark.django_db
def test_catalogue_for_statements_naming_nothing_reads_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert catalogue_for(1, ["not a statement", {"verb": {}}]) == Catalogue()


def test_the_documentation_lists_every_rule_code_with_its_severity():
    text = (Path(settings.BASE_DIR) / "docs" / "xapi-profile.md").read_text(encoding="utf-8")
    section = text.split("### Rule codes", 1)[1]
    rows = re.findall(r"^\| `([a-z_]+)` \| (error|warning) \|", section, flags=re.MULTILINE)
    assert dict(rows) == {code: rule.severity for code, rule in RULE_CODES.items()}
    assert len(rows) == len(RULE_CODES)


def test_the_documented_example_gets_the_documented_answer():
    text = (Path(settings.BASE_DIR) / "docs" / "xapi-profile.md").read_text(encoding="utf-8")
    section = text.split("### The API: `POST /api/v1/profile/validate`", 1)[1]
    request = section.split("```http", 1)[1].split("```", 1)[0]
    body = request.split("\n\n", 1)[1].replace("<SITE_URL>", site())
    answer = section.split("```jsonc", 1)[1].split("```", 1)[0]
    report = check_statements(
        parse_json(body),
        catalogue=Catalogue(
            pseudonyms=frozenset({"vX3q9Jd0bE2mKp7RtYw1Aa"}),
            courses=frozenset({"https://platform.example.cn/xapi/courses/weld"}),
        ),
    )
    assert [p.code for p in report.problems] == [
        "actor_wrong_home_page",
        "progressed_without_duration",
        "unknown_lesson",
        "session_without_initialized",
        "session_without_terminated",
    ]
    assert (report.errors, report.warnings) == (2, 3)
    for problem in report.problems:
        assert problem.code in answer
    for problem in report.problems[:3]:
        assert f'"path": "{problem.path}"' in answer
        assert problem.message.replace(site(), "<SITE_URL>") in answer


def test_nan_and_infinity_are_not_json_and_are_reported_where_they_are():
    statements = conforming_session()
    text = json.dumps(statements).replace('"similarity": 0.93', '"similarity": NaN')
    text = text.replace('"raw": 90', '"raw": -Infinity')
    report = check_statements(parse_json(text))
    face = ext("statements[1].result.extensions", face_check_iri())
    refused = [p for p in report.problems if p.severity == ERROR]
    assert [(p.index, p.code, p.path) for p in refused] == [
        (1, "xapi_invalid", f"{face}.similarity"),
        (10, "xapi_invalid", "statements[10].result.score.raw"),
    ]
    assert refused[1].message.endswith("-Infinity is not a JSON value")


def test_alternatives_are_joined_in_the_active_language_and_listed_in_json():
    statements = conforming_session()
    statements[0]["object"]["definition"]["type"] = "http://adlnet.gov/expapi/activities/course"
    report = check_statements(statements)
    problem = next(p for p in report.problems if p.code == "object_type_not_allowed")
    expected = problem.to_json()["params"]["expected"]
    assert isinstance(expected, list) and len(expected) > 1
    with translation.override("en"):
        assert f"{expected[-2]} or {expected[-1]}" in problem.message
    with translation.override("zh-hans"):
        assert f"{expected[-2]}或{expected[-1]}" in problem.message
        assert " or " not in problem.message
