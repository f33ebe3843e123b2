from __future__ import annotations

from typing import Any

from django.utils import timezone

from zhipei.accounts.models import RoleAssignment
from zhipei.audit.queries import events_for
from zhipei.core.errors import InvalidInput, NotAllowed, NotInScope, StaleObject
from zhipei.people.models import PersonHold
from zhipei.people.queries import active_holds, has_active_hold
from zhipei.people.services import lift_hold, place_hold
from zhipei.people.testing import make_person
from zhipei.people.tests.base import PeopleTestCase


class HoldTests(PeopleTestCase):
    def setUp(self):
        self.person = make_person(self.wuchang)

    def test_county_officer_places_and_lifts_a_hold(self):
        hold = place_hold(self.person, reason="suspected proxy learning", by=self.county_officer)

        self.assertTrue(has_active_hold(self.person))
        self.assertEqual(list(active_holds(self.person)), [hold])
        self.assertEqual(hold.placed_by, self.county_officer)
        self.assertEqual(hold.source_type, "officer")

        lifted = lift_hold(hold, reason="checked: learner was present", by=self.county_officer)

        self.assertIsNotNone(lifted.lifted_at)
        self.assertFalse(has_active_hold(self.person))
        hold.refresh_from_db()
        self.assertEqual(hold.lifted_by, self.county_officer)
        self.assertEqual(hold.lift_reason, "checked: learner was present")
        actions = list(events_for(self.person).values_list("action", flat=True))
        self.assertEqual(actions[-2:], ["people.person.hold_placed", "people.person.hold_lifted"])

    def test_city_officer_covers_counties_of_the_city(self):
        hold = place_hold(self.person, reason="r", by=self.city_officer)
        lift_hold(hold, reason="r", by=self.city_officer)

    def test_officer_outside_the_region_gets_not_in_scope(self):
        with self.assertRaises(NotInScope):
            place_hold(self.person, reason="r", by=self.outsider)
        hold = place_hold(self.person, reason="r", by=self.county_officer)
        with self.assertRaises(NotInScope):
            lift_hold(hold, reason="r", by=self.outsider)
        other_county = make_person(self.jiangan, name="李雷")
        with self.assertRaises(NotInScope):
            place_hold(other_county, reason="r", by=self.county_officer)
        self.assertTrue(has_active_hold(self.person))
        self.assertFalse(has_active_hold(other_county))

    def test_wrong_role_gets_not_allowed(self):
        for user in (self.finance_officer, self.nobody):
            with self.subTest(user=user.username), self.assertRaises(NotAllowed):
                place_hold(self.person, reason="r", by=user)
        hold = place_hold(self.person, reason="r", by=self.county_officer)
        with self.assertRaises(NotAllowed):
            lift_hold(hold, reason="r", by=self.finance_officer)

    def test_revoked_officer_gets_not_allowed(self):
        RoleAssignment.objects.filter(user=self.county_officer).update(revoked_at=timezone.now())
        with self.assertRaises(NotAllowed):
            place_hold(self.person, reason="r", by=self.county_officer)

    def test_hold_cannot_be_lifted_twice(self):
        hold = place_hold(self.person, reason="r", by=self.county_officer)
        stale = PersonHold.objects.get(pk=hold.pk)
        lift_hold(hold, reason="first", by=self.county_officer)

        with self.assertRaises(StaleObject):
            lift_hold(stale, reason="second", by=self.city_officer)
        with self.assertRaises(StaleObject):
            lift_hold(hold, reason="again", by=self.county_officer)
        hold.refresh_from_db()
        self.assertEqual(hold.lift_reason, "first")
        self.assertEqual(
            events_for(self.person).filter(action="people.person.hold_lifted").count(), 1
        )

    def test_system_hold_from_a_case_is_idempotent(self):
        first = place_hold(
            self.person, reason="alert 9", by=None, source_type="supervision_case", source_ref="42"
        )
        again = place_hold(
            self.person, reason="alert 9", by=None, source_type="supervision_case", source_ref="42"
        )
        self.assertEqual(first, again)
        self.assertEqual(self.person.holds.count(), 1)
        self.assertEqual(
            events_for(self.person).filter(action="people.person.hold_placed").count(), 1
        )
        lift_hold(first, reason="case closed", by=self.county_officer)
        third = place_hold(
            self.person, reason="reopened", by=None, source_type="supervision_case", source_ref="42"
        )
        self.assertNotEqual(third, first)

    def test_bad_input(self):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"reason": " ", "by": self.county_officer}, "reason"),
            ({"reason": "r", "by": None}, "source_type"),
            ({"reason": "r", "by": None, "source_type": ""}, "source_type"),
            ({"reason": "r", "by": self.county_officer, "source_ref": "x" * 65}, "source_ref"),
        ]
        for kwargs, field in cases:
            with self.subTest(field=field), self.assertRaises(InvalidInput) as exc:
                place_hold(self.person, **kwargs)
            self.assertEqual(exc.exception.field, field)
        hold = place_hold(self.person, reason="r", by=self.county_officer)
        with self.assertRaises(InvalidInput):
            lift_hold(hold, reason="", by=self.county_officer)
        self.assertEqual(self.person.holds.count(), 1)
        self.assertTrue(has_active_hold(self.person))
