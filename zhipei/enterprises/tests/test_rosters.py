"""Rosters: adding and ending periods, overlap, dispatchers, on_roster at the date edges."""

from __future__ import annotations

from datetime import date

from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope
from zhipei.enterprises import queries, services
from zhipei.enterprises.models import Employment
from zhipei.enterprises.tests.helpers import EnterpriseTestCase
from zhipei.people.models import Person
from zhipei.people.testing import make_person


class RosterTests(EnterpriseTestCase):
    person: Person

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.person = make_person(cls.regions["420102"], name="李雷")

    def add(self, **kwargs):
        values = {"kind": "employee", "start_on": date(2025, 1, 1), **kwargs}
        return services.add_employment(self.enterprise, self.person, by=self.admin, **values)

    def test_add_and_end_with_dates(self):
        employment = self.add()
        ended = services.end_employment(
            employment, end_on=date(2025, 6, 30), reason="Contract ended", by=self.admin
        )
        self.assertEqual(ended.end_on, date(2025, 6, 30))
        self.assertEqual(ended.removed_by, self.admin)
        again = services.end_employment(
            ended, end_on=date(2025, 6, 30), reason="Contract ended", by=self.admin
        )
        self.assertEqual(again.end_on, date(2025, 6, 30))
        with self.assertRaises(Conflict):
            services.end_employment(ended, end_on=date(2025, 7, 1), reason="x", by=self.admin)

    def test_end_before_start_or_without_reason_refused(self):
        employment = self.add()
        with self.assertRaises(InvalidInput):
            services.end_employment(
                employment, end_on=date(2024, 12, 31), reason="x", by=self.admin
            )
        with self.assertRaises(InvalidInput):
            services.end_employment(employment, end_on=date(2025, 2, 1), reason="", by=self.admin)

    def test_overlapping_periods_are_refused(self):
        employment = self.add()
        with self.assertRaises(Conflict):
            self.add(start_on=date(2025, 3, 1))
        services.end_employment(employment, end_on=date(2025, 6, 30), reason="x", by=self.admin)
        with self.assertRaises(Conflict):
            self.add(start_on=date(2025, 6, 30))
        later = self.add(start_on=date(2025, 7, 1), kind="platform_worker")
        self.assertEqual(later.kind, "platform_worker")
        with self.assertRaises(Conflict):
            self.add(start_on=date(2024, 1, 1), end_on=date(2025, 1, 1))
        earlier = self.add(start_on=date(2024, 1, 1), end_on=date(2024, 12, 31))
        self.assertEqual(earlier.end_on, date(2024, 12, 31))

    def test_same_person_may_be_on_two_rosters(self):
        self.add()
        other = services.add_employment(
            self.other_enterprise,
            self.person,
            kind="employee",
            start_on=date(2025, 1, 1),
            by=self.other_admin,
        )
        self.assertEqual(other.enterprise, self.other_enterprise)

    def test_dispatched_needs_a_dispatcher_others_none(self):
        with self.assertRaises(InvalidInput):
            self.add(kind="dispatched")
        with self.assertRaises(InvalidInput):
            self.add(kind="employee", dispatcher_name="某劳务派遣公司")
        with self.assertRaises(InvalidInput):
            self.add(kind="dispatched", dispatcher_uscc="123")
        employment = self.add(kind="dispatched", dispatcher_uscc="91420102mA4k12345x")
        self.assertEqual(employment.dispatcher_uscc, "91420102MA4K12345X")

    def test_bad_kind_refused(self):
        with self.assertRaises(InvalidInput) as caught:
            self.add(kind="intern")
        self.assertEqual(caught.exception.field, "kind")
        self.assertFalse(Employment.objects.exists())

    def test_only_own_admin_changes_the_roster(self):
        with self.assertRaises(NotInScope):
            services.add_employment(
                self.enterprise,
                self.person,
                kind="employee",
                start_on=date(2025, 1, 1),
                by=self.other_admin,
            )
        with self.assertRaises(NotAllowed):
            services.add_employment(
                self.enterprise,
                self.person,
                kind="employee",
                start_on=date(2025, 1, 1),
                by=self.officer,
            )
        employment = self.add()
        with self.assertRaises(NotInScope):
            services.end_employment(
                employment, end_on=date(2025, 2, 1), reason="x", by=self.other_admin
            )

    def test_on_roster_at_the_edges(self):
        employment = self.add(start_on=date(2025, 1, 1), end_on=date(2025, 1, 31))
        for day, expected in [
            (date(2024, 12, 31), None),
            (date(2025, 1, 1), employment),
            (date(2025, 1, 31), employment),
            (date(2025, 2, 1), None),
        ]:
            with self.subTest(day=day):
                self.assertEqual(queries.on_roster(self.enterprise, self.person, day), expected)
        self.assertIsNone(queries.on_roster(self.other_enterprise, self.person, date(2025, 1, 5)))

    def test_open_period_covers_every_later_day(self):
        employment = self.add(start_on=date(2025, 1, 1))
        self.assertEqual(
            queries.on_roster(self.enterprise, self.person, date(2030, 1, 1)), employment
        )

    def test_roster_search_by_name_and_whole_id_number(self):
        from zhipei.people.testing import make_id_number

        number = make_id_number("420102", "19850505", 31)
        han = make_person(self.regions["420102"], name="韩梅梅", id_number=number)
        self.add()
        services.add_employment(
            self.enterprise, han, kind="employee", start_on=date(2025, 1, 1), by=self.admin
        )
        self.assertEqual([e.person for e in queries.roster_of(self.enterprise, text="梅")], [han])
        self.assertEqual([e.person for e in queries.roster_of(self.enterprise, text=number)], [han])
        self.assertEqual(list(queries.roster_of(self.enterprise, text=number[:10])), [])
