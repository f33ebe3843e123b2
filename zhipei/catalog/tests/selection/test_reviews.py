"""Reviews: assignment, scoring rules (range, every item, once), conflicts of interest and who
sees which scores."""

from __future__ import annotations

from typing import Any

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import Criterion, PlatformApplication, Review, ReviewScore
from zhipei.catalog.selection import queries, services
from zhipei.catalog.tests.selection.helpers import SelectionTestCase, full_scores, rubric
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope

A = PlatformApplication.Status


class AssignReviewerTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call, (self.application,) = self.under_review()

    def test_assign_is_idempotent(self) -> None:
        review = services.assign_reviewer(self.application, reviewer=self.reviewer_a, by=self.city)
        again = services.assign_reviewer(self.application, reviewer=self.reviewer_a, by=self.city)
        self.assertEqual(review.pk, again.pk)
        self.assertEqual(AuditEvent.objects.filter(action="catalog.review.assigned").count(), 1)

    def test_officers_above_and_below_the_call_region_are_eligible(self) -> None:
        for reviewer in (self.province, self.reviewer_a, self.reviewer_c, self.city):
            services.assign_reviewer(self.application, reviewer=reviewer, by=self.city)
        self.assertEqual(Review.objects.filter(application=self.application).count(), 4)
        self.assertEqual(
            set(queries.eligible_reviewers(self.call)),
            {self.province, self.city, self.reviewer_a, self.reviewer_b, self.reviewer_c},
        )

    def test_ineligible_reviewers_refused(self) -> None:
        for user in (self.outsider, self.finance, self.operator, self.plain):
            with self.subTest(user=user.username):
                with self.assertRaises(InvalidInput) as caught:
                    services.assign_reviewer(self.application, reviewer=user, by=self.city)
                self.assertEqual(caught.exception.field, "reviewer")
        self.assertFalse(Review.objects.exists())

    def test_only_call_officers_assign(self) -> None:
        with self.assertRaises(NotAllowed):
            services.assign_reviewer(self.application, reviewer=self.reviewer_b, by=self.reviewer_a)
        with self.assertRaises(NotInScope):
            services.assign_reviewer(self.application, reviewer=self.reviewer_b, by=self.outsider)

    def test_assign_to_every_application_of_the_call(self) -> None:
        call, applications = self.under_review(operators=2)
        reviews = services.assign_reviewers(
            call, reviewers=[self.reviewer_a, self.reviewer_b], by=self.city
        )
        self.assertEqual(len(reviews), 4)
        self.assertEqual(Review.objects.filter(application__in=applications).count(), 4)
        with self.assertRaises(InvalidInput):
            services.assign_reviewers(call, reviewers=[], by=self.city)

    def test_assign_refused_outside_review(self) -> None:
        call = self.make_call()
        application = self.make_application(call)
        with self.assertRaisesMessage(Conflict, "under review"):
            services.assign_reviewer(application, reviewer=self.reviewer_a, by=self.city)
        with self.assertRaisesMessage(Conflict, "under review"):
            services.assign_reviewers(call, reviewers=[self.reviewer_a], by=self.city)


class ScoringTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call, (self.application,) = self.under_review()
        self.review = services.assign_reviewer(
            self.application, reviewer=self.reviewer_a, by=self.city
        )

    def test_score_every_item_and_total_is_weighted(self) -> None:
        # Weights: qualification 3, the rest 1 (from the call's rubric).
        self.call.rubric.filter(criterion="qualification").update(weight=3)
        scores = full_scores(7)
        scores["qualification"] = 10
        review = services.score(self.review, scores=scores, by=self.reviewer_a, comment="good")
        self.assertEqual(review.total_score, 10 * 3 + 7 * 5)
        stored = Review.objects.get(pk=review.pk)
        self.assertIsNotNone(stored.submitted_at)
        self.assertEqual(stored.comment, "good")
        self.assertEqual(ReviewScore.objects.filter(review=review).count(), 6)
        event = AuditEvent.objects.get(action="catalog.review.submitted")
        self.assertEqual(event.data["total"], 65)

    def test_scoring_twice_is_a_clear_error_and_keeps_the_first(self) -> None:
        services.score(self.review, scores=full_scores(5), by=self.reviewer_a)
        with self.assertRaisesMessage(Conflict, "already submitted"):
            services.score(self.review, scores=full_scores(9), by=self.reviewer_a)
        stale = Review.objects.get(pk=self.review.pk)
        stale.submitted_at = None  # a copy loaded before the first submission
        with self.assertRaisesMessage(Conflict, "already submitted"):
            services.score(stale, scores=full_scores(9), by=self.reviewer_a)
        self.assertEqual(Review.objects.get(pk=self.review.pk).total_score, 30)
        self.assertEqual(ReviewScore.objects.count(), 6)

    def test_every_item_in_range_is_required(self) -> None:
        missing = full_scores()
        del missing["security"]
        too_high = full_scores()
        too_high["reputation"] = 11
        negative = full_scores()
        negative["resources"] = -1
        not_int = full_scores()
        not_int["qualification"] = "8"  # type: ignore[assignment]
        cases = [
            (missing, "score_security"),
            (too_high, "score_reputation"),
            (negative, "score_resources"),
            (not_int, "score_qualification"),
            ({**full_scores(), "beauty": 3}, "scores"),
        ]
        for scores, field in cases:
            with self.subTest(field=field):
                with self.assertRaises(InvalidInput) as caught:
                    services.score(self.review, scores=scores, by=self.reviewer_a)
                self.assertEqual(caught.exception.field, field)
        self.assertIsNone(Review.objects.get(pk=self.review.pk).submitted_at)
        self.assertFalse(ReviewScore.objects.exists())

    def test_zero_and_max_are_allowed(self) -> None:
        scores = full_scores(0)
        scores["security"] = 10
        self.assertEqual(
            services.score(self.review, scores=scores, by=self.reviewer_a).total_score, 10
        )

    def test_only_the_assigned_reviewer_scores(self) -> None:
        for user in (self.reviewer_b, self.city):
            with self.assertRaises(NotInScope):
                services.score(self.review, scores=full_scores(), by=user)

    def test_conflict_declared_then_cannot_score(self) -> None:
        review = services.declare_conflict(
            self.review, note="I advised this company in 2024.", by=self.reviewer_a
        )
        self.assertTrue(Review.objects.get(pk=review.pk).conflict_declared)
        with self.assertRaisesMessage(Conflict, "conflict of interest"):
            services.score(review, scores=full_scores(), by=self.reviewer_a)
        with self.assertRaisesMessage(Conflict, "conflict of interest"):
            services.declare_conflict(review, note="again", by=self.reviewer_a)
        self.assertTrue(
            AuditEvent.objects.filter(action="catalog.review.conflict_declared").exists()
        )

    def test_conflict_needs_a_note_and_not_after_scoring(self) -> None:
        with self.assertRaises(InvalidInput) as caught:
            services.declare_conflict(self.review, note=" ", by=self.reviewer_a)
        self.assertEqual(caught.exception.field, "conflict_note")
        services.score(self.review, scores=full_scores(), by=self.reviewer_a)
        with self.assertRaisesMessage(Conflict, "already submitted"):
            services.declare_conflict(self.review, note="late", by=self.reviewer_a)

    def test_scoring_after_decision_refused(self) -> None:
        late = services.assign_reviewer(self.application, reviewer=self.reviewer_c, by=self.city)
        self.reviewed(self.application, self.reviewer_b, self.province)
        services.decide(self.application, outcome="not_selected", by=self.city)
        late = Review.objects.get(pk=late.pk)
        with self.assertRaisesMessage(Conflict, "decided"):
            services.score(late, scores=full_scores(), by=self.reviewer_c)

    def test_call_with_other_rubric_scales(self) -> None:
        call = self.make_call(rubric=rubric(weight=2, max_score=5), title="second")
        application = self.make_application(call, operator=self.operator2, organisation=self.org2)
        call = services.start_review(self.pass_deadline(call), by=self.city)
        application = PlatformApplication.objects.get(pk=application.pk)
        review = services.assign_reviewer(application, reviewer=self.reviewer_b, by=self.city)
        with self.assertRaisesMessage(InvalidInput, "from 0 to 5"):
            services.score(review, scores=full_scores(6), by=self.reviewer_b)
        self.assertEqual(
            services.score(review, scores=full_scores(5), by=self.reviewer_b).total_score, 60
        )


class VisibilityTests(SelectionTestCase):
    def setUp(self) -> None:
        _call, (self.application,) = self.under_review()
        self.review_a = services.assign_reviewer(
            self.application, reviewer=self.reviewer_a, by=self.city
        )
        self.review_b = services.assign_reviewer(
            self.application, reviewer=self.reviewer_b, by=self.city
        )
        services.score(self.review_a, scores=full_scores(9), by=self.reviewer_a)

    def test_reviewer_sees_only_own_review_until_submitting(self) -> None:
        visible = queries.visible_reviews(self.reviewer_b, self.application)
        self.assertEqual(visible, [self.review_b])
        self.assertFalse(visible[0].scores.all())

    def test_after_submitting_the_reviewer_sees_all(self) -> None:
        services.score(self.review_b, scores=full_scores(4), by=self.reviewer_b)
        visible = queries.visible_reviews(self.reviewer_b, self.application)
        self.assertEqual({r.pk for r in visible}, {self.review_a.pk, self.review_b.pk})
        totals = {r.reviewer_id: r.total_score for r in visible}
        self.assertEqual(totals[self.reviewer_a.pk], 54)

    def test_conflicted_reviewer_never_sees_others(self) -> None:
        services.declare_conflict(self.review_b, note="related party", by=self.reviewer_b)
        self.assertEqual(
            [r.pk for r in queries.visible_reviews(self.reviewer_b, self.application)],
            [self.review_b.pk],
        )

    def test_officer_who_is_not_a_reviewer_sees_all(self) -> None:
        self.assertEqual(len(queries.visible_reviews(self.city, self.application)), 2)

    def test_officer_who_is_also_a_reviewer_waits_like_the_others(self) -> None:
        own = services.assign_reviewer(self.application, reviewer=self.city, by=self.city)
        self.assertEqual(
            [r.pk for r in queries.visible_reviews(self.city, self.application)], [own.pk]
        )

    def test_average_counts_only_submitted_reviews_without_conflict(self) -> None:
        services.declare_conflict(self.review_b, note="related", by=self.reviewer_b)
        row: Any = queries.applications_of(self.application.call).get(pk=self.application.pk)
        self.assertEqual(row.average_score, 54)
        self.assertEqual((row.reviews_done, row.reviews_assigned, row.conflicts), (1, 2, 1))
        self.assertEqual(list(Criterion.values), [i.criterion for i in queries.rubric_of(row.call)])


class StaleConflictTests(SelectionTestCase):
    def test_conflict_on_a_copy_loaded_before_scoring_is_refused(self) -> None:
        _call, (application,) = self.under_review()
        review = services.assign_reviewer(application, reviewer=self.reviewer_a, by=self.city)
        stale = Review.objects.get(pk=review.pk)
        services.score(review, scores=full_scores(), by=self.reviewer_a)
        with self.assertRaisesMessage(Conflict, "already submitted"):
            services.declare_conflict(stale, note="late", by=self.reviewer_a)
        self.assertFalse(Review.objects.get(pk=review.pk).conflict_declared)
