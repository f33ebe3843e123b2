"""Fill a PostgreSQL database for the subsidy benchmarks (issue 5): 1,000,000 people,
3,000,000 enrolments with their completion certificates, earlier live claims for the
duplicate check, the regions, occupations, platforms, courses and catalogue entries they
refer to, the demo (§15) policies, funded ledgers and officers. Not a test.

The small world is made through the ORM and services (idempotent); the big tables are written
with COPY (psycopg's `cursor.copy`) in fixed chunks, one transaction each, with explicit ids
computed from the person number, so an interrupted run resumes where it stopped and a second
run changes nothing. Every value derives from a seeded random generator per chunk.

Synthetic personal data: person rows carry one fixed dummy ciphertext for the ID number (it
is never decrypted here), a unique blind index (a keyed BLAKE2 hash of the person number, not
of any ID number) and a masked form that looks like one; names come from short lists.

    createdb -h 127.0.0.1 -U postgres zhipei_subbench_data
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhipei_subbench_data … manage.py migrate
    DATABASE_URL=… .venv/bin/python bench/subsidy_data.py --people 1000000

Certificates: person p holds three, on three different courses (k = 0, 1, 2); course k=1 has
the occupation of course k=0 and, for half the people, its skill level too (the "same
occupation and level only once" rule has something to find). Every fifth person already
claimed certificate k=0 (statuses from submitted to paid; 15 % rejected or withdrawn, no
longer live).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

CERTIFICATES_PER_PERSON = 3
COURSES = 200
OCCUPATIONS = 50
PLATFORMS = 10
CLAIM_EVERY = 5  # every fifth person already claimed their first certificate
TODAY = date(2026, 11, 26)  # the day the data describes (dates are relative to it)
FIRST_COMPLETION = date(2025, 10, 1)
LAST_COMPLETION = date(2026, 11, 20)
DUMMY_CIPHERTEXT = "\\\\x" + b"bench-synthetic-not-an-id-number".hex()  # COPY text: \\x…
BLIND_KEY = b"zhipei-bench-synthetic"

# Wuhan and Yichang districts and three province-administered county-level cities (codes as
# in GB/T 2260; names synthetic where the test tree has none).
PREFECTURES = {"420100": "武汉市", "420500": "宜昌市"}
COUNTIES = [
    *(f"4201{n:02d}" for n in (2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17)),
    *(f"4205{n:02d}" for n in (2, 3, 4, 5, 6, 25, 26, 27, 28, 29, 81, 82, 83)),
    "429004",
    "429005",
    "429006",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文斌宇浩凯健俊帆"


@dataclass(frozen=True)
class CourseRow:
    id: int
    platform_id: int
    occupation_id: int
    skill_level: int
    hours: int


@dataclass(frozen=True)
class World:
    counties: list[tuple[int, str, int]]  # (region id, code, fund region id)
    courses: list[CourseRow]


def course_indices(person: int) -> tuple[int, int, int]:
    first = person % COURSES
    # +50: same occupation (50 occupations); same level when both fall in the same hundred.
    return first, (first + OCCUPATIONS) % COURSES, (first + 17) % COURSES


# --- The small world (ORM, idempotent) ---------------------------------------------------------


def build_world() -> World:
    from django.utils import timezone

    from zhipei.accounts.models import Role, RoleAssignment, User
    from zhipei.catalog.models import Course, InstitutionCatalogueEntry, ProjectCatalogueEntry
    from zhipei.occupations.models import Occupation
    from zhipei.orgs.models import Organisation, Platform
    from zhipei.orgs.tests.helpers import make_uscc
    from zhipei.regions.models import Region
    from zhipei.regions.testing import make_region_tree, scope_prefix_for
    from zhipei.subsidies import demo, services
    from zhipei.subsidies.models import FundSource

    regions = make_region_tree()
    hubei = regions["420000"]
    for code, name in PREFECTURES.items():
        regions[code], _ = Region.objects.get_or_create(
            code=code,
            valid_to_year=None,
            defaults={
                "name": name,
                "level": "prefecture",
                "parent": hubei,
                "scope_prefix": code[:4],
            },
        )
    for code in COUNTIES:
        parent = regions[code[:4] + "00"] if code[:4] + "00" in PREFECTURES else hubei
        regions[code], _ = Region.objects.get_or_create(
            code=code,
            valid_to_year=None,
            defaults={
                "name": f"基准区县{code}",
                "level": "county",
                "parent": parent,
                "scope_prefix": scope_prefix_for(code, "county"),
            },
        )
    demo.load_demo_policies()
    for source in FundSource.values:
        for code in ("420000", *PREFECTURES):
            services.allocate_budget(
                source=source,
                region=regions[code],
                amount_fen=10**12,
                by=None,
                reference=f"bench-budget-{source}-{code}",
            )
    now = timezone.now()

    def user(username: str, role: str, region: Region) -> None:
        found, created = User.objects.get_or_create(username=username)
        if created:
            found.set_unusable_password()
            found.save()
            RoleAssignment.objects.create(user=found, role=role, region=region, granted_at=now)

    for code in COUNTIES:
        user(f"bench-county-{code}", Role.LABOUR_OFFICER, regions[code])
    for code in ("420000", *PREFECTURES):
        user(f"bench-city-{code}", Role.LABOUR_OFFICER, regions[code])
        user(f"bench-finance-{code}", Role.FINANCE_OFFICER, regions[code])

    major, _ = Occupation.objects.get_or_create(
        code="6", defaults={"level": 1, "name": "生产制造及有关人员"}
    )
    occupations = [
        Occupation.objects.get_or_create(
            code=f"6-18-03-{n + 10:02d}",
            defaults={"level": 4, "name": f"基准职业{n + 1}", "parent": major},
        )[0]
        for n in range(OCCUPATIONS)
    ]
    platforms: list[Platform] = []
    for n in range(PLATFORMS):
        organisation, _ = Organisation.objects.get_or_create(
            uscc=make_uscc("420100", 900_000 + n),
            defaults={"name": f"基准学习平台{n + 1}", "region": hubei, "address": "基准地址"},
        )
        platform, _ = Platform.objects.get_or_create(
            organisation=organisation, defaults={"status": Platform.Status.SELECTED}
        )
        platforms.append(platform)
        if not InstitutionCatalogueEntry.objects.filter(organisation=organisation).exists():
            # The last platform entered the catalogue only in June 2026: its earlier
            # certificates do not count (course_in_catalogue fails).
            InstitutionCatalogueEntry.objects.create(
                region=hubei,
                organisation=organisation,
                nature=InstitutionCatalogueEntry.Nature.values[0],
                valid_from=date(2026, 6, 1) if n == PLATFORMS - 1 else date(2020, 1, 1),
                source="manual",
                created_at=now,
            )
    for occupation in occupations:
        ProjectCatalogueEntry.objects.get_or_create(
            region=hubei,
            occupation=occupation,
            defaults={
                "training_type": ProjectCatalogueEntry.TrainingType.values[0],
                "valid_from": date(2020, 1, 1),
                "created_at": now,
            },
        )
    courses: list[CourseRow] = []
    for c in range(COURSES):
        platform = platforms[c // (COURSES // PLATFORMS)]
        occupation = occupations[c % OCCUPATIONS]
        level = 5 if c < COURSES // 2 else 4
        hours = 20 + (c * 7) % 41
        course, created = Course.objects.get_or_create(
            platform=platform,
            external_id=f"bench-{c}",
            defaults={
                "title": f"{occupation.name}（{'初级' if level == 5 else '中级'}）在线课程{c}",
                "class_hours": hours,
                "activity_iri": f"https://bench.example.cn/courses/{c}",
                "url": f"https://bench.example.cn/c/{c}",
                "region": hubei,
                "status": Course.Status.APPROVED,
                "status_changed_at": now,
                "created_at": now,
                "updated_at": now,
                "skill_level": level,
            },
        )
        if created:
            course.occupations.set([occupation])
        courses.append(
            CourseRow(course.pk, platform.pk, occupation.pk, level, int(course.class_hours))
        )
    counties = []
    for code in COUNTIES:
        region = regions[code]
        fund = region.parent if region.parent and region.parent.code in PREFECTURES else hubei
        counties.append((region.pk, code, fund.pk))
    return World(counties=counties, courses=courses)


# --- COPY helpers --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def copy_lines(table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY rows (values without tabs, newlines or backslashes, except the prepared bytea
    literal) into `table`; returns the count."""
    from django.db import connection

    lines = ["\t".join(_text(v) for v in row) for row in rows]
    if not lines:
        return 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write("\n".join(lines) + "\n")
    return len(lines)


