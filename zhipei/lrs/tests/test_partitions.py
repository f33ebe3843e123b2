"""Monthly partitions of the statement store (PostgreSQL; docs/decisions/0002): partitions
exist ahead of time, a statement lands in its month, ids stay unique across partitions, the
partition job is idempotent and rescues rows from the default partition, and the commit-safe
watermark holds across partitions. On SQLite the store is one ordinary table and all of this
is a no-op."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client, TransactionTestCase

from zhipei.core.scheduler import registered_jobs
from zhipei.lrs import partitions, services
from zhipei.lrs.http import clear_auth_cache
from zhipei.lrs.models import Statement
from zhipei.lrs.queries import BY_IDS_SQL, Watermark, rows_by_id, statements_after
from zhipei.lrs.services import (
    StatementConflict,
    authority_for,
    copy_rows,
    statement_rows,
    store_statements,
)
from zhipei.lrs.tasks import create_statement_partitions
from zhipei.lrs.tests.helpers import XapiClient, make_platform, plan_nodes, statement
from zhipei.lrs.tests.test_watermark import read_until
from zhipei.lrs.validation import prepare_statement
from zhipei.people.queries import learners_home_page
from zhipei.regions.testing import make_region_tree

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")


def _this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


def _partition_of(statement_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM lrs_statement WHERE statement_id = %s",
            [statement_id],
        )
        rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return str(rows[0][0])


def _id_rows(statement_id: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement_id, stored FROM lrs_statement_id WHERE statement_id = %s",
            [statement_id],
        )
        return list(cursor.fetchall())


def _copy_stored_at(platform, credential, data, stored: datetime) -> None:
    """Write one statement as if it had been stored at `stored`, through the same COPY as
    the service (both tables), in its own atomic block."""
    item = prepare_statement(
        dict(data),
        "",
        version="1.0.3",
        stored=stored,
        authority=authority_for(credential),
    )
    with transaction.atomic():
        copy_rows(statement_rows(platform.pk, [item], {}, {}))


def _drop_partitions(names: list[str]) -> None:
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
def platform(db):
    regions = make_region_tree()
    return make_platform(regions["420102"], 1)


@pytest.fixture
def other_platform(platform):
    regions_platform = platform[0].organisation.region
    return make_platform(regions_platform, 2)


# --- PostgreSQL ------------------------------------------------------------------------------
@pytest.mark.postgres
@on_postgresql
def test_store_is_partitioned_with_partitions_for_the_coming_months(db):
    assert partitions.is_partitioned()
    months = partitions.month_partitions()
    current = _this_month()
    for offset in range(partitions.MONTHS_AHEAD + 1):
        assert partitions.add_months(current, offset) in months
    status = partitions.partition_status()
    assert status is not None
    assert status.months_ahead >= partitions.MONTHS_AHEAD
    assert not status.rows_in_default
    assert status.healthy
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhrelid = to_regclass(%s)",
            [partitions.DEFAULT_PARTITION],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.postgres
@on_postgresql
def test_statement_lands_in_the_partition_of_its_stored_month(platform):
    _platform, credential, _secret = platform
    data = statement()
    store_statements(credential=credential, statements=[data], version="1.0.3")
    row = Statement.objects.get(statement_id=data["id"])
    stored_utc = row.stored.astimezone(UTC).date()
    assert _partition_of(data["id"]) == partitions.partition_name(stored_utc.replace(day=1))
    assert _id_rows(data["id"]) == [(uuid.UUID(data["id"]), row.stored)]


@pytest.mark.postgres
@on_postgresql
def test_same_id_in_another_month_is_a_noop_or_a_conflict(client, platform, other_platform):
    clear_auth_cache()
    owner, credential, secret = platform
    _other, other_credential, other_secret = other_platform
    past = partitions.add_months(_this_month(), -2)
    with transaction.atomic():
        partitions._create_month(past)
    earlier = datetime(past.year, past.month, 15, 9, 30, tzinfo=UTC)
    data = statement()
    _copy_stored_at(owner, credential, data, earlier)
    assert _partition_of(data["id"]) == partitions.partition_name(past)

    x = XapiClient(client, credential.key_id, secret)
    # The same statement again, this month: a no-op, the stored row is untouched.
    response = x.post(data)
    assert response.status_code == 200, response.content
    assert Statement.objects.filter(statement_id=data["id"]).count() == 1
    assert _partition_of(data["id"]) == partitions.partition_name(past)
    # A different body under that id: 409, nothing stored.
    changed = dict(data, result={"duration": "PT9M"})
    response = x.post(changed)
    assert response.status_code == 409, response.content
    response = x.put(changed, data["id"])
    assert response.status_code == 409, response.content
    # The id used by another platform: 409 for that platform too.
    other = XapiClient(Client(), other_credential.key_id, other_secret)
    assert other.post(data).status_code == 409
    assert Statement.objects.filter(statement_id=data["id"]).count() == 1
    assert len(_id_rows(data["id"])) == 1


@pytest.mark.postgres
@on_postgresql
def test_raw_copy_of_a_stored_id_into_another_partition_fails(platform):
    """Below the service's check: the id table's primary key refuses the second copy even
    though the month partitions' own indexes could not see each other."""
    owner, credential, _secret = platform
    data = statement()
    past = partitions.add_months(_this_month(), -1)
    with transaction.atomic():
        partitions._create_month(past)
    _copy_stored_at(owner, credential, data, datetime(past.year, past.month, 3, tzinfo=UTC))
    with pytest.raises(IntegrityError):
        _copy_stored_at(owner, credential, data, datetime.now(UTC))
    assert Statement.objects.filter(statement_id=data["id"]).count() == 1


