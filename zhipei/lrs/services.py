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
import secrets
import string
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from psycopg import postgres
from psycopg.adapt import Dumper, PyFormat, Transformer
from psycopg.errors import error_from_result
from psycopg.pq import ExecStatus, Format

from zhipei.catalog.models import Course, Lesson
from zhipei.core.errors import Conflict
from zhipei.lrs import evidence
from zhipei.lrs.formats import XapiInvalid, compact_json, has_digit_run
from zhipei.lrs.models import Attachment, Statement
from zhipei.lrs.native import ingest
from zhipei.lrs.queries import OTHER_OPEN_TRANSACTIONS, rows_by_id, to_milliseconds
from zhipei.lrs.validation import (
    MAX_JSON_DEPTH,
    SIGNATURE_USAGE,
    Prepared,
    _iso,
    actor_key_from_json,
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
    "evidence",
)
# COPY in the binary format: PostgreSQL reads each value as it is stored instead of parsing
# its text (a timestamp, a UUID, the payload's escapes), which took about half its CPU per
# row, and psycopg writes it for less too (bench/README.md, ninth session). Binary COPY needs
# each column's exact type; test_store_postgresql checks these against the table.
COPY_TYPES = {
    "seq": "int8",
    "statement_id": "uuid",
    "platform_id": "int8",
    "person_id": "int8",
    "course_id": "int8",
    "actor_ifi": "varchar",
    "object_agent_ifi": "varchar",
    "verb_id": "varchar",
    "activity_id": "varchar",
    "object_statement_id": "uuid",
    "registration": "uuid",
    "timestamp": "timestamptz",
    "stored": "timestamptz",
    "duration_seconds": "float8",
    "voided": "bool",
    "is_voiding": "bool",
    "related_activities": "text",
    "related_agents": "text",
    "member_agents": "text",
    "payload": "text",
    "has_attachments": "bool",
    "evidence": "text",
}
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


@dataclass(frozen=True)
class StoredBatch:
    """What store_batch did: the statement ids in order, and on PostgreSQL the
    X-Experience-API-Consistent-Through instant computed inside the writing transaction
    (None on SQLite, where queries.consistent_through answers)."""

    ids: list[str]
    consistent_through: datetime | None = None


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
    See store_batch."""
    return store_batch(
        credential=credential,
        statements=statements,
        version=version,
        statement_id=statement_id,
        attachments=attachments,
        path_prefix=path_prefix,
    ).ids


def store_batch(
    *,
    credential: PlatformCredential,
    statements: Sequence[object],
    version: str,
    statement_id: str | None = None,
    attachments: Mapping[str, AttachmentPart] | None = None,
    path_prefix: str = "",
) -> StoredBatch:
    """Validate and store a batch, all or nothing.

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
    authority_key = actor_key_from_json(authority)
    # The request body's depth limit, less the batch's array (views._write leaves it to us).
    max_depth = MAX_JSON_DEPTH - 1 if path_prefix else MAX_JSON_DEPTH
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
            max_depth=max_depth,
            authority_key=authority_key,
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
        horizon = _store(credential, prepared, attachments)
    except IntegrityError:
        # A concurrent request stored one of these ids between our check and our insert:
        # run again, and the check now sees it (no-op or 409).
        horizon = _store(credential, prepared, attachments)
    return StoredBatch([item.statement_id for item in prepared], horizon)


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
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError) as exc:
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


def _stamp(prepared: list[Prepared], stored: datetime) -> None:
    """Write the transaction's `stored` (and `timestamp` where none was given) into every
    statement: now() is the transaction's start, which consistent-through relies on. Both
    to the millisecond, as written (the `timestamp` column equals the payload's)."""
    stored = to_milliseconds(stored)
    stored_text = _iso(stored)
    for item in prepared:
        item.data["stored"] = stored_text
        if not item.timestamp_was_given:
            item.data["timestamp"] = stored_text
            item.timestamp = stored


def _store(
    credential: PlatformCredential,
    prepared: list[Prepared],
    parts: Mapping[str, AttachmentPart] | None,
) -> datetime | None:
    if connection.vendor == "postgresql":
        return _store_postgresql(credential, prepared, parts)
    _store_sqlite(credential, prepared, parts)
    return None


def _store_sqlite(
    credential: PlatformCredential,
    prepared: list[Prepared],
    parts: Mapping[str, AttachmentPart] | None,
) -> None:
    platform_id = credential.platform_id
    with transaction.atomic():
        stored = timezone.now()
        _stamp(prepared, stored)
        new, already_voided = _skip_existing(platform_id, prepared)
        if not new:
            return
        targets = _check_voiding(platform_id, new)
        people = _people(platform_id, new)
        courses = _courses(platform_id, new)
        rows = statement_rows(platform_id, new, people, courses, already_voided)
        Statement.objects.bulk_create(
            [Statement(**dict(zip(COPY_COLUMNS, row, strict=True))) for row in rows]
        )
        _void(platform_id, targets)
        if parts:
            _store_attachments(platform_id, parts, stored)


def _void(platform_id: int, targets: set[str]) -> None:
    found = rows_by_id(targets, "seq", "stored", "platform", "is_voiding")
    voided = [
        (seq, stored)
        for seq, stored, owner, is_voiding in found
        if owner == platform_id and not is_voiding
    ]
    if voided:
        # By primary key alone (queries.rows_by_id says why); stored prunes the partitions.
        Statement.objects.filter(
            pk__in=[seq for seq, _stored in voided],
            stored__in={stored for _seq, stored in voided},
        ).update(voided=True)


