"""The ingest hot path in C (zhipei/lrs/_ingest.c, decision 0012) against the Python it
stands in for. The body scan and the digit-run search count what Python counts; the common
shape gets the same answer as validation.python_common_shape (shape.is_common's JSON Schema,
then a walk) on every statement and reads the same columns, and each of its patterns is held
to formats' regex, character by character. test_fast_path.py runs the whole fast path with
both."""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import adapt, postgres, pq
from psycopg._copy_base import _binary_signature, _binary_trailer, format_row_binary

from zhipei.lrs import formats, services, validation
from zhipei.lrs import native as native_module
from zhipei.lrs.models import Statement
from zhipei.lrs.services import store_statements
from zhipei.lrs.tests.helpers import make_platform, statement
from zhipei.lrs.tests.test_fast_path import MUTATED, VALID
from zhipei.lrs.tests.test_shape import _TEXT
from zhipei.regions.testing import make_region_tree

native = pytest.importorskip("zhipei.lrs._ingest")
DEPTH = validation._FAST_EXTENSIONS_DEPTH


def test_the_lrs_runs_the_c_module():
    assert native_module.ingest is native
    assert validation.common_shape is native.common
    assert validation.orjson_may_differ is validation._native_orjson_may_differ


# --- Request bodies -------------------------------------------------------------------------
# JSON texts, valid, with property names spelled in several ways (escapes that decode to the
# same name make duplicates only the parsed value shows), strings holding quotes, colons and
# backslashes, whitespace around the colons, and long digit runs.
_NAMES = st.sampled_from(
    ['"a"', '"\\u0061"', '"b"', '"a\\"b"', '"\\\\"', '"\\\\\\""', '"x\\u0022"', '":"', '"王"']
)
_SCALARS = st.sampled_from(
    [
        "1",
        "-2.5e3",
        "1234567890123456789",
        "123456789012345678",
        "true",
        "null",
        '"s"',
        '"x\\":1"',
        '"\\\\"',
        '": "',
        '"12345678901234567890"',
        '"\\u0022:"',
    ]
)
_SPACE = st.sampled_from(["", " ", "\n\t ", "\r"])


def _json_texts() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        members = st.lists(st.tuples(_NAMES, _SPACE, _SPACE, inner), max_size=4)
        objects = members.map(
            lambda items: "{" + ",".join(f"{k}{a}:{b}{v}" for k, a, b, v in items) + "}"
        )
        arrays = st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
        return objects | arrays

    return st.recursive(_SCALARS, extend, max_leaves=12)


def _json_reads_otherwise(text: str) -> bool:
    """What orjson_may_differ must find: a property given twice, or 19 digits in a row."""
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        duplicated |= len({key for key, _ in items}) != len(items)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return duplicated or re.search(r"[0-9]{19}", text) is not None


@settings(max_examples=3000, deadline=None)
@given(_json_texts())
def test_duplicates_and_big_integers_are_found_as_python_finds_them(text):
    body = text.encode()
    data = orjson.loads(body)
    expected = _json_reads_otherwise(text)
    assert validation.python_orjson_may_differ(body, data) == expected, text
    assert validation._native_orjson_may_differ(body, data) == expected, text


_BYTES = st.binary(max_size=60) | st.lists(
    st.sampled_from([b'"', b"\\", b"0", b"9", b"12345", b"x", b"/", b":", b" "]),
    max_size=80,
).map(b"".join)


@settings(max_examples=2000, deadline=None)
@given(_BYTES, st.integers(min_value=-1, max_value=20))
def test_the_digit_run_search_finds_what_python_finds(data, digits):
    assert native.digit_run(data, digits) == formats.python_has_digit_run(data, digits)
    assert native.scan(data, digits)[1] == formats.python_has_digit_run(data, digits)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", (0, False)),
        (b'{"a": 1, "b" :\n{"c":"d:"}}', (3, False)),
        (b'["a", "b:", ":"]', (0, False)),
        (b'{"a\\"": "\\\\", "b": 1}', (2, False)),
        (b'{"n": 1234567890123456789}', (1, True)),
        (b'{"n": 123456789012345678}', (1, False)),
        (b'{"unended', (-1, False)),  # not JSON: the count says so
        (bytearray(b'{"x":1}'), (1, False)),
        (memoryview(b'{"x":1}'), (1, False)),
    ],
)
def test_the_body_scan_on_known_bodies(body, expected):
    assert native.scan(body, 19) == expected


