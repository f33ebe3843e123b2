"""PostgreSQL only: lrs_statement becomes a table partitioned by month on `stored`.

What changes on PostgreSQL (docs/decisions/0002-statement-store.md):
- `lrs_statement` is re-created as `PARTITION BY RANGE (stored)` with one partition per UTC
  month (`lrs_statement_yYYYYmMM`) from the month of the oldest stored row (or the current
  month) to three months ahead, and a default partition `lrs_statement_default`. Existing rows
  are copied over with their seq, stored and xid, so watermarks already handed out stay valid.
- The primary key is `(seq, stored)`: a unique index on a partitioned table must include the
  partition key. `seq` keeps its sequence (now a plain sequence owned by the column: PostgreSQL
  15 has no identity columns on partitioned tables).
- Statement ids stay unique across all partitions through the unpartitioned table
  `lrs_statement_id (statement_id primary key, stored)`, written in the same transaction as
  the statement (services.copy_rows). `stored` names the partition that holds the statement;
  `lrs_statement.statement_id` keeps a plain index for lookups inside a partition (and for
  queries that do not go through the id table), so `seq` is not needed here. A TRUNCATE of lrs_statement (test flushes; never done in production) empties the id
  table too, by trigger, so the two never disagree.
- Every other index, the xid column and its (xid, seq) index, and the foreign keys are as
  before, defined on the parent and so on every partition.

The model state does not change: Django still sees `seq` as the primary key and
`statement_id` as unique, which is true on SQLite (an ordinary table, untouched here) and
enforced by lrs_statement_id on PostgreSQL. A later AlterField of `seq` or `statement_id`
would need hand-written SQL on PostgreSQL.
"""

from datetime import UTC, date, datetime

from django.db import migrations

NEW_INDEXES = [
    "CREATE INDEX lrs_stmt_statement_id ON lrs_statement (statement_id)",
    "CREATE INDEX lrs_stmt_platform_stored ON lrs_statement (platform_id, stored)",
    "CREATE INDEX lrs_stmt_person_time ON lrs_statement (person_id, timestamp)",
    "CREATE INDEX lrs_stmt_platform_actor ON lrs_statement (platform_id, actor_ifi)",
    "CREATE INDEX lrs_stmt_verb ON lrs_statement (verb_id)",
    "CREATE INDEX lrs_stmt_activity ON lrs_statement (activity_id)",
    "CREATE INDEX lrs_stmt_registration ON lrs_statement (registration)",
    "CREATE INDEX lrs_stmt_voiding_target ON lrs_statement (object_statement_id) "
    "WHERE is_voiding",
    "CREATE INDEX lrs_stmt_course_time ON lrs_statement (course_id, timestamp)",
    "CREATE INDEX lrs_stmt_platform_refs ON lrs_statement (platform_id, seq) "
    "WHERE object_statement_id IS NOT NULL",
    "CREATE INDEX lrs_stmt_xid_seq ON lrs_statement (xid, seq)",
]
OLD_INDEXES = [
    sql
    for sql in NEW_INDEXES
    if not sql.startswith("CREATE INDEX lrs_stmt_statement_id ")
]
FOREIGN_KEYS = [
    "ALTER TABLE lrs_statement ADD CONSTRAINT lrs_statement_course_id_6b8da337_fk_catalog_course_id "
    "FOREIGN KEY (course_id) REFERENCES catalog_course (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE lrs_statement ADD CONSTRAINT lrs_statement_person_id_f14f9191_fk_people_person_id "
    "FOREIGN KEY (person_id) REFERENCES people_person (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE lrs_statement ADD CONSTRAINT lrs_statement_platform_id_991abab0_fk_orgs_platform_id "
    "FOREIGN KEY (platform_id) REFERENCES orgs_platform (id) DEFERRABLE INITIALLY DEFERRED",
]
TRUNCATE_TRIGGER = [
    "CREATE FUNCTION lrs_statement_truncate_ids() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN TRUNCATE lrs_statement_id; RETURN NULL; END $$",
    "CREATE TRIGGER lrs_statement_truncate_ids AFTER TRUNCATE ON lrs_statement "
    "FOR EACH STATEMENT EXECUTE FUNCTION lrs_statement_truncate_ids()",
]