# --- PostgreSQL: one round trip for one statement, two for a small batch, four for a large one
# 1. One simple query (several statements, one round trip): BEGIN; EXECUTE of the prepared
#    statement below, which inserts the ids into the id table, each with the seq its statement
#    will have (nextval of the statement sequence; ON CONFLICT DO NOTHING RETURNING: the ids
#    not returned are stored already — a concurrent writer of the same id is waited for, so
#    no race is left to retry) and returns now(), the consistent-through horizon, the seq of
#    each given id in order (NULL: stored already) and the stored voiding statements of this
#    platform that target the batch; then the pseudonym and course lookups when needed.
# 2. The statement rows: an EXECUTE of the prepared row insert per row and the COMMIT in one
#    simple query; a batch of COPY_FROM_ROWS or more is COPYed (two round trips) and then
#    committed (3.).
# Repeated ids (their stored bodies) and voiding statements (their targets) cost a query more.
# The first statement and the row insert are prepared once per connection (SQL PREPARE):
# planning them, with their look at every partition, costs PostgreSQL more than running them.
# They run on their generic plans: config/settings.py sets plan_cache_mode (and turns JIT
# off) for the session. Left to choose, PostgreSQL found a custom plan for the given ids
# cheaper than the generic one and planned the first statement afresh at every execution:
# 0.4 ms, most of its time for a one-statement request (bench/README.md, 2026-11-27). The
# voiding lookup reads the partial index of voiding targets and nothing else, the platform
# being checked above an OFFSET 0 fence: the generic plan otherwise ANDed it with the
# platform's index of statement refs, which grows with the platform's statements.
# Simple queries with client-side binding keep psycopg's per-query work (and Python time)
# small. The one-statement query (below) is the exception: its EXECUTE goes out through the
# extended protocol (_execute_prepared), its 28 parameters apart from the text, which spares
# quoting them into it (a tenth of a one-statement request's instructions, bench/README.md).
# The start of the oldest other transaction on this database (microseconds since the epoch),
# or NULL: the consistent-through horizon (queries.consistent_through explains it).
_HORIZON_SQL = (
    f"(SELECT (extract(epoch FROM min(xact_start)) * 1000000)::bigint {OTHER_OPEN_TRANSACTIONS})"  # noqa: S608
)
_FIRST_SQL = (
    "PREPARE lrs_store_first (uuid[], uuid[], bigint) AS "  # noqa: S608 - constants
    "WITH new_ids AS (INSERT INTO lrs_statement_id (statement_id, stored, seq) "
    "SELECT given, date_trunc('milliseconds', now()), nextval('lrs_statement_seq_seq') "
    "FROM unnest($1::uuid[]) AS given "
    "ON CONFLICT (statement_id) DO NOTHING RETURNING statement_id, seq) "
    "SELECT (extract(epoch FROM now()) * 1000000)::bigint, " + _HORIZON_SQL + ", "
    "ARRAY(SELECT n.seq FROM unnest($1::uuid[]) WITH ORDINALITY AS g (given, at) "
    "LEFT JOIN new_ids AS n ON n.statement_id = g.given ORDER BY g.at), "
    "ARRAY(SELECT object_statement_id::text FROM (SELECT object_statement_id, platform_id "
    "FROM lrs_statement WHERE is_voiding AND object_statement_id = ANY($2) OFFSET 0) AS v "
    "WHERE platform_id = $3)"
)
_EXECUTE_FIRST_SQL = "EXECUTE lrs_store_first (%s::uuid[], %s::uuid[], %s)"
# On PostgreSQL the rows are written with the seq the first statement took for them.
_PG_COLUMNS = ("seq", *COPY_COLUMNS)
_COLUMN_LIST = ", ".join(_PG_COLUMNS)  # constants: no user input reaches these SQL texts
# The row insert of a small request, prepared alongside (planning an INSERT into the
# partitioned table costs more than running it); the parameters take the columns' types.
_ROW_SQL = (
    f"PREPARE lrs_store_row AS INSERT INTO lrs_statement ({_COLUMN_LIST}) VALUES ("  # noqa: S608
    + ", ".join(f"${n}" for n in range(1, len(_PG_COLUMNS) + 1))
    + ")"
)
_EXECUTE_ROW_SQL = "EXECUTE lrs_store_row (" + ", ".join(["%s"] * len(_PG_COLUMNS)) + ")"
# A request of one statement (the most common: a platform reporting as it goes) takes one
# round trip: this statement, a transaction of its own in autocommit mode (no BEGIN and
# COMMIT to send; inside an atomic block, part of that transaction). It does in SQL what the
# two trips do between them: the id insert, the row insert (only when the id was new: a
# repeated id inserts nothing and is checked afterwards), the pseudonym and course lookups,
# whether a stored voiding statement of the platform targets the id, and the `stored` text in
# the payload, which the service serialises with a marker where `stored` (and a `timestamp`
# not given) goes and sends in the parts around it. Voiding statements and attachment parts
# take the two trips.
_ONE_SENT = tuple(c for c in COPY_COLUMNS if c not in {"person_id", "stored", "voided", "payload"})
_ONE_ARG = {column: f"${n}" for n, column in enumerate(_ONE_SENT, 1)}
# After the columns: the pseudonym and activity IRI to look up, whether the id was given, and
# the payload's parts.
_ONE_EXTRA_TYPES = ["text", "text", "bool", "text", "text", "text"]
_ONE_PSEUDONYM, _ONE_IRI, _ONE_GIVEN, _ONE_HEAD, _ONE_MIDDLE, _ONE_TAIL = (
    f"${len(_ONE_SENT) + n}" for n in range(1, len(_ONE_EXTRA_TYPES) + 1)
)
_ONE_ID, _ONE_PLATFORM = _ONE_ARG["statement_id"], _ONE_ARG["platform_id"]
_ONE_EXPRESSIONS = {
    **_ONE_ARG,
    "person_id": (
        "(SELECT person_id FROM people_platformpseudonym "  # noqa: S608 - constants
        f"WHERE platform_id = {_ONE_PLATFORM} AND pseudonym = {_ONE_PSEUDONYM})"
    ),
    # A known course (the cache), else the lookup: a lesson's course first, as _courses
    # keeps the last of its rows. Each activity IRI is unique: the OFFSET 0 fences keep the
    # generic plan on those indexes (not on the platform's courses, which grow).
    "course_id": (
        f"COALESCE({_ONE_ARG['course_id']}, (SELECT l.course_id FROM catalog_lesson AS l "  # noqa: S608
        f"WHERE l.activity_iri = {_ONE_IRI} AND (SELECT c.platform_id FROM catalog_course c "
        f"WHERE c.id = l.course_id) = {_ONE_PLATFORM}), "
        "(SELECT c.id FROM (SELECT id, platform_id FROM catalog_course "
        f"WHERE activity_iri = {_ONE_IRI} OFFSET 0) AS c WHERE c.platform_id = {_ONE_PLATFORM}))"
    ),
    "timestamp": f"COALESCE({_ONE_ARG['timestamp']}, n.stored)",
    "stored": "n.stored",
    "voided": (
        f"{_ONE_GIVEN} AND EXISTS (SELECT 1 FROM (SELECT platform_id FROM lrs_statement "  # noqa: S608
        f"WHERE is_voiding AND object_statement_id = {_ONE_ID} OFFSET 0) AS v "
        f"WHERE platform_id = {_ONE_PLATFORM})"
    ),
    # The payload's parts around `stored` and a `timestamp` the LRS sets (the tail NULL
    # when the statement has its own), joined by `stored` in _iso's form: UTC, milliseconds.
    "payload": (
        f"{_ONE_HEAD} || n.stored_json || {_ONE_MIDDLE} "
        f"|| CASE WHEN {_ONE_TAIL} IS NULL THEN '' ELSE n.stored_json || {_ONE_TAIL} END"
    ),
}
_ONE_INDEXES = [COPY_COLUMNS.index(column) for column in _ONE_SENT]
_ONE_TIMESTAMP = _ONE_SENT.index("timestamp")
_ONE_SQL = (
    "PREPARE lrs_store_one ("  # noqa: S608 - constants: no user input reaches these SQL texts
    + ", ".join([COPY_TYPES[column] for column in _ONE_SENT] + _ONE_EXTRA_TYPES)
    + ") AS WITH new_id AS (INSERT INTO lrs_statement_id (statement_id, stored, seq) "
    f"SELECT {_ONE_ID}, date_trunc('milliseconds', now()), nextval('lrs_statement_seq_seq') "
    "ON CONFLICT (statement_id) DO NOTHING RETURNING seq, stored), "
    f"new_row AS (INSERT INTO lrs_statement ({_COLUMN_LIST}) "
    "SELECT n.seq, "
    + ", ".join(_ONE_EXPRESSIONS[column] for column in COPY_COLUMNS)
    + " FROM (SELECT seq, stored, '\"' || to_char(stored AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"\') || \'"\' AS stored_json FROM new_id) AS n '
    "RETURNING course_id) "
    "SELECT (extract(epoch FROM now()) * 1000000)::bigint, "
    + _HORIZON_SQL
    + ", (SELECT seq FROM new_id), (SELECT course_id FROM new_row)"
)
# A marker no statement holds: letters only, so no digit run for the ID-number scan.
_STORED_MARK = "zhipei-stored-" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(24))
_STORED_MARK_JSON = f'"{_STORED_MARK}"'
# From this many rows on, COPY (2 round trips, cheapest per row); below, the prepared insert.
COPY_FROM_ROWS = 8
# The psycopg connections on which the statements are prepared (per session, with the
# monotonic time they were), and those on which one of them was found gone (DISCARD ALL or
# DEALLOCATE: which one is looked up).
_prepared_on: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
_lost_on: weakref.WeakSet[Any] = weakref.WeakSet()
# How long a connection keeps its plans. A generic plan (docs/decisions/0008) is made from the
# partitions' sizes at its first execution and then kept: made while a partition was empty
# (a new month's, or a new database's), it reads that partition's part of the voiding lookup
# by a sequential scan, which grows with every statement stored there. An ANALYZE replans it,
# but without autovacuum none comes; preparing again after this many seconds bounds it.
PLAN_SECONDS = 5.0
_PREPARED = {
    "lrs_store_first": _FIRST_SQL,
    "lrs_store_row": _ROW_SQL,
    "lrs_store_one": _ONE_SQL,
}


