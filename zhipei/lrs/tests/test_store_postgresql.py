"""The PostgreSQL write path outside an atomic block (a request): the service sends BEGIN
and COMMIT itself, pipelined with its queries. All or nothing must hold exactly as under
Django's atomic, and the connection must be left idle and in autocommit mode, whatever
happened. (Inside an atomic block the same code runs under Django's transaction: the TestCase
suites cover that.)"""

from __future__ import annotations

import json
import uuid
from unittest import mock

import pytest
from django.db import DataError, connection, transaction
from django.test import TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg import pq

from zhipei.lrs import partitions, services
from zhipei.lrs.formats import XapiInvalid, compact_json
from zhipei.lrs.models import Statement
from zhipei.lrs.services import StatementConflict, store_batch, store_statements
from zhipei.lrs.tests.helpers import make_platform, plan_nodes, statement
from zhipei.lrs.validation import _iso, prepare_statement
from zhipei.people.testing import make_id_number
from zhipei.regions.testing import make_region_tree

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def _ids_in_id_table(ids: list[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement_id FROM lrs_statement_id WHERE statement_id = ANY(%s)",
            [[uuid.UUID(i) for i in ids]],
        )
        return {str(row[0]) for row in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
class OwnTransactionTests(TransactionTestCase):
    def setUp(self):
        regions = make_region_tree()
        self.platform, self.credential, _secret = make_platform(regions["420102"], 1)
        _other, self.other_credential, _s = make_platform(regions["420106"], 2)

    def store(self, items, credential=None):
        assert not connection.in_atomic_block
        return store_batch(
            credential=credential or self.credential, statements=items, version="1.0.3"
        )

    def assert_connection_clean(self):
        assert connection.get_autocommit()
        assert connection.connection.autocommit
        assert connection.connection.info.transaction_status == pq.TransactionStatus.IDLE

    def test_small_and_copy_sized_batches_are_stored_and_committed(self):
        small = [statement() for _ in range(services.COPY_FROM_ROWS - 1)]
        large = [statement() for _ in range(services.COPY_FROM_ROWS)]
        result = self.store(small)
        assert result.ids == [s["id"] for s in small]
        assert result.consistent_through is not None
        self.store(large)
        self.assert_connection_clean()
        everything = [s["id"] for s in small + large]
        assert Statement.objects.filter(statement_id__in=everything).count() == len(everything)
        assert _ids_in_id_table(everything) == set(everything)
        row = Statement.objects.get(statement_id=small[0]["id"])
        assert result.consistent_through <= row.stored

    def test_the_binary_copy_types_are_the_columns_types(self):
        names = {
            "bigint": "int8",
            "uuid": "uuid",
            "character varying": "varchar",
            "text": "text",
            "timestamp with time zone": "timestamptz",
            "double precision": "float8",
            "boolean": "bool",
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attrelid::regclass::text, attname, format_type(atttypid, NULL) "
                "FROM pg_attribute WHERE attrelid IN ('lrs_statement'::regclass, "
                "'lrs_statement_id'::regclass) AND attnum > 0 AND NOT attisdropped"
            )
            columns = {(table, name): names.get(kind, kind) for table, name, kind in cursor}
        for column, kind in services.COPY_TYPES.items():
            assert columns[("lrs_statement", column)] == kind, column
        for column in ("statement_id", "stored", "seq"):
            assert columns[("lrs_statement_id", column)] == services.COPY_TYPES[column]

    def test_a_copied_batch_stores_the_same_values_as_the_row_insert(self):
        def shapes():
            return [
                statement(),
                statement(timestamp=None, result={"duration": "PT1.25S"}),
                statement(
                    verb={"id": "https://x.cn/v/liked"},
                    object={"objectType": "StatementRef", "id": str(uuid.uuid4()).upper()},
                    context={"registration": "6F0E4B8E-3C1A-4F7E-9A3B-2D9C1E5F7A10"},
                ),
                statement(actor={"mbox": "mailto:王@x.cn", "name": "王\t\\n"}),
            ]

        inserted = shapes()
        copied = shapes() + [statement() for _ in range(services.COPY_FROM_ROWS)]
        for later, earlier in zip(copied, inserted, strict=False):
            later["object"] = earlier["object"]
            if "timestamp" in earlier:
                later["timestamp"] = earlier["timestamp"]
        self.store(inserted)
        self.store(copied)
        skip = {"seq", "statement_id", "stored", "xid", "payload", "timestamp"}
        fields = [f.attname for f in Statement._meta.concrete_fields if f.attname not in skip]
        for earlier, later in zip(inserted, copied, strict=False):
            a = Statement.objects.values(*fields).get(statement_id=earlier["id"])
            b = Statement.objects.values(*fields).get(statement_id=later["id"])
            assert a == b
        row = Statement.objects.get(statement_id=copied[2]["id"])
        assert str(row.object_statement_id) == copied[2]["object"]["id"].lower()
        assert str(row.registration) == "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10"
        assert row.duration_seconds == 300.0
        assert row.timestamp == row.timestamp.fromisoformat("2026-05-01T00:30:00+00:00")
        assert Statement.objects.get(statement_id=copied[1]["id"]).duration_seconds == 1.25

    def test_one_statement_is_one_query_that_stores_what_the_two_trips_store(self):
        self.store([statement()])  # the statements are prepared
        shapes = [
            statement(),
            statement(timestamp=None, result={"duration": "PT1.25S"}),  # the LRS's timestamp
            statement(
                verb={"id": "https://x.cn/v/liked"},
                object={"objectType": "StatementRef", "id": str(uuid.uuid4()).upper()},
                context={"registration": "6F0E4B8E-3C1A-4F7E-9A3B-2D9C1E5F7A10"},
            ),
            statement(actor={"mbox": "mailto:王@x.cn", "name": 'zhipei-stored-"\t\\n'}),
            statement(id=None, stored="2020-01-01T00:00:00Z"),  # the LRS sets both
        ]
        skip = {"seq", "statement_id", "stored", "xid", "payload"}
        fields = [f.attname for f in Statement._meta.concrete_fields if f.attname not in skip]
        for data in shapes:
            twin = json.loads(json.dumps(data))
            twin["id"] = str(uuid.uuid4())
            given = "timestamp" in data
            with CaptureQueriesContext(connection) as queries:
                (stored_id,) = self.store([data]).ids
            assert [q["sql"].split(" (")[0] for q in queries] == ["EXECUTE lrs_store_one"]
            self.store([twin, statement()])  # the two trips (first query, row insert)
            one = Statement.objects.get(statement_id=stored_id)
            two = Statement.objects.get(statement_id=twin["id"])
            assert {f: getattr(one, f) for f in fields if given or f != "timestamp"} == {
                f: getattr(two, f) for f in fields if given or f != "timestamp"
            }
            if not given:  # the LRS's: `stored`, as the payload says, on either path
                assert (one.timestamp, two.timestamp) == (one.stored, two.stored)
            # The payload, byte for byte, is what the service writes itself: the statement
            # stamped with the row's `stored`.
            expected = prepare_statement(
                {**data, "id": stored_id},
                "",
                version="1.0.3",
                stored=one.stored,
                authority=services.authority_for(self.credential),
            )
            services._stamp([expected], one.stored)
            assert one.payload == compact_json(expected.data).decode()
            assert json.loads(one.payload)["stored"] == _iso(one.stored)
        self.assert_connection_clean()

    def test_one_statement_refused_or_repeated_writes_nothing(self):
        number = make_id_number("420102", "19900101", 7)
        bad = statement(result={"response": number})
        with pytest.raises(XapiInvalid, match="ID number"):
            self.store([bad])
        self.assert_connection_clean()
        assert _ids_in_id_table([bad["id"]]) == set()
        assert services._STORED_MARK not in json.dumps(bad)  # the statement as it was stamped
        theirs = statement()
        self.store([theirs], credential=self.other_credential)
        with pytest.raises(StatementConflict):
            self.store([theirs])  # another platform's id: 409
        self.assert_connection_clean()
        mine = statement()
        self.store([mine])
        self.store([dict(mine)])  # an equivalent body: a no-op
        with pytest.raises(StatementConflict):
            self.store([{**mine, "verb": {"id": "https://x.cn/v/other"}}])
        self.assert_connection_clean()
        assert Statement.objects.filter(statement_id__in=[theirs["id"], mine["id"]]).count() == 2
        assert Statement.objects.get(statement_id=mine["id"]).platform_id == self.platform.pk

    def test_an_error_in_the_one_statement_query_writes_nothing_and_comes_back_as_djangos(self):
        # The one-statement EXECUTE goes out through the protocol (_execute_prepared): a
        # value PostgreSQL refuses is its error, through Django's wrapper, and the statement's
        # own transaction is gone with it.
        self.store([statement()])  # prepared
        data = statement()
        item = prepare_statement(
            data,
            "",
            version="1.0.3",
            stored=timezone.now(),
            authority=services.authority_for(self.credential),
        )
        item.statement_id = "not-a-uuid"
        with CaptureQueriesContext(connection) as queries, pytest.raises(DataError):
            services._write_one(self.platform.pk, item)
        assert [q["sql"] for q in queries] == ["EXECUTE lrs_store_one (…)"]
        assert services._STORED_MARK not in json.dumps(item.data)  # the statement as it was
        self.assert_connection_clean()
        assert _ids_in_id_table([data["id"]]) == set()
        again = statement()
        self.store([again])
        assert _ids_in_id_table([again["id"]]) == {again["id"]}

    def test_copy_rows_writes_the_same_rows_in_either_format(self):
        authority = services.authority_for(self.credential)
        now = timezone.now()
        data = statement(result={"duration": "PT1.5S", "response": "a\tb\\c\nd"})
        rows: dict[bool, dict[str, object]] = {}
        for text in (False, True):
            data["id"] = str(uuid.uuid4())
            item = prepare_statement(
                dict(data), "", version="1.0.3", stored=now, authority=authority
            )
            with transaction.atomic():
                services.copy_rows(
                    services.statement_rows(self.platform.pk, [item], {}, {}), text=text
                )
            row = Statement.objects.values().get(statement_id=data["id"])
            rows[text] = {
                k: v for k, v in row.items() if k not in {"seq", "statement_id", "payload"}
            }
            assert _ids_in_id_table([data["id"]]) == {data["id"]}
        assert rows[False] == rows[True]

    def test_conflict_in_a_batch_stores_nothing_and_leaves_the_connection_clean(self):
        first = statement()
        self.store([first], credential=self.other_credential)
        fresh = statement()
        with pytest.raises(StatementConflict):
            self.store([fresh, first])  # `first` belongs to the other platform: 409
        self.assert_connection_clean()
        assert not Statement.objects.filter(statement_id=fresh["id"]).exists()
        assert _ids_in_id_table([fresh["id"]]) == set()
        self.store([fresh])  # and the connection works on
        assert Statement.objects.filter(statement_id=fresh["id"]).count() == 1

    def test_refusal_after_the_ids_were_inserted_rolls_them_back(self):
        number = make_id_number("420102", "19900101", 7)
        good = statement()
        bad = statement(result={"response": number})
        for size in (2, services.COPY_FROM_ROWS + 1):  # the INSERT and the COPY path
            batch = [good, *[statement() for _ in range(size - 2)], bad]
            with pytest.raises(XapiInvalid, match="ID number"):
                self.store(batch)
            self.assert_connection_clean()
            assert _ids_in_id_table([s["id"] for s in batch]) == set()
        assert Statement.objects.count() == 0

    def test_repeat_is_a_no_op_and_voiding_marks_the_target(self):
        target = statement()
        self.store([target])
        self.store([target])  # equivalent body: no-op
        assert Statement.objects.filter(statement_id=target["id"]).count() == 1
        voiding = statement(
            verb={"id": VOIDED},
            object={"objectType": "StatementRef", "id": target["id"]},
            context={"registration": str(uuid.uuid4())},
        )
        self.store([voiding])
        self.assert_connection_clean()
        assert Statement.objects.get(statement_id=target["id"]).voided
        assert Statement.objects.get(statement_id=voiding["id"]).is_voiding

    def test_voiding_statement_before_its_target_voids_it_on_arrival(self):
        target = statement()
        voiding = statement(
            verb={"id": VOIDED},
            object={"objectType": "StatementRef", "id": target["id"]},
            context={"registration": str(uuid.uuid4())},
        )
        store_statements(credential=self.credential, statements=[voiding], version="1.0.3")
        store_statements(credential=self.credential, statements=[target], version="1.0.3")
        assert Statement.objects.get(statement_id=target["id"]).voided
        self.assert_connection_clean()

    def test_a_lost_prepared_statement_is_prepared_again(self):
        first = statement()
        self.store([first])
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")  # as a pooler resetting the session would
        second = statement()
        self.store([second])  # redone once with the statement prepared again
        self.assert_connection_clean()
        assert Statement.objects.filter(statement_id__in=[first["id"], second["id"]]).count() == 2
        assert _ids_in_id_table([second["id"]]) == {second["id"]}

    def prepared_names(self) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
            return [name for (name,) in cursor.fetchall()]

    def test_a_statement_lost_when_all_are_due_again_is_prepared_again(self):
        self.store([statement()])
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE lrs_store_row")
        data = statement()
        with mock.patch.object(services, "PLAN_SECONDS", 0.0):  # due: DEALLOCATE all, fails
            self.store([data])
        self.assert_connection_clean()
        assert _ids_in_id_table([data["id"]]) == {data["id"]}
        assert self.prepared_names() == ["lrs_store_first", "lrs_store_one", "lrs_store_row"]

    def test_the_prepared_statements_run_on_their_generic_plans(self):
        # Left to choose, PostgreSQL planned the first statement anew at every execution on
        # a large partition; config/settings.py sets plan_cache_mode (by default the first
        # five runs of a prepared statement get custom plans) and turns JIT off.
        for _ in range(7):
            self.store([statement()])  # lrs_store_one
            self.store([statement(), statement()])  # lrs_store_first, lrs_store_row twice
        target = statement()
        self.store([target])
        voiding = statement(
            verb={"id": VOIDED},
            object={"objectType": "StatementRef", "id": target["id"]},
            context={"registration": str(uuid.uuid4())},
        )
        self.store([voiding])  # a voiding statement takes the two trips
        assert Statement.objects.get(statement_id=target["id"]).voided
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name"
            )
            assert cursor.fetchall() == [
                ("lrs_store_first", 8, 0),
                ("lrs_store_one", 8, 0),
                ("lrs_store_row", 15, 0),
            ]
            cursor.execute("DISCARD ALL")  # as a pooler resetting the session would
            cursor.execute("SHOW plan_cache_mode")
            assert cursor.fetchone() == ("force_generic_plan",)
            cursor.execute("SHOW jit")
            assert cursor.fetchone() == ("off",)

    def voiding_lookup_scans(self, name: str = "lrs_store_first") -> list[str]:
        """The partitions the cached generic plan of lrs_store_first (or lrs_store_one) reads
        whole (EXPLAIN: nothing is written)."""
        probe = str(uuid.uuid4())
        if name == "lrs_store_first":
            sql, params = (
                "EXECUTE lrs_store_first (%s::uuid[], %s::uuid[], %s)",
                [
                    "{" + probe + "}",
                    "{" + probe + "}",
                    self.platform.pk,
                ],
            )
        else:
            count = len(services._ONE_SENT) + len(services._ONE_EXTRA_TYPES)
            sql = "EXECUTE lrs_store_one (" + ", ".join(["%s"] * count) + ")"
            params = [None] * count
            params[:2] = [probe, self.platform.pk]
            params[len(services._ONE_SENT) + 2] = True  # the id was given: look for voiding
        return [
            node["Relation Name"]
            for node in plan_nodes(sql, params)
            if node["Node Type"] == "Seq Scan" and node["Relation Name"].startswith("lrs_")
        ]

    def test_plans_made_on_an_empty_partition_are_made_again_once_it_has_grown(self):
        current = partitions.partition_name(timezone.now().date())
        self.store([statement()])  # prepared (and planned) on a nearly empty partition
        assert current in self.voiding_lookup_scans()
        # One id: lrs_store_one's lookup is an equality on the partial index, on any plan.
        assert self.voiding_lookup_scans("lrs_store_one") == []
        authority = services.authority_for(self.credential)
        items = [
            prepare_statement(
                statement(), "", version="1.0.3", stored=timezone.now(), authority=authority
            )
            for _ in range(5000)
        ]
        with transaction.atomic():
            services.copy_rows(services.statement_rows(self.platform.pk, items, {}, {}))
        self.store([statement()])
        assert current in self.voiding_lookup_scans()  # kept for PLAN_SECONDS
        with mock.patch.object(services, "PLAN_SECONDS", 0.0):
            self.store([statement()])  # due: prepared and planned again
        assert current not in self.voiding_lookup_scans()
        self.assert_connection_clean()
        assert self.prepared_names() == ["lrs_store_first", "lrs_store_one", "lrs_store_row"]

    def test_learners_are_looked_up_by_the_platform_and_pseudonym_index(self):
        from zhipei.people.services import pseudonym_for
        from zhipei.people.testing import make_person

        names = [
            pseudonym_for(make_person(self.platform.organisation.region), platform=self.platform)[0]
            for _ in range(3)
        ]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny here
            nodes = plan_nodes(services._PEOPLE_SQL, [self.platform.pk, names[:2]])
        indexes = [node["Index Name"] for node in nodes if "Index Name" in node]
        assert indexes == ["pseudonym_unique_per_platform"]

    def test_one_lost_prepared_statement_is_prepared_again_beside_the_others(self):
        for lost in sorted(services._PREPARED):
            self.store([statement()])
            with connection.cursor() as cursor:
                cursor.execute(f"DEALLOCATE {lost}")  # the others are kept
            single, pair = statement(), [statement(), statement()]
            self.store([single])  # lrs_store_one
            self.store(pair)  # lrs_store_first and lrs_store_row
            self.assert_connection_clean()
            stored = [single["id"]] + [s["id"] for s in pair]
            assert Statement.objects.filter(statement_id__in=stored).count() == 3, lost
            assert self.prepared_names() == ["lrs_store_first", "lrs_store_one", "lrs_store_row"]
