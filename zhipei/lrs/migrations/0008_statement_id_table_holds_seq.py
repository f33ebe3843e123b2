"""PostgreSQL only: the id table holds each statement's seq, and the partitions lose their
index of statement ids.

Before, `lrs_statement_id (statement_id, stored)` kept ids unique and named the partition,
and every partition kept a second index of the same random UUIDs for reads by id. Once a
partition holds millions of rows the two indexes of random keys outgrow a default-sized
PostgreSQL's shared buffers, and every insert then reads and dirties a random page of each
(bench/README.md, 2026-11-27). With `seq` beside `stored` in the id table, a read by id goes
through the id table to the partition's primary key `(seq, stored)` (queries.rows_by_id), and
the partitions' index of statement ids can go: one random index insert per statement instead
of two.

The store allocates `seq` itself now: the first query of a write takes `nextval` of the
statement sequence for each new id as it inserts it into the id table, and the statement rows
are written with that seq (services._FIRST_SQL, services.copy_rows).

Existing rows get their seq from the statements (one UPDATE, through the index it then
drops). Stop ingest while this runs: a writer of the old code inserts ids without a seq,
which the NOT NULL refuses. Reversible. SQLite is untouched: its table is not partitioned and
keeps the unique index the model declares.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE lrs_statement_id ADD COLUMN seq bigint",
    "UPDATE lrs_statement_id AS i SET seq = s.seq FROM lrs_statement AS s "
    "WHERE s.statement_id = i.statement_id AND s.stored = i.stored",
    "ALTER TABLE lrs_statement_id ALTER COLUMN seq SET NOT NULL",
    "DROP INDEX lrs_stmt_statement_id",
]
BACKWARD = [
    "CREATE INDEX lrs_stmt_statement_id ON lrs_statement (statement_id)",
    "ALTER TABLE lrs_statement_id DROP COLUMN seq",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("lrs", "0007_statement_evidence")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
