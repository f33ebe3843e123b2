"""The clear ID number appears nowhere in the database: not in the person's row, not in the
audit log, not in any other table, after every people service has run."""

from __future__ import annotations

from datetime import date

from django.db import connection

from zhipei.people.services import (
    add_category,
    create_person,
    end_category,
    lift_hold,
    place_hold,
    reveal_id_number,
)
from zhipei.people.testing import make_id_number
from zhipei.people.tests.base import PeopleTestCase


def cells(table: str) -> list[object]:
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 (table names from introspection)
        return [cell for row in cursor.fetchall() for cell in row]


def as_texts(cell: object) -> list[str]:
    if isinstance(cell, bytes | bytearray | memoryview):
        raw = bytes(cell)
        return [raw.decode("latin-1"), raw.hex()]
    return [str(cell)]


class NoClearIdNumberInDatabaseTests(PeopleTestCase):
    def test_number_is_nowhere_in_the_database(self):
        number = make_id_number("420106", "19880808", seq=817)
        person = create_person(
            name="王芳", id_number=number, region=self.wuchang, phone="13912345678", by=None
        )
        self.assertEqual(reveal_id_number(person, by=self.county_officer, purpose="audit"), number)
        category = add_category(
            person,
            category="idle_worker",
            source="roster",
            valid_from=date(2025, 1, 1),
            by=self.county_officer,
        )
        end_category(category, valid_to=date(2025, 2, 1), by=self.county_officer)
        hold = place_hold(person, reason="check", by=self.county_officer)
        lift_hold(hold, reason="done", by=self.county_officer)

        # The full number, and the part that identifies a person beyond the masked form.
        needles = {number, number[3:14], number.encode().hex()}
        tables = connection.introspection.table_names()
        self.assertIn("people_person", tables)
        self.assertIn("audit_auditevent", tables)
        scanned = 0
        for table in tables:
            for cell in cells(table):
                scanned += 1
                for text in as_texts(cell):
                    for needle in needles:
                        self.assertNotIn(needle, text, f"found in table {table}")
        self.assertGreater(scanned, 50)
        self.assertIn(person.id_masked, [str(c) for c in cells("people_person")])
