"""Holds on organisations: placing, lifting, queries."""

from __future__ import annotations

from zhipei.audit.queries import events_for
from zhipei.core.errors import InvalidInput, NotAllowed, NotInScope, StaleObject
from zhipei.orgs.models import OrganisationHold
from zhipei.orgs.queries import active_holds, has_active_hold
from zhipei.orgs.services import lift_hold, place_hold
from zhipei.orgs.tests.helpers import OrgsTestCase, make_organisation


class HoldTests(OrgsTestCase):
    def setUp(self):
        self.organisation = make_organisation(region=self.jiangan)

    def test_officer_places_and_lifts_a_hold(self):
        self.assertFalse(has_active_hold(self.organisation))
        hold = place_hold(self.organisation, reason="涉嫌虚报培训人数", by=self.county_officer)
        self.assertTrue(has_active_hold(self.organisation))
        self.assertEqual(list(active_holds(self.organisation)), [hold])
        self.assertEqual(hold.placed_by, self.county_officer)

        lift_hold(hold, reason="核查无问题", by=self.city_officer)

        hold.refresh_from_db()
        self.assertFalse(has_active_hold(self.organisation))
        self.assertEqual(hold.lifted_by, self.city_officer)
        self.assertEqual(hold.lift_reason, "核查无问题")
        self.assertEqual(
            [e.action for e in events_for(hold)], ["orgs.hold.placed", "orgs.hold.lifted"]
        )

    def test_supervision_places_a_hold_by_reference_without_an_actor(self):
        hold = place_hold(
            self.organisation, reason="alert", by=None, source_type="case", source_ref="C-2026-7"
        )
        self.assertEqual(
            (hold.source_type, hold.source_ref, hold.placed_by), ("case", "C-2026-7", None)
        )

    def test_second_lift_is_stale(self):
        hold = place_hold(self.organisation, reason="check", by=self.county_officer)
        stale = OrganisationHold.objects.get(pk=hold.pk)
        lift_hold(hold, reason="ok", by=self.county_officer)
        with self.assertRaises(StaleObject):
            lift_hold(stale, reason="ok again", by=self.city_officer)
        self.assertEqual(len(events_for(hold)), 2)

    def test_reasons_are_required(self):
        with self.assertRaises(InvalidInput) as caught:
            place_hold(self.organisation, reason="  ", by=self.county_officer)
        self.assertEqual(caught.exception.field, "reason")
        hold = place_hold(self.organisation, reason="check", by=self.county_officer)
        with self.assertRaises(InvalidInput):
            lift_hold(hold, reason="", by=self.county_officer)
        self.assertTrue(has_active_hold(self.organisation))

    def test_outsider_and_wrong_role_cannot_place_or_lift(self):
        with self.assertRaises(NotInScope):
            place_hold(self.organisation, reason="x", by=self.outsider)
        with self.assertRaises(NotAllowed):
            place_hold(self.organisation, reason="x", by=self.finance_officer)
        hold = place_hold(self.organisation, reason="check", by=self.county_officer)
        with self.assertRaises(NotInScope):
            lift_hold(hold, reason="x", by=self.outsider)
        with self.assertRaises(NotAllowed):
            lift_hold(hold, reason="x", by=self.learner)
        self.assertTrue(has_active_hold(self.organisation))
