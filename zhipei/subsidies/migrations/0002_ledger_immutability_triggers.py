"""Database guards for the ledger (ARCHITECTURE invariant 4).

Both databases: UPDATE on ledger postings and entries is refused by a trigger.
PostgreSQL: DELETE is refused too (TRUNCATE, which test flushes use, fires no row trigger),
and a deferred constraint trigger checks at commit that the entries of every posting touched
sum to zero. SQLite keeps DELETE possible because the test runner's flush deletes rows one
table at a time; the application has no delete path either way.
"""

from django.db import migrations

PG_FORWARD = """
CREATE FUNCTION subsidies_ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER subsidies_posting_immutable BEFORE UPDATE OR DELETE ON subsidies_ledgerposting
    FOR EACH ROW EXECUTE FUNCTION subsidies_ledger_immutable();
CREATE TRIGGER subsidies_entry_immutable BEFORE UPDATE OR DELETE ON subsidies_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION subsidies_ledger_immutable();

CREATE FUNCTION subsidies_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE total bigint; lines integer;
BEGIN
    SELECT COALESCE(SUM(amount_fen), 0), COUNT(*) INTO total, lines
        FROM subsidies_ledgerentry WHERE posting_id = NEW.posting_id;
    IF total <> 0 OR lines < 2 THEN
        RAISE EXCEPTION 'ledger posting % is not balanced (sum %, % entries)',
            NEW.posting_id, total, lines USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER subsidies_posting_balanced AFTER INSERT ON subsidies_ledgerentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION subsidies_posting_balanced();
"""

PG_REVERSE = """
DROP TRIGGER IF EXISTS subsidies_posting_balanced ON subsidies_ledgerentry;
DROP FUNCTION IF EXISTS subsidies_posting_balanced();
DROP TRIGGER IF EXISTS subsidies_entry_immutable ON subsidies_ledgerentry;
DROP TRIGGER IF EXISTS subsidies_posting_immutable ON subsidies_ledgerposting;
DROP FUNCTION IF EXISTS subsidies_ledger_immutable();
"""

SQLITE_FORWARD = [
    """CREATE TRIGGER subsidies_posting_immutable BEFORE UPDATE ON subsidies_ledgerposting
       BEGIN SELECT RAISE(ABORT, 'ledger rows are immutable'); END""",
    """CREATE TRIGGER subsidies_entry_immutable BEFORE UPDATE ON subsidies_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'ledger rows are immutable'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS subsidies_posting_immutable",
    "DROP TRIGGER IF EXISTS subsidies_entry_immutable",
]


def _run_raw(schema_editor, sql):
    # No parameters: psycopg must not read the "%" of RAISE formats as placeholders.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run_raw(schema_editor, PG_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def reverse(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run_raw(schema_editor, PG_REVERSE)
    elif vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0001_policies_and_ledger")]

    operations = [migrations.RunPython(forward, reverse)]