def max_id(table: str, limit: int) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table} WHERE id <= %s", [limit])  # noqa: S608 - table names are constants
        return int(cursor.fetchone()[0])


def count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant table names
        return int(cursor.fetchone()[0])


def reset_sequences(tables: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"greatest((SELECT coalesce(max(id), 0) FROM {table}), 1))"
            )


def phase(
    name: str,
    *,
    table: str,
    people: int,
    chunk: int,
    id_of_last: Callable[[int], int],
    write: Callable[[int, int], int],
) -> None:
    """Write the rows of persons 1..people chunk by chunk (one transaction each), resuming
    after the last person whose rows are there (`id_of_last(p)`: the id of person p's last
    row, or of the last row before it)."""
    from django.db import transaction

    done_rows = max_id(table, id_of_last(people))
    # The first person whose rows are not all there (chunks commit whole persons).
    low, high = 1, people + 1
    while low < high:
        middle = (low + high) // 2
        if id_of_last(middle) > done_rows:
            high = middle
        else:
            low = middle + 1
    start = low
    if start > people:
        print(json.dumps({"phase": name, "status": "already complete"}), flush=True)
        return
    began, rows = time.perf_counter(), 0
    while start <= people:
        end = min(start + chunk, people + 1)
        with transaction.atomic():
            rows += write(start, end)
        start = end
        elapsed = time.perf_counter() - began
        print(
            json.dumps(
                {
                    "phase": name,
                    "persons_done": end - 1,
                    "rows": rows,
                    "rows_per_s": round(rows / elapsed),
                }
            ),
            flush=True,
        )


