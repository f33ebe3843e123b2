"""Writes to the statement store: one service, `store_statements`, for POST and PUT.

Not audited per statement (one row per learning event would drown the audit chain); the
statement table is itself append-only and the authority of every row names the credential.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhipei.catalog.models import Course, Lesson
from zhipei.core.errors import Conflict
from zhipei.lrs.formats import XapiInvalid
from zhipei.lrs.models import Attachment, Statement
from zhipei.lrs.validation import (
    SIGNATURE_USAGE,
    Prepared,
    _iso,
    comparable,
    prepare_statement,
)
from zhipei.orgs.models import PlatformCredential
from zhipei.people.idnumber import check_character
from zhipei.people.models import PlatformPseudonym
from zhipei.people.queries import learners_home_page

COPY_COLUMNS = (
    "statement_id",
    "platform_id",
    "person_id",
    "course_id",
    "actor_ifi",
    "object_agent_ifi",
    "verb_id",
    "activity_id",
    "object_statement_id",
    "registration",
    "timestamp",
    "stored",
    "duration_seconds",
    "voided",
    "is_voiding",
    "related_activities",
    "related_agents",
    "member_agents",
    "payload",
    "has_attachments",
)
_SIGNATURE_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
_SHA2_LENGTHS = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


class StatementConflict(Conflict):
    """A statement id already stored with a different body (Communication §2.1.1: 409)."""

    default_message = gettext_lazy(
        "A statement with this id is already stored with a different body."
    )


@dataclass(frozen=True)
class AttachmentPart:
    content_type: str
    content: bytes


def authority_for(credential: PlatformCredential) -> dict[str, Any]:
    """The authority the LRS writes on every statement (Data §2.4.9.s3.b2): the Basic user,
    i.e. the platform key, as an Agent account on this site."""
    return {
        "objectType": "Agent",
        "name": credential.platform.organisation.name,
        "account": {"homePage": f"{settings.SITE_URL}/xapi", "name": credential.key_id},
    }


def attachment_sha2(content: bytes, declared: str) -> str:
    """The SHA-2 of `content` in the family `declared` uses (by its length), lower-case hex."""
    digest = _SHA2_LENGTHS.get(len(declared), hashlib.sha256)
    return digest(content).hexdigest()


def store_statements(
    *,
    credential: PlatformCredential,
    statements: Sequence[object],
    version: str,
    statement_id: str | None = None,
    attachments: Mapping[str, AttachmentPart] | None = None,
    path_prefix: str = "",
) -> list[str]:
    """Validate and store a batch, all or nothing; returns the statement ids in order.

    Guarantees: every statement is valid xAPI or nothing is stored (XapiInvalid, a 400,
    naming the JSON path); ids are unique within the batch (400); a statement whose id is
    already stored with an equivalent body is a no-op, with a different body (or by another
    platform) a StatementConflict (409); a voiding statement marks its target voided (targets
    of another platform are left alone, as if absent) and voiding a voiding statement is a 400;
    statements naming unknown learners or courses are stored with person/course empty.
    `attachments` maps SHA-2 to the raw parts of a multipart/mixed request; None means the
    request was application/json, where every attachment needs a fileUrl."""
    now = timezone.now()
    authority = authority_for(credential)
    prepared: list[Prepared] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(statements):
        path = f"{path_prefix}[{index}]" if path_prefix else ""
        item = prepare_statement(
            raw,
            path,
            version=version,
            stored=now,
            authority=authority,
            statement_id=statement_id,
        )
        if item.statement_id in seen:
            raise XapiInvalid(
                (path + ".id") if path else "id",
                _("the same statement id appears twice in this batch"),
            )
        seen[item.statement_id] = index
        prepared.append(item)
    _check_attachments(prepared, attachments, path_prefix)
    try:
        _store(credential, prepared, attachments)
    except IntegrityError:
        # A concurrent request stored one of these ids between our check and our insert:
        # run again, and the check now sees it (no-op or 409).
        _store(credential, prepared, attachments)
    return [item.statement_id for item in prepared]


def _check_attachments(
    prepared: list[Prepared], parts: Mapping[str, AttachmentPart] | None, path_prefix: str
) -> None:
    used: set[str] = set()
    for index, item in enumerate(prepared):
        base = f"{path_prefix}[{index}]." if path_prefix else ""
        for number, attachment in enumerate(item.attachments):
            where = f"{base}attachments[{number}]"
            sha2 = str(attachment["sha2"]).lower()
            if attachment["usageType"] == SIGNATURE_USAGE:
                _check_signature(item, attachment, parts, where)
            if "fileUrl" in attachment and (parts is None or sha2 not in parts):
                continue
            if parts is None or sha2 not in parts:
                raise XapiInvalid(
                    where,
                    _("has no fileUrl and no multipart/mixed part with this sha2 was sent"),
                )
            used.add(sha2)
    if parts is not None:
        unused = set(parts) - used
        if unused:
            raise XapiInvalid(
                "", _("a multipart/mixed part matches no attachment of the statements")
            )


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check_signature(
    item: Prepared,
    attachment: dict[str, Any],
    parts: Mapping[str, AttachmentPart] | None,
    where: str,
) -> None:
    """Signed statements (Data §2.6): the signature is a JWS in compact serialisation, sent as
    an application/octet-stream part; its algorithm is RS256/384/512; its payload is the
    statement as it was before the signature was attached. The RSA signature itself is not
    verified (the specification leaves that to consumers)."""
    if attachment["contentType"] != "application/octet-stream":
        raise XapiInvalid(where + ".contentType", _("a signature must be application/octet-stream"))
    sha2 = str(attachment["sha2"]).lower()
    if parts is None or sha2 not in parts:
        raise XapiInvalid(where, _("the signature must be sent as a multipart/mixed part"))
    try:
        token = parts[sha2].content.decode("ascii").strip()
        header_b64, payload_b64, signature_b64 = token.split(".")
        header = json.loads(_b64url(header_b64))
        payload = json.loads(_b64url(payload_b64))
        _b64url(signature_b64)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise XapiInvalid(where, _("the signature is not a JWS in compact serialisation")) from exc
    if not isinstance(header, dict) or header.get("alg") not in _SIGNATURE_ALGORITHMS:
        raise XapiInvalid(where, _("the JWS algorithm must be RS256, RS384 or RS512"))
    if not isinstance(payload, dict):
        raise XapiInvalid(where, _("the JWS payload must be the statement"))
    unsigned = dict(item.data)
    others = [a for a in item.attachments if a.get("usageType") != SIGNATURE_USAGE]
    if others:
        unsigned["attachments"] = others
    else:
        unsigned.pop("attachments", None)
    if not others:
        payload.pop("attachments", None)
    if "id" in payload and str(payload["id"]).lower() != item.statement_id:
        raise XapiInvalid(where, _("the JWS payload is a different statement"))
    ignore = not ("timestamp" in payload and item.timestamp_was_given)
    try:
        same = comparable(payload, ignore_timestamp=ignore) == comparable(
            unsigned, ignore_timestamp=ignore
        )
    except XapiInvalid:
        same = False
    if not same:
        raise XapiInvalid(where, _("the JWS payload does not match the statement"))


def _db_now() -> datetime:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # now() is the transaction's start: consistent-through relies on stored >= the
            # start of the writing transaction (queries.consistent_through).
            cursor.execute("SELECT now()")
            row = cursor.fetchone()
        assert row is not None
        return row[0]  # type: ignore[no-any-return]
    return timezone.now()


def _store(
    credential: PlatformCredential,
    prepared: list[Prepared],
    parts: Mapping[str, AttachmentPart] | None,
) -> None:
    platform_id = credential.platform_id
    with transaction.atomic():
        stored = _db_now()
        stored_text = _iso(stored)
        for item in prepared:
            item.data["stored"] = stored_text
            if not item.timestamp_was_given:
                item.data["timestamp"] = stored_text
                item.timestamp = stored
        new, already_voided = _skip_existing(platform_id, prepared)
        if not new:
            return
        targets = _check_voiding(platform_id, new)
        people = _people(platform_id, new)
        courses = _courses(platform_id, new)
        rows = [
            _row(platform_id, item, people, courses, item.statement_id in already_voided)
            for item in new
        ]
        _insert(rows)
        if targets:
            Statement.objects.filter(
                platform_id=platform_id,
                statement_id__in=[uuid.UUID(t) for t in targets],
                is_voiding=False,
            ).update(voided=True)
        if parts:
            _store_attachments(platform_id, parts, stored)


def _skip_existing(platform_id: int, prepared: list[Prepared]) -> tuple[list[Prepared], set[str]]:
    """The statements not stored yet, and the ids among them that a stored voiding statement
    of this platform already targets (the target may arrive after its voiding statement).
    One query for both: a repeated id with an equivalent body is dropped (no-op); with a
    different body, or stored by another platform, it is a StatementConflict."""
    given = [uuid.UUID(item.statement_id) for item in prepared if item.id_was_given]
    if not given:
        return prepared, set()
    existing: dict[str, tuple[int, str]] = {}
    voided: set[str] = set()
    wanted = {str(statement_id) for statement_id in given}
    rows: Iterable[tuple[Any, int, str | None, bool, Any]]
    if connection.vendor == "postgresql":
        rows = _existing_on_postgresql(given)
    else:
        rows = Statement.objects.filter(
            Q(statement_id__in=given) | Q(is_voiding=True, object_statement_id__in=given)
        ).values_list("statement_id", "platform_id", "payload", "is_voiding", "object_statement_id")
    for statement_id, owner, payload, is_voiding, target in rows:
        if payload is not None and str(statement_id) in wanted:
            existing[str(statement_id)] = (owner, payload)
        if is_voiding and owner == platform_id and target is not None:
            voided.add(str(target))
    if not existing:
        return prepared, voided
    new: list[Prepared] = []
    for item in prepared:
        found = existing.get(item.statement_id)
        if found is None:
            new.append(item)
            continue
        owner, payload = found
        ignore = not item.timestamp_was_given
        if owner != platform_id or comparable(
            json.loads(payload), ignore_timestamp=ignore
        ) != comparable(item.data, ignore_timestamp=ignore):
            raise StatementConflict(field=item.statement_id)
    return new, voided


def _existing_on_postgresql(given: list[uuid.UUID]) -> list[tuple[Any, int, str | None, bool, Any]]:
    """(statement_id, platform_id, payload, is_voiding, object_statement_id) of the stored
    statements with these ids (payload set), and of stored voiding statements that target
    them (payload None). The unpartitioned id table answers whether an id is stored and in
    which partition (its `stored`); only then is that partition read, in a second query
    (repeated ids are rare). Voiding statements are found through their partial index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement_id, stored, 0, false, NULL FROM lrs_statement_id "
            "WHERE statement_id = ANY(%s) "
            "UNION ALL SELECT statement_id, NULL, platform_id, is_voiding, object_statement_id "
            "FROM lrs_statement WHERE is_voiding AND object_statement_id = ANY(%s)",
            [given, given],
        )
        found = cursor.fetchall()
        rows: list[tuple[Any, int, str | None, bool, Any]] = [
            (statement_id, owner, None, is_voiding, target)
            for statement_id, stored, owner, is_voiding, target in found
            if stored is None
        ]
        stored_ids = [(statement_id, stored) for statement_id, stored, *_rest in found if stored]
        if stored_ids:
            cursor.execute(
                "SELECT statement_id, platform_id, payload, is_voiding, object_statement_id "
                "FROM lrs_statement WHERE statement_id = ANY(%s) AND stored = ANY(%s)",
                [[row[0] for row in stored_ids], list({row[1] for row in stored_ids})],
            )
            rows.extend(cursor.fetchall())
    return rows


