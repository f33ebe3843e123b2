"""The JSON Schema of the common statement shape (shape.py) against formats: each of its
patterns, in the ECMA 262 dialect jsonschema-rs runs, takes exactly the strings the Python
original takes. test_fast_path.py compares whole statements."""

from __future__ import annotations

import sys

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zhipei.lrs import formats, shape

# Where the two regex dialects differ, and what xAPI values are made of.
_TRICKY = [
    "\x00",
    "\x7f",
    "\x9f",
    "\n",
    "\r",
    "\t",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1f",
    "\x85",
    "\xa0",
    "\u1680",
    "\u180e",
    "\u2000",
    "\u200b",
    "\u2028",
    "\u2029",
    "\u3000",
    "\ufeff",
    "\u0662",  # ARABIC-INDIC DIGIT TWO
    "\uff10",  # FULLWIDTH DIGIT ZERO
    " ",
    "<",
    '"',
    "\\",
    "^",
    "`",
    "|",
    "@",
    ":",
    "-",
    "/",
    "王",
]
_CHARACTERS = st.one_of(
    st.sampled_from(_TRICKY),
    st.characters(min_codepoint=0x21, max_codepoint=0x7E),
    st.characters(exclude_categories=["Cs"]),
)
_TEXT = st.text(_CHARACTERS, max_size=12)


def _valid(schema: dict[str, object], text: str) -> bool:
    return bool(jsonschema_rs.validator_for(schema).is_valid(text))


CASES = [
    (shape.IRI, formats.is_iri, ["https://x.cn/", "urn:", "mailto:", "", "h"]),
    (shape.KEY_TEXT, lambda v: "\x00" not in v, ["", "learner-"]),
    (shape.UUID, formats.is_uuid, ["31be2b51-981d-4d72-b93f-f4e7bf3dc", ""]),
    (shape.LANGUAGE_TAG, formats.is_language_tag, ["zh-", "en", "x-", "i-", ""]),
    (shape.AGENT["properties"]["mbox"], formats._MAILTO.match, ["mailto:a", ""]),
    (shape.AGENT["properties"]["mbox_sha1sum"], formats._SHA1.match, ["a" * 38]),
]


@pytest.mark.parametrize(("schema", "python", "prefixes"), CASES, ids=lambda v: "")
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_each_pattern_takes_what_its_python_original_takes(schema, python, prefixes, data):
    text = data.draw(st.sampled_from(prefixes)) + data.draw(_TEXT)
    assert _valid(schema, text) == bool(python(text)), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://x.cn/a\n",
        "https://x.cn/a b",
        "https://x.cn/\u3000",
        "https://x.cn/\x1c",  # a space to Python, not to ECMA
        "https://x.cn/\ufeff",  # a space to ECMA, not to Python
        "https://x.cn/王",
        "https://x.cn/a",
    ],
)
def test_the_iri_pattern_agrees_where_the_dialects_differ(text):
    assert _valid(shape.IRI, text) == formats.is_iri(text)


def test_python_spaces_are_all_in_the_basic_multilingual_plane():
    beyond = [code for code in range(0x10000, sys.maxunicode + 1) if chr(code).isspace()]
    assert beyond == []


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "statement",
        {"actor": {"mbox": "mailto:a@x.cn"}, "verb": {"id": "https://v"}},  # no object
        # two identifiers
        {
            "actor": {"mbox": "mailto:a@x.cn", "openid": "https://o"},
            "verb": {"id": "https://v"},
            "object": {"id": "https://a"},
        },
        # null where a value is expected
        {
            "actor": {"mbox": "mailto:a@x.cn", "name": None},
            "verb": {"id": "https://v"},
            "object": {"id": "https://a"},
        },
        # true is not a number
        {
            "actor": {"mbox": "mailto:a@x.cn"},
            "verb": {"id": "https://v"},
            "object": {"id": "https://a"},
            "result": {"score": {"raw": True}},
        },
    ],
)
def test_what_is_not_the_common_shape(value):
    assert not shape.is_common(value)


def test_integers_beyond_64_bits_are_taken_in():
    value = {
        "actor": {"mbox": "mailto:a@x.cn"},
        "verb": {"id": "https://v"},
        "object": {"id": "https://a"},
        "result": {"extensions": {"https://e": 10**30}},
    }
    assert shape.is_common(value)