def _id_table_mismatches() -> tuple[int, int]:
    """(statements, statements whose id row does not hold their seq and stored)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE i.statement_id IS NULL) "
            "FROM lrs_statement AS s LEFT JOIN lrs_statement_id AS i "
            "ON i.statement_id = s.statement_id AND i.seq = s.seq AND i.stored = s.stored"
        )
        total, missing = cursor.fetchone()
    return total, missing


@pytest.mark.postgres
@on_postgresql
def test_the_id_table_holds_the_seq_and_stored_of_every_statement(platform):
    owner, credential, _secret = platform
    small = [statement()]  # the prepared row insert
    batch = [statement() for _ in range(services.COPY_FROM_ROWS)]  # COPY
    store_statements(credential=credential, statements=small, version="1.0.3")
    store_statements(credential=credential, statements=batch, version="1.0.3")
    store_statements(credential=credential, statements=small, version="1.0.3")  # a no-op
    past = partitions.add_months(_this_month(), -1)
    with transaction.atomic():
        partitions._create_month(past)
    _copy_stored_at(owner, credential, statement(), datetime(past.year, past.month, 3, tzinfo=UTC))
    assert _id_table_mismatches() == (2 + services.COPY_FROM_ROWS, 0)
    seqs = list(Statement.objects.order_by("seq").values_list("statement_id", flat=True))
    assert [str(i) for i in seqs[:-1]] == [s["id"] for s in small + batch]


@pytest.mark.postgres
@on_postgresql
def test_reads_by_id_go_through_the_primary_key_of_the_partitions(platform):
    """The partitions keep no index of statement ids (migration 0008): a read by id finds the
    row by the (seq, stored) the id table holds."""
    _owner, credential, _secret = platform
    data = [statement() for _ in range(3)]
    store_statements(credential=credential, statements=data, version="1.0.3")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "JOIN pg_inherits ON inhrelid = indrelid "
            "WHERE inhparent = 'lrs_statement'::regclass AND indnatts = 1 "
            "AND indkey[0] = (SELECT attnum FROM pg_attribute "
            "WHERE attrelid = indrelid AND attname = 'statement_id')"
        )
        assert cursor.fetchall() == []
        cursor.execute("SET LOCAL enable_seqscan = off")
    nodes = plan_nodes(
        f"SELECT payload FROM lrs_statement WHERE {BY_IDS_SQL}",  # noqa: S608
        [[uuid.UUID(data[1]["id"])]] * 2,
    )
    indexes = [node["Index Name"] for node in nodes if "Index Name" in node]
    seq_scans = [node["Relation Name"] for node in nodes if node["Node Type"] == "Seq Scan"]
    assert seq_scans == []
    assert "lrs_statement_id_pkey" in indexes
    partition_indexes = [name for name in indexes if name != "lrs_statement_id_pkey"]
    assert partition_indexes and all(name.endswith("_pkey") for name in partition_indexes)
    assert rows_by_id([data[1]["id"], str(uuid.uuid4())], "statement_id", "platform") == [
        (uuid.UUID(data[1]["id"]), credential.platform_id)
    ]


@pytest.mark.postgres
@on_postgresql
def test_partition_job_is_idempotent_and_creates_months_ahead(db):
    assert partitions.ensure_partitions() == []  # the migration created them
    later = partitions.add_months(_this_month(), 14)
    created = partitions.ensure_partitions(today=later)
    expected = [partitions.partition_name(partitions.add_months(later, n)) for n in range(4)]
    assert created == expected
    assert partitions.ensure_partitions(today=later) == []
    months = partitions.month_partitions()
    assert all(partitions.add_months(later, n) in months for n in range(4))


@pytest.mark.postgres
@on_postgresql
def test_job_moves_rows_out_of_the_default_partition(platform):
    owner, credential, _secret = platform
    far = partitions.add_months(_this_month(), 30)
    data = statement()
    stored = datetime(far.year, far.month, 2, 3, 4, 5, tzinfo=UTC)
    _copy_stored_at(owner, credential, data, stored)  # no partition yet: the default one
    assert _partition_of(data["id"]) == partitions.DEFAULT_PARTITION
    before = Statement.objects.get(statement_id=data["id"])
    status = partitions.partition_status(today=far)
    assert status is not None and status.rows_in_default and not status.healthy

    created = partitions.ensure_partitions(today=far)

    assert created[0] == partitions.partition_name(far)
    assert _partition_of(data["id"]) == partitions.partition_name(far)
    after = Statement.objects.get(statement_id=data["id"])
    assert (after.seq, after.stored, after.payload) == (before.seq, before.stored, before.payload)
    assert _id_rows(data["id"]) == [(uuid.UUID(data["id"]), stored)]
    status = partitions.partition_status(today=far)
    assert status is not None and not status.rows_in_default and status.healthy


@pytest.mark.postgres
@on_postgresql
def test_command_reports_and_checks(db):
    out = StringIO()
    call_command("create_statement_partitions", stdout=out)
    assert "All partitions exist already." in out.getvalue()
    assert "whole months ahead: 3" in out.getvalue()
    call_command("create_statement_partitions", "--check", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("create_statement_partitions", "--months", "-1", stdout=StringIO())


@pytest.mark.postgres
@on_postgresql
def test_command_check_fails_when_rows_fell_into_the_default_partition(platform):
    owner, credential, _secret = platform
    far = partitions.add_months(_this_month(), 40)
    _copy_stored_at(owner, credential, statement(), datetime(far.year, far.month, 1, tzinfo=UTC))
    out = StringIO()
    with pytest.raises(CommandError, match="need attention"):
        call_command("create_statement_partitions", "--check", stdout=out)
    assert "rows in lrs_statement_default: yes" in out.getvalue()


@pytest.mark.postgres
@on_postgresql
class ConcurrentPartitionJobTests(TransactionTestCase):
    """Two runs of the job at once (two schedulers, or the command during the job): both
    finish, each month is created once."""

    def tearDown(self):
        far = partitions.add_months(_this_month(), 50)
        _drop_partitions(
            [partitions.partition_name(partitions.add_months(far, n)) for n in range(4)]
        )

    def test_two_runs_at_once(self):
        far = partitions.add_months(_this_month(), 50)
        results: list[list[str]] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def run():
            try:
                start.wait(timeout=30)
                results.append(partitions.ensure_partitions(today=far))
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert sorted(len(r) for r in results) == [0, 4]
        assert partitions.add_months(far, 3) in partitions.month_partitions()


@pytest.mark.postgres
@on_postgresql
class WatermarkAcrossPartitionsTests(TransactionTestCase):
    """The (xid, seq) watermark over a partitioned table: a transaction that writes into
    another partition and commits late is not skipped, and a flush (TRUNCATE) of the
    statement table empties the id table too."""

    def setUp(self):
        regions = make_region_tree()
        self.platform, self.credential, _secret = make_platform(regions["420102"])

    def tearDown(self):
        far = partitions.add_months(_this_month(), 60)
        _drop_partitions([partitions.partition_name(far)])

    def test_late_commit_in_another_partition_is_not_skipped(self):
        far = partitions.add_months(_this_month(), 60)
        with transaction.atomic():
            partitions._create_month(far)
        late, early = statement(), statement()
        ready, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def writer():
            try:
                stored = datetime(far.year, far.month, 1, 12, tzinfo=UTC)
                _copy_stored_in_open_transaction(self.platform, self.credential, late, stored)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        def _copy_stored_in_open_transaction(platform, credential, data, stored):
            item = prepare_statement(
                dict(data), "", version="1.0.3", stored=stored, authority=authority_for(credential)
            )
            with transaction.atomic():
                copy_rows(statement_rows(platform.pk, [item], {}, {}))
                ready.set()
                release.wait(timeout=30)

        thread = threading.Thread(target=writer)
        thread.start()
        assert ready.wait(timeout=30)
        store_statements(credential=self.credential, statements=[early], version="1.0.3")
        rows, mark = statements_after(Watermark(), limit=100)
        assert rows == []  # the open writer holds the horizon back
        release.set()
        thread.join(timeout=30)
        assert not errors, errors
        rows, mark = read_until(mark, 2)
        assert sorted(str(r.statement_id) for r in rows) == sorted([early["id"], late["id"]])
        assert _partition_of(late["id"]) == partitions.partition_name(far)
        assert _partition_of(early["id"]) != partitions.partition_name(far)
        assert statements_after(mark, limit=100) == ([], mark)

    def test_truncating_the_store_empties_the_id_table(self):
        data = statement()
        store_statements(credential=self.credential, statements=[data], version="1.0.3")
        assert len(_id_rows(data["id"])) == 1
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE lrs_statement")
            cursor.execute("SELECT count(*) FROM lrs_statement_id")
            assert cursor.fetchone()[0] == 0
        # The same id can be stored again afterwards (nothing stale left behind).
        store_statements(credential=self.credential, statements=[data], version="1.0.3")
        assert Statement.objects.filter(statement_id=data["id"]).count() == 1


@pytest.mark.postgres
@on_postgresql
class SameIdRaceTests(TransactionTestCase):
    """Two requests with the same new id at once: the second one's insert into the id table
    waits on its primary key until the first commits, then finds the id taken, and the
    service answers no-op (same body) or 409 (different body). One row in the end."""

    def setUp(self):
        regions = make_region_tree()
        self.platform, self.credential, _secret = make_platform(regions["420102"])

    def race(self, first, second):
        holding, release = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def hold_open():
            try:
                with transaction.atomic():
                    store_statements(
                        credential=self.credential, statements=[first], version="1.0.3"
                    )
                    holding.set()
                    release.wait(timeout=30)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        def waiter_is_blocked():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
                return cursor.fetchone()[0] > 0

        holder = threading.Thread(target=hold_open)
        holder.start()
        assert holding.wait(timeout=30)
        outcome: list[object] = []

        def second_request():
            try:
                outcome.append(
                    store_statements(
                        credential=self.credential, statements=[second], version="1.0.3"
                    )
                )
            except BaseException as exc:
                outcome.append(exc)
            finally:
                connection.close()

        racer = threading.Thread(target=second_request)
        racer.start()
        deadline = time.monotonic() + 30
        while not waiter_is_blocked() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert waiter_is_blocked()  # the second insert waits on the first one's id
        release.set()
        holder.join(timeout=30)
        racer.join(timeout=30)
        assert not errors, errors
        return outcome[0]

    def test_same_body_twice_at_once_is_stored_once(self):
        data = statement()
        assert self.race(data, dict(data)) == [data["id"]]
        assert Statement.objects.filter(statement_id=data["id"]).count() == 1
        assert len(_id_rows(data["id"])) == 1

    def test_different_body_under_the_same_id_at_once_is_a_conflict(self):
        data = statement()
        result = self.race(data, dict(data, result={"duration": "PT1M"}))
        assert isinstance(result, StatementConflict)
        row = Statement.objects.get(statement_id=data["id"])
        assert row.duration_seconds == 300  # the first body (PT5M) is the one stored


# --- Both databases --------------------------------------------------------------------------
def test_partition_job_is_registered_daily():
    jobs = {job.name: job for job in registered_jobs()}
    job = jobs["lrs.create_statement_partitions"]
    assert job.every_seconds == 24 * 3600
    assert job.task is create_statement_partitions


@pytest.mark.django_db
def test_job_runs_through_the_task_backend():
    result = create_statement_partitions.enqueue()
    assert result.return_value == []  # nothing missing (PostgreSQL) or nothing to do (SQLite)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="SQLite behaviour")
@pytest.mark.django_db
def test_sqlite_store_is_one_ordinary_table(platform):
    assert not partitions.is_partitioned()
    assert partitions.ensure_partitions() == []
    assert partitions.partition_status() is None
    out = StringIO()
    call_command("create_statement_partitions", stdout=out)
    assert "not partitioned" in out.getvalue()
    _platform, credential, _secret = platform
    data = statement()
    store_statements(credential=credential, statements=[data], version="1.0.3")
    # The unique index on statement_id still refuses a second row with the same id.
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.create(
            **{
                field.name: getattr(Statement.objects.get(statement_id=data["id"]), field.attname)
                for field in Statement._meta.concrete_fields
                if field.name != "seq" and not field.is_relation
            },
            platform_id=_platform.pk,
        )


def test_month_arithmetic():
    assert partitions.add_months(date(2026, 11, 1), 3) == date(2027, 2, 1)
    assert partitions.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert partitions.partition_name(date(2027, 2, 1)) == "lrs_statement_y2027m02"
    start, end = partitions.month_bounds(date(2026, 12, 1))
    assert start == datetime(2026, 12, 1, tzinfo=UTC)
    assert end - start == timedelta(days=31)


@pytest.mark.postgres
@on_postgresql
class IdTableSeqMigrationTests(TransactionTestCase):
    """Migration 0008 on a store that holds statements: back to 0007 (the id table without
    seq, the partitions' index of ids restored) and forward again (every id row gets its
    statement's seq back from the statements, and the index goes)."""

    def columns_and_index(self) -> tuple[list[str], bool]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'lrs_statement_id'::regclass "
                "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
            )
            columns = [name for (name,) in cursor.fetchall()]
            cursor.execute("SELECT to_regclass('lrs_stmt_statement_id') IS NOT NULL")
            return columns, cursor.fetchone()[0]

    def test_backwards_and_forwards_keeps_every_statement_found_by_id(self):
        regions = make_region_tree()
        _platform, credential, _secret = make_platform(regions["420102"], 1)
        data = [statement() for _ in range(services.COPY_FROM_ROWS + 1)]
        store_statements(credential=credential, statements=data, version="1.0.3")
        assert self.columns_and_index() == (["statement_id", "stored", "seq"], False)
        call_command("migrate", "lrs", "0007", verbosity=0)
        try:
            assert self.columns_and_index() == (["statement_id", "stored"], True)
        finally:
            call_command("migrate", "lrs", verbosity=0)
        assert self.columns_and_index() == (["statement_id", "stored", "seq"], False)
        assert _id_table_mismatches() == (len(data), 0)
        for item in data:
            assert rows_by_id([item["id"]], "statement_id") == [(uuid.UUID(item["id"]),)]


