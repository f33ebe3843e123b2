"""events.parse_payload reads stored statement JSON exactly as json.loads does (it parses
with orjson where that gives the same value, and falls back to json where it might not)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhipei.learning.crediting import events as ev
from zhipei.lrs.validation import MAX_JSON_DEPTH


def reference(text: str) -> dict[str, Any]:
    """What parse_payload did before orjson: json.loads, {} for anything but an object."""
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def same(text: str) -> None:
    # json.dumps tells 1 from 1.0 and writes NaN, so equal output means equal values and types.
    assert json.dumps(ev.parse_payload(text)) == json.dumps(reference(text))


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [1.5, -0.0, 1e5, true, null, "x"]}',
        '{"a": 1, "a": 2}',  # the last of a repeated property wins in both
        '{"a": 1e400, "b": -1e400}',  # beyond a double: json gives infinities, orjson refuses
        '{"a": NaN, "b": Infinity, "c": -Infinity}',  # not JSON; json takes them
        '{"a": 18446744073709551615}',  # 2**64 - 1: an int in both
        '{"a": 18446744073709551616}',  # 2**64: orjson would read a float
        '{"a": -9223372036854775809}',  # below -2**63: orjson would read a float
        '{"a": 123456789012345678901234567890}',
        '{"id": "1234567890123456789012"}',  # a long digit run inside a string
        '{"a": "\\ud800"}',  # a lone surrogate escape: json keeps it, orjson refuses
        '{"a": "\\u00e9\\u4e2d"}',
        '{"a": "\x7f"}',
        '{"a": "x\ty"}',  # a raw control character inside a string is invalid in both
        '{"a": 1}  ',
        '{"a": 1} x',
        '{"a": 01}',
        "[1, 2]",
        '"text"',
        "",
        "\ufeff{}",
    ],
)
def test_edge_cases_read_as_json_reads_them(text: str) -> None:
    same(text)


def test_json_as_deep_as_the_lrs_stores_reads_as_json_reads_it() -> None:
    # Deeper statements are refused by the LRS, so none is ever stored (orjson and json would
    # part only past Python's recursion limit, where json raises RecursionError).
    depth = MAX_JSON_DEPTH
    same('{"a":' * (depth - 1) + "[1]" + "}" * (depth - 1))


numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(), values, max_size=5), st.booleans())
def test_generated_documents_read_as_json_reads_them(data: dict[str, Any], ascii: bool) -> None:
    same(json.dumps(data, ensure_ascii=ascii))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.eE-+ tfnrulsaNIy\\', max_size=40))
def test_arbitrary_text_reads_as_json_reads_it(text: str) -> None:
    same(text)