def _check_voiding(platform_id: int, new: list[Prepared]) -> set[str]:
    targets = {item.voided_target for item in new if item.voided_target}
    if not targets:
        return set()
    batch_voiding = {item.statement_id for item in new if item.is_voiding}
    stored_voiding = set(
        Statement.objects.filter(
            platform_id=platform_id,
            statement_id__in=[uuid.UUID(t) for t in targets],
            is_voiding=True,
        ).values_list("statement_id", flat=True)
    )
    for item in new:
        target = item.voided_target
        if target and (target in batch_voiding or uuid.UUID(target) in stored_voiding):
            raise XapiInvalid(
                f"{item.path}.object.id" if item.path else "object.id",
                _("a voiding statement cannot itself be voided"),
            )
    return {t for t in targets if t is not None}


def _people(platform_id: int, new: list[Prepared]) -> dict[str, int]:
    home = learners_home_page()
    names = {
        item.extracted.account_name
        for item in new
        if item.extracted.account_home_page == home and item.extracted.account_name
    }
    if not names:
        return {}
    return dict(
        PlatformPseudonym.objects.filter(platform_id=platform_id, pseudonym__in=names).values_list(
            "pseudonym", "person_id"
        )
    )


# activity IRI -> course id (or None), per platform, for COURSE_CACHE_SECONDS: the catalogue
# changes rarely and this lookup is most of the cost of a one-statement POST. A course added
# within that window is matched only by statements that arrive after it; statements before
# keep course empty and are matched by their activity_id later (crediting).
COURSE_CACHE_SECONDS = 30.0
_course_cache: dict[tuple[int, str], tuple[float, int | None]] = {}
_COURSE_CACHE_MAX = 20_000


