"""Officers find the learning records, completion certificates and crediting policies in the
menu (zhipei/portal/navigation.py), and every such entry opens; learners do not get them."""

from __future__ import annotations

from django.urls import reverse

from zhipei.accounts.models import Role
from zhipei.learning.tests.helpers import LearningWorld, make_user

OFFICER_PAGES = ("records:list", "certificates:list", "learning:policy_list")


class OfficerMenuTests(LearningWorld):
    def test_labour_and_finance_officers_see_and_open_the_entries(self) -> None:
        for role in (Role.LABOUR_OFFICER, Role.FINANCE_OFFICER):
            officer = make_user(f"officer-{role}", role=role, region=self.regions["420100"])
            self.client.force_login(officer)
            home = self.client.get("/").content.decode()
            for name in OFFICER_PAGES:
                url = reverse(name)
                with self.subTest(role=role, page=name):
                    self.assertIn(f'href="{url}"', home)
                    response = self.client.get(url)
                    self.assertEqual(response.status_code, 200)
                    self.assertIn(f'href="{url}" aria-current="page"', response.content.decode())

    def test_learners_do_not_see_them(self) -> None:
        self.client.force_login(self.learner)
        home = self.client.get("/").content.decode()
        self.assertIn(f'href="{reverse("learning:mine")}"', home)
        for name in OFFICER_PAGES:
            self.assertNotIn(f'href="{reverse(name)}"', home)