# --- The big tables ------------------------------------------------------------------------------


def _blind(n: int, salt: bytes = b"") -> str:
    return hashlib.blake2b(salt + n.to_bytes(8, "big"), key=BLIND_KEY, digest_size=32).hexdigest()


def person_rows(world: World, start: int, end: int, now: str) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(start)
    for p in range(start, end):
        region_id, code, _fund = world.counties[p % len(world.counties)]
        sex = "female" if rng.random() < 0.5 else "male"
        birth = date(1966, 1, 1) + timedelta(days=rng.randrange(42 * 365))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if p % 3 else "")
        masked = f"{code[:3]}{'*' * 11}{p % 1000:03d}{'X' if p % 11 == 0 else p % 10}"
        yield (
            p,
            name,
            DUMMY_CIPHERTEXT,
            "bench",
            _blind(p),
            masked,
            birth.isoformat(),
            sex,
            code,
            "",
            "format_only",
            "bench-synthetic",
            None,
            now,
            region_id,
        )


PERSON_COLUMNS = [
    "id",
    "name",
    "id_ciphertext",
    "id_key_id",
    "id_blind_index",
    "id_masked",
    "birth_date",
    "sex",
    "birth_region_code",
    "phone",
    "verification",
    "verification_provider",
    "verified_at",
    "created_at",
    "region_id",
]


def certificate_of(world: World, p: int, k: int, rng: random.Random) -> dict[str, Any]:
    course = world.courses[course_indices(p)[k]]
    completed = FIRST_COMPLETION + timedelta(
        days=rng.randrange((LAST_COMPLETION - FIRST_COMPLETION).days + 1)
    )
    started = completed - timedelta(days=rng.randrange(5, 60))
    return {
        "id": CERTIFICATES_PER_PERSON * (p - 1) + k + 1,
        "course": course,
        "started": started,
        "completed": completed,
        "revoked": rng.random() < 0.005,
    }