def _statement_foreign_keys() -> list[tuple[str, str]]:
    """(table, constraint) of every foreign key on lrs_statement and its partitions."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
            "AND (conrelid = 'lrs_statement'::regclass OR conrelid IN "
            "(SELECT inhrelid FROM pg_inherits WHERE inhparent = 'lrs_statement'::regclass)) "
            "ORDER BY 1, 2"
        )
        return list(cursor.fetchall())


def test_deleting_what_a_statement_names_is_refused_in_the_orm(platform):
    """No constraint in the database (migration 0009), PROTECT still holds in the ORM."""
    from django.db.models import ProtectedError

    from zhipei.people.services import pseudonym_for
    from zhipei.people.testing import make_person

    owner, credential, _secret = platform
    person = make_person(owner.organisation.region)
    name, _created = pseudonym_for(person, platform=owner)
    actor = {"objectType": "Agent", "account": {"homePage": learners_home_page(), "name": name}}
    store_statements(credential=credential, statements=[statement(actor=actor)], version="1.0.3")
    stored = Statement.objects.get()
    assert (stored.person_id, stored.platform_id) == (person.pk, owner.pk)
    for target in (person, owner):
        with pytest.raises(ProtectedError) as refused:
            target.delete()
        assert stored in refused.value.protected_objects


@on_postgresql
class StatementForeignKeysMigrationTests(TransactionTestCase):
    """Migration 0009 drops the statement store's foreign-key constraints (platform, person,
    course), on the partitions too; backwards restores them."""

    def test_backwards_and_forwards(self):
        regions = make_region_tree()
        _platform, credential, _secret = make_platform(regions["420102"], 1)
        data = [statement() for _ in range(services.COPY_FROM_ROWS + 1)]
        store_statements(credential=credential, statements=data, version="1.0.3")
        assert _statement_foreign_keys() == []
        call_command("migrate", "lrs", "0008", verbosity=0)
        try:
            restored = _statement_foreign_keys()
            parent = sorted(name for table, name in restored if table == "lrs_statement")
            assert sorted(name.split("_fk_")[1] for name in parent) == [
                "catalog_course_id",
                "orgs_platform_id",
                "people_person_id",
            ]
            assert len(restored) > len(parent)  # the partitions have them as well
        finally:
            call_command("migrate", "lrs", verbosity=0)
        assert _statement_foreign_keys() == []
        assert Statement.objects.count() == len(data)
