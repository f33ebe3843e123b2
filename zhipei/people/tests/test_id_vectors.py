"""Every vector of shared/data/id_checksums/gb11643_citizen_id_vectors.json, against the parser
and, where a vector lists them, each of its sub-checks.

Regions come from shared/data/admin_divisions/gbt2260_history_1981_2024.csv: the rows of every
address code the vectors use are created directly by the small loader below (the regions
importer is another app's work; this test needs only these codes).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from zhipei.people.idnumber import InvalidIdNumber, Reason, check_character, parse_id_number
from zhipei.regions.models import Region
from zhipei.regions.queries import current, is_known_code, was_in_use
from zhipei.regions.testing import scope_prefix_for

pytestmark = [pytest.mark.django_db, pytest.mark.shared_data]

# The vectors' reference date ("not after the reference date 2025-01-01").
REFERENCE_DATE = date(2025, 1, 1)
LEVELS = {"省级": "province", "地级": "prefecture", "县级": "county"}


def load_vectors(shared_data: Path) -> list[dict[str, Any]]:
    path = shared_data / "id_checksums" / "gb11643_citizen_id_vectors.json"
    vectors: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["vectors"]
    assert len(vectors) == 64
    return vectors


def load_regions(shared_data: Path, codes: set[str]) -> int:
    path = shared_data / "admin_divisions" / "gbt2260_history_1981_2024.csv"
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["代码"] not in codes:
                continue
            level = LEVELS[row["级别"]]
            rows.append(
                Region(
                    code=row["代码"],
                    name=row["名称"],
                    level=level,
                    scope_prefix=scope_prefix_for(row["代码"], level),
                    valid_from_year=int(row["启用时间"]),
                    valid_to_year=int(row["变更/弃用时间"]) if row["变更/弃用时间"] else None,
                    successor_codes=row["新代码"],
                )
            )
    Region.objects.bulk_create(rows)
    return len(rows)


def outcome(value: str, **kwargs) -> Reason | None:
    try:
        parse_id_number(value, today=REFERENCE_DATE, **kwargs)
    except InvalidIdNumber as exc:
        return exc.reason_code
    return None


def check_vector(vector: dict[str, Any]) -> list[str]:
    """The ways the implementation disagrees with one vector (empty when it agrees)."""
    value, checks = vector["value"], vector["checks"]
    problems: list[str] = []

    def expect(what: str, actual: object, wanted: object) -> None:
        if actual != wanted:
            problems.append(f"{what}: got {actual!r}, expected {wanted!r}")

    if vector.get("valid_after_strip") or vector.get("valid_after_uppercase"):
        # Strictly invalid, but the parser normalises what people type (documented choice).
        expect("normalised input", outcome(value), None)
        return problems
    if not checks["length_18"]:
        legacy = vector["category"] == "legacy_15_digit"
        expect("length", outcome(value), Reason.LEGACY_15_DIGIT if legacy else Reason.LENGTH)
        if legacy:
            from zhipei.people.idnumber import upgrade_15_to_18

            expect("upgrade", upgrade_15_to_18(value), vector["upgraded_to"])
        return problems
    if not checks["charset_ok"]:
        expect("charset", outcome(value), Reason.CHARSET)
        return problems

    # Length and characters are fine: every remaining sub-check is listed for these vectors.
    code = value[:6]
    expect("checksum_ok", check_character(value[:17]) == value[17], checks["checksum_ok"])
    date_reason = outcome(value, check_region=False)
    if checks["checksum_ok"]:
        expect("birth_date_valid", date_reason is None, checks["birth_date_valid"])
    expect(
        "area_code_in_gbt2260_history", is_known_code(code), checks["area_code_in_gbt2260_history"]
    )
    region = current(code)
    in_2024 = region is not None and region.level == Region.Level.COUNTY
    expect("area_code_in_gbt2260_2024", in_2024, checks["area_code_in_gbt2260_2024"])
    if "area_code_in_use_in_birth_year" in checks:
        year = int(value[6:10])
        expect(
            "area_code_in_use_in_birth_year",
            was_in_use(code, year),
            checks["area_code_in_use_in_birth_year"],
        )

    # The parser reports the first failing check in its order.
    if not checks["checksum_ok"]:
        wanted: Reason | None = Reason.CHECKSUM
    elif not checks["birth_date_valid"]:
        wanted = date_reason  # which date reason: asserted by the pure tests
        expect(
            "date reason is a date reason",
            date_reason
            in {Reason.BIRTH_DATE_INVALID, Reason.BIRTH_DATE_FUTURE, Reason.BIRTH_DATE_BEFORE_1900},
            True,
        )
    elif not checks["area_code_in_gbt2260_history"]:
        wanted = Reason.REGION_UNKNOWN
    else:
        wanted = None
    expect("default parse", outcome(value), wanted)

    # With python-stdnum's optional rule on, the parser agrees with `expected_valid` exactly.
    strict = outcome(value, require_region_in_use_at_birth=True)
    expect("strict parse valid", strict is None, vector["expected_valid"])
    if vector["category"] == "area_code_not_yet_in_use":
        expect("strict reason", strict, Reason.REGION_NOT_IN_USE)
    if strict is None and "gender" in vector:
        info = parse_id_number(value, today=REFERENCE_DATE)
        expect("sex", str(info.sex), vector["gender"])
    return problems


def test_every_vector(shared_data):
    vectors = load_vectors(shared_data)
    codes = {v["value"][:6] for v in vectors if len(v["value"]) >= 6}
    assert load_regions(shared_data, codes) >= 25

    failures = {v["value"]: problems for v in vectors if (problems := check_vector(v))}

    assert failures == {}


def test_vector_categories_map_to_reasons(shared_data):
    """Spot checks that each category yields the reason a person would be told."""
    vectors = load_vectors(shared_data)
    load_regions(shared_data, {v["value"][:6] for v in vectors if len(v["value"]) >= 6})
    expected = {
        "invalid_checksum": Reason.CHECKSUM,
        "invalid_area_code": Reason.REGION_UNKNOWN,
        "invalid_length": Reason.LENGTH,
        "invalid_charset": Reason.CHARSET,
        "legacy_15_digit": Reason.LEGACY_15_DIGIT,
        "valid": None,
        "valid_check_X": None,
        "valid_check_0": None,
        "valid_historical_area_code": None,
        # Off by default (real IDs carry the code of first registration, which may be later).
        "area_code_not_yet_in_use": None,
    }
    seen = set()
    for vector in vectors:
        if vector["category"] in expected:
            seen.add(vector["category"])
            assert outcome(vector["value"]) == expected[vector["category"]], vector["category"]
    assert seen == set(expected)
    date_reasons = {outcome(v["value"]) for v in vectors if v["category"] == "invalid_birth_date"}
    assert date_reasons == {
        Reason.BIRTH_DATE_INVALID,
        Reason.BIRTH_DATE_FUTURE,
        Reason.BIRTH_DATE_BEFORE_1900,
    }
