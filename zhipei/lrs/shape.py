"""The common statement shape as a JSON Schema, checked by jsonschema-rs (compiled Rust).

Most statements are an Agent doing something to an Activity, with a plain result and
context (docs/xapi-profile.md). `validation._fast_prepare` takes a statement of that shape
in three steps: this schema checks its structure, types and every IRI, UUID and language
tag in one call; Python then reads the columns and checks what a schema cannot say (a
score's min below its max, a timestamp's calendar, how deep extensions nest). On anything
else the full validator runs, which also words the refusal. So the schema may only accept
what the full validator accepts; tests/test_fast_path.py holds the two to it, and
test_shape.py holds each pattern here to its Python original in formats
(docs/decisions/0010-statement-shape-schema.md).

Where the C module zhipei.lrs._ingest is built, its walk (`common`) takes this schema's place
on the ingest path; the schema stays as the Python path and the oracle that
tests/test_native.py holds the C to (docs/decisions/0012-native-ingest.md).

The patterns are formats' own, rewritten for the ECMA 262 dialect JSON Schema uses: `\\Z`
becomes `$` (in ECMA without the m flag, the end of the text only), and `\\s` becomes the
explicit list of what Python's `\\s` matches (ECMA's is another list). formats compiles
with re.ASCII where it writes `\\d`, which is ECMA's `\\d`.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from zhipei.lrs import formats

# What Python's `\s` matches in a str pattern: the characters str.isspace() calls spaces,
# all in the Basic Multilingual Plane (test_shape checks).
_PYTHON_SPACES = "".join(f"\\u{code:04x}" for code in range(0x10000) if chr(code).isspace())


def ecma(pattern: str) -> str:
    """A formats pattern in the ECMA 262 dialect, matching the same strings."""
    return pattern.replace("\\s", _PYTHON_SPACES).replace("\\Z", "$")


def _pattern(python: Any) -> dict[str, Any]:
    return {"type": "string", "pattern": ecma(python.pattern)}


def _object(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """A JSON object with only these properties, none null (xAPI Data §2.2.s4.b1)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_STRING = {"type": "string"}
KEY_TEXT = {"type": "string", "pattern": "^[^\\u0000]*$"}  # formats.check_key_text
_BOOLEAN = {"type": "boolean"}
_NUMBER = {"type": "number"}  # JSON Schema: true and false are not numbers
IRI = _pattern(formats._IRI)
UUID = _pattern(formats._UUID)
LANGUAGE_TAG = _pattern(formats._LANGTAG)
LANGUAGE_MAP = {
    "type": "object",
    "propertyNames": LANGUAGE_TAG,
    "additionalProperties": _STRING,
}
# Keys are IRIs; values any JSON, null included. How deep they nest, Python checks.
EXTENSIONS = {"type": "object", "propertyNames": IRI}

ACTIVITY = _object(
    {
        "objectType": {"const": "Activity"},
        "id": IRI,
        "definition": _object(
            {
                "name": LANGUAGE_MAP,
                "description": LANGUAGE_MAP,
                "type": IRI,
                "moreInfo": IRI,
                "extensions": EXTENSIONS,
            }
        ),
    },
    "id",
)
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
AGENT = {
    **_object(
        {
            "objectType": {"const": "Agent"},
            "name": _STRING,
            "mbox": _pattern(formats._MAILTO),
            "mbox_sha1sum": _pattern(formats._SHA1),
            "openid": IRI,
            "account": _object({"homePage": IRI, "name": KEY_TEXT}, "homePage", "name"),
        }
    ),
    "oneOf": [{"required": [ifi]} for ifi in IFIS],  # exactly one identifier
}
_ACTIVITIES = {"anyOf": [ACTIVITY, {"type": "array", "items": ACTIVITY}]}
STATEMENT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_object(
        {
            "id": UUID,
            "actor": AGENT,
            "verb": _object({"id": IRI, "display": LANGUAGE_MAP}, "id"),
            "object": ACTIVITY,
            "result": _object(
                {
                    "score": _object(
                        {"scaled": _NUMBER, "raw": _NUMBER, "min": _NUMBER, "max": _NUMBER}
                    ),
                    "success": _BOOLEAN,
                    "completion": _BOOLEAN,
                    "response": _STRING,
                    "duration": _STRING,  # parsed in Python, which needs its seconds
                    "extensions": EXTENSIONS,
                }
            ),
            "context": _object(
                {
                    "registration": UUID,
                    "contextActivities": _object(
                        dict.fromkeys(("parent", "grouping", "category", "other"), _ACTIVITIES)
                    ),
                    "revision": _STRING,
                    "platform": _STRING,
                    "language": LANGUAGE_TAG,
                    "extensions": EXTENSIONS,
                }
            ),
            "timestamp": _STRING,  # parsed in Python, which needs its instant
        },
        "actor",
        "verb",
        "object",
    ),
}

_VALIDATOR = jsonschema_rs.validator_for(STATEMENT)


def is_common(value: object) -> bool:
    """Whether `value` (a parsed statement) has the common shape and all its IRIs, UUIDs and
    language tags are well formed."""
    try:
        return bool(_VALIDATOR.is_valid(value))
    except (ValueError, TypeError, OverflowError):  # a value it cannot take in: not common
        return False
