"""core.text.ascii_digits, and a guard: the project checks digits with it, not str.isdigit()
alone, which is also true for "²" and "①" (int() refuses them: a 500 where a 400 belongs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhipei.core.text import ascii_digits, is_storable_text

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("text", "expected"), [("0", True), ("2026", True), ("", False)])
def test_ascii_digits(text, expected):
    assert ascii_digits(text) is expected


@pytest.mark.parametrize("text", ["²", "①", "٣", "１２", "12a", " 1", "-1", "1.0"])
def test_other_digits_and_signs_are_not_ascii_digits(text):
    assert not ascii_digits(text)


def test_isdigit_is_not_used_where_ascii_digits_belongs():
    # str.isdigit() stays only where any script's digit is meant: a name may not contain one.
    offenders = []
    for folder in ("zhipei", "config"):
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.parts or path.name == "text.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if ".isdigit()" in line and "# a digit of any script" not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("王芳", True), ("😀", True), ("a\x00b", False), ("\ud800", False), (1, False), (None, False)],
)
def test_storable_text_is_a_string_postgresql_text_can_hold(value, expected):
    assert is_storable_text(value) is expected
