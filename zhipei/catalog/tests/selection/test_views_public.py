"""The public list of selected platforms (no login) and its place in the navigation."""

from __future__ import annotations

from django.urls import reverse

from zhipei.catalog.selection import services
from zhipei.catalog.tests.selection.helpers import SelectionTestCase
from zhipei.orgs.models import Platform


class PublicListTests(SelectionTestCase):
    def test_empty_list(self) -> None:
        response = self.client.get(reverse("selection:public_platforms"))
        self.assertContains(response, "No platform has been selected yet.")

    def test_selected_and_suspended_with_dates_and_reasons(self) -> None:
        call, _application = self.decided_call("selected")
        services.publish_results(call, by=self.city)
        platform = Platform.objects.get(organisation=self.org)
        services.suspend_platform(platform, reason="学习记录造假", by=self.city)
        # listings with platforms, organisations, regions and calls; nav roles (anonymous: none)
        with self.assertNumQueries(1):
            response = self.client.get(reverse("selection:public_platforms"))
        self.assertContains(response, self.org.name)
        self.assertContains(response, "学习记录造假")
        call.refresh_from_db()
        assert call.published_at is not None
        self.assertContains(response, call.published_at.astimezone().strftime("%Y-%m-%d"))
        self.assertContains(response, 'name="viewport"')

    def test_unpublished_decisions_are_not_public(self) -> None:
        self.decided_call("selected")
        response = self.client.get(reverse("selection:public_platforms"))
        self.assertNotContains(response, self.org.name)

    def test_home_navigation_links_the_public_list(self) -> None:
        response = self.client.get(reverse("portal:home"))
        self.assertContains(response, reverse("selection:public_platforms"))

    def test_navigation_for_officers_and_operators(self) -> None:
        self.client.force_login(self.city)
        response = self.client.get(reverse("portal:home"))
        self.assertContains(response, reverse("selection:calls"))
        self.assertContains(response, reverse("selection:my_reviews"))
        self.assertNotContains(response, reverse("selection:my_platform"))
        self.client.force_login(self.operator)
        response = self.client.get(reverse("portal:home"))
        self.assertContains(response, reverse("selection:my_platform"))
        self.assertContains(response, reverse("selection:open_calls"))
        self.assertNotContains(response, reverse("selection:calls"))
