"""Reading stored statements as crediting events (pure; malformed extensions are dropped)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from zhipei.learning.crediting import events as ev
from zhipei.learning.crediting import rules
from zhipei.lrs_documents import profile

SITE = "https://zhipei.example.gov.cn"
IRIS = ev.ProfileIris.for_site(SITE)
AT = datetime(2026, 5, 1, 0, 30, 0, 500000, tzinfo=UTC)


def event(verb: str, payload: dict[str, Any], duration: float | None = 60.0) -> rules.Event:
    return ev.event_from_payload(
        statement_id="x",
        verb=verb,
        at=AT,
        enrolment=7,
        lesson="https://p.example/l1",
        duration_seconds=duration,
        payload=payload,
        iris=IRIS,
    )


def with_result(extensions: dict[str, Any], session: str | None = "s-9") -> dict[str, Any]:
    context: dict[str, Any] = {"registration": "r-1"}
    if session is not None:
        context["extensions"] = {profile.SESSION_ID: session}
    return {"result": {"extensions": extensions}, "context": context}


def test_profile_verbs_map_to_short_names_and_others_are_ignored() -> None:
    assert ev.crediting_verb(profile.PROGRESSED) == rules.PROGRESSED
    assert ev.crediting_verb(profile.SEEKED) == rules.SEEKED
    assert ev.crediting_verb(profile.COMPLETED) is None
    assert ev.crediting_verb("http://adlnet.gov/expapi/verbs/voided") is None


def test_a_heartbeat_with_face_check_and_segment() -> None:
    payload = with_result(
        {
            IRIS.face_check: {"result": "missed", "checkedAt": "2026-05-01T08:29:30+08:00"},
            IRIS.media_segment: {"from": 600, "to": 660.5},
        }
    )
    got = event(rules.PROGRESSED, payload, 59.6)
    assert got.at == int(AT.timestamp())
    assert got.session == "s-9"
    assert got.duration == 60
    assert got.face_check == ("missed", int(AT.timestamp()) - 30)
    assert got.segment == (600.0, 660.5)


def test_malformed_extensions_are_left_out() -> None:
    payload = with_result(
        {
            IRIS.face_check: {"result": "maybe", "checkedAt": "2026-05-01T08:29:30+08:00"},
            IRIS.media_segment: {"from": "600", "to": True},
        },
        session=None,
    )
    got = event(rules.PROGRESSED, payload, float("nan"))
    assert (got.face_check, got.segment, got.duration) == (None, None, None)
    assert got.session == "~r-1~https://p.example/l1"


def test_a_face_check_without_a_usable_time_uses_the_statement_time() -> None:
    for checked_at in ("2026-05-01T08:29:30", "yesterday", 5):
        payload = with_result({IRIS.face_check: {"result": "passed", "checkedAt": checked_at}})
        assert event(rules.INITIALIZED, payload).face_check == ("passed", int(AT.timestamp()))


def test_seek_and_idle_are_read_only_on_their_verbs() -> None:
    seek = with_result({profile.TIME_FROM: 10, profile.TIME_TO: 700})
    assert event(rules.SEEKED, seek, None).seek == (10.0, 700.0)
    assert event(rules.PROGRESSED, seek).seek is None
    idle = with_result({IRIS.idle: {"since": "2026-05-01T00:20:00Z"}})
    assert event(rules.SUSPENDED, idle, None).idle_since == int(AT.timestamp()) - 600
    assert event(rules.PROGRESSED, idle).idle_since is None


def test_non_objects_in_the_payload_are_tolerated() -> None:
    got = event(rules.PROGRESSED, {"result": [], "context": "x"})
    assert got.session.startswith("~")
    assert ev.parse_payload("not json") == {}
    assert ev.parse_payload("[1, 2]") == {}