def test_the_body_scan_takes_only_bytes():
    with pytest.raises(TypeError):
        native.scan("text", 19)
    with pytest.raises(TypeError):
        native.scan(b"", "19")


def test_members_counts_every_objects_properties():
    assert native.members({"a": {"b": 1, "c": [{"d": 2}, 3, []]}, "e": None}) == 5
    assert native.members([]) == 0
    assert native.members("text") == 0
    deep: Any = {}
    for _ in range(1200):
        deep = {"k": deep}
    assert native.members(deep) == -1  # deeper than orjson reads: left to json


def _agree(value: Any) -> Any:
    """The C walk and the Python one give the same answer and columns; the timestamp, which
    only the C walk reads, is the one formats.parse_timestamp reads."""
    ours = native.common(copy.deepcopy(value), DEPTH)
    theirs = validation.python_common_shape(copy.deepcopy(value), DEPTH)
    assert (ours is None) == (theirs is None), value
    if ours is not None and theirs is not None:
        assert ours[:8] == theirs[:8], value
        assert theirs[8] is None
        if ours[8] is not None:
            assert ours[8] == formats.parse_timestamp(value["timestamp"], "")
            assert ours[8].tzinfo is UTC
    return ours


@pytest.mark.parametrize("index", range(len(VALID)))
def test_the_common_shape_reads_the_same_columns(index):
    assert _agree(VALID[index]) is not None


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(MUTATED)
def test_mutated_statements_get_the_same_answer(data):
    _agree(data)


def _in_verb_id(text: str) -> dict[str, Any]:
    return statement(verb={"id": text})


def _in_account_name(text: str) -> dict[str, Any]:
    return statement(actor={"account": {"homePage": "https://x.cn", "name": text}})


def _in_registration(text: str) -> dict[str, Any]:
    return statement(context={"registration": text})


def _in_language(text: str) -> dict[str, Any]:
    return statement(context={"language": text})


def _in_language_map(text: str) -> dict[str, Any]:
    return statement(verb={"id": "https://v.cn", "display": {text: "x"}})


def _in_extension_key(text: str) -> dict[str, Any]:
    return statement(result={"extensions": {text: 1}})


def _in_mbox(text: str) -> dict[str, Any]:
    return statement(actor={"mbox": text})


def _in_sha1(text: str) -> dict[str, Any]:
    return statement(actor={"mbox_sha1sum": text})


SLOTS = [
    (_in_verb_id, formats.is_iri, ["https://x.cn/", "urn:", "mailto:", "", "h", "a+b.c-d:"]),
    (_in_extension_key, formats.is_iri, ["https://x.cn/", "x:", ""]),
    (_in_account_name, lambda v: "\x00" not in v, ["", "learner-"]),
    (_in_registration, formats.is_uuid, ["31be2b51-981d-4d72-b93f-f4e7bf3dc", "", "0" * 8]),
    (_in_language, formats.is_language_tag, ["zh-", "en", "x-", "i-", "", "abcdefgh-", "a"]),
    (_in_language_map, formats.is_language_tag, ["zh-Hans-", "X-", "I-a", "ab-cde-"]),
    (_in_mbox, formats._MAILTO.match, ["mailto:a", "mailto:", "", "mailto:a@"]),
    (_in_sha1, formats._SHA1.match, ["a" * 38, "A" * 39, ""]),
]
# Language tags are made of letters, digits and hyphens: where the pattern's structure shows.
_TAG_TEXT = st.text(st.sampled_from("aZx9I-é"), max_size=14)


@pytest.mark.parametrize(("put", "python", "prefixes"), SLOTS, ids=lambda v: "")
@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_each_pattern_takes_what_its_python_original_takes(put, python, prefixes, data):
    text = data.draw(st.sampled_from(prefixes)) + data.draw(st.one_of(_TEXT, _TAG_TEXT))
    assert (native.common(put(text), DEPTH) is not None) == bool(python(text)), repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://x.cn/\x1c",  # a space to Python
        "https://x.cn/\x85",
        "https://x.cn/\ufeff",  # not a space to Python
        "https://x.cn/\u3000",
        "https://x.cn/王",
        "https://x.cn/\U0001f600",
        "HTTPS://x.cn",
        "1https://x.cn",
        "ht!tp://x.cn",
        "https:",
        "https:a:b",
    ],
)
def test_iris_where_a_hand_written_check_could_slip(text):
    assert (native.common(_in_verb_id(text), DEPTH) is not None) == formats.is_iri(text)


