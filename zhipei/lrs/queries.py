"""Reads from the statement store: the commit-safe watermark for incremental readers
(crediting), consistent-through for GET /xapi/statements, and the statement queries. Platform
reads always filter by the calling platform; officer reads go through scope_to_regions."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from django.db import connection, transaction
from django.db.models import BooleanField, Field, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from zhipei.accounts.models import User
from zhipei.accounts.scope import scope_to_regions
from zhipei.lrs.evidence import SESSION_VERBS
from zhipei.lrs.models import Attachment, Statement

# On PostgreSQL every row carries the id of the transaction that inserted it (migration
# 0002). Reading in (xid, seq) order and only below a horizon H such that every transaction
# of this database with an id below H has finished, and is visible to the reading query if
# it committed, never skips a row that commits late. Sequence order alone would: a
# transaction that took seq 9 and commits after the one that took seq 10 would be passed
# over by a reader that had already moved its cursor to 10.
#
# The snapshot's xmin is such a horizon, but it is the whole server's: a transaction left
# open in any other database on the same PostgreSQL would hold crediting back for as long
# as it stays open. _HORIZON_SQL is this database's: the least of
# - the snapshot's xmax (every id from there on had not started when the snapshot was taken),
# - the reader's own transaction id, when it has one (the snapshot's list of running ids
#   leaves it out; xmin counts it), and
# - the ids the snapshot lists as running, less those that pg_stat_activity shows as the
#   transaction of a session connected to another database. A transaction belongs to one
#   session and a session to one database for life, and no session writes into another
#   database's tables, so those cannot add rows here. An id pg_stat_activity does not show
#   (it ended after the snapshot was taken, or it is a prepared transaction) counts: it may
#   be this database's, so the horizon stays at or below it, late but never wrong.
# It runs in the reading query, as one init plan, so that it describes that query's snapshot.
# It calls pg_stat_get_activity, the function under the pg_stat_activity view, directly:
# planning the view (its joins to pg_database and pg_authid) cost 2 ms per read, more than
# reading 5,000 statement heads. A session not connected to a database has no datid (NULL),
# so its transaction counts.
_HORIZON_SQL = (
    "(SELECT least(pg_snapshot_xmax(snap.s)::text::bigint, "
    "pg_current_xact_id_if_assigned()::text::bigint, "
    "(SELECT min(running::text::bigint) FROM pg_snapshot_xip(snap.s) AS running "
    "WHERE NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) AS a "
    "WHERE a.backend_xid = running::xid AND a.datid <> "
    "(SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())))) "
    "FROM (SELECT pg_current_snapshot() AS s) AS snap)"
)


@dataclass(frozen=True, order=True)
class Watermark:
    """A reader's position in the store: (xid, seq) of the last row it has read. On SQLite
    `xid` is always 0: writers are serialised there (IMMEDIATE transactions take the write
    lock at BEGIN), so sequence order is commit order."""

    xid: int = 0
    seq: int = 0

    def encode(self) -> str:
        return f"{self.xid}.{self.seq}"

    @classmethod
    def decode(cls, text: str) -> Watermark:
        """Raises ValueError on anything but "<xid>.<seq>" with non-negative integers."""
        xid_text, _sep, seq_text = text.partition(".")
        xid, seq = int(xid_text), int(seq_text)
        if xid < 0 or seq < 0:
            raise ValueError(text)
        return cls(xid, seq)


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


# On PostgreSQL a statement is found by id through the id table (migration 0008): its
# (seq, stored) is the partition's primary key, and the partitions keep no index of statement
# ids. Both ARRAY subqueries are init plans, run once before the partitions are scanned.
BY_IDS_SQL = (
    '"lrs_statement"."seq" = ANY(ARRAY('
    "SELECT seq FROM lrs_statement_id WHERE statement_id = ANY(%s::uuid[]))) "
    'AND "lrs_statement"."stored" = ANY(ARRAY('
    "SELECT stored FROM lrs_statement_id WHERE statement_id = ANY(%s::uuid[])))"
)


def _uuids(ids: Iterable[str | UUID]) -> list[UUID]:
    return [value if isinstance(value, UUID) else UUID(value) for value in ids]


def _column(name: str) -> str:
    field = Statement._meta.get_field(name)
    assert isinstance(field, Field)
    return field.column


def rows_by_id(ids: Iterable[str | UUID], *fields: str) -> list[tuple[Any, ...]]:
    """`fields` (Statement field names) of the statements with these ids, in no order; the
    caller filters further in Python. On PostgreSQL the query holds the primary-key
    conditions of BY_IDS_SQL and nothing else, so it reads the primary key whatever the
    partitions' statistics say: with another condition beside them (platform_id = 1, say), a
    partition never analysed lets the planner AND in that condition's index, which on a
    large partition reads all of it (0.35–0.7 s for one id at 7 million rows)."""
    wanted = _uuids(ids)
    if not wanted:
        return []
    if not _is_postgresql():
        return list(Statement.objects.filter(statement_id__in=wanted).values_list(*fields))
    columns = ", ".join(f'"{_column(name)}"' for name in fields)
    with connection.cursor() as cursor:
        # Column names from the model's own fields; the ids are bound as parameters.
        cursor.execute(f"SELECT {columns} FROM lrs_statement WHERE {BY_IDS_SQL}", [wanted, wanted])  # noqa: S608
        return list(cursor.fetchall())


def with_ids(ids: Iterable[str | UUID]) -> Q:
    """The condition "the statement's id is one of `ids`", for Statement querysets that
    combine it with other conditions (the StatementRef filter). On PostgreSQL it reads the id
    table (BY_IDS_SQL): a plain `statement_id__in` would scan every partition, which has no
    index of ids. How the planner combines it with the other conditions depends on the
    partitions' statistics (autovacuum keeps them); where only the statements with these ids
    are wanted, rows_by_id does not."""
    wanted = _uuids(ids)
    if _is_postgresql():
        # A constant text; the ids are bound as parameters.
        return Q(RawSQL(BY_IDS_SQL, (wanted, wanted), output_field=BooleanField()))  # noqa: S611
    return Q(statement_id__in=wanted)


def committed_watermark() -> Watermark:
    """The position below which every row is final: on PostgreSQL (this database's horizon,
    0) — every row with a smaller xid is committed or rolled back (_HORIZON_SQL); on SQLite
    (0, highest seq)."""
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {_HORIZON_SQL}")
            row = cursor.fetchone()
        assert row is not None
        return Watermark(int(row[0]), 0)
    last = Statement.objects.order_by("-seq").values_list("seq", flat=True).first()
    return Watermark(0, last or 0)


def statements_after(after: Watermark, *, limit: int = 1000) -> tuple[list[Statement], Watermark]:
    """Up to `limit` committed statements after `after`, in (xid, seq) order, and the
    watermark to pass next time (unchanged when nothing new is final yet). Voided statements
    and voiding statements are included: the reader decides what they mean."""
    if _is_postgresql():
        with _sorting_off():
            rows: list[Any] = list(
                Statement.objects.raw(
                    "SELECT lrs_statement.*, xid " + _AFTER_SQL,
                    (after.xid, after.seq, limit),
                )
            )
        if not rows:
            return [], after
        last = rows[-1]
        return rows, Watermark(int(last.xid), last.seq)
    rows = list(Statement.objects.filter(seq__gt=after.seq).order_by("seq")[:limit])
    if not rows:
        return [], after
    return rows, Watermark(0, rows[-1].seq)


# The committed rows after a watermark, in (xid, seq) order. The row comparison
# (xid, seq) > (a, b) lets PostgreSQL walk the (xid, seq) index of each partition in order (a
# merge of them) and stop after `limit` rows; with the equivalent "xid > a OR (xid = a AND
# seq > b)" it collects and sorts every row after the watermark. Those rows are the newest of
# the table, which its statistics know least: when they underestimate them the planner still
# prefers to collect and sort (100 ms instead of 0.5 ms for 80,000 rows behind), so sorting
# is switched off for these queries (_sorting_off). The horizon is _HORIZON_SQL's.
_AFTER_SQL = (
    "FROM lrs_statement WHERE (xid, seq) > (%s, %s)"
    f" AND xid < {_HORIZON_SQL} ORDER BY xid, seq LIMIT %s"
)


@contextmanager
def _sorting_off() -> Iterator[None]:
    """SET LOCAL enable_sort = off for the queries inside (a transaction of its own when the
    caller has none), on again after."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        yield
        cursor.execute("SET LOCAL enable_sort = on")


