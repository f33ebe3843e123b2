"""Every GB 32100 vector in ../shared/data against check_uscc, with area codes looked up in
Region rows built from the GB/T 2260 history table (SOURCES.md §2.2, §3.2)."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from zhipei.orgs.uscc import (
    CHECK_ALPHABET,
    CHECK_AREA_CODE,
    CHECK_LENGTH,
    CHECK_MOD31,
    CHECK_ORG_CODE,
    check_uscc,
)
from zhipei.regions.models import Region
from zhipei.regions.testing import scope_prefix_for

LEVELS = {"省级": "province", "地级": "prefecture", "县级": "county"}


def _load(shared_data):
    return json.loads(
        (shared_data / "id_checksums" / "gb32100_uscc_vectors.json").read_text(encoding="utf-8")
    )["vectors"]


def _create_regions_for(vectors, shared_data) -> set[str]:
    wanted = {v["value"][2:8].upper() for v in vectors if len(v["value"]) == 18}
    path = shared_data / "admin_divisions" / "gbt2260_history_1981_2024.csv"
    created: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code = row["代码"]
            if code not in wanted:
                continue
            level = LEVELS[row["级别"]]
            Region.objects.create(
                code=code,
                name=row["名称"],
                level=level,
                scope_prefix=scope_prefix_for(code, level),
                valid_from_year=int(row["启用时间"]),
                valid_to_year=int(row["变更/弃用时间"]) if row["变更/弃用时间"] else None,
            )
            created.add(code)
    return created


@pytest.mark.django_db
def test_every_vector_matches_its_expected_outcome_and_sub_checks(shared_data):
    vectors = _load(shared_data)
    assert len(vectors) == 240
    created = _create_regions_for(vectors, shared_data)
    assert "990100" not in created and "420111" in created

    mismatches = []
    for vector in vectors:
        result = check_uscc(vector["value"])
        checks = vector["checks"]
        expected_valid = vector["expected_valid"] or vector.get("valid_after_uppercase", False)
        got = {
            "passed": result.passed,
            "length_18": result.length_ok,
            "mod31_check_ok": result.mod31_check_ok,
            "org_code_gb11714_check_ok": result.org_code_check_ok,
            "area_code_in_gbt2260_2024": result.area_code_known,
        }
        want = {"passed": expected_valid, "length_18": checks["length_18"]}
        for key in ("mod31_check_ok", "org_code_gb11714_check_ok", "area_code_in_gbt2260_2024"):
            if key in checks:
                want[key] = checks[key]
        if "charset_ok" in checks and not vector.get("valid_after_uppercase"):
            got["charset_ok"] = result.alphabet_ok
            want["charset_ok"] = checks["charset_ok"]
        if any(got[k] != want[k] for k in want):
            mismatches.append((vector["value"], got, want))
    assert mismatches == []


@pytest.mark.django_db
def test_lower_case_vector_is_normalised_and_then_valid(shared_data):
    vectors = [v for v in _load(shared_data) if v.get("valid_after_uppercase")]
    assert vectors
    for vector in vectors:
        result = check_uscc(vector["value"], is_known_area=lambda code: True)
        assert result.value == vector["value"].upper()
        assert result.passed


@pytest.mark.django_db
def test_structural_failures_are_errors_and_checksum_failures_are_warnings(shared_data):
    vectors = _load(shared_data)
    _create_regions_for(vectors, shared_data)
    by_category: dict[str, list[dict[str, Any]]] = {}
    for vector in vectors:
        by_category.setdefault(vector["category"], []).append(vector)

    for vector in by_category["invalid_length"]:
        result = check_uscc(vector["value"])
        assert CHECK_LENGTH in result.errors and result.warnings == []
    for vector in by_category["invalid_charset"]:
        result = check_uscc(vector["value"])
        assert result.errors == [CHECK_ALPHABET] and result.warnings == []
    for vector in by_category["invalid_checksum"]:
        result = check_uscc(vector["value"])
        assert result.errors == [] and CHECK_MOD31 in result.warnings
    (org_code,) = by_category["invalid_org_code_check"]
    assert check_uscc(org_code["value"]).warnings == [CHECK_ORG_CODE]
    (area,) = by_category["invalid_area_code"]
    assert check_uscc(area["value"]).warnings == [CHECK_AREA_CODE]


@pytest.mark.django_db
def test_national_area_code_100000_is_known_without_a_region_row():
    # 12100000197827895M is a computed valid vector registered at national level.
    assert not Region.objects.exists()
    result = check_uscc("12100000197827895M")
    assert result.area_code_known and result.passed


def test_fujian_pilot_code_fails_the_checksum_as_a_warning_only():
    # policy-rules.md §13.2: an early 2015 pilot code that is real but fails MOD 31.
    result = check_uscc("91350100M0001TGQXM", is_known_area=lambda code: code == "350100")
    assert result.structure_ok
    assert CHECK_MOD31 in result.warnings
    assert not result.passed
