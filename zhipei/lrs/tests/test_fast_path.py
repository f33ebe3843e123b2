"""The validator's fast path (validation._fast_prepare) against the full validator: on the
common shape it must give exactly the same Prepared (same stored JSON, key order included,
same extracted columns), and it must never accept what the full validator refuses. Random
mutations of valid statements probe the second rule."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from zhipei.lrs import validation
from zhipei.lrs.formats import XapiInvalid
from zhipei.lrs.tests.helpers import statement
from zhipei.lrs.validation import (
    Prepared,
    _fast_prepare,
    _full_prepare,
    actor_key_from_json,
    prepare_statement,
)

STORED = datetime(2026, 11, 26, 3, 4, 5, 678000, tzinfo=UTC)
AUTHORITY = {
    "objectType": "Agent",
    "name": "Platform 1",
    "account": {"homePage": "https://zhipei.example.cn/xapi", "name": "pk_1"},
}
AUTHORITY_KEY = actor_key_from_json(AUTHORITY)
SAMPLE = Path(settings.BASE_DIR).parent / "shared" / "bench" / "sample-statements.json"


def _samples() -> list[dict[str, Any]]:
    if SAMPLE.is_file():
        loaded: list[dict[str, Any]] = json.loads(SAMPLE.read_text(encoding="utf-8"))
        return loaded
    return []


def _variants() -> list[dict[str, Any]]:
    base = statement()
    return [
        base,
        statement(actor={"mbox": "mailto:Someone@Example.CN", "name": "S"}),
        statement(actor={"objectType": "Agent", "mbox_sha1sum": "A" * 40}),
        statement(actor={"openid": "https://openid.example.cn/u/1"}),
        statement(
            result={
                "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
                "success": True,
                "completion": False,
                "response": "yes",
                "duration": "PT1H2M3.5S",
                "extensions": {"https://x.cn/e": None},
            }
        ),
        statement(
            context={
                "registration": "6F0E4B8E-3C1A-4F7E-9A3B-2D9C1E5F7A10",
                "contextActivities": {
                    "parent": {"id": "https://x.cn/c/1"},
                    "grouping": [{"id": "https://x.cn/p", "objectType": "Activity"}],
                    "category": [],
                },
                "revision": "r2",
                "language": "zh-CN",
                "extensions": {"https://x.cn/ctx": {"a": [1, 2]}},
            }
        ),
        statement(
            object={
                "id": "https://x.cn/a",
                "definition": {
                    "name": {"en": "A"},
                    "description": {"zh-Hans-CN": "描述"},
                    "type": "http://adlnet.gov/expapi/activities/lesson",
                    "moreInfo": "https://x.cn/more",
                    "extensions": {"https://x.cn/d": 1},
                },
            }
        ),
        statement(timestamp=None),
        statement(id=None),
        statement(timestamp="2026-05-01T08:30:00.123456+08:00"),
    ]


VALID = _samples() + _variants()


@pytest.fixture(autouse=True, params=["native", "python"])
def common_shape(request, monkeypatch):
    """Every test here runs with the C walk of the common shape (decision 0012) and with its
    Python original."""
    if request.param == "python":
        monkeypatch.setattr(validation, "common_shape", validation.python_common_shape)
    elif validation.common_shape is validation.python_common_shape:
        pytest.skip("the C module zhipei.lrs._ingest is not built")
    return request.param


def _both(data: dict[str, Any], *, version: str = "1.0.3", statement_id: str | None = None):
    fast = _fast_prepare(
        copy.deepcopy(data),
        "statements[0]",
        version=version,
        stored=STORED,
        authority=AUTHORITY,
        authority_key=AUTHORITY_KEY,
        statement_id=statement_id,
    )
    try:
        full: Prepared | None = _full_prepare(
            copy.deepcopy(data),
            "statements[0]",
            version=version,
            stored=STORED,
            authority=AUTHORITY,
            authority_key=AUTHORITY_KEY,
            statement_id=statement_id,
        )
    except XapiInvalid:
        full = None
    return fast, full


def _same(fast: Prepared, full: Prepared) -> None:
    if not fast.id_was_given:  # both made up a new id
        full.data["id"] = full.statement_id = fast.statement_id
    assert json.dumps(fast.data, ensure_ascii=False) == json.dumps(full.data, ensure_ascii=False)
    assert fast == full


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
@pytest.mark.parametrize("index", range(len(VALID)))
def test_fast_path_takes_the_common_shape_and_agrees(index, version):
    fast, full = _both(VALID[index], version=version)
    assert full is not None
    assert fast is not None, "the common shape should take the fast path"
    _same(fast, full)


def test_fast_path_agrees_on_put_with_statement_id():
    data = statement(id=None)
    wanted = str(uuid.uuid4())
    fast, full = _both(data, statement_id=wanted)
    assert fast is not None and full is not None
    _same(fast, full)
    assert fast.statement_id == wanted
    assert fast.id_was_given  # the client chose it: a voiding statement may be waiting for it
    # A different id in the body than in the parameter: refused by the full path only.
    other = statement()
    fast, full = _both(other, statement_id=wanted)
    assert fast is None and full is None
    with pytest.raises(XapiInvalid, match="differs from the statementId"):
        prepare_statement(
            other, "", version="1.0.3", stored=STORED, authority=AUTHORITY, statement_id=wanted
        )


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-05-01T08:30:00Z",
        "2026-05-01T08:30:00.123456789Z",
        "2026-05-01t08:30:00z",
        "2026-05-01T16:30:00+08:00",
        "2026-05-01T08:30:00,5Z",
        "2026-05-01T08:30:00",
        "20260501T083000Z",
    ],
)
def test_fast_path_agrees_on_xapi_2_timestamps(timestamp):
    fast, full = _both(statement(timestamp=timestamp), version="2.0.0")
    assert (fast is None) == (full is None), timestamp
    if fast is not None and full is not None:
        _same(fast, full)
        assert fast.data["timestamp"].endswith("Z")


@pytest.mark.parametrize(
    "changes",
    [
        {"actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@b.cn"}]}},
        {"verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}},
        {"object": {"objectType": "StatementRef", "id": str(uuid.uuid4())}},
        {"attachments": []},
        {"version": "1.0.3"},
        {"stored": "2026-01-01T00:00:00Z"},
        {"context": {"instructor": {"mbox": "mailto:t@b.cn"}}},
    ],
)
def test_other_shapes_take_the_full_path(changes):
    fast, _full = _both(statement(**changes))
    assert fast is None


# --- Random mutations: the fast path never accepts what the full path refuses --------------
BAD_VALUES = st.sampled_from(
    [
        None,
        0,
        1.5,
        True,
        "",
        "not an iri",
        "https://ok.example.cn/x",
        "mailto:a@b.cn",
        "2026-13-01T00:00:00Z",
        "2026-01-01T00:00:00-00:00",
        "PT1H",
        "P1Q",
        "zh-CN",
        "123",
        [],
        [{"id": "https://x.cn"}],
        {},
        {"en": 1},
        {"en": "x"},
        {"https://x.cn/e": 1},
        {"not-iri": 1},
        {"id": "https://x.cn"},
        {"objectType": "Group"},
        {"homePage": "https://x.cn", "name": "n"},
        {"raw": 5, "min": 10, "max": 1},
        {"scaled": 2},
        "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a1",
        "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10\n",
        "https://x.cn/a\n",
        "https://x.cn/\x1c",
        "a\x00b",
        {"homePage": "https://x.cn", "name": "a\x00b"},
        "mailto:a@b.cn\n",
        "zh-CN\n",
        {"zh-CN\n": "x"},
        {"https://x.cn/e\n": 1},
        "PT1H\n",
        "2026-01-01T00:00:00Z\n",
        {"mbox": "mailto:a@b.cn", "openid": "https://o.cn"},
    ]
)
KEYS = st.sampled_from(
    [
        "Actor",
        "objectType",
        "id",
        "name",
        "mbox",
        "account",
        "display",
        "definition",
        "extensions",
        "interactionType",
        "score",
        "duration",
        "registration",
        "contextActivities",
        "parent",
        "language",
        "revision",
        "platform",
        "timestamp",
        "member",
        "homePage",
        "scaled",
        "success",
        "unknown",
    ]
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _mutate(data: dict[str, Any], path: tuple[Any, ...], action: str, key: str, value: Any):
    if not path:
        if action == "add":
            data[key] = copy.deepcopy(value)
        return
    parent: Any = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last][key] = copy.deepcopy(value)
    else:
        parent[last] = copy.deepcopy(value)


def _mutated(index: int, mutations: list[tuple[int, str, str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(VALID[index])
    for position, action, key, value in mutations:
        paths = _paths(data)
        _mutate(data, paths[position % len(paths)], action, key, value)
    return data


# A valid statement with one to three random mutations at random places.
MUTATED = st.builds(
    _mutated,
    st.integers(min_value=0, max_value=len(VALID) - 1),
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10_000),
            st.sampled_from(["delete", "set", "add"]),
            KEYS,
            BAD_VALUES,
        ),
        min_size=1,
        max_size=3,
    ),
)


@hsettings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(MUTATED, st.sampled_from(["1.0.3", "2.0.0"]))
def test_fast_path_never_accepts_what_the_full_path_refuses(data, version):
    fast, full = _both(data, version=version)
    if fast is not None:
        assert full is not None, data
        _same(fast, full)
