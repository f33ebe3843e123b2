"""Crediting rules throughput (not a test): synthetic learners and sessions pushed through
zhipei.learning.crediting.rules.credit_day in one process. Prints statements/s through the
rules alone, through payload parsing (crediting.events) plus the rules, and through the
evidence the LRS stores (lrs.evidence, what the pass reads) plus the rules; the target is
≥ 50,000 statements/s per worker. No database is touched.

    .venv/bin/python bench/crediting_bench.py --learners 2000 --sessions 3 --minutes 30

With --db it times the whole incremental pass (learning.services.credit_new_statements)
against DATABASE_URL instead, on statements stored first through the LRS service; use a
scratch database, it writes (bench/README.md, "Crediting rules"):

    .venv/bin/python bench/crediting_bench.py --db --learners 600 [--batch-size 5000] [--rereads 3]
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
from zhipei.lrs import evidence
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


def stored_evidence(row: Row) -> tuple[Any, ...]:
    """The row with its payload replaced by the evidence the LRS stores for it."""
    statement_id, verb_iri, at, enrolment, lesson, duration, payload = row
    found = evidence.extract(payload, verb_id=verb_iri, lesson=lesson, iris=IRIS)
    return (statement_id, verb_iri, at, enrolment, lesson, duration, evidence.encode(found))


def from_evidence(row: tuple[Any, ...]) -> rules.Event:
    statement_id, verb_iri, at, enrolment, lesson, duration, text = row
    verb = ev.crediting_verb(verb_iri)
    found = evidence.decode(text)
    assert verb is not None and found is not None
    return ev.event_from_evidence(statement_id, verb, at, enrolment, lesson, duration, found)


def _scratch_world(run: str) -> tuple[Any, Any, Any, list[Any], Any]:
    """Region, platform credential, course with four hour-long video lessons, operator."""
    from django.utils import timezone

    from zhipei.accounts.models import Role, RoleAssignment, User
    from zhipei.catalog.models import Course, Lesson
    from zhipei.lrs.tests.helpers import make_platform
    from zhipei.occupations.models import Occupation
    from zhipei.regions.models import Region
    from zhipei.regions.testing import make_region_tree

    if not Region.objects.filter(code="420102").exists():
        make_region_tree()
    region = Region.objects.get(code="420102", valid_to_year=None)
    platform, credential, _secret = make_platform(region, serial=int(run[:4], 16) % 9000 + 100)
    occupation, _c = Occupation.objects.get_or_create(code="6", defaults={"level": 1, "name": "x"})
    now = timezone.now()
    course = Course.objects.create(
        platform=platform,
        external_id=run,
        title="bench",
        class_hours=10,
        activity_iri=f"https://bench.example/{run}",
        url="https://bench.example/",
        region=region,
        status=Course.Status.APPROVED,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    course.occupations.set([occupation])
    lessons = [
        Lesson.objects.create(
            course=course,
            position=i,
            external_id=str(i),
            title=str(i),
            kind="video",
            activity_iri=f"https://bench.example/{run}/l{i}",
            media_duration_seconds=3600,
        )
        for i in range(4)
    ]
    operator = User.objects.create_user(username=f"bench-{run}", password=None)
    RoleAssignment.objects.create(
        user=operator,
        role=Role.PLATFORM_OPERATOR,
        organisation=platform.organisation,
        granted_at=now,
    )
    return region, platform, credential, lessons, (course, operator)


def _as_statement(row: Row, lessons: list[Any], home: str, name: str, site: str) -> dict[str, Any]:
    """A synthetic row as the xAPI statement a platform would POST, for `site`'s IRIs."""
    import uuid

    iris = ev.ProfileIris.for_site(site)
    _id, verb, _at, _e, lesson_iri, duration, payload = row
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": home, "name": name}},
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": lessons[LESSONS.index(lesson_iri)].activity_iri},
        "context": payload["context"],
        "timestamp": payload["timestamp"],
    }
    renamed = {IRIS.face_check: iris.face_check, IRIS.media_segment: iris.media_segment}
    renamed[IRIS.idle] = iris.idle
    extensions = payload.get("result", {}).get("extensions", {})
    result: dict[str, Any] = {}
    if extensions:
        result["extensions"] = {renamed.get(k, k): v for k, v in extensions.items()}
    if duration:
        result["duration"] = f"PT{int(duration)}S"
    if result:
        data["result"] = result
    return data


