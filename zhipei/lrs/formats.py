"""Checks for the xAPI data types (xAPI 1.0.3 Data §4): IRIs, UUIDs, language tags and maps,
ISO 8601 timestamps and durations, extensions. Each check raises `XapiInvalid` naming the JSON
path of the bad value, so a platform sees exactly what to fix."""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import orjson
from django.utils.translation import gettext as _

from zhipei.lrs.native import ingest


class XapiInvalid(ValueError):
    """A statement, agent or parameter breaks an xAPI rule; `path` is the JSON path of the
    offending value (e.g. "statements[3].result.score.scaled")."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


# Every pattern ends in \Z, not $ (which also matches before a final newline), and \d is
# ASCII only (re.ASCII; Python's \d also matches other scripts' digits, which int() reads).

# Best-effort IRI check (xAPI Data §2.2.s4.b6): a scheme, then no whitespace, control
# characters or other characters that RFC 3987 forbids outright. Relative references ("#frag",
# "/path") have no scheme and fail.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f-\x9f<>\"{}|\\^`]+\Z")
_UUID = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
_MAILTO = re.compile(r"^mailto:[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]+\Z")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}\Z")
# RFC 5646 token lengths (Data §2.2.s4.b2): language (2-3 letters with up to three 3-letter
# extlangs, or 4-8 letters), then script/region/variant/extension/private subtags of 1-8
# alphanumerics; or a private-use tag "x-…"; or a grandfathered "i-…" tag.
_LANGTAG = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})(?:-[A-Za-z0-9]{1,8})*"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+|[iI](?:-[A-Za-z0-9]{1,8})+)\Z"
)
# ISO 8601 date-time as xAPI uses it: full date, "T", time with optional fraction, optional
# offset. An offset of -00:00 means "unknown local offset" in RFC 3339 and is refused
# (Data §4.5.s2.b4 asks LRSs to reject it).
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?\Z",
    re.ASCII,
)
# The same in ISO 8601's basic format (20260501T083000Z): the conformance requirements
# (XAPI-00123) have an LRS accept the basic format as well as the extended one. Read by
# writing it in the extended format, which the statement keeps as sent (1.0.3).
_BASIC_TIMESTAMP = re.compile(
    r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})((?:[.,]\d+)?)(Z|[+-]\d{2}(?:\d{2})?)?\Z",
    re.ASCII,
)
# xAPI 2.0 (IEEE 9274.1.1) asks RFC 3339 timestamps: the extended format with its UTC offset
# ("Z" or ±hh:mm; "T" and "Z" may be lower case, RFC 3339 §5.6). A local time with no offset
# is refused: read as UTC it would mean another instant.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})\Z", re.ASCII
)
# ISO 8601 duration (Data §4.6): PnYnMnDTnHnMnS with a fractional last part, or PnW.
_DURATION = re.compile(
    r"^P(?!\Z)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?!\Z)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?\Z"
    r"|^P(\d+(?:[.,]\d+)?)W\Z",
    re.ASCII,
)
_VERSION = re.compile(r"^(1\.0\.\d+|2\.0\.\d+)\Z", re.ASCII)


# Statements repeat their verbs, activities, home pages and heartbeat durations: each such
# text is read once per process while it stays among the recent ones. Only short texts are
# kept, so a cache stays small (4,096 × 512 characters at most) whatever a client sends.
_CACHED_TEXT_MAX = 512
_T = TypeVar("_T")


def _read_short_cached(read: functools._lru_cache_wrapper[_T], text: str) -> _T:
    """`read(text)` through its cache for a short text, around it for a long one."""
    return read(text) if len(text) <= _CACHED_TEXT_MAX else read.__wrapped__(text)


def is_iri(value: object) -> bool:
    return isinstance(value, str) and _read_short_cached(_is_iri_text, value)


@functools.lru_cache(maxsize=4096)
def _is_iri_text(value: str) -> bool:
    return _IRI.match(value) is not None


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID.match(value) is not None


def check_string(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise XapiInvalid(path, _("must be a string"))
    return value


def check_iri(value: object, path: str) -> str:
    if not isinstance(value, str) or not is_iri(value):
        raise XapiInvalid(path, _("must be an absolute IRI with a scheme (e.g. https://…)"))
    return value


def check_uuid(value: object, path: str) -> str:
    """A UUID in standard string form; returned lower-cased (the canonical form we store)."""
    if not isinstance(value, str) or not is_uuid(value):
        raise XapiInvalid(path, _("must be a UUID in standard string form"))
    return value.lower()


def check_key_text(value: object, path: str) -> str:
    """A string the LRS keys on (an account name): any text but U+0000, which PostgreSQL
    cannot hold in a text column, so no statement, filter or document can name it."""
    text = check_string(value, path)
    if "\x00" in text:
        raise XapiInvalid(path, _("must not contain the character U+0000 (NUL)"))
    return text


def check_bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise XapiInvalid(path, _("must be true or false (a JSON boolean)"))
    return value


def check_number(value: object, path: str) -> int | float:
    """A JSON number as parsed: an integer beyond a float's range (the strict parser keeps
    integers beyond 64 bits exact) stays an int, which Python compares with floats exactly."""
    # bool is an int subclass in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise XapiInvalid(path, _("must be a number"))
    return value


class BeyondDouble(ValueError):
    """A JSON number no double holds (1e400): Python's parser would read it as infinity,
    which JSON cannot write back (it would come out as null)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text[:40]


