"""Certificate numbers and public masking (pure functions)."""

from __future__ import annotations

import pytest

from zhipei.learning.certificates.numbers import (
    check_character,
    format_number,
    mask_name,
    names_match,
    parse_number,
)


def test_number_reads_region_year_sequence_and_check_character() -> None:
    number = format_number("420102", 2026, 7)
    assert number[:19] == "420102-2026-000007-"
    assert number[-1] == check_character("4201022026000007")
    assert parse_number(number) == number


def test_check_character_is_mod_11_2_like_id_numbers() -> None:
    # The sum of weight × digit plus the check value is 1 modulo 11 (GB 11643 style).
    for sequence in range(1, 200):
        digits = f"4201022026{sequence:06d}"
        char = check_character(digits)
        value = 10 if char == "X" else int(char)
        weights = [2 ** (16 - i) % 11 for i in range(16)]
        assert (sum(int(d) * w for d, w in zip(digits, weights, strict=True)) + value) % 11 == 1


def test_parse_accepts_spaces_dashes_and_lower_case_x() -> None:
    number = next(
        format_number("420102", 2026, s)
        for s in range(1, 100)
        if format_number("420102", 2026, s).endswith("X")
    )
    compact = number.replace("-", "")
    assert parse_number(compact.lower()) == number
    assert parse_number(" " + number.replace("-", " ") + " ") == number


def test_parse_refuses_a_single_wrong_digit_or_a_wrong_shape() -> None:
    number = format_number("420102", 2026, 123)
    wrong = number[:-3] + str((int(number[-3]) + 1) % 10) + number[-2:]
    assert parse_number(wrong) is None
    assert parse_number(number[:-1]) is None
    assert parse_number("") is None
    assert parse_number("ABC") is None


@pytest.mark.parametrize(
    ("region", "year", "sequence"),
    [("42010", 2026, 1), ("420102", 26, 1), ("420102", 2026, 0), ("420102", 2026, 1_000_000)],
)
def test_format_refuses_out_of_range_parts(region: str, year: int, sequence: int) -> None:
    with pytest.raises(ValueError):
        format_number(region, year, sequence)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王芳", "王*"),
        ("王小芳", "王*芳"),
        ("欧阳小芳", "欧**芳"),
        ("芳", "*"),
        ("Li Lei", "L* L**"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_names_match_ignores_spaces_and_case_only() -> None:
    assert names_match(" 王 小芳", "王小芳")
    assert names_match("li lei", "Li Lei")
    assert not names_match("王小", "王小芳")
    assert not names_match("", "")