@dataclass
class _FirstTrip:
    stored: datetime
    consistent_through: datetime
    seqs: dict[str, int]  # the seq of each new id; an id without one was stored already
    voided: set[str]
    people: dict[str, int]
    courses: dict[str, int]


def _prepare_statements() -> None:
    raw = connection.connection
    prepared_at = _prepared_on.get(raw)
    now = time.monotonic()
    if prepared_at is not None and now - prepared_at < PLAN_SECONDS:
        return
    names = list(_PREPARED)
    with connection.cursor() as cursor:
        if prepared_at is not None:
            # Due again: both exist (one found gone would have taken the connection out of
            # _prepared_on, and a DEALLOCATE of a lost one fails as an EXECUTE would: 26000).
            sql = [f"DEALLOCATE {name}" for name in names] + [_PREPARED[n] for n in names]
        else:
            if raw in _lost_on:  # which one is gone
                cursor.execute(
                    "SELECT name FROM pg_prepared_statements WHERE name = ANY(%s)", [names]
                )
                kept = {name for (name,) in cursor.fetchall()}
                names = [name for name in names if name not in kept]
            sql = [_PREPARED[name] for name in names]
        if sql:
            cursor.execute("; ".join(sql))
    _prepared_on[raw] = now
    _lost_on.discard(raw)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_epoch_us(microseconds: int) -> datetime:
    # The first statement returns its instants as microseconds since the epoch: an integer
    # loads in a fraction of the time psycopg and Django take over a timestamptz.
    return _EPOCH + timedelta(microseconds=microseconds)