def clear_course_cache() -> None:
    _course_cache.clear()


def _courses(platform_id: int, new: list[Prepared]) -> dict[str, int]:
    iris = {item.extracted.activity_id for item in new if item.extracted.activity_id}
    if not iris:
        return {}
    now = time.monotonic()
    found: dict[str, int] = {}
    missing: set[str] = set()
    for iri in iris:
        cached = _course_cache.get((platform_id, iri))
        if cached is not None and cached[0] > now:
            if cached[1] is not None:
                found[iri] = cached[1]
        else:
            missing.add(iri)
    if not missing:
        return found
    # One query: the IRI is a course's own activity or one of its lessons'.
    courses = Course.objects.filter(platform_id=platform_id, activity_iri__in=missing).values_list(
        "activity_iri", "pk"
    )
    lessons = Lesson.objects.filter(
        course__platform_id=platform_id, activity_iri__in=missing
    ).values_list("activity_iri", "course_id")
    # order_by() clears the models' default ordering: SQLite refuses it inside a UNION.
    looked_up = dict(courses.order_by().union(lessons.order_by(), all=True))
    ttl = float(getattr(settings, "XAPI_COURSE_CACHE_SECONDS", COURSE_CACHE_SECONDS))
    if len(_course_cache) > _COURSE_CACHE_MAX:
        _course_cache.clear()
    for iri in missing:
        if ttl > 0:
            _course_cache[(platform_id, iri)] = (now + ttl, looked_up.get(iri))
    found.update(looked_up)
    return found