def refuse_json_constant(name: str) -> Any:
    """json.loads' parse_constant: NaN, Infinity and -Infinity are Python's, not JSON's."""
    raise ValueError(f"{name} is not JSON")


def double_or_refuse(text: str) -> float:
    """json.loads' parse_float: the number as a double, or BeyondDouble."""
    value = float(text)
    if math.isinf(value):
        raise BeyondDouble(text)
    return value


def finite_float(value: object) -> float | None:
    """A JSON number (not a boolean) as a finite float; None for anything else, including an
    integer too large for a float (10**400 is valid JSON, and float() of it raises)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def compact_json(data: object) -> bytes:
    """Compact JSON in UTF-8 with non-ASCII as is: orjson, or json.dumps for what orjson refuses
    (integers beyond 64 bits; the same text up to number spelling, e.g. 1e16 for 1e+16).
    Raises UnicodeEncodeError for a string with a lone surrogate (JSON escapes can spell one)."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def check_object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise XapiInvalid(path, _("must be a JSON object"))
    return value


def check_keys(obj: dict[str, Any], allowed: frozenset[str], path: str) -> None:
    """Unknown properties, wrong-case keys and nulls are refused (Data §2.2.s4.b1)."""
    for key, value in obj.items():
        if key not in allowed:
            raise XapiInvalid(_join(path, key), _("is not a property allowed here"))
        if value is None:
            raise XapiInvalid(_join(path, key), _("must not be null"))


def is_language_tag(value: object) -> bool:
    return isinstance(value, str) and _LANGTAG.match(value) is not None


def check_language_map(value: object, path: str) -> dict[str, str]:
    mapping = check_object(value, path)
    for tag, text in mapping.items():
        if not is_language_tag(tag):
            raise XapiInvalid(_join(path, tag), _("is not an RFC 5646 language tag"))
        if not isinstance(text, str):
            raise XapiInvalid(_join(path, tag), _("must be a string"))
    return mapping


def check_extensions(value: object, path: str) -> dict[str, Any]:
    """Extension keys are IRIs (Data §4.1); values are any JSON, nulls included."""
    mapping = check_object(value, path)
    for key in mapping:
        if not is_iri(key):
            raise XapiInvalid(_join(path, key), _("extension keys must be absolute IRIs"))
    return mapping


def parse_timestamp(value: object, path: str, *, rfc3339: bool = False) -> datetime:
    """An ISO 8601 timestamp as an aware datetime (UTC when no offset is given). With
    `rfc3339` (xAPI 2.0), only an RFC 3339 date-time, its offset included."""
    if not isinstance(value, str):
        raise XapiInvalid(path, _("must be an ISO 8601 timestamp string"))
    if rfc3339:
        if _RFC3339.match(value) is None:
            raise XapiInvalid(
                path,
                _(
                    "must be an RFC 3339 timestamp with its UTC offset, like "
                    "2024-05-01T08:30:00Z or 2024-05-01T16:30:00+08:00 (xAPI 2.0)"
                ),
            )
        value = value.upper()  # t and z (RFC 3339 §5.6), read as T and Z
    match = _TIMESTAMP.match(value)
    if match is None and (basic := _BASIC_TIMESTAMP.match(value)) is not None:
        year, month, day, hour, minute, second, fraction, offset = basic.groups()
        zone = offset or ""
        if len(zone) == 5:  # +hhmm
            zone = f"{zone[:3]}:{zone[3:]}"
        value = f"{year}-{month}-{day}T{hour}:{minute}:{second}{fraction}{zone}"
        match = _TIMESTAMP.match(value)
    if match is None:
        raise XapiInvalid(path, _("must be an ISO 8601 timestamp like 2024-05-01T08:30:00Z"))
    offset = match.group(8)
    if offset in {"-00", "-0000", "-00:00"}:
        raise XapiInvalid(path, _("the offset -00:00 is not allowed; use Z for UTC"))
    if offset and offset != "Z":
        hours, minutes = _offset_parts(offset)
        if hours > 23 or minutes > 59:
            raise XapiInvalid(path, _("the UTC offset must lie between -23:59 and +23:59"))
    try:
        try:
            # What the pattern admits, fromisoformat reads alike (fractions cut to
            # microseconds, offsets with or without a colon), in a fraction of the time; what
            # it refuses is read below, which names the fault.
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return _parse_timestamp_parts(match, path)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before the first year
        raise XapiInvalid(path, _("is outside the years 1 to 9999 (UTC)")) from exc


