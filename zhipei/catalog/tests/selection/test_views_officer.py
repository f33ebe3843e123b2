"""Officer pages: calls, applications, decisions, publication, listed platforms.
Each: happy path, outsider 404, wrong role 403, invalid input; lists guarded by query counts."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from zhipei.catalog.models import PlatformApplication, PlatformCall, Review
from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import SelectionTestCase, full_scores
from zhipei.orgs.models import Platform, PlatformCredential

C = PlatformCall.Status
A = PlatformApplication.Status


def _call_post(**overrides: str) -> dict[str, str]:
    now = timezone.localtime()
    data = {
        "region": "420100",
        "title": "2026年武汉市平台征集",
        "description": "",
        "criteria": "依法设立",
        "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        "reviewers_required": "2",
    }
    for criterion in (
        "qualification",
        "reputation",
        "service_quality",
        "resources",
        "data_interface",
        "security",
    ):
        data[f"weight_{criterion}"] = "2"
        data[f"max_score_{criterion}"] = "10"
    data.update(overrides)
    return data


class CallPagesTests(SelectionTestCase):
    def test_list_in_scope_with_few_queries(self) -> None:
        self.make_call(title="武汉一")
        self.make_call(title="武汉二")
        self.client.force_login(self.city)
        # session, user, roles (view), scope prefixes, runs_calls, count, page rows, nav roles
        with self.assertNumQueries(8):
            response = self.client.get(reverse("selection:calls"))
        self.assertContains(response, "武汉一")
        self.assertContains(response, "武汉二")
        self.client.force_login(self.outsider)
        response = self.client.get(reverse("selection:calls"))
        self.assertNotContains(response, "武汉一")

    def test_wrong_roles_get_403(self) -> None:
        for user in (self.operator, self.finance, self.plain):
            self.client.force_login(user)
            with self.subTest(user=user.username):
                self.assertEqual(self.client.get(reverse("selection:calls")).status_code, 403)
                self.assertEqual(self.client.get(reverse("selection:call_create")).status_code, 403)
        self.client.force_login(self.reviewer_a)  # county officer: may review, not run calls
        self.assertEqual(self.client.get(reverse("selection:call_create")).status_code, 403)

    def test_anonymous_is_sent_to_login(self) -> None:
        response = self.client.get(reverse("selection:calls"))
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])

    def test_create_call(self) -> None:
        self.client.force_login(self.city)
        response = self.client.get(reverse("selection:call_create"))
        self.assertContains(response, "weight_security")
        response = self.client.post(reverse("selection:call_create"), _call_post())
        call = PlatformCall.objects.get()
        self.assertRedirects(response, reverse("selection:call_detail", args=[call.pk]))
        self.assertEqual(call.rubric.count(), 6)
        self.assertEqual(call.status, C.DRAFT)

    def test_create_call_invalid_input_shows_field_errors(self) -> None:
        self.client.force_login(self.city)
        past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        cases = [
            (_call_post(title=""), "title"),
            (_call_post(weight_security="0"), "weight_security"),
            (_call_post(max_score_reputation="abc"), "max_score_reputation"),
            (_call_post(closes_at=past), "closes_at"),
            (_call_post(region="420502"), "region"),  # not offered to this officer
            (_call_post(region="420102"), "region"),  # a county
        ]
        for data, field in cases:
            with self.subTest(field=field):
                response = self.client.post(reverse("selection:call_create"), data)
                self.assertEqual(response.status_code, 200)
                self.assertTrue(response.context["form"].errors.get(field), field)
        self.assertFalse(PlatformCall.objects.exists())

    def test_detail_and_transitions(self) -> None:
        call = self.make_call(opened=False)
        self.client.force_login(self.city)
        response = self.client.get(reverse("selection:call_detail", args=[call.pk]))
        self.assertContains(response, call.title)
        response = self.client.post(reverse("selection:call_open", args=[call.pk]))
        self.assertRedirects(response, reverse("selection:call_detail", args=[call.pk]))
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.OPEN)
        # Review before the deadline: a message, nothing changes, no 500.
        response = self.client.post(
            reverse("selection:call_start_review", args=[call.pk]), follow=True
        )
        self.assertContains(response, "after the deadline")
        self.assertEqual(PlatformCall.objects.get(pk=call.pk).status, C.OPEN)

    def test_outsider_gets_404_everywhere(self) -> None:
        call = self.make_call()
        self.client.force_login(self.outsider)
        for name in ("call_detail",):
            self.assertEqual(
                self.client.get(reverse(f"selection:{name}", args=[call.pk])).status_code, 404
            )
        for name in ("call_open", "call_start_review", "call_publish", "call_assign_reviewers"):
            with self.subTest(name=name):
                self.assertEqual(
                    self.client.post(reverse(f"selection:{name}", args=[call.pk])).status_code,
                    404,
                )
        self.assertEqual(
            self.client.get(reverse("selection:call_detail", args=[999999])).status_code, 404
        )

    def test_assign_reviewers_to_the_call(self) -> None:
        call, (application,) = self.under_review()
        self.client.force_login(self.city)
        response = self.client.get(reverse("selection:call_detail", args=[call.pk]))
        self.assertContains(response, "reviewer_a")
        self.assertNotContains(response, "outsider")
        response = self.client.post(
            reverse("selection:call_assign_reviewers", args=[call.pk]),
            {"reviewers": [self.reviewer_a.pk, self.reviewer_b.pk]},
        )
        self.assertRedirects(response, reverse("selection:call_detail", args=[call.pk]))
        self.assertEqual(Review.objects.filter(application=application).count(), 2)
        # An ineligible pick is a field error.
        response = self.client.post(
            reverse("selection:call_assign_reviewers", args=[call.pk]),
            {"reviewers": [self.outsider.pk]},
        )
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["reviewers_form"].errors["reviewers"])


class ApplicationPagesTests(SelectionTestCase):
    def setUp(self) -> None:
        self.call, (self.application,) = self.under_review()

    def test_detail_shows_data_documents_and_progress(self) -> None:
        self.reviewed(self.application, self.reviewer_a)
        self.client.force_login(self.city)
        response = self.client.get(
            reverse("selection:application_detail", args=[self.application.pk])
        )
        self.assertContains(response, self.org.name)
        self.assertContains(response, "licence.pdf")
        self.assertContains(response, "48")  # reviewer_a's weighted total (8 × 6)
        self.assertEqual(response.context["reviews_done"], 1)

    def test_decide_happy_and_too_few_reviews(self) -> None:
        self.client.force_login(self.city)
        url = reverse("selection:application_decide", args=[self.application.pk])
        response = self.client.post(url, {"outcome": "selected"})
        self.assertEqual(response.status_code, 422)
        self.assertContains(response, "needs 2 submitted reviews", status_code=422)
        self.assertEqual(
            PlatformApplication.objects.get(pk=self.application.pk).status, A.UNDER_REVIEW
        )
        response = self.client.post(url, {"outcome": "perhaps"})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["decide_form"].errors["outcome"])
        self.reviewed(self.application, self.reviewer_a, self.reviewer_b)
        response = self.client.post(url, {"outcome": "selected", "note": "best"})
        self.assertRedirects(response, reverse("selection:call_detail", args=[self.call.pk]))
        self.assertEqual(PlatformApplication.objects.get(pk=self.application.pk).status, A.SELECTED)

    def test_assign_single_reviewer(self) -> None:
        self.client.force_login(self.city)
        response = self.client.post(
            reverse("selection:application_assign_reviewers", args=[self.application.pk]),
            {"reviewers": [self.reviewer_c.pk]},
        )
        self.assertRedirects(
            response, reverse("selection:application_detail", args=[self.application.pk])
        )
        response = self.client.post(
            reverse("selection:application_assign_reviewers", args=[self.application.pk]), {}
        )
        self.assertEqual(response.status_code, 422)

    def test_outsider_404_and_wrong_roles_403(self) -> None:
        self.client.force_login(self.outsider)
        for name in ("application_detail",):
            self.assertEqual(
                self.client.get(
                    reverse(f"selection:{name}", args=[self.application.pk])
                ).status_code,
                404,
            )
        for name in ("application_decide", "application_assign_reviewers"):
            self.assertEqual(
                self.client.post(
                    reverse(f"selection:{name}", args=[self.application.pk]),
                    {"outcome": "selected", "reviewers": [self.reviewer_a.pk]},
                ).status_code,
                404,
            )
        self.client.force_login(self.operator)
        self.assertEqual(
            self.client.get(
                reverse("selection:application_detail", args=[self.application.pk])
            ).status_code,
            403,
        )
        # A county reviewer is a labour officer but the application is outside their scope.
        self.client.force_login(self.reviewer_a)
        self.assertEqual(
            self.client.get(
                reverse("selection:application_detail", args=[self.application.pk])
            ).status_code,
            404,
        )
        self.assertEqual(
            self.client.post(
                reverse("selection:application_decide", args=[self.application.pk]),
                {"outcome": "selected"},
            ).status_code,
            404,
        )


class PublishPageTests(SelectionTestCase):
    def test_publish_shows_the_secret_once(self) -> None:
        call, _application = self.decided_call("selected")
        self.client.force_login(self.city)
        response = self.client.post(reverse("selection:call_publish", args=[call.pk]))
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-cache", response["Cache-Control"])
        issued = response.context["results"].issued[0]
        self.assertContains(response, issued.secret)
        self.assertContains(response, issued.credential.key_id)
        # Publishing again shows no secret and issues nothing.
        response = self.client.post(reverse("selection:call_publish", args=[call.pk]))
        self.assertNotContains(response, issued.secret)
        self.assertEqual(PlatformCredential.objects.count(), 1)
        # …and the call page never shows it.
        response = self.client.get(reverse("selection:call_detail", args=[call.pk]))
        self.assertNotContains(response, issued.secret)

    def test_publish_refused_shows_a_message(self) -> None:
        call = self.make_call()
        self.client.force_login(self.city)
        response = self.client.post(reverse("selection:call_publish", args=[call.pk]), follow=True)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Cannot move from")

    def test_county_officer_cannot_publish(self) -> None:
        call, _application = self.decided_call("selected")
        self.client.force_login(self.reviewer_a)
        self.assertEqual(
            self.client.post(reverse("selection:call_publish", args=[call.pk])).status_code, 404
        )


class ListedPlatformPagesTests(SelectionTestCase):
    def setUp(self) -> None:
        call, _application = self.decided_call("selected")
        services.publish_results(call, by=self.city)
        self.platform = Platform.objects.get(organisation=self.org)

    def test_list_and_manage(self) -> None:
        self.client.force_login(self.city)
        # session, user, roles, scope prefixes, count, rows, nav roles
        with self.assertNumQueries(7):
            response = self.client.get(reverse("selection:listed_platforms"))
        self.assertContains(response, self.org.name)
        response = self.client.get(reverse("selection:platform_manage", args=[self.platform.pk]))
        self.assertContains(response, "Suspend")

    def test_suspend_with_and_without_reason(self) -> None:
        self.client.force_login(self.city)
        url = reverse("selection:platform_change", args=[self.platform.pk, "suspend"])
        response = self.client.post(url, {"suspend-reason": ""})
        self.assertEqual(response.status_code, 422)
        self.assertTrue(response.context["suspend_form"].errors["reason"])
        response = self.client.post(url, {"suspend-reason": "records falsified"})
        self.assertRedirects(
            response, reverse("selection:platform_manage", args=[self.platform.pk])
        )
        self.assertEqual(Platform.objects.get(pk=self.platform.pk).status, "suspended")
        response = self.client.post(
            reverse("selection:platform_change", args=[self.platform.pk, "explode"]),
            {"explode-reason": "x"},
        )
        self.assertEqual(response.status_code, 404)

    def test_refused_transition_is_shown_not_500(self) -> None:
        self.client.force_login(self.city)
        services.remove_platform(self.platform, reason="gone", by=self.city)
        response = self.client.post(
            reverse("selection:platform_change", args=[self.platform.pk, "suspend"]),
            {"suspend-reason": "again"},
            follow=True,
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Cannot move")

    def test_outsider_404_and_operator_403(self) -> None:
        self.client.force_login(self.outsider)
        self.assertEqual(
            self.client.get(
                reverse("selection:platform_manage", args=[self.platform.pk])
            ).status_code,
            404,
        )
        self.assertEqual(
            self.client.post(
                reverse("selection:platform_change", args=[self.platform.pk, "remove"]),
                {"remove-reason": "x"},
            ).status_code,
            404,
        )
        self.client.force_login(self.operator)
        self.assertEqual(self.client.get(reverse("selection:listed_platforms")).status_code, 403)


class ReviewScoringPageTests(SelectionTestCase):
    """Kept here for the officer-side effect: the score page feeds the call's averages."""

    def test_average_on_the_call_page(self) -> None:
        call, (application,) = self.under_review()
        review = services.assign_reviewer(application, reviewer=self.reviewer_a, by=self.city)
        services.score(review, scores=full_scores(5), by=self.reviewer_a)
        self.client.force_login(self.city)
        response = self.client.get(reverse("selection:call_detail", args=[call.pk]))
        self.assertContains(response, "30.0 / 60")
