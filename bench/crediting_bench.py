"""Crediting rules throughput (not a test): synthetic learners and sessions pushed through
zhipei.learning.crediting.rules.credit_day in one process. Prints statements/s through the
rules alone, and through payload parsing (crediting.events) plus the rules; the target is
≥ 50,000 statements/s per worker. No database is touched.

    .venv/bin/python bench/crediting_bench.py --learners 2000 --sessions 3 --minutes 30
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from zhipei.learning.crediting import events as ev
from zhipei.learning.crediting import rules
from zhipei.lrs_documents import profile

SITE = "https://zhipei.example.gov.cn"
IRIS = ev.ProfileIris.for_site(SITE)
DAY0 = 1_777_564_800  # 2026-05-01 00:00 +08:00
LESSONS = [f"https://platform.example.cn/courses/c{i}/lessons/1" for i in range(4)]
MEDIA = {LESSONS[0]: 1800, LESSONS[1]: 3600}
PARAMS = rules.Params(daily_cap_minutes=240)
# statement id, verb IRI, epoch seconds, enrolment, lesson IRI, duration, payload (dict or JSON)
Row = tuple[str, str, int, int, str, float | None, Any]


def _payload(verb: str, at: int, session: str, extensions: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "verb": {"id": verb},
        "context": {"extensions": {profile.SESSION_ID: session}},
        "timestamp": datetime.fromtimestamp(at, tz=UTC).isoformat(),
    }
    if extensions:
        data["result"] = {"extensions": extensions}
    return data


def synthetic_day(rnd: random.Random, learner: int, sessions: int, minutes: int) -> list[Row]:
    """One learner's day as (statement id, verb IRI, epoch, enrolment, lesson, duration,
    payload) rows: sessions of one heartbeat a minute with media segments, a random face
    check now and then, an occasional idle pause, seek or overlapping session."""
    rows: list[Row] = []
    at = DAY0 + 8 * 3600 + rnd.randint(0, 3600)
    for s in range(sessions):
        sid = f"L{learner}-S{s}"
        enrolment = learner * 10 + rnd.randint(0, 2)
        lesson = rnd.choice(LESSONS)
        face = rnd.choice(["passed"] * 9 + ["failed"])
        start = at - (rnd.randint(60, 900) if rnd.random() < 0.1 else 0)  # 10 % overlap
        check = {
            IRIS.face_check: {
                "result": face,
                "checkedAt": datetime.fromtimestamp(start, tz=UTC).isoformat(),
            }
        }
        rows.append(
            (
                f"{sid}-i",
                profile.INITIALIZED,
                start,
                enrolment,
                lesson,
                None,
                _payload(profile.INITIALIZED, start, sid, check),
            )
        )
        position = 0
        for m in range(1, minutes + 1):
            t = start + 60 * m
            ext: dict[str, Any] = {IRIS.media_segment: {"from": position, "to": position + 60}}
            position += 60
            if rnd.random() < 0.03:
                position += 600  # a forward jump
            if rnd.random() < 0.05:
                ext[IRIS.face_check] = {
                    "result": rnd.choice(["passed", "passed", "missed"]),
                    "checkedAt": datetime.fromtimestamp(t - 30, tz=UTC).isoformat(),
                }
            verb = profile.TERMINATED if m == minutes else profile.PROGRESSED
            rows.append(
                (f"{sid}-{m}", verb, t, enrolment, lesson, 60.0, _payload(verb, t, sid, ext))
            )
            if rnd.random() < 0.02:
                idle = {IRIS.idle: {"since": datetime.fromtimestamp(t - 120, tz=UTC).isoformat()}}
                rows.append(
                    (
                        f"{sid}-p{m}",
                        profile.SUSPENDED,
                        t,
                        enrolment,
                        lesson,
                        None,
                        _payload(profile.SUSPENDED, t, sid, idle),
                    )
                )
                rows.append(
                    (
                        f"{sid}-r{m}",
                        profile.RESUMED,
                        t + 1,
                        enrolment,
                        lesson,
                        None,
                        _payload(profile.RESUMED, t + 1, sid, None),
                    )
                )
        at = start + 60 * minutes + rnd.randint(60, 3600)
    return rows


def to_event(row: Row) -> rules.Event:
    statement_id, verb_iri, at, enrolment, lesson, duration, payload = row
    verb = ev.crediting_verb(verb_iri)
    assert verb is not None
    return ev.event_from_payload(
        statement_id=statement_id,
        verb=verb,
        at=datetime.fromtimestamp(at, tz=UTC),
        enrolment=enrolment,
        lesson=lesson,
        duration_seconds=duration,
        payload=payload,
        iris=IRIS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rnd = random.Random(args.seed)
    days = [synthetic_day(rnd, i, args.sessions, args.minutes) for i in range(args.learners)]
    statements = sum(len(d) for d in days)
    texts = [[(*row[:6], json.dumps(row[6])) for row in day] for day in days]
    events = [[to_event(row) for row in day] for day in days]

    started = time.perf_counter()
    credited = 0
    for day in events:
        result = rules.credit_day(
            day, day_start=DAY0, day_end=DAY0 + 86400, params=PARAMS, media_durations=MEDIA
        )
        credited += sum(p.seconds for p in result.credited)
    rules_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for day_text in texts:
        parsed = [to_event((*row[:6], ev.parse_payload(row[6]))) for row in day_text]
        rules.credit_day(
            parsed, day_start=DAY0, day_end=DAY0 + 86400, params=PARAMS, media_durations=MEDIA
        )
    full_seconds = time.perf_counter() - started

    print(f"learners={args.learners} statements={statements} credited_hours={credited / 3600:.1f}")
    print(
        f"rules only:            {statements / rules_seconds:,.0f} statements/s ({rules_seconds:.2f} s)"
    )
    print(
        f"JSON parse + rules:    {statements / full_seconds:,.0f} statements/s ({full_seconds:.2f} s)"
    )


if __name__ == "__main__":
    main()
