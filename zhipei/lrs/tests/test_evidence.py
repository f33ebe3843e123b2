"""lrs.evidence: the session evidence the LRS extracts from a statement at ingest, and the
text it stores; the crediting pass builds its events from it (learning/tests cover that the
events are the ones the payload gives)."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from zhipei.learning.tests.helpers import T0, LearningWorld
from zhipei.lrs import evidence
from zhipei.lrs.evidence import Evidence
from zhipei.lrs.models import Statement
from zhipei.lrs_documents import profile

SITE = "https://zhipei.example.gov.cn"
IRIS = evidence.ProfileIris.for_site(SITE)
LESSON = "https://p.example/l1"


def statement(
    extensions: dict[str, Any] | None = None,
    *,
    session: object = "s-9",
    registration: str | None = "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10",
) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if registration is not None:
        context["registration"] = registration
    if session is not None:
        context["extensions"] = {profile.SESSION_ID: session}
    return {"context": context, "result": {"extensions": extensions or {}}}


def extract(data: dict[str, Any], verb: str = profile.PROGRESSED) -> Evidence:
    return evidence.extract(data, verb_id=verb, lesson=LESSON, iris=IRIS)


def test_a_heartbeat_gives_its_session_face_check_and_media_segment() -> None:
    found = extract(
        statement(
            {
                IRIS.face_check: {"result": "passed", "checkedAt": "2026-05-01T00:29:00Z"},
                IRIS.media_segment: {"from": 0, "to": 59.5},
            }
        )
    )
    assert found == Evidence("s-9", "passed", 1777595340, 0.0, 59.5)


def test_without_a_session_id_the_registration_and_lesson_make_the_session() -> None:
    assert extract(statement(session=None)).session == (
        f"~6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10~{LESSON}"
    )
    assert extract(statement(session="", registration=None)).session == f"~~{LESSON}"
    assert extract(statement(session=7)).session.startswith("~")
    assert extract({"context": "not an object", "result": []}) == Evidence(f"~~{LESSON}")


def test_malformed_evidence_is_left_out_and_never_refused() -> None:
    found = extract(
        statement(
            {
                IRIS.face_check: {"result": "maybe", "checkedAt": "2026-05-01T00:29:00Z"},
                IRIS.media_segment: {"from": -1, "to": 60},
            }
        )
    )
    assert found == Evidence("s-9")
    # A face check without a readable time of its own keeps its result (the statement's
    # time stands in for it when the event is built).
    for checked_at in ("yesterday", "2026-05-01T00:29:00", 1777595340):
        face = {IRIS.face_check: {"result": "failed", "checkedAt": checked_at}}
        assert extract(statement(face))[1:3] == ("failed", None)
    for bad in (True, "10", math.nan, math.inf, None):
        segment = {IRIS.media_segment: {"from": 0, "to": bad}}
        assert extract(statement(segment)).segment_from is None


def test_seek_only_on_seeked_and_idle_only_on_suspended() -> None:
    data = statement(
        {
            profile.TIME_FROM: 30,
            profile.TIME_TO: 300,
            IRIS.idle: {"since": "2026-05-01T08:00:00+08:00"},
        }
    )
    assert extract(data, profile.SEEKED)[5:] == (30.0, 300.0, None)
    assert extract(data, profile.SUSPENDED)[5:] == (None, None, 1777593600)
    assert extract(data, profile.PROGRESSED)[5:] == (None, None, None)


def test_only_session_verbs_carry_evidence() -> None:
    data = statement({IRIS.media_segment: {"from": 0, "to": 60}})
    assert (
        evidence.for_statement(data, verb_id=profile.COMPLETED, lesson=LESSON, site_url=SITE) == ""
    )
    text = evidence.for_statement(data, verb_id=profile.PROGRESSED, lesson=LESSON, site_url=SITE)
    assert text == '["s-9",null,null,0.0,60.0,null,null,null]'


numbers = st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False)
epochs = st.none() | st.integers(min_value=-(2**53), max_value=2**53)


@given(
    st.builds(
        Evidence,
        st.text(),
        st.none() | st.sampled_from(sorted(evidence.FACE_RESULTS)),
        epochs,
        numbers,
        numbers,
        numbers,
        numbers,
        epochs,
    )
)
def test_the_stored_text_reads_back_as_the_same_evidence(found: Evidence) -> None:
    decoded = evidence.decode(evidence.encode(found))
    assert decoded == found
    assert decoded is not None
    assert [type(value) for value in decoded] == [type(value) for value in found]


def test_a_lone_surrogate_survives_the_round_trip_and_garbage_reads_as_none() -> None:
    found = Evidence("s-\ud800")
    assert evidence.decode(evidence.encode(found)) == found
    for text in ("", "{}", "[1,2]", '["s"]', "[1,null,null,null,null,null,null,null]", "[nope"):
        assert evidence.decode(text) is None


class IngestTests(LearningWorld):
    def test_the_lrs_stores_the_evidence_of_session_statements_only(self) -> None:
        heartbeat = self.stmt(
            profile.PROGRESSED,
            T0,
            duration="PT1M",
            extensions={profile.media_segment_iri(settings.SITE_URL): {"from": 60, "to": 120}},
        )
        done = self.stmt(profile.COMPLETED, T0)
        self.store([heartbeat, done])
        stored = dict(Statement.objects.values_list("verb_id", "evidence"))
        assert stored == {
            profile.PROGRESSED: '["s-1",null,null,60.0,120.0,null,null,null]',
            profile.COMPLETED: "",
        }