def _horizon(now_us: int, oldest_us: int | None) -> datetime:
    """Consistent-through from the first query's now() and the start of the oldest other
    transaction (None: no other), to the millisecond, as `stored` is written."""
    return to_milliseconds(_from_epoch_us(now_us if oldest_us is None else min(oldest_us, now_us)))


def _first_trip(platform_id: int, prepared: list[Prepared], *, begin: bool) -> _FirstTrip:
    """Round trip 1 (see above). With `begin`, this query also opens the transaction."""
    # Array literals ('{…,…}', cast by the query): the ids are canonical UUID texts already
    # (validated or generated), and one string is far cheaper to bind than a list of UUIDs.
    ids = "{" + ",".join([item.statement_id for item in prepared]) + "}"
    given = "{" + ",".join([item.statement_id for item in prepared if item.id_was_given]) + "}"
    people_query = _people_query(platform_id, prepared)
    courses_found, courses_missing, courses_query = _courses_query(platform_id, prepared)
    connection.ensure_connection()
    _prepare_statements()
    parts = ["BEGIN"] if begin else []
    parts.append(_EXECUTE_FIRST_SQL)
    params: list[Any] = [ids, given, platform_id]
    for query in (people_query, courses_query):
        if query is not None:
            parts.append(query[0])
            params.extend(query[1])
    with connection.cursor() as cursor:
        cursor.execute("; ".join(parts), params)
        if begin:
            cursor.nextset()
        row = cursor.fetchone()
        assert row is not None
        now_us, oldest_us, seq_list, targeted = row
        people: dict[str, int] = {}
        looked_up: dict[str, int] = {}
        if people_query is not None:
            cursor.nextset()
            people = dict(cursor.fetchall())
        if courses_query is not None:
            cursor.nextset()
            looked_up = dict(cursor.fetchall())
    seqs = {
        item.statement_id: seq
        for item, seq in zip(prepared, seq_list, strict=True)
        if seq is not None
    }
    return _FirstTrip(
        stored=_from_epoch_us(now_us),
        consistent_through=_horizon(now_us, oldest_us),
        seqs=seqs,
        voided=set(targeted),
        people=people,
        courses=_remember_courses(platform_id, courses_found, courses_missing, looked_up),
    )


def _store_postgresql(
    credential: PlatformCredential,
    prepared: list[Prepared],
    parts: Mapping[str, AttachmentPart] | None,
) -> datetime:
    """Returns consistent-through, taken at the start of this transaction: every statement
    stored before it was written by a transaction that has ended (queries.consistent_through
    explains why), and this batch's own `stored` is not earlier than it.

    Outside any atomic block (a request), the transaction is driven here: BEGIN goes into
    the first query and COMMIT into the query of the rows, which saves the two round trips
    psycopg spends on BEGIN and on COMMIT; Django is in autocommit mode meanwhile and
    nothing else runs on the connection. Any exception rolls back. Inside an atomic block
    (a caller's transaction, TestCase), and with attachments (their ORM insert opens its own
    atomic block), Django's atomic drives it as usual."""
    if connection.in_atomic_block or parts:
        try:
            with transaction.atomic():
                return _write_postgresql(credential, prepared, parts, own_transaction=False)
        except ProgrammingError as exc:
            _forget_lost_prepared(exc)  # the caller's transaction is lost: the next call works
            raise
    connection.ensure_connection()
    for attempt in (1, 2):
        try:
            return _write_postgresql(credential, prepared, parts, own_transaction=True)
        except BaseException as exc:
            with connection.wrap_database_errors:
                connection.connection.rollback()
            if attempt == 1 and isinstance(exc, ProgrammingError) and _forget_lost_prepared(exc):
                continue  # prepare again and redo the whole transaction, once
            raise
    raise AssertionError("unreachable")