@pytest.mark.parametrize(
    "tag",
    [
        "en",
        "e",
        "zh-Hans-CN",
        "x-a",
        "x",
        "i-klingon",
        "I-a-b",
        "abcdefghi",
        "en-abcdefghi",
        "en--US",
        "en-",
        "-en",
        "zh-cmn-Hans",
        "a1",
        "123",
        "de-1996",
        "x-abcdefgh",
        "en_US",
    ],
)
def test_language_tags(tag):
    assert (native.common(_in_language(tag), DEPTH) is not None) == formats.is_language_tag(tag)


# --- Timestamps: the C walk reads the usual UTC form, as formats.parse_timestamp does ------
_USUAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?Z\Z")
_TIMESTAMP_TEXT = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(
        lambda moment: moment.isoformat().replace("+00:00", "Z")
    ),
    st.text(st.sampled_from("0123456789-T:.,Z+ "), min_size=18, max_size=32),
    st.builds(
        lambda date, fraction, end: date + fraction + end,
        st.sampled_from(
            [
                "2026-11-28T03:04:05",
                "2024-02-29T23:59:59",
                "2026-02-29T00:00:00",
                "0000-01-01T00:00:00",
                "9999-12-31T23:59:59",
                "2026-13-01T00:00:00",
                "2026-01-01T24:00:00",
                "2026-01-01T23:59:60",
                "2026-1-01T00:00:00",
            ]
        ),
        st.sampled_from(["", ".", ",5", ".1", ".123", ".123456", ".1234567", ".99999999999", ".x"]),
        st.sampled_from(["Z", "", "z", "+00:00", "-00:00", "+08:00", "ZZ"]),
    ),
)


@settings(max_examples=1500, deadline=None)
@given(_TIMESTAMP_TEXT)
def test_timestamps_read_as_formats_reads_them(text):
    shape = native.common(statement(timestamp=text), DEPTH)
    assert shape is not None
    try:
        expected = formats.parse_timestamp(text, "")
    except formats.XapiInvalid:
        expected = None
    if shape[8] is not None:
        assert shape[8] == expected, text
        assert shape[8].utcoffset() is not None
    else:  # not the usual form, or no such date: left to formats.parse_timestamp
        assert expected is None or _USUAL.match(text) is None, text


def test_the_usual_timestamps_are_read_in_c():
    for text in ["2026-11-28T03:04:05Z", "2026-11-28T03:04:05.123Z", "2024-02-29T00:00:00,5Z"]:
        shape = native.common(statement(timestamp=text), DEPTH)
        assert shape is not None and shape[8] == formats.parse_timestamp(text, "")
    for text in ["2026-11-28T03:04:05+08:00", "2026-02-29T00:00:00Z", "2026-11-28T03:04:05.Z"]:
        shape = native.common(statement(timestamp=text), DEPTH)
        assert shape is not None and shape[8] is None


# --- Row values ---------------------------------------------------------------------------
@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["", "a", "b", "王", "a\nb", "https://x.cn/1"]), max_size=40))
def test_joined_as_python_joins(values):
    assert native.joined(values) == services.python_joined(values)


def test_joined_takes_only_a_list_of_text():
    with pytest.raises(TypeError):
        native.joined(("a",))
    with pytest.raises(TypeError):
        native.joined(["a", 1])


@settings(max_examples=500, deadline=None)
@given(st.uuids())
def test_uuid_bytes_as_python_reads_them(value):
    for text in (str(value), str(value).upper()):
        assert native.uuid_bytes(text) == services.python_uuid_bytes(text) == value.bytes


@pytest.mark.parametrize("text", ["", "not a uuid", "31be2b51981d4d72b93ff4e7bf3dcd51", 1])
def test_uuid_bytes_refuses_what_is_no_uuid(text):
    with pytest.raises(ValueError):
        native.uuid_bytes(text)