def _add_months(month, count):
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _bound(month):
    return f"'{month.year:04d}-{month.month:02d}-01 00:00:00+00'"


def _scalar(schema_editor, sql):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run("ALTER TABLE lrs_statement RENAME TO lrs_statement_unpartitioned")
    run("ALTER SEQUENCE lrs_statement_seq_seq RENAME TO lrs_statement_unpartitioned_seq_seq")
    run("CREATE SEQUENCE lrs_statement_seq_seq")
    run(
        "SELECT setval('lrs_statement_seq_seq', last_value, is_called) "
        "FROM lrs_statement_unpartitioned_seq_seq"
    )
    run(
        "CREATE TABLE lrs_statement (LIKE lrs_statement_unpartitioned INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (stored)"
    )
    run("ALTER TABLE lrs_statement ALTER COLUMN seq SET DEFAULT nextval('lrs_statement_seq_seq')")
    run("ALTER SEQUENCE lrs_statement_seq_seq OWNED BY lrs_statement.seq")

    oldest = _scalar(schema_editor, "SELECT min(stored) FROM lrs_statement_unpartitioned")
    now = datetime.now(UTC)
    current = date(now.year, now.month, 1)
    month = current
    if oldest is not None:
        oldest_utc = oldest.astimezone(UTC)
        month = min(current, date(oldest_utc.year, oldest_utc.month, 1))
    last = _add_months(current, 3)
    while month <= last:
        run(
            f"CREATE TABLE lrs_statement_y{month.year:04d}m{month.month:02d} "
            f"PARTITION OF lrs_statement FOR VALUES FROM ({_bound(month)}) "
            f"TO ({_bound(_add_months(month, 1))})"
        )
        month = _add_months(month, 1)
    run("CREATE TABLE lrs_statement_default PARTITION OF lrs_statement DEFAULT")

    run("INSERT INTO lrs_statement SELECT * FROM lrs_statement_unpartitioned")
    run(
        "CREATE TABLE lrs_statement_id (statement_id uuid PRIMARY KEY, "
        "stored timestamp with time zone NOT NULL)"
    )
    run(
        "INSERT INTO lrs_statement_id (statement_id, stored) "
        "SELECT statement_id, stored FROM lrs_statement_unpartitioned"
    )
    run("DROP TABLE lrs_statement_unpartitioned")

    run("ALTER TABLE lrs_statement ADD CONSTRAINT lrs_statement_pkey PRIMARY KEY (seq, stored)")
    for sql in NEW_INDEXES + FOREIGN_KEYS + TRUNCATE_TRIGGER:
        run(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run("ALTER TABLE lrs_statement RENAME TO lrs_statement_partitioned")
    run("ALTER SEQUENCE lrs_statement_seq_seq RENAME TO lrs_statement_partitioned_seq_seq")
    run("CREATE TABLE lrs_statement (LIKE lrs_statement_partitioned INCLUDING DEFAULTS)")
    run("ALTER TABLE lrs_statement ALTER COLUMN seq DROP DEFAULT")
    run("ALTER TABLE lrs_statement ALTER COLUMN seq ADD GENERATED BY DEFAULT AS IDENTITY")
    run("INSERT INTO lrs_statement SELECT * FROM lrs_statement_partitioned")
    run(
        "SELECT setval(pg_get_serial_sequence('lrs_statement', 'seq'), last_value, is_called) "
        "FROM lrs_statement_partitioned_seq_seq"
    )
    run("DROP TABLE lrs_statement_partitioned")
    run("DROP TABLE lrs_statement_id")
    run("DROP FUNCTION lrs_statement_truncate_ids()")
    run("ALTER TABLE lrs_statement ADD CONSTRAINT lrs_statement_pkey PRIMARY KEY (seq)")
    run(
        "ALTER TABLE lrs_statement ADD CONSTRAINT lrs_statement_statement_id_key "
        "UNIQUE (statement_id)"
    )
    for sql in OLD_INDEXES + FOREIGN_KEYS:
        run(sql)


class Migration(migrations.Migration):
    dependencies = [("lrs", "0005_drop_redundant_fk_indexes")]

    operations = [migrations.RunPython(forward, backward)]