def _sql_text(value: str) -> str:
    assert "'" not in value and "\\" not in value  # constants of the profile, not input
    return f"'{value}'"


# What the crediting pass reads of a statement, in this order (CreditingRow): the time in
# whole epoch seconds and the id as text (psycopg's datetime and UUID loaders cost more than
# the rest of a row), the evidence the LRS extracted at ingest (lrs.evidence), and the payload
# only for a session statement stored before there was evidence to extract, so that its
# evidence is extracted from the payload instead.
_CREDITING_COLUMNS = (
    'person_id, statement_id::text, verb_id, floor(extract(epoch FROM "timestamp"))::bigint,'
    " course_id, platform_id, activity_id, duration_seconds, evidence,"
    " CASE WHEN evidence = '' AND verb_id IN"
    f" ({', '.join(sorted(map(_sql_text, SESSION_VERBS)))}) THEN payload END,"
    " voided, is_voiding"
)
_CREDITING_FIELDS = (
    "person_id",
    "statement_id",
    "verb_id",
    "timestamp",
    "course_id",
    "platform_id",
    "activity_id",
    "duration_seconds",
    "evidence",
    "payload",
    "voided",
    "is_voiding",
)


class CreditingRow(NamedTuple):
    """A stored statement as the crediting pass reads it (`crediting_rows`)."""

    person_id: int | None
    statement_id: str
    verb_id: str
    at: int  # the timestamp in epoch seconds, rounded down
    course_id: int | None
    platform_id: int
    activity_id: str
    duration_seconds: float | None
    evidence: str
    payload: str | None  # only when a session statement has no evidence
    voided: bool
    is_voiding: bool


