"""PostgreSQL only: the transaction id of the insert, for the commit-safe watermark.

`xid` is filled by its default (`pg_current_xact_id()`, the inserting transaction's id as a
64-bit integer) and is not a model field: the ORM never writes it and COPY leaves it to the
default. Readers use it in raw SQL in zhipei/lrs/store.py. SQLite has a single writer at a time,
so there sequence order is commit order and the column is not needed.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE lrs_statement ADD COLUMN xid bigint NOT NULL "
    "DEFAULT (pg_current_xact_id()::text::bigint)",
    "CREATE INDEX lrs_stmt_xid_seq ON lrs_statement (xid, seq)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS lrs_stmt_xid_seq",
    "ALTER TABLE lrs_statement DROP COLUMN IF EXISTS xid",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("lrs", "0001_statement_store")]

    operations = [migrations.RunPython(forward, backward)]