def database_pass(
    learners: int,
    sessions: int,
    minutes: int,
    seed: int,
    *,
    batch_size: int = 5000,
    rereads: int = 0,
) -> None:
    """The whole incremental pass against the configured database: a scratch world of
    `learners` enrolled learners, their statements stored through the LRS service, then
    `credit_new_statements` (in batches of `batch_size` statements) timed. Use a scratch
    database: it writes."""
    import os
    import uuid

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings as dj

    from zhipei.learning import services
    from zhipei.lrs.services import store_statements
    from zhipei.people.queries import learners_home_page
    from zhipei.people.services import pseudonym_for
    from zhipei.people.testing import make_id_number, make_person

    run = uuid.uuid4().hex
    region, platform, credential, lessons, (course, operator) = _scratch_world(run)
    births = random.Random(run)
    home = learners_home_page(dj.SITE_URL)
    rnd = random.Random(seed)
    total = 0
    started = time.perf_counter()
    numbers: set[str] = set()
    for n in range(learners):
        number = ""
        while not number or number in numbers:  # two random learners may draw one number
            birth = f"{births.randint(1960, 2004)}{births.randint(1, 12):02d}"
            birth += f"{births.randint(1, 28):02d}"
            number = make_id_number(region.code, birth=birth, seq=births.randint(1, 999))
        numbers.add(number)
        person = make_person(region, id_number=number)
        services.enrol(person, course, by=operator)
        name, _created = pseudonym_for(person, platform=platform)
        batch = [
            _as_statement(row, lessons, home, name, dj.SITE_URL)
            for row in synthetic_day(rnd, n, sessions, minutes)
        ]
        for i in range(0, len(batch), 100):
            store_statements(credential=credential, statements=batch[i : i + 100], version="1.0.3")
        total += len(batch)
    print(f"stored {total} statements in {time.perf_counter() - started:.1f} s (setup)")
    started = time.perf_counter()
    read = 0
    while True:
        summary = services.credit_new_statements(batch_size=batch_size)
        read += summary.statements
        if summary.statements == 0:
            break
    elapsed = time.perf_counter() - started
    print(f"pass: {read} statements, {read / elapsed:,.0f} statements/s ({elapsed:.2f} s)")
    from zhipei.learning.models import CreditingState

    for _n in range(rereads):  # the same statements again, from the start of the store
        CreditingState.objects.update(watermark="0.0")
        started = time.perf_counter()
        read = 0
        while count := services.credit_new_statements(batch_size=batch_size).statements:
            read += count
        elapsed = time.perf_counter() - started
        print(f"re-read: {read} statements, {read / elapsed:,.0f} statements/s ({elapsed:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db", action="store_true", help="time the whole pass against DATABASE_URL (writes!)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=5000, help="statements per crediting batch (--db)"
    )
    parser.add_argument(
        "--rereads", type=int, default=0, help="then credit everything again N times (--db)"
    )
    args = parser.parse_args()
    if args.db:
        database_pass(
            args.learners,
            args.sessions,
            args.minutes,
            args.seed,
            batch_size=args.batch_size,
            rereads=args.rereads,
        )
        return
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

    stored = [[stored_evidence(row) for row in day] for day in days]
    started = time.perf_counter()
    for day_stored in stored:
        rules.credit_day(
            [from_evidence(row) for row in day_stored],
            day_start=DAY0,
            day_end=DAY0 + 86400,
            params=PARAMS,
            media_durations=MEDIA,
        )
    evidence_seconds = time.perf_counter() - started

    print(f"learners={args.learners} statements={statements} credited_hours={credited / 3600:.1f}")
    print(
        f"rules only:            {statements / rules_seconds:,.0f} statements/s ({rules_seconds:.2f} s)"
    )
    print(
        f"JSON parse + rules:    {statements / full_seconds:,.0f} statements/s ({full_seconds:.2f} s)"
    )
    print(
        f"stored evidence + rules: {statements / evidence_seconds:,.0f} statements/s"
        f" ({evidence_seconds:.2f} s)"
    )


if __name__ == "__main__":
    main()