def _forget_lost_prepared(exc: ProgrammingError) -> bool:
    """True (and the connection marked unprepared) when `exc` says a prepared statement no
    longer exists on the session (someone ran DISCARD ALL or DEALLOCATE)."""
    if getattr(exc.__cause__, "sqlstate", None) != "26000":  # invalid_sql_statement_name
        return False
    if connection.connection is not None:
        _prepared_on.pop(connection.connection, None)
        _lost_on.add(connection.connection)
    return True


def _write_postgresql(
    credential: PlatformCredential,
    prepared: list[Prepared],
    parts: Mapping[str, AttachmentPart] | None,
    *,
    own_transaction: bool,
) -> datetime:
    platform_id = credential.platform_id
    if len(prepared) == 1 and not parts and not prepared[0].is_voiding:
        return _write_one(platform_id, prepared[0])
    first = _first_trip(platform_id, prepared, begin=own_transaction)
    _stamp(prepared, first.stored)
    seqs = first.seqs
    _check_repeats(platform_id, [item for item in prepared if item.statement_id not in seqs])
    new = [item for item in prepared if item.statement_id in seqs]
    targets = _check_voiding(platform_id, new) if new else set()
    rows = [
        (seqs[row[0]], *row)
        for row in statement_rows(platform_id, new, first.people, first.courses, first.voided)
    ]
    commit_now = own_transaction and not targets
    if len(rows) >= COPY_FROM_ROWS:
        _copy(_STATEMENTS_TARGET, rows, types=_COPY_STATEMENT_TYPES)
        commit_now = False
    elif rows:
        sql = "; ".join([_EXECUTE_ROW_SQL] * len(rows)) + ("; COMMIT" if commit_now else "")
        with connection.cursor() as cursor:
            cursor.execute(sql, [v for r in rows for v in r])
    else:
        commit_now = False
    _void(platform_id, targets)
    if parts:
        _store_attachments(platform_id, parts, first.stored)
    if own_transaction and not commit_now:
        with connection.cursor() as cursor:
            cursor.execute("COMMIT")
    return first.consistent_through


def _write_one(platform_id: int, item: Prepared) -> datetime:
    """One statement in one round trip (_ONE_SQL); returns consistent-through."""
    data = item.data
    before = {key: data[key] for key in ("stored", "timestamp") if key in data}
    data["stored"] = _STORED_MARK
    if not item.timestamp_was_given:
        data["timestamp"] = _STORED_MARK
    try:
        return _write_marked_one(platform_id, item)
    except BaseException:
        data.update(before)  # the marker out of the statement, whatever went wrong
        raise


def _write_marked_one(platform_id: int, item: Prepared) -> datetime:
    (payload,) = _checked_payloads([item])
    payload_parts = payload.decode("utf-8").split(_STORED_MARK_JSON)
    # Around `stored`, and `timestamp` when the LRS sets it (no statement holds the marker).
    assert len(payload_parts) == (2 if item.timestamp_was_given else 3)
    if item.timestamp_was_given:
        payload_parts.append(None)  # type: ignore[arg-type] # the tail: NULL
    iri = item.extracted.activity_id
    found, missing, _sql = _courses_query(platform_id, [item])
    row = _row(
        platform_id,
        item,
        payload=None,
        person=None,
        course=found.get(iri),
        voided=False,
        stored_at=None,
        site_url=settings.SITE_URL,
    )
    params = [row[index] for index in _ONE_INDEXES]
    if not item.timestamp_was_given:
        params[_ONE_TIMESTAMP] = None  # the transaction's, in SQL
    names = _learner_names(platform_id, [item])
    params += [names.pop() if names else None, iri if missing else None, item.id_was_given]
    params += payload_parts
    connection.ensure_connection()
    _prepare_statements()
    # Outside an atomic block the connection is in autocommit mode: the one statement is a
    # transaction of its own, committed (durably) before the answer comes back.
    now_us, oldest_us, seq, course = _execute_prepared("lrs_store_one", params)
    _stamp([item], _from_epoch_us(now_us))  # the marker out: the statement as stored
    if seq is None:  # the id was stored already: nothing was written
        _check_repeats(platform_id, [item])
    elif missing:
        _remember_courses(platform_id, found, missing, {} if course is None else {iri: course})
    return _horizon(now_us, oldest_us)


def _execute_prepared(name: str, params: Sequence[Any]) -> tuple[Any, ...]:
    """The one row of an EXECUTE of `name` (prepared on the session), its parameters sent
    apart from the statement (the extended protocol: PostgreSQL reads them as the types the
    PREPARE gave, nothing is quoted into a query text)."""
    conn = connection.connection
    started = time.monotonic()
    transformer = Transformer(conn)
    try:
        with connection.wrap_database_errors:  # psycopg's errors, dumping included: Django's
            values = transformer.dump_sequence(params, [PyFormat.TEXT] * len(params))
            result = conn.pgconn.exec_prepared(name.encode(), values)
            if result.status != ExecStatus.TUPLES_OK:
                raise error_from_result(result, encoding=conn.info.encoding)
    finally:  # logged as Django's debug cursor logs a query, failed or not
        if connection.queries_logged:
            connection.queries_log.append(
                {"sql": f"EXECUTE {name} (…)", "time": f"{time.monotonic() - started:.3f}"}
            )
    transformer.set_pgresult(result)
    row = transformer.load_row(0, tuple)
    assert row is not None
    return row


