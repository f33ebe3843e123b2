"""yuan() and parse_yuan(): formatting, parsing, refusals, and round trips (hypothesis)."""

from __future__ import annotations

import pytest
from django.template import Context, Template, TemplateSyntaxError
from hypothesis import given
from hypothesis import strategies as st

from zhipei.core.errors import InvalidInput
from zhipei.core.money import MAX_FEN, parse_yuan, plain_yuan, yuan


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "¥0.00"),
        (1, "¥0.01"),
        (50, "¥0.50"),
        (123450, "¥1,234.50"),
        (100000000, "¥1,000,000.00"),
        (-123450, "-¥1,234.50"),
    ],
)
def test_yuan_formats_fen(fen, text):
    assert yuan(fen) == text


@pytest.mark.parametrize("value", [1.5, "100", None, True])
def test_yuan_refuses_anything_but_integer_fen(value):
    with pytest.raises(TypeError):
        yuan(value)


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234", 123400),
        ("1,234.5", 123450),
        ("¥1234.50", 123450),
        ("￥1,234.50", 123450),
        ("１２３４．５", 123450),
        ("１，２３４．０５", 123405),
        (" 30 ", 3000),
        ("30元", 3000),
        ("0.01", 1),
        ("0", 0),
        ("12.", 1200),
        ("-0", 0),
    ],
)
def test_parse_yuan_reads_what_people_type(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter an amount"),
        ("   ", "Enter an amount"),
        ("1.234", "at most two decimals"),
        ("0.001", "at most two decimals"),
        ("-5", "cannot be negative"),
        ("¥-5", "cannot be negative"),
        ("abc", "such as 1234.50"),
        ("1e5", "such as 1234.50"),
        ("1,23", "such as 1234.50"),
        ("12,34.5", "such as 1234.50"),
        ("1.2.3", "such as 1234.50"),
        (".5", "such as 1234.50"),
        ("NaN", "such as 1234.50"),
        ("inf", "such as 1234.50"),
        ("1" * 41, "far too long"),
        ("1000000000001", "too large"),
    ],
)
def test_parse_yuan_refuses_bad_amounts_with_a_clear_message(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_yuan(text)


def test_parse_yuan_accepts_negative_only_when_allowed():
    assert parse_yuan("-1,234.50", allow_negative=True) == -123450


def test_parse_yuan_honours_a_smaller_maximum():
    assert parse_yuan("100", max_fen=10000) == 10000
    with pytest.raises(InvalidInput, match="too large"):
        parse_yuan("100.01", max_fen=10000)


def test_parse_yuan_refuses_non_text():
    with pytest.raises(InvalidInput):
        parse_yuan(12.5)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_formatted_amount_parses_back_to_the_same_fen(fen):
    assert parse_yuan(yuan(fen)) == fen


@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN))
def test_signed_round_trip(fen):
    assert parse_yuan(yuan(fen), allow_negative=True) == fen


@given(st.integers(min_value=0, max_value=10**12 - 1), st.integers(min_value=0, max_value=99))
def test_plain_decimal_text_parses_exactly(whole, cents):
    result = parse_yuan(f"{whole}.{cents:02d}")
    assert isinstance(result, int)
    assert result == whole * 100 + cents


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=999))
def test_three_decimals_are_always_refused(whole, thousandths):
    with pytest.raises(InvalidInput):
        parse_yuan(f"{whole}.{thousandths:03d}")


@given(st.text(max_size=20))
def test_any_text_either_parses_to_int_or_is_refused(text):
    try:
        result = parse_yuan(text)
    except InvalidInput:
        return
    assert type(result) is int
    assert 0 <= result <= MAX_FEN


def test_template_filter_renders_yuan():
    template = Template("{% load money %}{{ a|yuan }}|{{ b|yuan }}")
    assert template.render(Context({"a": 123450, "b": None})) == "¥1,234.50|"


def test_template_filter_refuses_floats():
    template = Template("{% load money %}{{ a|yuan }}")
    with pytest.raises(TemplateSyntaxError):
        template.render(Context({"a": 12.5}))


def test_plain_yuan_is_what_parse_yuan_reads_back():
    for fen in (0, 5, 100, 123450, 100000050, -1, -123450):
        assert parse_yuan(plain_yuan(fen), allow_negative=True) == fen
    assert plain_yuan(123450) == "1234.50"
    assert plain_yuan(-5) == "-0.05"
    with pytest.raises(TypeError):
        plain_yuan(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        plain_yuan(True)
