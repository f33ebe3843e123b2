"""Monthly partitions of the statement store on PostgreSQL (docs/decisions/0002).

`lrs_statement` is partitioned by range on `stored`, one partition per calendar month in UTC,
named `lrs_statement_yYYYYmMM`, plus a default partition `lrs_statement_default` that catches
a row no month partition covers, so an insert never fails for want of a partition.
`ensure_partitions` (the scheduled job `lrs.create_statement_partitions` and the command
`manage.py create_statement_partitions`) creates the partitions of this month and the next
MONTHS_AHEAD months ahead of time; in normal operation the default partition stays empty.

If the job has not run for months and rows landed in the default partition, the next run
moves the rows of each month it creates out of the default partition into the new month
partition, in one transaction (the rows keep seq, stored and xid, so watermark readers neither
miss nor repeat them); `partition_status` reports rows in the default partition so monitoring
can raise the alarm.

New partitions are created as ordinary tables and then attached: ATTACH PARTITION takes only
a SHARE UPDATE EXCLUSIVE lock on the parent, so ingest is never blocked (CREATE TABLE …
PARTITION OF would take an ACCESS EXCLUSIVE lock). SQLite has no partitions: every function
here is a no-op there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

logger = logging.getLogger("zhipei.lrs")

TABLE = "lrs_statement"
DEFAULT_PARTITION = "lrs_statement_default"
MONTHS_AHEAD = 3
# Any constant: serialises concurrent runs of the job (two schedulers, a manual command).
_LOCK_KEY = 0x4C52535054  # "LRSPT"
_NAME_RE = re.compile(r"^lrs_statement_y(\d{4})m(\d{2})\Z", re.ASCII)


def is_partitioned() -> bool:
    """True when lrs_statement is a partitioned table (PostgreSQL after migration 0006)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the month in UTC, the bounds of its partition."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = add_months(month, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=UTC)


def month_partitions() -> list[date]:
    """The months that have a partition, oldest first."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = []
    for name in names:
        match = _NAME_RE.match(name)
        if match:
            months.append(date(int(match[1]), int(match[2]), 1))
    return sorted(months)


@dataclass(frozen=True)
class PartitionStatus:
    """What monitoring needs: the last month with a partition, how many whole months after
    the current one are covered, and whether the default partition holds rows."""

    last_month: date | None
    months_ahead: int
    rows_in_default: bool

    @property
    def healthy(self) -> bool:
        return self.months_ahead >= 1 and not self.rows_in_default


def partition_status(*, today: date | None = None) -> PartitionStatus | None:
    """None on a store without partitions (SQLite)."""
    if not is_partitioned():
        return None
    current = month_start(today or datetime.now(UTC).date())
    months = set(month_partitions())
    ahead = -1
    while add_months(current, ahead + 1) in months:
        ahead += 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION})")  # noqa: S608 - constant
        row = cursor.fetchone()
    return PartitionStatus(
        last_month=max(months) if months else None,
        months_ahead=ahead,
        rows_in_default=bool(row and row[0]),
    )


def ensure_partitions(*, today: date | None = None, months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Create the partitions of the current month (UTC) and of the `months_ahead` months
    after it that do not exist yet; returns the names created, oldest first. Idempotent and
    safe to run concurrently (an advisory lock serialises runs). No-op on SQLite."""
    if not is_partitioned():
        return []
    current = month_start(today or datetime.now(UTC).date())
    created: list[str] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        have = set(month_partitions())
        for offset in range(months_ahead + 1):
            month = add_months(current, offset)
            if month not in have:
                _create_month(month)
                created.append(partition_name(month))
    for name in created:
        logger.info("lrs created statement partition %s", name)
    status = partition_status(today=today)
    if status is not None and status.rows_in_default:
        logger.error(
            "lrs: rows in %s: statements were stored for a month without a partition",
            DEFAULT_PARTITION,
        )
    return created


def _literal(moment: datetime) -> str:
    """A timestamptz literal for DDL (partition bounds take no bind parameters); built from
    integers only."""
    return f"'{moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}+00'"


def _create_month(month: date) -> None:
    """Create one month partition as a table, move any rows of that month out of the
    default partition into it, and attach it. Runs inside the caller's transaction."""
    name = partition_name(month)
    lower, upper = month_bounds(month)
    start, end = _literal(lower), _literal(upper)
    bounds = [lower, upper]
    in_month = "stored >= %s AND stored < %s"
    with connection.cursor() as cursor:
        # LIKE copies the columns in order with their defaults; the CHECK constraint lets
        # ATTACH skip its validation scan, and is dropped once the table is attached.
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
        cursor.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {name}_bounds "
            f"CHECK (stored >= {start} AND stored < {end})"
        )
        # Table names here are constants or built from integers (partition_name).
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} WHERE {in_month})",  # noqa: S608
            bounds,
        )
        row = cursor.fetchone()
        if row and row[0]:
            # Rows that arrived while this month had no partition: same columns in the same
            # order (LIKE), so seq, stored and xid are kept as they are.
            cursor.execute(f"LOCK TABLE {DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(
                f"INSERT INTO {name} SELECT * FROM {DEFAULT_PARTITION} WHERE {in_month}",  # noqa: S608
                bounds,
            )
            cursor.execute(f"DELETE FROM {DEFAULT_PARTITION} WHERE {in_month}", bounds)  # noqa: S608
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({start}) TO ({end})"
        )
        cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")