def _check_repeats(platform_id: int, repeated: list[Prepared]) -> None:
    """The statements whose id the id table held already: each must be a repeat (a no-op),
    else StatementConflict. One read of their stored bodies, through the id table."""
    if not repeated:
        return
    existing = {
        str(found): (owner, payload)
        for found, owner, payload in rows_by_id(
            [item.statement_id for item in repeated], "statement_id", "platform", "payload"
        )
    }
    for item in repeated:
        _check_repeat(platform_id, item, *existing.get(item.statement_id, (None, None)))


def _check_repeat(platform_id: int, item: Prepared, owner: int | None, payload: str | None) -> None:
    """A statement whose id is stored already (by `owner`, as `payload`) is a no-op when this
    platform stored an equivalent body (Communication §2.1.1), else a StatementConflict."""
    ignore = not item.timestamp_was_given
    if (
        owner != platform_id
        or payload is None
        or comparable(json.loads(payload), ignore_timestamp=ignore)
        != comparable(item.data, ignore_timestamp=ignore)
    ):
        raise StatementConflict(field=item.statement_id)


def _skip_existing(platform_id: int, prepared: list[Prepared]) -> tuple[list[Prepared], set[str]]:
    """SQLite: the statements not stored yet, and the ids among them that a stored voiding
    statement of this platform already targets (the target may arrive after its voiding
    statement). One query for both: a repeated id with an equivalent body is dropped (no-op);
    with a different body, or stored by another platform, it is a StatementConflict.
    (PostgreSQL does the same in _first_trip and _check_repeats.)"""
    given = [uuid.UUID(item.statement_id) for item in prepared if item.id_was_given]
    if not given:
        return prepared, set()
    existing: dict[str, tuple[int, str]] = {}
    voided: set[str] = set()
    wanted = {str(statement_id) for statement_id in given}
    rows = Statement.objects.filter(
        Q(statement_id__in=given) | Q(is_voiding=True, object_statement_id__in=given)
    ).values_list("statement_id", "platform_id", "payload", "is_voiding", "object_statement_id")
    for statement_id, owner, payload, is_voiding, target in rows:
        if str(statement_id) in wanted:
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
        _check_repeat(platform_id, item, *found)
    return new, voided


def _check_voiding(platform_id: int, new: list[Prepared]) -> set[str]:
    targets = {item.voided_target for item in new if item.voided_target}
    if not targets:
        return set()
    batch_voiding = {item.statement_id for item in new if item.is_voiding}
    stored_voiding = {
        found
        for found, owner, is_voiding in rows_by_id(
            targets, "statement_id", "platform", "is_voiding"
        )
        if owner == platform_id and is_voiding
    }
    for item in new:
        target = item.voided_target
        if target and (target in batch_voiding or uuid.UUID(target) in stored_voiding):
            raise XapiInvalid(
                f"{item.path}.object.id" if item.path else "object.id",
                _("a voiding statement cannot itself be voided"),
            )
    return {t for t in targets if t is not None}


def _learner_names(platform_id: int, new: list[Prepared]) -> set[str]:
    home = learners_home_page()
    return {
        item.extracted.account_name
        for item in new
        if item.extracted.account_home_page == home and item.extracted.account_name
    }


def _people(platform_id: int, new: list[Prepared]) -> dict[str, int]:
    names = _learner_names(platform_id, new)
    if not names:
        return {}
    return dict(
        PlatformPseudonym.objects.filter(platform_id=platform_id, pseudonym__in=names).values_list(
            "pseudonym", "person_id"
        )
    )


# PostgreSQL's two lookups of the first query (pseudonym → person; activity IRI → course,
# directly or through a lesson), fixed texts with an array parameter. Compiled through the
# ORM they cost about 0.25 ms per request, and `IN (%s, …)` made a new text, parsed afresh,
# for every count of names.
_PEOPLE_SQL = (
    "SELECT pseudonym, person_id FROM people_platformpseudonym "
    "WHERE platform_id = %s AND pseudonym = ANY(%s)"
)
_COURSES_SQL = (
    "SELECT activity_iri, id FROM catalog_course "
    "WHERE platform_id = %s AND activity_iri = ANY(%s) "
    "UNION ALL SELECT l.activity_iri, l.course_id FROM catalog_lesson l "
    "JOIN catalog_course c ON c.id = l.course_id "
    "WHERE c.platform_id = %s AND l.activity_iri = ANY(%s)"
)


def _people_query(platform_id: int, new: list[Prepared]) -> tuple[str, tuple[Any, ...]] | None:
    """_people's query on PostgreSQL, to ride in the first query; None when no actor is a
    pseudonym."""
    names = _learner_names(platform_id, new)
    if not names:
        return None
    return _PEOPLE_SQL, (platform_id, sorted(names))


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
    found, missing, query = _courses_query(platform_id, new)
    if query is None:
        return found
    with connection.cursor() as cursor:
        cursor.execute(*query)
        looked_up = dict(cursor.fetchall())
    return _remember_courses(platform_id, found, missing, looked_up)


