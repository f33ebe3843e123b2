"""Calls: creation rules, and every call transition allowed and refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import PlatformApplication, PlatformCall, RubricItem
from zhipei.catalog.selection import services
from zhipei.catalog.selection.inputs import CallData, RubricItemData
from zhipei.catalog.tests.selection.helpers import SelectionTestCase, rubric
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    NotInScope,
    StaleObject,
    TransitionNotAllowed,
)

C = PlatformCall.Status
A = PlatformApplication.Status


class CreateCallTests(SelectionTestCase):
    def data(self, **overrides: object) -> CallData:
        now = timezone.now()
        values: dict[str, object] = {
            "region": self.regions["420100"],
            "title": "征集",
            "criteria": "依法设立",
            "opens_at": now,
            "closes_at": now + timedelta(days=5),
            "rubric": rubric(weight=2, max_score=20),
            "reviewers_required": 3,
        }
        values.update(overrides)
        return CallData(**values)  # type: ignore[arg-type]

    def test_city_officer_creates_a_draft_with_six_rubric_items(self) -> None:
        call = services.create_call(self.data(), by=self.city)
        self.assertEqual(call.status, C.DRAFT)
        self.assertEqual(call.reviewers_required, 3)
        items = RubricItem.objects.filter(call=call)
        self.assertEqual(items.count(), 6)
        self.assertEqual({(i.weight, i.max_score) for i in items}, {(2, 20)})
        event = AuditEvent.objects.get(action="catalog.call.created")
        self.assertEqual(event.region_code, "420100")

    def test_province_officer_may_create_a_call_for_a_city(self) -> None:
        call = services.create_call(self.data(), by=self.province)
        self.assertEqual(call.region.code, "420100")

    def test_county_officer_and_finance_officer_are_refused(self) -> None:
        for user in (self.reviewer_a, self.finance, self.operator, self.plain):
            with self.assertRaises(NotAllowed):
                services.create_call(self.data(), by=user)
        self.assertFalse(PlatformCall.objects.exists())

    def test_officer_of_another_city_is_out_of_scope(self) -> None:
        with self.assertRaises(NotInScope):
            services.create_call(self.data(), by=self.outsider)

    def test_county_region_is_refused(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            services.create_call(self.data(region=self.regions["420102"]), by=self.city)
        self.assertEqual(caught.exception.field, "region")

    def test_bad_fields_are_named(self) -> None:
        now = timezone.now()
        cases: list[tuple[dict[str, Any], str]] = [
            ({"title": "  "}, "title"),
            ({"criteria": ""}, "criteria"),
            ({"closes_at": now - timedelta(days=1)}, "closes_at"),
            ({"opens_at": now + timedelta(days=9)}, "closes_at"),
            ({"reviewers_required": 0}, "reviewers_required"),
            ({"rubric": rubric()[:5]}, "rubric"),
            ({"rubric": [*rubric(), RubricItemData("security", 1, 10)]}, "rubric"),
            ({"rubric": [*rubric()[:5], RubricItemData("beauty", 1, 10)]}, "rubric"),
            (
                {"rubric": [RubricItemData("qualification", 0, 10), *rubric()[1:]]},
                "weight_qualification",
            ),
            (
                {"rubric": [RubricItemData("qualification", 1, 0), *rubric()[1:]]},
                "max_score_qualification",
            ),
        ]
        for overrides, field in cases:
            with self.subTest(field=field, overrides=overrides):
                with self.assertRaises(InvalidInput) as caught:
                    services.create_call(self.data(**overrides), by=self.city)
                self.assertEqual(caught.exception.field, field)
        self.assertFalse(PlatformCall.objects.exists())


class CallTransitionTests(SelectionTestCase):
    def test_open_draft(self) -> None:
        call = self.make_call(opened=False)
        call = services.open_call(call, by=self.city)
        self.assertEqual(call.status, C.OPEN)
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.OPEN)
        self.assertTrue(AuditEvent.objects.filter(action="catalog.call.open").exists())

    def test_open_replay_returns_unchanged(self) -> None:
        call = self.make_call()
        events = AuditEvent.objects.count()
        self.assertEqual(services.open_call(call, by=self.city).status, C.OPEN)
        self.assertEqual(AuditEvent.objects.count(), events)

    def test_open_refused_after_the_deadline(self) -> None:
        call = self.make_call(opened=False)
        call = self.pass_deadline(call)
        with self.assertRaisesMessage(Conflict, "deadline"):
            services.open_call(call, by=self.city)

    def test_open_refused_from_later_states(self) -> None:
        call, _apps = self.under_review()
        with self.assertRaises(TransitionNotAllowed):
            services.open_call(call, by=self.city)

    def test_open_by_other_roles_refused(self) -> None:
        call = self.make_call(opened=False)
        with self.assertRaises(NotInScope):
            services.open_call(call, by=self.outsider)
        with self.assertRaises(NotAllowed):
            services.open_call(call, by=self.reviewer_a)

    def test_stale_copy_cannot_be_opened_twice(self) -> None:
        call = self.make_call(opened=False)
        stale = PlatformCall.objects.get(pk=call.pk)
        services.open_call(call, by=self.city)
        stale.status = C.DRAFT
        with self.assertRaises(StaleObject):
            services.open_call(stale, by=self.city)

    def test_review_refused_before_the_deadline(self) -> None:
        call = self.make_call()
        with self.assertRaisesMessage(Conflict, "after the deadline"):
            services.start_review(call, by=self.city)
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.OPEN)

    def test_review_moves_submitted_applications_and_leaves_drafts(self) -> None:
        call = self.make_call()
        submitted = self.make_application(call)
        draft = self.make_application(
            call, operator=self.operator2, organisation=self.org2, submit=False
        )
        call = services.start_review(self.pass_deadline(call), by=self.city)
        self.assertEqual(call.status, C.REVIEWING)
        self.assertEqual(PlatformApplication.objects.get(pk=submitted.pk).status, A.UNDER_REVIEW)
        self.assertEqual(PlatformApplication.objects.get(pk=draft.pk).status, A.DRAFT)

    def test_review_of_a_call_without_applications_goes_to_decided(self) -> None:
        call = services.start_review(self.pass_deadline(self.make_call()), by=self.city)
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.DECIDED)

    def test_review_from_draft_refused_and_replay_unchanged(self) -> None:
        draft = self.pass_deadline(self.make_call(opened=False))
        with self.assertRaises(TransitionNotAllowed):
            services.start_review(draft, by=self.city)
        call, _apps = self.under_review()
        self.assertEqual(services.start_review(call, by=self.city).status, C.REVIEWING)

    def test_publish_refused_unless_decided(self) -> None:
        call = self.make_call()
        with self.assertRaises(TransitionNotAllowed):
            services.publish_results(call, by=self.city)
        call, _apps = self.under_review()
        with self.assertRaises(TransitionNotAllowed):
            services.publish_results(call, by=self.city)

    def test_publish_decided_call_and_replay(self) -> None:
        call, _application = self.decided_call("not_selected")
        self.assertEqual(call.status, C.DECIDED)
        results = services.publish_results(call, by=self.city)
        call.refresh_from_db()
        self.assertEqual(call.status, C.PUBLISHED)
        self.assertIsNotNone(call.published_at)
        self.assertEqual(results.selected, [])
        again = services.publish_results(call, by=self.city)
        self.assertEqual(again.issued, [])
        self.assertEqual(AuditEvent.objects.filter(action="catalog.call.published").count(), 1)

    def test_publish_by_outsider_refused(self) -> None:
        call, _application = self.decided_call("not_selected")
        with self.assertRaises(NotInScope):
            services.publish_results(call, by=self.outsider)
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.DECIDED)