def _joined(values: list[str]) -> str:
    unique = [value for value in dict.fromkeys(values) if value]
    return "\n" + "\n".join(unique) + "\n" if unique else ""


def _row(
    platform_id: int,
    item: Prepared,
    people: dict[str, int],
    courses: dict[str, int],
    voided: bool,
) -> tuple[Any, ...]:
    extracted = item.extracted
    payload = dump_payload(item.data, item.path)
    refuse_id_numbers(item, payload)
    person_id = people.get(extracted.account_name) if extracted.account_home_page else None
    return (
        item.statement_id,
        platform_id,
        person_id,
        courses.get(extracted.activity_id),
        extracted.actor_ifi[:600],
        extracted.object_agent_ifi[:600],
        extracted.verb_id[:500],
        extracted.activity_id[:500],
        extracted.object_statement_id,
        extracted.registration,
        item.timestamp,
        _parse_stored(item.data["stored"]),
        extracted.duration_seconds,
        voided and not item.is_voiding,
        item.is_voiding,
        _joined(extracted.activities),
        _joined(extracted.agents),
        _joined(extracted.members),
        payload,
        bool(item.attachments),
    )


# A resident ID number (GB 11643: area, birth date 19xx/20xx, sequence, check character)
# anywhere in a statement. Candidates are confirmed by the check character, so other long
# numbers rarely trip it (ARCHITECTURE invariant 2: no ID number in xAPI statements).
_ID_NUMBER_RE = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3})([0-9Xx])(?![0-9A-Za-z])"
)