def _courses_query(
    platform_id: int, new: list[Prepared]
) -> tuple[dict[str, int], set[str], tuple[str, tuple[Any, ...]] | None]:
    """(courses known from the cache, IRIs to look up, the SQL to look them up or None)."""
    iris = {item.extracted.activity_id for item in new if item.extracted.activity_id}
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
        return found, missing, None
    if connection.vendor == "postgresql":
        iris_list = sorted(missing)
        return found, missing, (_COURSES_SQL, (platform_id, iris_list, platform_id, iris_list))
    # One query: the IRI is a course's own activity or one of its lessons'.
    courses = Course.objects.filter(platform_id=platform_id, activity_iri__in=missing).values_list(
        "activity_iri", "pk"
    )
    lessons = Lesson.objects.filter(
        course__platform_id=platform_id, activity_iri__in=missing
    ).values_list("activity_iri", "course_id")
    # order_by() clears the models' default ordering: SQLite refuses it inside a UNION.
    union = courses.order_by().union(lessons.order_by(), all=True)
    return found, missing, union.query.sql_with_params()


def _remember_courses(
    platform_id: int, found: dict[str, int], missing: set[str], looked_up: dict[str, int]
) -> dict[str, int]:
    ttl = float(getattr(settings, "XAPI_COURSE_CACHE_SECONDS", COURSE_CACHE_SECONDS))
    if len(_course_cache) > _COURSE_CACHE_MAX:
        _course_cache.clear()
    now = time.monotonic()
    for iri in missing:
        if ttl > 0:
            _course_cache[(platform_id, iri)] = (now + ttl, looked_up.get(iri))
    return {**found, **looked_up}


def python_joined(values: list[str]) -> str:
    """The values, each once and in order, each followed by a newline and the first also
    preceded by one ("" for none): a column in which a LIKE finds a whole value."""
    if len(values) == 1:  # most statements: one agent, or one related activity
        return f"\n{values[0]}\n" if values[0] else ""
    if not values:  # most statements: no group members
        return ""
    unique = [value for value in dict.fromkeys(values) if value]
    return "\n" + "\n".join(unique) + "\n" if unique else ""


_joined: Callable[[list[str]], str] = python_joined if ingest is None else ingest.joined


def statement_rows(
    platform_id: int,
    items: Sequence[Prepared],
    people: Mapping[str, int],
    courses: Mapping[str, int],
    voided: Iterable[str] = (),
) -> list[tuple[Any, ...]]:
    """The lrs_statement rows (COPY_COLUMNS order) of validated, stamped statements: person
    and course from the lookups (`people` by the pseudonyms of actors that are learner
    accounts), `voided` the ids a stored voiding statement targets.
    Raises XapiInvalid when a statement holds a resident ID number (refuse_id_numbers).

    Per batch, not per statement: what all the statements share (their `stored`, the site's
    IRIs) is read once, and the ID-number scan runs once over all the payloads, and again per
    statement only when it finds a candidate."""
    payloads = _checked_payloads(items)
    voided_ids = set(voided)
    site_url = settings.SITE_URL
    home = learners_home_page() if people else None
    stored_text = ""
    stored_at: datetime | None = None
    rows = []
    for item, payload in zip(items, payloads, strict=True):
        extracted = item.extracted
        if item.data["stored"] != stored_text:  # the same for a whole batch
            stored_text = item.data["stored"]
            stored_at = _parse_stored(stored_text)
        rows.append(
            _row(
                platform_id,
                item,
                payload=payload.decode("utf-8"),
                person=people.get(extracted.account_name)
                if extracted.account_home_page == home
                else None,
                course=courses.get(extracted.activity_id),
                voided=not item.is_voiding and item.statement_id in voided_ids,
                stored_at=stored_at,
                site_url=site_url,
            )
        )
    return rows


def _checked_payloads(items: Sequence[Prepared]) -> list[bytes]:
    """The statements as stored (payload_bytes); XapiInvalid when one holds a resident ID
    number. The scan runs once over all of them, and per statement only on a candidate."""
    payloads = [payload_bytes(item) for item in items]
    if _may_hold_id_number(b"\n".join(payloads)):
        for item, payload in zip(items, payloads, strict=True):
            refuse_id_numbers(item, payload)
    return payloads


def _row(
    platform_id: int,
    item: Prepared,
    *,
    payload: str | None,
    person: int | None,
    course: int | None,
    voided: bool,
    stored_at: datetime | None,
    site_url: str,
) -> tuple[Any, ...]:
    """One lrs_statement row, in COPY_COLUMNS order."""
    extracted = item.extracted
    return (
        item.statement_id,
        platform_id,
        person,
        course,
        extracted.actor_ifi[:600],
        extracted.object_agent_ifi[:600],
        extracted.verb_id[:500],
        extracted.activity_id[:500],
        extracted.object_statement_id,
        extracted.registration,
        item.timestamp,
        stored_at,
        extracted.duration_seconds,
        voided,
        item.is_voiding,
        _joined(extracted.activities),
        _joined(extracted.agents),
        _joined(extracted.members),
        payload,
        bool(item.attachments),
        evidence.for_statement(
            item.data,
            verb_id=extracted.verb_id,
            lesson=extracted.activity_id[:500],
            site_url=site_url,
        ),
    )


