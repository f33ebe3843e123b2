"""Reviewer pages: my reviews, the score form with the conflict declaration, documents."""

from __future__ import annotations

from django.urls import reverse

from zhipei.catalog.models import Review
from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import PDF_BYTES, SelectionTestCase, full_scores


def _score_post(value: int = 7, **overrides: str) -> dict[str, str]:
    data = {f"score_{c}": str(v) for c, v in full_scores(value).items()}
    data["comment"] = "solid"
    data.update(overrides)
    return data


class ReviewPagesTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call, (self.application,) = self.under_review()
        self.review_a = services.assign_reviewer(
            self.application, reviewer=self.reviewer_a, by=self.city
        )
        self.review_b = services.assign_reviewer(
            self.application, reviewer=self.reviewer_b, by=self.city
        )

    def test_my_reviews_list_with_few_queries(self) -> None:
        self.client.force_login(self.reviewer_a)
        # session, user, roles (view), count, rows (with application, organisation, call,
        # region), nav roles
        with self.assertNumQueries(6):
            response = self.client.get(reverse("selection:my_reviews"))
        self.assertContains(response, self.org.name)

    def test_score_happy_path_then_sees_the_others(self) -> None:
        services.score(self.review_b, scores=full_scores(9), by=self.reviewer_b)
        self.client.force_login(self.reviewer_a)
        url = reverse("selection:review", args=[self.review_a.pk])
        response = self.client.get(url)
        self.assertContains(response, "score_security")
        # reviewer_b's total stays hidden (a bare "54" may occur in tokens or ids, so look
        # for the total as the page renders it)
        self.assertNotContains(response, "<strong>54</strong>")
        self.assertEqual([r.pk for r in response.context["reviews"]], [self.review_a.pk])
        response = self.client.post(url, _score_post())
        self.assertRedirects(response, url)
        response = self.client.get(url)
        self.assertContains(response, "<strong>54</strong>")
        self.assertContains(response, "<strong>42</strong>")
        self.assertNotContains(response, "score_security")

    def test_invalid_scores_are_field_errors(self) -> None:
        self.client.force_login(self.reviewer_a)
        url = reverse("selection:review", args=[self.review_a.pk])
        cases = [
            (_score_post(score_security="11"), "score_security"),
            (_score_post(score_reputation="-1"), "score_reputation"),
            (_score_post(score_resources=""), "score_resources"),
            (_score_post(score_qualification="eight"), "score_qualification"),
        ]
        for data, field in cases:
            with self.subTest(field=field):
                response = self.client.post(url, data)
                self.assertEqual(response.status_code, 422)
                self.assertTrue(response.context["score_form"].errors[field])
        self.assertIsNone(Review.objects.get(pk=self.review_a.pk).submitted_at)

    def test_scoring_twice_shows_a_clear_message(self) -> None:
        self.client.force_login(self.reviewer_a)
        url = reverse("selection:review", args=[self.review_a.pk])
        self.client.post(url, _score_post(7))
        response = self.client.post(url, _score_post(2), follow=True)
        self.assertContains(response, "already submitted")
        self.assertEqual(Review.objects.get(pk=self.review_a.pk).total_score, 42)

    def test_conflict_declaration(self) -> None:
        self.client.force_login(self.reviewer_a)
        url = reverse("selection:review_conflict", args=[self.review_a.pk])
        response = self.client.post(url, {"conflict_note": ""})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["conflict_form"].errors["conflict_note"])
        response = self.client.post(url, {"conflict_note": "former employer"})
        self.assertRedirects(response, reverse("selection:review", args=[self.review_a.pk]))
        self.assertTrue(Review.objects.get(pk=self.review_a.pk).conflict_declared)
        response = self.client.get(reverse("selection:review", args=[self.review_a.pk]))
        self.assertContains(response, "former employer")
        self.assertNotContains(response, "score_security")
        # Scoring after declaring: a message, nothing saved.
        response = self.client.post(
            reverse("selection:review", args=[self.review_a.pk]), _score_post(), follow=True
        )
        self.assertContains(response, "conflict of interest")
        self.assertIsNone(Review.objects.get(pk=self.review_a.pk).submitted_at)

    def test_another_reviewers_review_is_404(self) -> None:
        self.client.force_login(self.reviewer_a)
        for name in ("review", "review_conflict"):
            response = self.client.post(
                reverse(f"selection:{name}", args=[self.review_b.pk]),
                {**_score_post(), "conflict_note": "x"},
            )
            self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.client.get(reverse("selection:review", args=[self.review_b.pk])).status_code,
            404,
        )

    def test_wrong_role_403(self) -> None:
        self.client.force_login(self.operator)
        self.assertEqual(self.client.get(reverse("selection:my_reviews")).status_code, 403)
        self.assertEqual(
            self.client.get(reverse("selection:review", args=[self.review_a.pk])).status_code,
            403,
        )

    def test_documents_for_reviewer_officer_and_operator_only(self) -> None:
        document = self.application.documents.get()
        url = reverse("selection:document", args=[document.pk])
        for user in (self.reviewer_a, self.city, self.operator):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(b"".join(response.streaming_content), PDF_BYTES)  # type: ignore[attr-defined]
                self.assertEqual(response["Content-Type"], "application/pdf")
                self.assertIn("attachment", response["Content-Disposition"])
        services.declare_conflict(self.review_b, note="related", by=self.reviewer_b)
        for user in (self.reviewer_b, self.outsider, self.operator2, self.plain):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(
            self.client.get(reverse("selection:document", args=[999999])).status_code, 404
        )