class StatementHead(NamedTuple):
    """A new statement as the crediting pass reads it (`statement_heads_after`): the
    CreditingRow columns first, under the same names, then what deciding which days a
    statement touches needs."""

    person_id: int | None
    statement_id: str
    verb_id: str
    at: int
    course_id: int | None
    platform_id: int
    activity_id: str
    duration_seconds: float | None
    evidence: str
    payload: str | None
    voided: bool
    is_voiding: bool
    timestamp_us: int  # the timestamp exactly, in microseconds since the epoch
    object_statement_id: UUID | None

    @property
    def timestamp(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self.timestamp_us)


_HEADS_SQL = (
    f"SELECT {_CREDITING_COLUMNS},"  # noqa: S608 - constants only
    ' (extract(epoch FROM "timestamp") * 1000000)::bigint, object_statement_id, xid, seq'
    f" {_AFTER_SQL}"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _sqlite_rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Django's values (in _CREDITING_FIELDS order, then any others) as the PostgreSQL
    query gives them."""
    for row in rows:
        (person_id, statement_id, verb_id, at, course_id, platform_id, activity_id) = row[:7]
        duration, evidence, payload, voided, is_voiding = row[7:12]
        if evidence or verb_id not in SESSION_VERBS:
            payload = None
        yield (
            person_id,
            str(statement_id),
            verb_id,
            math.floor(at.timestamp()),
            course_id,
            platform_id,
            activity_id,
            duration,
            evidence,
            payload,
            voided,
            is_voiding,
            (at - _EPOCH) // _MICROSECOND,
            *row[12:],
        )


def statement_heads_after(
    after: Watermark, *, limit: int = 1000
) -> tuple[list[StatementHead], Watermark]:
    """`statements_after` reading only the StatementHead columns (no model instances): the
    same statements in the same order, and the same watermark to pass next time."""
    if _is_postgresql():
        with _sorting_off(), connection.cursor() as cursor:
            cursor.execute(_HEADS_SQL, (after.xid, after.seq, limit))
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        if not rows:
            return [], after
        last = rows[-1]
        return [StatementHead._make(row[:-2]) for row in rows], Watermark(int(last[-2]), last[-1])
    values = list(
        Statement.objects.filter(seq__gt=after.seq)
        .order_by("seq")
        .values_list(*_CREDITING_FIELDS, "object_statement_id", "seq")[:limit]
    )
    if not values:
        return [], after
    heads = [StatementHead._make(row[:-1]) for row in _sqlite_rows(values)]
    return heads, Watermark(0, values[-1][-1])


# The statements of some people inside some time windows (one index range of the
# (person, timestamp) index per window: the windows are disjoint), less those of one batch
# of statement_heads_after: the rows after one watermark up to and including another, which
# the caller has already read. By person = ANY and time only: a course's statements are
# many, one person's day is a few hundred.
_CREDITING_ROWS_SQL = (
    f"SELECT {_CREDITING_COLUMNS}"  # noqa: S608 - constants only
    ' FROM unnest(%s::timestamptz[], %s::timestamptz[]) AS w(start, "end")'
    " JOIN lrs_statement s ON s.person_id = ANY(%s::bigint[])"
    ' AND s."timestamp" >= w.start AND s."timestamp" < w."end"'
    " AND NOT ((s.xid, s.seq) > (%s, %s) AND (s.xid, s.seq) <= (%s, %s))"
)


def crediting_rows(
    person_ids: list[int],
    windows: list[tuple[datetime, datetime]],
    *,
    skip: tuple[Watermark, Watermark] | None = None,
) -> list[CreditingRow]:
    """The statements of `person_ids` with a timestamp in one of `windows` ([start, end),
    disjoint), without those after skip[0] up to and including skip[1] — a batch of
    statement_heads_after the caller holds already."""
    after, through = skip or (Watermark(), Watermark())
    if _is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute(
                _CREDITING_ROWS_SQL,
                (
                    [start for start, _end in windows],
                    [end for _start, end in windows],
                    person_ids,
                    after.xid,
                    after.seq,
                    through.xid,
                    through.seq,
                ),
            )
            return [CreditingRow._make(row) for row in cursor.fetchall()]
    within = Q()
    for start, end in windows:
        within |= Q(timestamp__gte=start, timestamp__lt=end)
    rows = (
        Statement.objects.filter(within, person_id__in=person_ids)
        .exclude(seq__gt=after.seq, seq__lte=through.seq)
        .values_list(*_CREDITING_FIELDS)
    )
    return [CreditingRow._make(row[:12]) for row in _sqlite_rows(rows)]


# The other transactions open on this database (PostgreSQL): the oldest one's start bounds
# consistent-through, here and in the write path's own queries (services).
OTHER_OPEN_TRANSACTIONS = (
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND xact_start IS NOT NULL"
)


def to_milliseconds(moment: datetime) -> datetime:
    """`moment` truncated to the millisecond, the precision `stored` is written with."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def consistent_through() -> datetime:
    """X-Experience-API-Consistent-Through (Communication §2.1.3): every statement stored
    before this instant is visible. A statement's `stored` is its writing transaction's start
    (services._db_now), so nothing can still commit with `stored` earlier than the start of
    the oldest transaction now open in this database."""
    if not _is_postgresql():
        return to_milliseconds(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(xact_start), now() {OTHER_OPEN_TRANSACTIONS}")
        row = cursor.fetchone()
    assert row is not None
    oldest, db_now = row
    horizon: datetime = min(oldest, db_now) if oldest is not None else db_now
    # `stored` is written with millisecond precision, truncated: so is the horizon.
    return to_milliseconds(horizon)


@dataclass
class StatementFilter:
    """The filters of GET /xapi/statements (Communication §2.1.3), already validated."""

    platform_id: int
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    ascending: bool = False
    after: tuple[datetime, int] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            key: value
            for key, value in self.__dict__.items()
            if value not in (None, False) and key not in {"since", "until", "after"}
        }
        for key in ("since", "until"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value.isoformat()
        if self.after is not None:
            data["after"] = [self.after[0].isoformat(), self.after[1]]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatementFilter:
        values = dict(data)
        for key in ("since", "until"):
            if key in values:
                values[key] = datetime.fromisoformat(values[key])
        if "after" in values:
            stamp, seq = values["after"]
            values["after"] = (datetime.fromisoformat(stamp), int(seq))
        return cls(**values)


def _matching(query: StatementFilter) -> Q | None:
    """The filters that are not about time (Communication §2.1.3), or None when there are none."""
    conditions = []
    if query.agent:
        needle = f"\n{query.agent}\n"
        if query.related_agents:
            conditions.append(Q(related_agents__contains=needle))
        else:
            conditions.append(
                Q(actor_ifi=query.agent)
                | Q(object_agent_ifi=query.agent)
                | Q(member_agents__contains=needle)
            )
    if query.verb:
        conditions.append(Q(verb_id=query.verb))
    if query.activity:
        if query.related_activities:
            conditions.append(Q(related_activities__contains=f"\n{query.activity}\n"))
        else:
            conditions.append(Q(activity_id=query.activity))
    if query.registration:
        conditions.append(Q(registration=query.registration))
    if not conditions:
        return None
    combined = conditions[0]
    for condition in conditions[1:]:
        combined &= condition
    return combined


def _targeting(platform_id: int, matching: Q) -> set[Any]:
    """Ids of the platform's statements whose object is a StatementRef to a statement that
    matches (recursively: a -> b -> c matches when c does). Voided targets count
    (Communication §2.1.3 "Filter Conditions for StatementRefs", §2.1.4.s1.b2)."""
    refs = dict(
        Statement.objects.filter(
            platform_id=platform_id, object_statement_id__isnull=False
        ).values_list("statement_id", "object_statement_id")
    )
    if not refs:
        return set()
    matched = set(
        Statement.objects.filter(matching, platform_id=platform_id)
        .filter(with_ids({target for target in refs.values() if target is not None}))
        .values_list("statement_id", flat=True)
    )
    found: set[Any] = set()
    grew = True
    while grew:
        grew = False
        for statement_id, target in refs.items():
            if statement_id not in found and (target in matched or target in found):
                found.add(statement_id)
                grew = True
    return found


def find_statements(query: StatementFilter, *, limit: int) -> list[tuple[int, datetime, str]]:
    """(seq, stored, payload) of the platform's unvoided statements matching `query` (and the
    statements targeting matching ones by StatementRef), in stored order (newest first unless
    ascending), at most `limit`."""
    rows = Statement.objects.filter(platform_id=query.platform_id, voided=False)
    matching = _matching(query)
    if matching is not None:
        targeting = _targeting(query.platform_id, matching)
        rows = rows.filter(matching | with_ids(targeting) if targeting else matching)
    if query.since:
        rows = rows.filter(stored__gt=query.since)
    if query.until:
        rows = rows.filter(stored__lte=query.until)
    if query.after:
        stamp, seq = query.after
        if query.ascending:
            rows = rows.filter(Q(stored__gt=stamp) | Q(stored=stamp, seq__gt=seq))
        else:
            rows = rows.filter(Q(stored__lt=stamp) | Q(stored=stamp, seq__lt=seq))
    order = ("stored", "seq") if query.ascending else ("-stored", "-seq")
    return list(rows.order_by(*order).values_list("seq", "stored", "payload")[:limit])


def statement_payload(platform_id: int, statement_id: str, *, voided: bool) -> str | None:
    """The stored JSON of one of the platform's statements: with voided=False only when it is
    not voided (statementId), with voided=True only when it is (voidedStatementId)."""
    for payload, owner, is_voided in rows_by_id([statement_id], "payload", "platform", "voided"):
        if owner == platform_id and is_voided == voided:
            return str(payload)
    return None


def attachments_for(platform_id: int, payloads: list[str]) -> list[Attachment]:
    """The stored raw attachments the given statements name by sha2."""
    wanted: set[str] = set()
    for payload in payloads:
        for attachment in json.loads(payload).get("attachments", []):
            wanted.add(str(attachment.get("sha2", "")).lower())
    if not wanted:
        return []
    return list(Attachment.objects.filter(platform_id=platform_id, sha2__in=wanted))


def statements_for_officer(user: User) -> QuerySet[Statement]:
    """Statements about learners inside the officer's region scope (via the person's
    region), newest first. Statements of unknown learners are not shown to officers."""
    rows = Statement.objects.filter(person__isnull=False).select_related(
        "person", "platform__organisation", "course"
    )
    return scope_to_regions(rows, user, region_field="person__region").order_by("-stored", "-seq")
