from django.test import RequestFactory, TestCase
from django.urls import reverse

from zhipei.accounts.models import Role
from zhipei.accounts.services import create_user, grant_role, revoke_role
from zhipei.portal.navigation import entries_for
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

PASSWORD = "Zhipei-test-2026"


class NavigationTests(TestCase):
    regions: dict[str, Region]

    @classmethod
    def setUpTestData(cls) -> None:
        cls.regions = make_region_tree()

    def urls_for(self, user=None) -> list[str]:
        from django.contrib.auth.models import AnonymousUser

        request = RequestFactory().get("/")
        request.user = user or AnonymousUser()
        return [entry.url for entry in entries_for(request)]

    def test_anonymous_sees_public_entries_only(self) -> None:
        urls = self.urls_for()
        self.assertEqual(urls[0], reverse("portal:home"))
        self.assertIn(reverse("selection:public_platforms"), urls)
        # Every entry shown to an anonymous visitor opens without logging in.
        for url in urls:
            with self.subTest(url=url):
                self.assertEqual(self.client.get(url).status_code, 200)

    def test_labour_officer_sees_people(self) -> None:
        officer = create_user(username="officer", password=PASSWORD)
        grant_role(officer, role=Role.LABOUR_OFFICER, region=self.regions["420102"], by=None)

        self.assertIn(reverse("people:list"), self.urls_for(officer))

    def test_officers_see_organisations_and_finance_officers_not_people(self) -> None:
        finance = create_user(username="finance", password=PASSWORD)
        grant_role(finance, role=Role.FINANCE_OFFICER, region=self.regions["420100"], by=None)

        urls = self.urls_for(finance)

        self.assertIn(reverse("orgs:list"), urls)
        self.assertNotIn(reverse("people:list"), urls)

    def test_revoked_role_no_longer_shows(self) -> None:
        officer = create_user(username="officer", password=PASSWORD)
        assignment = grant_role(
            officer, role=Role.LABOUR_OFFICER, region=self.regions["420102"], by=None
        )
        revoke_role(assignment, by=None)

        self.assertNotIn(reverse("people:list"), self.urls_for(officer))

    def test_learner_sees_profile_not_officer_pages(self) -> None:
        learner = create_user(username="learner", password=PASSWORD)
        grant_role(learner, role=Role.LEARNER, by=None)

        urls = self.urls_for(learner)

        self.assertIn(reverse("accounts:profile"), urls)
        self.assertNotIn(reverse("people:list"), urls)
        self.assertNotIn(reverse("admin:index"), urls)

    def test_admin_site_only_for_staff_system_admins(self) -> None:
        admin = create_user(username="admin", password=PASSWORD)
        grant_role(admin, role=Role.SYSTEM_ADMIN, by=None)
        self.assertNotIn(reverse("admin:index"), self.urls_for(admin))  # not staff yet

        admin.is_staff = True  # in-memory only: what the request's user would carry
        self.assertIn(reverse("admin:index"), self.urls_for(admin))

    def test_current_entry_is_marked(self) -> None:
        officer = create_user(username="officer", password=PASSWORD)
        grant_role(officer, role=Role.LABOUR_OFFICER, region=self.regions["420102"], by=None)
        self.client.force_login(officer)

        response = self.client.get(reverse("people:list"))

        self.assertContains(
            response, f'<a href="{reverse("people:list")}" aria-current="page">', html=False
        )