def _nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("levels", [DEPTH - 2, DEPTH - 1, DEPTH, DEPTH + 5])
def test_extensions_nest_as_deep_as_the_python_walk_allows(levels):
    # The extensions object is one level, its value `levels` more.
    data = statement(context={"extensions": {"https://e.cn": _nested(levels)}})
    accepted = _agree(data) is not None
    assert accepted == (levels + 1 <= DEPTH)


def test_agents_keys_as_the_python_walk_makes_them():
    for actor in [
        {"mbox": "mailto:Someone@Example.CN"},
        {"mbox": "mailto:Ä@ÖSTERREICH.AT"},
        {"mbox_sha1sum": "AbCdEf" + "0" * 34},
        {"openid": "https://openid.example.cn/U"},
        {"account": {"homePage": "https://x.cn", "name": "王 1"}, "name": "Wang"},
    ]:
        assert _agree(statement(actor=actor)) is not None


def _with_key(key: Any) -> dict[Any, Any]:
    data: dict[Any, Any] = statement()
    data[key] = "x"
    return data


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "statement",
        1,
        statement(actor={"mbox": "mailto:a@x.cn", "name": None}),
        statement(result={"score": {"raw": True}}),
        statement(result={"score": {"raw": "1"}}),
        statement(result={"success": 1}),
        statement(object={"objectType": "activity", "id": "https://a.cn"}),
        statement(object={"objectType": "Activity\x00", "id": "https://a.cn"}),
        statement(actor={"objectType": "Agent ", "mbox": "mailto:a@x.cn"}),
        statement(actor={"objectType": "agent", "mbox": "mailto:a@x.cn"}),
        statement(actor={"mbox": "mailto:a@x.cn", "openid": "https://o.cn"}),
        statement(actor={"name": "nobody"}),
        statement(actor={"account": {"homePage": "https://x.cn"}}),
        statement(context={"contextActivities": {"parent": [{"id": "https://a.cn"}, 1]}}),
        statement(context={"contextActivities": {"Parent": []}}),
        statement(context={"contextActivities": []}),
        statement(object={"id": "https://a.cn", "definition": {"interactionType": "choice"}}),
        statement(verb={"display": {"en": "x"}}),
        statement(timestamp=1),
        _with_key(1),  # a property name that is not text
    ],
)
def test_what_is_not_the_common_shape(value):
    assert _agree(value) is None


def test_values_jsonschema_cannot_take_in_are_left_to_the_fast_path_checks():
    # 10**30 is a number to both; a lone surrogate is text to the full validator, and to C.
    data = statement(result={"extensions": {"https://e.cn": [10**30, "\ud800"]}})
    assert native.common(data, DEPTH) is not None


# --- Binary COPY: the bytes psycopg's write_row sends ----------------------------------------
class _PythonUuidDumper(adapt.Dumper):
    format = pq.Format.BINARY
    oid = postgres.types["uuid"].oid

    def dump(self, obj: str) -> bytes:
        return services.python_uuid_bytes(obj)


def _psycopg_copy(rows: list[tuple[Any, ...]], types: list[str]) -> bytes:
    adapters = adapt.AdaptersMap(postgres.adapters)
    adapters.register_dumper(None, _PythonUuidDumper)
    transformer = adapt.Transformer(adapters)
    transformer.set_dumper_types([adapters.types[name].oid for name in types], pq.Format.BINARY)
    out = bytearray(_binary_signature)
    for row in rows:
        format_row_binary(row, transformer, out)
    return bytes(out + _binary_trailer)


_TYPES = ["int8", "uuid", "text", "timestamptz", "float8", "bool", "varchar"]
_CODES = "".join(services._COPY_CODES[name] for name in _TYPES)
_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))]
)
_ROW = st.tuples(
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.none() | st.uuids().map(str),
    st.none() | st.text(),
    st.none() | st.datetimes(timezones=_ZONES),
    st.none() | st.floats(),
    st.none() | st.booleans(),
    st.none() | st.text(max_size=5),
)


@settings(max_examples=800, deadline=None)
@given(st.lists(_ROW, max_size=6))
def test_binary_copy_is_what_psycopg_writes(rows):
    assert native.copy_binary(rows, _CODES) == _psycopg_copy(rows, _TYPES)


