"""Every row of the hand-typed demo files agrees with the full reference files (definitions
are shortened on purpose and not compared)."""

from __future__ import annotations

import csv

import pytest

from zhipei.occupations.demo import OCCUPATIONS_FILE, TRADES_FILE

pytestmark = pytest.mark.shared_data

COMPARED = ("code", "level", "parent_code", "gbm", "name", "is_green", "is_digital")


def read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_demo_occupations_match_the_2022_classification(shared_data):
    full = {
        r["code"]: r
        for r in read(shared_data / "occupations" / "occupation_classification_2022.csv")
    }
    demo = read(OCCUPATIONS_FILE)

    for row in demo:
        assert {c: row[c] for c in COMPARED} == {c: full[row["code"]][c] for c in COMPARED}, row[
            "code"
        ]
        if row["level"] == "4":
            assert row["definition"]


def test_demo_trades_are_in_the_work_type_list(shared_data):
    full = {
        (r["occupation_code"], r["occupation_name"], r["work_type_name"])
        for r in read(shared_data / "occupations" / "occupation_work_types_partial.csv")
    }
    demo = read(TRADES_FILE)

    assert demo
    for row in demo:
        assert (row["occupation_code"], row["occupation_name"], row["work_type_name"]) in full