# A resident ID number (GB 11643: area, birth date 19xx/20xx, sequence, check character)
# anywhere in a statement. Candidates are confirmed by the check character, so other long
# numbers rarely trip it (ARCHITECTURE invariant 2: no ID number in xAPI statements).
_ID_NUMBER_RE = re.compile(
    r"(?<![0-9A-Za-z])([1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3})([0-9Xx])(?![0-9A-Za-z])"
)


def _may_hold_id_number(text: str | bytes) -> bool:
    # Every resident ID number has 17 digits in a row before its check character.
    return has_digit_run(text, 17)


def _holds_id_number(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
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


def refuse_id_numbers(item: Prepared, payload: str | bytes) -> None:
    """Raise XapiInvalid (naming the JSON path, never the number) when the statement holds
    something that is a valid resident ID number. `payload` is the statement as stored."""
    if _may_hold_id_number(payload) and _holds_id_number(payload):
        where = _id_number_path(item.data, item.path) or item.path
        raise XapiInvalid(
            where,
            _(
                "must not contain a resident ID number: report learners by the pseudonym "
                "from POST /api/v1/learners"
            ),
        )


def payload_bytes(item: Prepared) -> bytes:
    """The statement as stored (formats.compact_json), in UTF-8. A string with a lone
    surrogate is not text: XapiInvalid."""
    try:
        return compact_json(item.data)
    except UnicodeEncodeError as exc:
        raise XapiInvalid(
            item.path, _("contains a string that is not valid Unicode (a lone surrogate)")
        ) from exc


def _parse_stored(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


_STATEMENT_ID = COPY_COLUMNS.index("statement_id")
_STORED = COPY_COLUMNS.index("stored")
_STATEMENTS_TARGET = f"lrs_statement ({_COLUMN_LIST})"
_COPY_STATEMENT_TYPES = [COPY_TYPES[column] for column in _PG_COLUMNS]
_ID_COLUMNS = ("statement_id", "stored", "seq")
_IDS_TARGET = f"lrs_statement_id ({', '.join(_ID_COLUMNS)})"
_COPY_ID_TYPES = [COPY_TYPES[column] for column in _ID_COLUMNS]


def python_uuid_bytes(text: str) -> bytes:
    """A UUID's 16 bytes from its canonical text."""
    return bytes.fromhex(text.replace("-", ""))


_uuid_bytes: Callable[[str], bytes] = python_uuid_bytes if ingest is None else ingest.uuid_bytes


class _UuidTextBinaryDumper(Dumper):
    """A UUID given as text (the store keeps ids as canonical strings, validated), in the
    binary format: its 16 bytes. Cheaper than making uuid.UUID objects to dump."""

    format = Format.BINARY
    oid = postgres.types["uuid"].oid
    dump = staticmethod(_uuid_bytes)  # type: ignore[assignment]


def _copy(target: str, rows: Iterable[Sequence[Any]], *, types: list[str] | None) -> None:
    """COPY `rows` into `target` (a table and its columns; constants, no user input): in the
    binary format with the column `types`, or (None) in the text format. The binary rows are
    written by the C module in one buffer where it was built (decision 0012), else by
    psycopg row by row: the same bytes."""
    sql = f"COPY {target} FROM STDIN" + ("" if types is None else " (FORMAT BINARY)")
    # wrap_database_errors: a repeated id raises Django's IntegrityError, as an ORM insert would.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if types is not None and ingest is not None:
            data = ingest.copy_binary(rows, "".join(_COPY_CODES[name] for name in types))
            with cursor.cursor.copy(sql) as copy:
                copy.write(data)
            return
        if types is not None:
            cursor.cursor.adapters.register_dumper(None, _UuidTextBinaryDumper)
        with cursor.cursor.copy(sql) as copy:
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)


# The C module's code for each COPY type (zhipei/lrs/_ingest.c, put_value).
_COPY_CODES = {
    "int8": "q",
    "uuid": "u",
    "varchar": "t",
    "text": "t",
    "timestamptz": "T",
    "float8": "d",
    "bool": "b",
}


def copy_rows(rows: Sequence[tuple[Any, ...]], *, text: bool = False) -> None:
    """COPY rows (in COPY_COLUMNS order) into lrs_statement on PostgreSQL, and their
    (statement_id, stored, seq) into lrs_statement_id, whose primary key keeps statement ids
    unique across the monthly partitions (a repeated id raises IntegrityError). seq is taken
    from the statement sequence first, one query for all the rows; xid comes from its
    default. Call inside a transaction. The raw-COPY yardstick of bench/copy_baseline.py and
    the filler of bench/fill_statements.py: the same rows into the same tables as store_batch,
    which writes the id table with INSERT … ON CONFLICT instead (it needs to know which ids
    were new) and the statements with the same COPY. `text` COPYs in the text format instead
    of the binary one (the yardstick in both)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval('lrs_statement_seq_seq') FROM generate_series(1, %s)", [len(rows)]
        )
        seqs = [seq for (seq,) in cursor.fetchall()]
    _copy(
        _IDS_TARGET,
        ((row[_STATEMENT_ID], row[_STORED], seq) for row, seq in zip(rows, seqs, strict=True)),
        types=None if text else _COPY_ID_TYPES,
    )
    _copy(
        _STATEMENTS_TARGET,
        ((seq, *row) for row, seq in zip(rows, seqs, strict=True)),
        types=None if text else _COPY_STATEMENT_TYPES,
    )


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
