"""The chain's building blocks are pure functions: canonical JSON, the time format, the link."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from zhipei.audit.sealer import audit_key, canonical_content, format_at, link_hash

KEY = b"k" * 32


def _row(**overrides):
    row = {
        "id": 7,
        "at": datetime(2026, 3, 1, 10, 0, 0, tzinfo=timezone(timedelta(hours=8))),
        "action": "people.person.created",
        "actor_id": 3,
        "actor_label": "王芳",
        "object_type": "people.person",
        "object_id": "42",
        "region_code": "110101",
        "ip": "10.0.0.1",
        "data": {"b": 1, "a": ["x", {"d": 2, "c": None}]},
        "seq": 5,
    }
    row.update(overrides)
    return row


def test_format_at_is_utc_with_microseconds():
    at = datetime(2026, 3, 1, 10, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    assert format_at(at) == "2026-03-01T02:00:00.000000Z"


def test_canonical_content_sorts_keys_without_spaces_and_keeps_chinese():
    text = canonical_content(_row()).decode("utf-8")
    assert text == (
        '{"action":"people.person.created","actor_id":3,"actor_label":"王芳",'
        '"at":"2026-03-01T02:00:00.000000Z","data":{"a":["x",{"c":null,"d":2}],"b":1},'
        '"id":7,"ip":"10.0.0.1","object_id":"42","object_type":"people.person",'
        '"region_code":"110101","seq":5}'
    )


def test_canonical_content_ignores_fields_outside_the_content():
    assert canonical_content(_row()) == canonical_content(
        {**_row(), "chain_hash": "x", "sealed_at": None}
    )


def test_link_hash_is_hmac_of_prev_hash_and_canonical_json():
    prev = "ab" * 32
    expected = hmac.new(KEY, prev.encode() + canonical_content(_row()), hashlib.sha256)
    assert link_hash(KEY, prev, _row()) == expected.hexdigest()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", 8),
        ("at", datetime(2026, 3, 1, 2, 0, 0, 1, tzinfo=UTC)),
        ("action", "people.person.deleted"),
        ("actor_id", None),
        ("actor_label", "王芳 "),
        ("object_type", "people.hold"),
        ("object_id", "43"),
        ("region_code", "110102"),
        ("ip", None),
        ("data", {"b": 2, "a": ["x", {"d": 2, "c": None}]}),
        ("seq", 6),
    ],
)
def test_every_content_field_changes_the_hash(field, value):
    assert link_hash(KEY, "", _row(**{field: value})) != link_hash(KEY, "", _row())


def test_the_previous_hash_and_the_key_change_the_hash():
    assert link_hash(KEY, "", _row()) != link_hash(KEY, "00" * 32, _row())
    assert link_hash(KEY, "", _row()) != link_hash(b"x" * 32, "", _row())


def test_the_same_instant_in_another_time_zone_hashes_the_same():
    utc_row = _row(at=datetime(2026, 3, 1, 2, 0, 0, tzinfo=UTC))
    assert link_hash(KEY, "", utc_row) == link_hash(KEY, "", _row())


def test_canonical_content_is_valid_json():
    assert json.loads(canonical_content(_row()))["data"]["a"][1] == {"c": None, "d": 2}


@pytest.mark.parametrize(
    ("value", "complaint"),
    [("", "not set"), ("not base64!", "not valid base64"), ("c2hvcnQ=", "at least 32 bytes")],
)
def test_audit_key_refuses_unusable_keys(value, complaint):
    with override_settings(AUDIT_HMAC_KEY=value), pytest.raises(ImproperlyConfigured) as info:
        audit_key()
    assert complaint in str(info.value)