def test_binary_copy_of_the_statement_columns_is_what_psycopg_writes():
    stamp = datetime(2026, 11, 28, 3, 4, 5, 678000, tzinfo=UTC)
    row = (
        7,
        str(uuid.uuid4()),
        1,
        None,
        None,
        "Agent|account:https://x.cn 王",
        "",
        "https://v.cn",
        "https://a.cn",
        None,
        str(uuid.uuid4()).upper(),
        stamp,
        stamp,
        1.5,
        False,
        False,
        "\nhttps://a.cn\n",
        "",
        "",
        '{"id":"x"}',
        False,
        "",
    )
    types = list(services._COPY_STATEMENT_TYPES)
    codes = "".join(services._COPY_CODES[name] for name in types)
    assert native.copy_binary([row, row], codes) == _psycopg_copy([row, row], types)


def test_binary_copy_refuses_what_is_no_uuid():
    with pytest.raises(ValueError):
        native.copy_binary([("not-a-uuid",)], "u")


@pytest.mark.parametrize(
    ("row", "codes", "error"),
    [
        ((2**63,), "q", OverflowError),
        (("1",), "q", TypeError),
        ((1, 2), "q", ValueError),  # two values for one column
        (("\ud800",), "t", UnicodeEncodeError),
        ((datetime(2026, 1, 1),), "T", TypeError),  # naive  # noqa: DTZ001
        ((1,), "b", TypeError),
        ((1,), "x", ValueError),
    ],
)
def test_binary_copy_refuses_what_psycopg_refuses(row, codes, error):
    with pytest.raises(error):
        native.copy_binary([row], codes)


def test_the_system_check_warns_when_the_c_module_is_missing(monkeypatch):
    from django.core.checks import run_checks

    assert not [m for m in run_checks() if m.id == "zhipei.W001"]
    monkeypatch.setattr(native_module, "ingest", None)
    assert [m.id for m in run_checks() if m.id == "zhipei.W001"] == ["zhipei.W001"]


# --- End to end: the Python path stores what the C path stores -------------------------------
def _python_paths(monkeypatch) -> None:
    monkeypatch.setattr(validation, "common_shape", validation.python_common_shape)
    monkeypatch.setattr(validation, "orjson_may_differ", validation.python_orjson_may_differ)
    monkeypatch.setattr(services, "_joined", services.python_joined)
    monkeypatch.setattr(services, "ingest", None)
    monkeypatch.setattr(formats, "ingest", None)
    monkeypatch.setattr(
        services._UuidTextBinaryDumper, "dump", staticmethod(services.python_uuid_bytes)
    )


def _stored(ids: list[str]) -> list[dict[str, Any]]:
    rows = []
    for statement_id in ids:
        row: dict[str, Any] = dict(
            Statement.objects.filter(statement_id=statement_id).values().get()
        )
        payload = json.loads(row.pop("payload"))
        for key in ("seq", "statement_id", "stored", "xid"):
            row.pop(key, None)
        for key in ("id", "stored"):
            payload.pop(key)
        rows.append({**row, "payload": payload})
    return rows


@pytest.mark.django_db
def test_the_python_path_stores_what_the_c_path_stores(monkeypatch):
    regions = make_region_tree()
    _platform, credential, _secret = make_platform(regions["420102"], 1)
    templates = [*VALID, *VALID]  # more than COPY_FROM_ROWS: the COPY on PostgreSQL
    assert len(templates) > services.COPY_FROM_ROWS

    def batch() -> list[dict[str, Any]]:
        out = []
        for template in templates:
            item = copy.deepcopy(template)
            item["id"] = str(uuid.uuid4())
            item.setdefault("timestamp", "2026-11-28T03:04:05.678Z")
            out.append(item)
        return out

    body = orjson.dumps(batch())
    with_c = store_statements(
        credential=credential, statements=validation.load_json(body), version="1.0.3"
    )
    _python_paths(monkeypatch)
    body = orjson.dumps(batch())
    with_python = store_statements(
        credential=credential, statements=validation.load_json(body), version="1.0.3"
    )
    assert _stored(with_c) == _stored(with_python)
