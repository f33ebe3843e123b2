"""Decisions: preconditions (review count, holds, call state), revision before publication,
the call moving to decided."""

from __future__ import annotations

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import PlatformApplication, PlatformCall
from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import SelectionTestCase
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.orgs.services import lift_hold, place_hold

A = PlatformApplication.Status
C = PlatformCall.Status


class DecideTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call, (self.application,) = self.under_review()

    def test_decision_needs_the_required_reviews(self) -> None:
        self.reviewed(self.application, self.reviewer_a)
        with self.assertRaisesMessage(Conflict, "needs 2 submitted reviews"):
            services.decide(self.application, outcome="selected", by=self.city)
        self.assertEqual(
            PlatformApplication.objects.get(pk=self.application.pk).status, A.UNDER_REVIEW
        )

    def test_conflicted_and_unsubmitted_reviews_do_not_count(self) -> None:
        self.reviewed(self.application, self.reviewer_a)
        conflicted = services.assign_reviewer(
            self.application, reviewer=self.reviewer_b, by=self.city
        )
        services.declare_conflict(conflicted, note="family", by=self.reviewer_b)
        services.assign_reviewer(self.application, reviewer=self.reviewer_c, by=self.city)
        with self.assertRaisesMessage(Conflict, "it has 1"):
            services.decide(self.application, outcome="selected", by=self.city)
        self.reviewed(self.application, self.province)
        decided = services.decide(self.application, outcome="selected", by=self.city)
        self.assertEqual(decided.status, A.SELECTED)

    def test_selected_records_decider_and_moves_the_call_to_decided(self) -> None:
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        decided = services.decide(
            self.application, outcome="selected", by=self.city, note="top scores"
        )
        stored = PlatformApplication.objects.get(pk=decided.pk)
        self.assertEqual(stored.status, A.SELECTED)
        self.assertEqual(stored.decided_by, self.city)
        self.assertEqual(stored.decision_note, "top scores")
        self.assertIsNotNone(stored.decided_at)
        self.assertEqual(PlatformCall.objects.get(pk=self.call.pk).status, C.DECIDED)
        event = AuditEvent.objects.get(action="catalog.application.selected")
        self.assertEqual(event.data["from"], A.UNDER_REVIEW)

    def test_call_stays_in_review_while_applications_wait(self) -> None:
        call, (first, second) = self.under_review(operators=2)
        self.reviewed(first, self.reviewer_a, self.reviewer_b)
        services.decide(first, outcome="not_selected", by=self.city)
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.REVIEWING)
        self.reviewed(second, self.reviewer_a, self.reviewer_b)
        services.decide(
            PlatformApplication.objects.get(pk=second.pk), outcome="selected", by=self.city
        )
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.DECIDED)

    def test_hold_blocks_selection_but_not_rejection(self) -> None:
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        hold = place_hold(self.org, reason="fraud screen", by=self.city)
        with self.assertRaises(OnHold):
            services.decide(self.application, outcome="selected", by=self.city)
        self.assertEqual(
            PlatformApplication.objects.get(pk=self.application.pk).status, A.UNDER_REVIEW
        )
        lift_hold(hold, reason="cleared", by=self.city)
        self.assertEqual(
            services.decide(self.application, outcome="selected", by=self.city).status,
            A.SELECTED,
        )

    def test_not_selected_allowed_with_hold(self) -> None:
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        place_hold(self.org, reason="fraud screen", by=self.city)
        self.assertEqual(
            services.decide(self.application, outcome="not_selected", by=self.city).status,
            A.NOT_SELECTED,
        )

    def test_revision_before_publication_and_replay(self) -> None:
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        services.decide(self.application, outcome="selected", by=self.city)
        application = PlatformApplication.objects.get(pk=self.application.pk)
        revised = services.decide(application, outcome="not_selected", by=self.city)
        self.assertEqual(revised.status, A.NOT_SELECTED)
        events = AuditEvent.objects.count()
        self.assertEqual(
            services.decide(revised, outcome="not_selected", by=self.city).status,
            A.NOT_SELECTED,
        )
        self.assertEqual(AuditEvent.objects.count(), events)

    def test_no_decision_after_publication(self) -> None:
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        services.decide(self.application, outcome="not_selected", by=self.city)
        services.publish_results(PlatformCall.objects.get(pk=self.call.pk), by=self.city)
        application = PlatformApplication.objects.get(pk=self.application.pk)
        with self.assertRaisesMessage(Conflict, "before the results are published"):
            services.decide(application, outcome="selected", by=self.city)

    def test_withdrawn_or_draft_cannot_be_decided(self) -> None:
        call = self.make_call(title="other")
        draft = self.make_application(call, submit=False)
        call = services.start_review(self.pass_deadline(call), by=self.city)
        draft = PlatformApplication.objects.get(pk=draft.pk)
        with self.assertRaises(TransitionNotAllowed):
            services.decide(draft, outcome="selected", by=self.city)

    def test_bad_outcome_and_wrong_people(self) -> None:
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        with self.assertRaises(InvalidInput) as caught:
            services.decide(self.application, outcome="maybe", by=self.city)
        self.assertEqual(caught.exception.field, "outcome")
        with self.assertRaises(NotAllowed):
            services.decide(self.application, outcome="selected", by=self.reviewer_a)
        with self.assertRaises(NotInScope):
            services.decide(self.application, outcome="selected", by=self.outsider)
        with self.assertRaises(NotAllowed):
            services.decide(self.application, outcome="selected", by=self.operator)

    def test_stale_decision_refused(self) -> None:
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        stale = PlatformApplication.objects.get(pk=self.application.pk)
        services.decide(self.application, outcome="selected", by=self.city)
        with self.assertRaises(StaleObject):
            services.decide(stale, outcome="not_selected", by=self.province)