# Every resident ID number has 17 digits in a row before its check character: a text without
# such a run holds none. Tested on the UTF-8 bytes with all digits mapped to "0" and every other
# byte to "x", which is a C-speed substring search instead of a regex scan (hot path).
_DIGIT_RUN = b"0" * 17
_DIGITS_TO_ZERO = bytes(48 if 48 <= byte <= 57 else 120 for byte in range(256))


def _may_hold_id_number(text: str) -> bool:
    return _DIGIT_RUN in text.encode("utf-8", "surrogatepass").translate(_DIGITS_TO_ZERO)


def _holds_id_number(text: str) -> bool:
    return any(
        check_character(match[1]) == match[2].upper() for match in _ID_NUMBER_RE.finditer(text)
    )


def _id_number_path(value: Any, path: str) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if _holds_id_number(str(key)):
                return where
            found = _id_number_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _id_number_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    elif isinstance(value, str) and _holds_id_number(value):
        return path
    elif isinstance(value, int) and not isinstance(value, bool) and _holds_id_number(str(value)):
        return path  # an ID number sent as a JSON number
    return None


def refuse_id_numbers(item: Prepared, payload: str) -> None:
    """Raise XapiInvalid (naming the JSON path, never the number) when the statement holds
    something that is a valid resident ID number."""
    if _may_hold_id_number(payload) and _holds_id_number(payload):
        where = _id_number_path(item.data, item.path) or item.path
        raise XapiInvalid(
            where,
            _(
                "must not contain a resident ID number: report learners by the pseudonym "
                "from POST /api/v1/learners"
            ),
        )


def dump_payload(data: dict[str, Any], path: str = "") -> str:
    """The statement as stored: compact JSON, non-ASCII as is (orjson; the same text as
    json.dumps(ensure_ascii=False, separators=(",", ":")) up to number spelling, e.g. 1e16
    for 1e+16). Integers beyond 64 bits, which orjson refuses, go through json.dumps. A string
    with a lone surrogate (JSON escapes can spell one) is not text: XapiInvalid."""
    try:
        return orjson.dumps(data).decode("utf-8")
    except orjson.JSONEncodeError:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise XapiInvalid(
                path, _("contains a string that is not valid Unicode (a lone surrogate)")
            ) from exc
        return text


def _parse_stored(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _insert(rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL (the batch path's bulk insert), bulk_create elsewhere."""
    if connection.vendor == "postgresql":
        copy_rows(rows)
        return
    Statement.objects.bulk_create(
        [Statement(**dict(zip(COPY_COLUMNS, row, strict=True))) for row in rows]
    )


_STATEMENT_ID = COPY_COLUMNS.index("statement_id")
_STORED = COPY_COLUMNS.index("stored")


def copy_rows(rows: Sequence[tuple[Any, ...]]) -> None:
    """COPY rows (in COPY_COLUMNS order) into lrs_statement on PostgreSQL, and their
    (statement_id, stored) into lrs_statement_id, whose primary key keeps statement ids unique
    across the monthly partitions (a repeated id raises IntegrityError). seq and xid come from
    their defaults. Call inside a transaction. Also used by bench/copy_baseline.py as the
    raw-COPY yardstick."""
    # wrap_database_errors: a repeated id raises Django's IntegrityError, as an ORM insert would.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        raw = cursor.cursor
        with raw.copy("COPY lrs_statement_id (statement_id, stored) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((row[_STATEMENT_ID], row[_STORED]))
        with raw.copy(f"COPY lrs_statement ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _store_attachments(
    platform_id: int, parts: Mapping[str, AttachmentPart], now: datetime
) -> None:
    have = set(
        Attachment.objects.filter(platform_id=platform_id, sha2__in=list(parts)).values_list(
            "sha2", flat=True
        )
    )
    Attachment.objects.bulk_create(
        [
            Attachment(
                platform_id=platform_id,
                sha2=sha2,
                content_type=part.content_type,
                content=part.content,
                created_at=now,
            )
            for sha2, part in parts.items()
            if sha2 not in have
        ]
    )
