"""Every row of the hand-typed demo files agrees with the full reference files."""

from __future__ import annotations

import csv

import pytest

from zhipei.regions.demo import DEMO_DIR

pytestmark = pytest.mark.shared_data


def read(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_demo_codes_are_rows_of_the_2024_file(shared_data):
    full = {r["code"]: r for r in read(shared_data / "admin_divisions" / "gbt2260_codes_2024.csv")}
    demo = read(DEMO_DIR / "regions.csv")

    assert len(demo) == 14
    for row in demo:
        assert row == full[row["code"]], row["code"]


def test_demo_history_rows_are_rows_of_the_history_file(shared_data):
    full = read(shared_data / "admin_divisions" / "gbt2260_history_1981_2024.csv")
    demo = read(DEMO_DIR / "regions_history.csv")

    assert demo
    for row in demo:
        assert row in full, row
        assert row["状态"] != "在用"
