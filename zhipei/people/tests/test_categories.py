from __future__ import annotations

from datetime import date
from typing import Any

from zhipei.audit.queries import events_for
from zhipei.core.errors import Conflict, InvalidInput, StaleObject
from zhipei.people.models import PersonCategory
from zhipei.people.queries import categories_on, in_group_on
from zhipei.people.services import add_category, end_category
from zhipei.people.testing import make_person
from zhipei.people.tests.base import PeopleTestCase

C = PersonCategory.Category


class CategoryTests(PeopleTestCase):
    def setUp(self):
        self.person = make_person(self.wuchang)

    def add(self, **overrides):
        fields: dict[str, Any] = {
            "category": C.IDLE_WORKER,
            "source": "enterprise roster 2025-03",
            "valid_from": date(2025, 3, 1),
            "valid_to": date(2025, 6, 30),
            "by": self.county_officer,
        }
        fields.update(overrides)
        return add_category(self.person, **fields)

    def test_add_category_and_query_by_date(self):
        category = self.add()

        self.assertEqual(category.recorded_by, self.county_officer)
        self.assertEqual(list(categories_on(self.person, date(2025, 3, 1))), [category])
        self.assertEqual(list(categories_on(self.person, date(2025, 6, 30))), [category])
        self.assertEqual(list(categories_on(self.person, date(2025, 2, 28))), [])
        self.assertEqual(list(categories_on(self.person, date(2025, 7, 1))), [])
        event = events_for(self.person).get(action="people.person.category_added")
        self.assertEqual(event.data["category"], "idle_worker")
        self.assertEqual(event.data["valid_to"], "2025-06-30")

    def test_in_group_on_single_category_and_group(self):
        self.add(category=C.EMPLOYMENT_DIFFICULTY, valid_to=None)

        self.assertTrue(in_group_on(self.person, C.EMPLOYMENT_DIFFICULTY, date(2030, 1, 1)))
        self.assertFalse(in_group_on(self.person, C.IDLE_WORKER, date(2025, 4, 1)))
        self.assertTrue(
            in_group_on(self.person, PersonCategory.LIVING_ALLOWANCE_GROUPS, date(2025, 4, 1))
        )
        self.assertFalse(
            in_group_on(self.person, PersonCategory.LIVING_ALLOWANCE_GROUPS, date(2025, 2, 1))
        )

    def test_overlapping_period_of_same_category_is_a_conflict(self):
        self.add()
        for valid_from, valid_to in (
            (date(2025, 6, 30), None),
            (date(2025, 1, 1), date(2025, 3, 1)),
            (date(2025, 4, 1), date(2025, 4, 2)),
        ):
            with self.subTest(valid_from=valid_from), self.assertRaises(Conflict):
                self.add(valid_from=valid_from, valid_to=valid_to)
        self.add(valid_from=date(2025, 7, 1), valid_to=None)
        self.add(category=C.PRIORITY_GROUP)
        self.assertEqual(self.person.categories.count(), 3)

    def test_open_ended_period_blocks_later_ones(self):
        self.add(valid_to=None)
        with self.assertRaises(Conflict):
            self.add(valid_from=date(2030, 1, 1), valid_to=None)

    def test_bad_input(self):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"category": "astronaut"}, "category"),
            ({"source": "  "}, "source"),
            ({"source": "x" * 201}, "source"),
            ({"valid_to": date(2025, 2, 1)}, "valid_to"),
        ]
        for overrides, field in cases:
            with self.subTest(field=field), self.assertRaises(InvalidInput) as exc:
                self.add(**overrides)
            self.assertEqual(exc.exception.field, field)
        self.assertEqual(self.person.categories.count(), 0)

    def test_end_category(self):
        category = self.add(valid_to=None)
        stale = PersonCategory.objects.get(pk=category.pk)

        end_category(category, valid_to=date(2025, 5, 31), by=self.county_officer)

        category.refresh_from_db()
        self.assertEqual(category.valid_to, date(2025, 5, 31))
        self.assertFalse(in_group_on(self.person, C.IDLE_WORKER, date(2025, 6, 1)))
        self.assertTrue(
            events_for(self.person).filter(action="people.person.category_ended").exists()
        )
        with self.assertRaises(StaleObject):
            end_category(stale, valid_to=date(2025, 4, 30), by=self.county_officer)
        with self.assertRaises(Conflict):
            end_category(category, valid_to=date(2025, 4, 30), by=self.county_officer)

    def test_end_before_start_is_refused(self):
        category = self.add(valid_to=None)
        with self.assertRaises(InvalidInput) as exc:
            end_category(category, valid_to=date(2025, 2, 1), by=None)
        self.assertEqual(exc.exception.field, "valid_to")
        category.refresh_from_db()
        self.assertIsNone(category.valid_to)