def enrolment_and_certificate_rows(
    world: World, start: int, end: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    enrolments, certificates = [], []
    for p in range(start, end):
        rng = random.Random(p)  # per person: claim_rows replays it whatever the chunking
        for k in range(CERTIFICATES_PER_PERSON):
            c = certificate_of(world, p, k, rng)
            course: CourseRow = c["course"]
            issued = f"{c['completed'] + timedelta(days=1)} 09:00:00+08"
            enrolments.append(
                (
                    c["id"],
                    "active",
                    f"{c['started']} 08:00:00+08",
                    None,
                    course.id,
                    course.occupation_id,
                    p,
                    course.platform_id,
                )
            )
            certificates.append(
                (
                    c["id"],
                    f"420000-{c['completed'].year}-{c['id']:07d}-B",
                    hashlib.blake2b(c["id"].to_bytes(8, "big"), digest_size=24).hexdigest(),
                    f"{course.hours}.0",
                    c["started"].isoformat(),
                    c["completed"].isoformat(),
                    issued,
                    "revoked" if c["revoked"] else "valid",
                    issued if c["revoked"] else None,
                    "基准：吊销" if c["revoked"] else "",
                    course.id,
                    c["id"],
                    None,
                    course.occupation_id,
                    p,
                    course.platform_id,
                    None,
                )
            )
    return enrolments, certificates


ENROLMENT_COLUMNS = [
    "id",
    "status",
    "enrolled_at",
    "withdrawn_at",
    "course_id",
    "occupation_id",
    "person_id",
    "platform_id",
]
CERTIFICATE_COLUMNS = [
    "id",
    "number",
    "token",
    "class_hours",
    "started_on",
    "completed_on",
    "issued_at",
    "status",
    "revoked_at",
    "revocation_reason",
    "course_id",
    "enrolment_id",
    "issued_by_id",
    "occupation_id",
    "person_id",
    "platform_id",
    "revoked_by_id",
]

# Earlier claims: (status, share, live).
CLAIM_STATUSES = [
    ("paid", 0.40, True),
    ("finance_approved", 0.10, True),
    ("in_publicity", 0.10, True),
    ("county_approved", 0.10, True),
    ("submitted", 0.15, True),
    ("rejected", 0.10, False),
    ("withdrawn", 0.05, False),
]
APPLICATION_COLUMNS = [
    "id",
    "kind",
    "fund_source",
    "status",
    "status_changed_at",
    "due_at",
    "amount_fen",
    "policy_date",
    "parameters",
    "inputs",
    "payee_name",
    "bank_name",
    "account_ciphertext",
    "account_key_id",
    "account_masked",
    "proposed",
    "idempotency_key",
    "created_at",
    "submitted_at",
    "first_submitted_at",
    "paid_at",
    "created_by_id",
    "enterprise_id",
    "fund_region_id",
    "person_id",
    "region_id",
    "review_region_id",
]
LINE_COLUMNS = [
    "id",
    "kind",
    "skill_level",
    "training_date",
    "class_hours",
    "amount_fen",
    "included",
    "live",
    "application_id",
    "certificate_id",
    "occupation_id",
    "person_id",
]


def claim_rows(
    world: World, start: int, end: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """One learner-training application with one line for every fifth person, on their
    certificate k=0 (same dates as written by enrolment_and_certificate_rows)."""
    applications, lines = [], []
    rng = random.Random(20_000_000 + start)
    for p in range(start, end):
        if p % CLAIM_EVERY:
            continue
        first = certificate_of(world, p, 0, random.Random(p))  # the certificate's own draws
        draw, acc = rng.random(), 0.0
        status, live = CLAIM_STATUSES[-1][0], CLAIM_STATUSES[-1][2]
        for name, share, is_live in CLAIM_STATUSES:
            acc += share
            if draw < acc:
                status, live = name, is_live
                break
        region_id, _code, fund_region_id = world.counties[p % len(world.counties)]
        course: CourseRow = first["course"]
        amount = min(course.hours * 30_00, 800_00)
        completed: date = first["completed"]
        submitted = f"{min(completed + timedelta(days=3), TODAY)} 10:00:00+08"
        application_id = p // CLAIM_EVERY
        applications.append(
            (
                application_id,
                "learner_training",
                "skills_account",
                status,
                submitted,
                None,
                amount,
                completed.isoformat(),
                "{}",
                json.dumps({"certificate": first["id"]}),
                "基准",
                "中国工商银行",
                "",
                "",
                "6222 **** 0123",
                False,
                "",
                submitted,
                submitted,
                submitted,
                submitted if status == "paid" else None,
                None,
                None,
                fund_region_id,
                p,
                region_id,
                None,
            )
        )
        lines.append(
            (
                application_id,
                "learner_training",
                course.skill_level,
                completed.isoformat(),
                f"{course.hours}.0",
                amount,
                True,
                live,
                application_id,
                first["id"],
                course.occupation_id,
                p,
            )
        )
    return applications, lines


CATEGORY_COLUMNS = [
    "id",
    "category",
    "source",
    "valid_from",
    "valid_to",
    "recorded_at",
    "person_id",
    "recorded_by_id",
]
HOLD_COLUMNS = [
    "id",
    "reason",
    "source_type",
    "source_ref",
    "placed_at",
    "lifted_at",
    "lift_reason",
    "lifted_by_id",
    "person_id",
    "placed_by_id",
]
# (every n-th person, offset, category, valid_from, valid_to)
CATEGORIES = [
    (20, 3, "registered_poor_labourer", "2020-01-01", None),  # a living-allowance group
    (50, 7, "pensioner", "2021-01-01", None),  # excluded from training subsidies
    (40, 11, "full_time_student", "2024-09-01", "2028-07-01"),  # excluded
]
HOLD_EVERY = 1000


def small_tables(people: int, now: str) -> None:
    """Categories (5 % in a living-allowance group, 2 % pensioners, 2.5 % full-time
    students) and holds on 0.1 % of people: one transaction each, only the rows not there yet
    (ids follow the person number)."""
    from django.db import transaction

    began = time.perf_counter()
    rows: list[tuple[Any, ...]] = []
    for p in range(1, people + 1):
        for every, offset, category, valid_from, valid_to in CATEGORIES:
            if p % every == offset:
                rows.append(
                    (len(rows) + 1, category, "基准登记", valid_from, valid_to, now, p, None)
                )
    done = max_id("people_personcategory", len(rows))
    with transaction.atomic():
        n = copy_lines("people_personcategory", CATEGORY_COLUMNS, iter(rows[done:]))
    print(
        json.dumps(
            {
                "phase": "categories",
                "rows": n,
                "rows_per_s": round(n / (time.perf_counter() - began)),
            }
        ),
        flush=True,
    )
    holds = [
        (p // HOLD_EVERY + 1, "基准：稽核中", "officer", "", now, None, "", None, p, None)
        for p in range(5, people + 1, HOLD_EVERY)
    ]
    done = max_id("people_personhold", len(holds))
    with transaction.atomic():
        n = copy_lines("people_personhold", HOLD_COLUMNS, iter(holds[done:]))
    print(json.dumps({"phase": "holds", "rows": n}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000, help="people per transaction")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only (COPY): set DATABASE_URL")
    began = time.perf_counter()
    world = build_world()
    now = datetime.now(UTC).isoformat()
    people = args.people

    phase(
        "people",
        table="people_person",
        people=people,
        chunk=args.chunk,
        id_of_last=lambda p: p,
        write=lambda s, e: copy_lines(
            "people_person", PERSON_COLUMNS, person_rows(world, s, e, now)
        ),
    )
    small_tables(people, now)

    def certificates(start: int, end: int) -> int:
        enrolments, certs = enrolment_and_certificate_rows(world, start, end)
        copy_lines("learning_enrolment", ENROLMENT_COLUMNS, iter(enrolments))
        return copy_lines("learning_completioncertificate", CERTIFICATE_COLUMNS, iter(certs)) * 2

    phase(
        "enrolments+certificates",
        table="learning_completioncertificate",
        people=people,
        chunk=args.chunk,
        id_of_last=lambda p: CERTIFICATES_PER_PERSON * p,
        write=certificates,
    )

    def claims(start: int, end: int) -> int:
        applications, lines = claim_rows(world, start, end)
        copy_lines("subsidies_application", APPLICATION_COLUMNS, iter(applications))
        return copy_lines("subsidies_applicationline", LINE_COLUMNS, iter(lines)) * 2

    phase(
        "earlier claims (applications+lines)",
        table="subsidies_applicationline",
        people=people,
        chunk=args.chunk,
        id_of_last=lambda p: p // CLAIM_EVERY,
        write=claims,
    )
    reset_sequences(
        [
            "people_person",
            "people_personcategory",
            "people_personhold",
            "learning_enrolment",
            "learning_completioncertificate",
            "subsidies_application",
            "subsidies_applicationline",
        ]
    )
    with connection.cursor() as cursor:
        for table in (
            "people_person",
            "people_personcategory",
            "people_personhold",
            "learning_completioncertificate",
            "learning_enrolment",
            "subsidies_application",
            "subsidies_applicationline",
        ):
            # Statistics for the planner, and the visibility map and hint bits set once here
            # rather than by the first benchmark reads (the shared server runs without
            # autovacuum).
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    sizes = {
        table: count(table)
        for table in (
            "people_person",
            "learning_enrolment",
            "learning_completioncertificate",
            "subsidies_application",
            "subsidies_applicationline",
            "people_personcategory",
            "people_personhold",
        )
    }
    print(json.dumps({"done": sizes, "seconds": round(time.perf_counter() - began, 1)}), flush=True)


if __name__ == "__main__":
    main()