def _parse_timestamp_parts(match: re.Match[str], path: str) -> datetime:
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(  # noqa: DTZ001 - the offset is applied just below
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro
        )
    except ValueError as exc:
        raise XapiInvalid(path, _("is not a real date and time")) from exc
    delta = timedelta(0)
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        hours, minutes = _offset_parts(offset)
        delta = sign * timedelta(hours=hours, minutes=minutes)
    return (moment - delta).replace(tzinfo=UTC)


def _offset_parts(offset: str) -> tuple[int, int]:
    """Hours and minutes of an offset the pattern admitted: ±hh, ±hhmm or ±hh:mm."""
    digits = offset[1:].replace(":", "")
    return int(digits[:2]), int(digits[2:4] or "0")


def parse_duration_seconds(value: object, path: str) -> float:
    """An ISO 8601 duration, in seconds. Years and months have no fixed length: they count as
    365 and 30 days, only for the extracted column; the statement keeps the string as sent
    (Data §2.3.1.b8)."""
    if not isinstance(value, str):
        raise XapiInvalid(path, _("must be an ISO 8601 duration string"))
    seconds = _read_short_cached(_duration_seconds, value)
    if seconds is None:
        raise XapiInvalid(path, _("must be an ISO 8601 duration like PT1H30M or PT45.5S"))
    return seconds


@functools.lru_cache(maxsize=4096)
def _duration_seconds(value: str) -> float | None:
    match = _DURATION.match(value)
    if match is None:
        return None
    years, months, days, hours, minutes, seconds, weeks = (
        float(part.replace(",", ".")) if part else 0.0 for part in match.groups()
    )
    return (
        weeks * 7 * 86400
        + years * 365 * 86400
        + months * 30 * 86400
        + days * 86400
        + hours * 3600
        + minutes * 60
        + seconds
    )


def check_version(value: object, path: str) -> str:
    if not isinstance(value, str) or _VERSION.match(value) is None:
        raise XapiInvalid(path, _("must be an xAPI version 1.0.x or 2.0.x"))
    return value


def check_mailto(value: object, path: str) -> str:
    if not isinstance(value, str) or _MAILTO.match(value) is None:
        raise XapiInvalid(path, _("must be a mailto IRI like mailto:name@example.com"))
    return value


def check_sha1(value: object, path: str) -> str:
    if not isinstance(value, str) or _SHA1.match(value) is None:
        raise XapiInvalid(path, _("must be a hex-encoded SHA-1 hash (40 hex digits)"))
    return value


def new_uuid() -> str:
    return str(uuid.uuid4())


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# Every byte mapped to "x" but digits to "0": a run of digits becomes a run of "0" that a
# C-speed substring search finds (a regex scan costs more than orjson's whole parse).
_DIGITS_TO_ZERO = bytes(48 if 48 <= byte <= 57 else 120 for byte in range(256))
# orjson reads an integer literal beyond 64 bits as a float where json keeps it exact; such a
# literal has at least this many digits.
BIG_INTEGER_DIGITS = 19


def has_digit_run(raw: bytes | str, length: int) -> bool:
    """Whether `raw` holds `length` digits in a row (UTF-8 bytes, or text encoded as such)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if ingest is not None:  # one pass in C (decision 0012)
        return bool(ingest.digit_run(data, length))
    return python_has_digit_run(data, length)


def python_has_digit_run(data: bytes, length: int) -> bool:
    """has_digit_run in Python: a translation and a substring search, both at C speed."""
    return b"0" * length in data.translate(_DIGITS_TO_ZERO)
