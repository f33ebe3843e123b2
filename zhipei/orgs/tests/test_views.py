"""Officer pages: list, detail, registration, capacities, holds and credentials."""

from __future__ import annotations

from django.urls import reverse

from zhipei.orgs.models import Organisation, OrganisationHold, PlatformCredential
from zhipei.orgs.queries import has_active_hold
from zhipei.orgs.services import authenticate_basic, issue_credential, place_hold
from zhipei.orgs.tests.helpers import OrgsTestCase, make_organisation, make_uscc


class ListViewTests(OrgsTestCase):
    school: Organisation
    platform_org: Organisation
    yichang: Organisation

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.school = make_organisation(
            region=cls.jiangan,
            serial=1,
            name="江岸职业培训学校",
            capacities={"training_institution"},
        )
        cls.platform_org = make_organisation(
            region=cls.wuchang,
            serial=2,
            name="武昌在线学习平台",
            capacities={"platform", "enterprise"},
        )
        cls.yichang = make_organisation(region=cls.xiling, serial=3, name="宜昌机械厂")
        place_hold(cls.school, reason="check", by=None)

    def test_city_officer_sees_organisations_of_the_city_only(self):
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("orgs:list"))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            [o.name for o in response.context["page"].object_list],
            ["武昌在线学习平台", "江岸职业培训学校"],
        )
        self.assertContains(response, "宜昌机械厂", count=0)

    def test_county_officer_and_outsider_see_their_own_county(self):
        self.client.force_login(self.county_officer)
        names = [o.name for o in self.client.get(reverse("orgs:list")).context["page"].object_list]
        self.assertEqual(names, ["江岸职业培训学校"])
        self.client.force_login(self.outsider)
        names = [o.name for o in self.client.get(reverse("orgs:list")).context["page"].object_list]
        self.assertEqual(names, ["宜昌机械厂"])

    def test_finance_officer_may_read_and_system_admin_sees_all(self):
        self.client.force_login(self.finance_officer)
        self.assertEqual(self.client.get(reverse("orgs:list")).status_code, 200)
        self.client.force_login(self.sysadmin)
        page = self.client.get(reverse("orgs:list")).context["page"]
        self.assertEqual(page.paginator.count, 3)

    def test_search_by_name_or_credit_code_and_filter_by_capacity(self):
        self.client.force_login(self.city_officer)
        url = reverse("orgs:list")
        by_name = self.client.get(url, {"q": "平台"}).context["page"].object_list
        self.assertEqual([o.pk for o in by_name], [self.platform_org.pk])
        by_code = self.client.get(url, {"q": self.school.uscc[:12].lower()}).context["page"]
        self.assertEqual([o.pk for o in by_code.object_list], [self.school.pk])
        platforms = self.client.get(url, {"capacity": "platform"}).context["page"].object_list
        self.assertEqual([o.pk for o in platforms], [self.platform_org.pk])

    def test_invalid_capacity_filter_shows_a_field_error_and_nothing_else(self):
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("orgs:list"), {"capacity": "bank"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["search_form"].errors["capacity"])
        self.assertEqual(response.context["page"].paginator.count, 0)

    def test_htmx_request_gets_the_results_partial(self):
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("orgs:list"), headers={"HX-Request": "true"})
        self.assertTemplateUsed(response, "orgs/_partials/results.html")
        self.assertTemplateNotUsed(response, "orgs/list.html")

    def test_pagination_and_query_count(self):
        for serial in range(10, 40):
            make_organisation(region=self.jiangan, serial=serial, name=f"企业{serial:03d}")
        self.client.force_login(self.city_officer)
        # session, user, the user's roles, officer scope prefixes, count, the page (capacities
        # joined, holds as EXISTS), and the navigation's role lookup.
        with self.assertNumQueries(7):
            response = self.client.get(reverse("orgs:list"), {"page": 2})
        page = response.context["page"]
        self.assertEqual((page.number, page.paginator.num_pages, len(page.object_list)), (2, 2, 7))
        first = self.client.get(reverse("orgs:list"))
        self.assertContains(first, "page=2")

    def test_capacity_badges_and_hold_badge(self):
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("orgs:list"))
        self.assertContains(response, "badge-hold", count=1)
        self.assertContains(response, "Online training platform")

    def test_anonymous_is_sent_to_login(self):
        response = self.client.get(reverse("orgs:list"))
        self.assertEqual(response.status_code, 302)
        self.assertIn("next=/orgs/", response["Location"])

    def test_learner_gets_403(self):
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get(reverse("orgs:list")).status_code, 403)


class DetailViewTests(OrgsTestCase):
    organisation: Organisation

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.organisation = make_organisation(
            region=cls.jiangan,
            name="江岸在线平台",
            capacities={"platform"},
            platform_status="selected",
        )

    def url(self, name="orgs:detail", *args):
        return reverse(name, args=[self.organisation.pk, *args])

    def test_officer_sees_capacities_holds_and_credentials(self):
        issue_credential(self.organisation.platform, by=None, label="server A")
        self.client.force_login(self.county_officer)
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "江岸在线平台")
        self.assertContains(response, "server A")
        self.assertContains(response, "No active hold")
        self.assertContains(response, reverse("orgs:issue_credential", args=[self.organisation.pk]))

    def test_outsider_gets_404_on_every_page_and_action(self):
        credential, _ = issue_credential(self.organisation.platform, by=None)
        hold = place_hold(self.organisation, reason="x", by=None)
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url()).status_code, 404)
        posts = [
            (self.url("orgs:add_capacity"), {"capacity": "enterprise"}),
            (self.url("orgs:place_hold"), {"reason": "x"}),
            (self.url("orgs:lift_hold", hold.pk), {"reason": "x"}),
            (self.url("orgs:issue_credential"), {"label": ""}),
            (self.url("orgs:rotate_credential", credential.pk), {}),
            (self.url("orgs:revoke_credential", credential.pk), {"reason": "x"}),
        ]
        for url, data in posts:
            with self.subTest(url=url):
                self.assertEqual(self.client.post(url, data).status_code, 404)
        self.assertEqual(PlatformCredential.objects.count(), 1)
        self.assertTrue(has_active_hold(self.organisation))

    def test_unknown_organisation_is_404(self):
        self.client.force_login(self.sysadmin)
        self.assertEqual(self.client.get(reverse("orgs:detail", args=[999999])).status_code, 404)

    def test_learner_gets_403(self):
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get(self.url()).status_code, 403)
        self.assertEqual(
            self.client.post(self.url("orgs:place_hold"), {"reason": "x"}).status_code, 403
        )

    def test_finance_officer_reads_but_cannot_act(self):
        self.client.force_login(self.finance_officer)
        response = self.client.get(self.url())
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(
            response, reverse("orgs:issue_credential", args=[self.organisation.pk])
        )
        self.assertEqual(
            self.client.post(self.url("orgs:place_hold"), {"reason": "x"}).status_code, 403
        )
        self.assertFalse(has_active_hold(self.organisation))


class HoldViewTests(OrgsTestCase):
    organisation: Organisation

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.organisation = make_organisation(region=cls.jiangan)

    def test_place_and_lift_a_hold(self):
        self.client.force_login(self.county_officer)
        url = reverse("orgs:place_hold", args=[self.organisation.pk])
        response = self.client.post(url, {"reason": "涉嫌虚报"})
        self.assertRedirects(response, reverse("orgs:detail", args=[self.organisation.pk]))
        hold = OrganisationHold.objects.get()
        lift = reverse("orgs:lift_hold", args=[self.organisation.pk, hold.pk])
        response = self.client.post(lift, {"reason": "核查无问题"}, follow=True)
        self.assertContains(response, "核查无问题")
        self.assertFalse(has_active_hold(self.organisation))

    def test_empty_reason_is_a_field_error_and_nothing_is_saved(self):
        self.client.force_login(self.county_officer)
        response = self.client.post(
            reverse("orgs:place_hold", args=[self.organisation.pk]), {"reason": "   "}
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["hold_form"].errors["reason"])
        self.assertFalse(OrganisationHold.objects.exists())

    def test_lifting_twice_shows_the_stale_error(self):
        hold = place_hold(self.organisation, reason="x", by=None)
        self.client.force_login(self.county_officer)
        lift = reverse("orgs:lift_hold", args=[self.organisation.pk, hold.pk])
        self.client.post(lift, {"reason": "ok"})
        response = self.client.post(lift, {"reason": "ok again"}, follow=True)
        self.assertContains(response, "This hold has already been lifted.")
        self.assertEqual(OrganisationHold.objects.get().lift_reason, "ok")

    def test_hold_of_another_organisation_is_404(self):
        other = make_organisation(region=self.jiangan, serial=2)
        hold = place_hold(other, reason="x", by=None)
        self.client.force_login(self.county_officer)
        url = reverse("orgs:lift_hold", args=[self.organisation.pk, hold.pk])
        self.assertEqual(self.client.post(url, {"reason": "x"}).status_code, 404)
        self.assertTrue(has_active_hold(other))


class CapacityViewTests(OrgsTestCase):
    def test_add_capacity_and_invalid_choice(self):
        organisation = make_organisation(region=self.jiangan)
        self.client.force_login(self.county_officer)
        url = reverse("orgs:add_capacity", args=[organisation.pk])
        response = self.client.post(url, {"capacity": "enterprise"})
        self.assertEqual(response.status_code, 200)  # already held: not among the choices
        self.assertTrue(response.context["capacity_form"].errors["capacity"])
        response = self.client.post(
            url, {"capacity": "platform", "website": "https://p.example.cn"}
        )
        self.assertRedirects(response, reverse("orgs:detail", args=[organisation.pk]))
        self.assertEqual(Organisation.objects.get().capacities(), ["enterprise", "platform"])


class CredentialViewTests(OrgsTestCase):
    organisation: Organisation

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.organisation = make_organisation(
            region=cls.jiangan, capacities={"platform"}, platform_status="selected"
        )

    def test_issue_shows_the_secret_once_and_never_again(self):
        self.client.force_login(self.county_officer)
        response = self.client.post(
            reverse("orgs:issue_credential", args=[self.organisation.pk]), {"label": "prod"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-store", response["Cache-Control"])
        secret = response.context["new_secret"]
        credential = response.context["new_credential"]
        self.assertContains(response, secret, count=1)
        self.assertEqual(authenticate_basic(credential.key_id, secret), credential)
        again = self.client.get(reverse("orgs:detail", args=[self.organisation.pk]))
        self.assertContains(again, credential.key_id)
        self.assertNotContains(again, secret)

    def test_rotate_shows_the_new_secret_and_revokes_the_old(self):
        old, old_secret = issue_credential(self.organisation.platform, by=None)
        self.client.force_login(self.city_officer)
        response = self.client.post(
            reverse("orgs:rotate_credential", args=[self.organisation.pk, old.pk])
        )
        self.assertEqual(response.status_code, 200)
        new = response.context["new_credential"]
        self.assertNotEqual(new.pk, old.pk)
        self.assertContains(response, response.context["new_secret"])
        self.assertIsNone(authenticate_basic(old.key_id, old_secret))

    def test_rotating_a_revoked_credential_says_so(self):
        old, _ = issue_credential(self.organisation.platform, by=None)
        self.client.force_login(self.county_officer)
        url = reverse("orgs:rotate_credential", args=[self.organisation.pk, old.pk])
        self.client.post(url)
        response = self.client.post(url, follow=True)
        self.assertContains(response, "This credential has already been revoked.")
        self.assertEqual(PlatformCredential.objects.count(), 2)

    def test_revoke_with_reason_and_without(self):
        credential, secret = issue_credential(self.organisation.platform, by=None)
        self.client.force_login(self.county_officer)
        url = reverse("orgs:revoke_credential", args=[self.organisation.pk, credential.pk])
        response = self.client.post(url, {"reason": ""})
        self.assertEqual(response.status_code, 200)
        self.assertIsNotNone(authenticate_basic(credential.key_id, secret))
        response = self.client.post(url, {"reason": "leaked"})
        self.assertRedirects(response, reverse("orgs:detail", args=[self.organisation.pk]))
        self.assertIsNone(authenticate_basic(credential.key_id, secret))
        response = self.client.post(url, {"reason": "again"}, follow=True)
        self.assertContains(response, "This credential has already been revoked.")

    def test_credentials_of_a_non_platform_are_404(self):
        enterprise = make_organisation(region=self.jiangan, serial=5)
        self.client.force_login(self.county_officer)
        url = reverse("orgs:issue_credential", args=[enterprise.pk])
        self.assertEqual(self.client.post(url, {"label": ""}).status_code, 404)


class RegisterViewTests(OrgsTestCase):
    def form(self, **overrides):
        data = {
            "uscc": make_uscc("420102", 21),
            "name": "江岸评价中心",
            "region": "420102",
            "capacities": ["evaluation_organisation"],
        }
        data.update(overrides)
        return data

    def test_officer_registers_an_organisation(self):
        self.client.force_login(self.county_officer)
        response = self.client.post(reverse("orgs:register"), self.form())
        organisation = Organisation.objects.get()
        self.assertRedirects(response, reverse("orgs:detail", args=[organisation.pk]))
        self.assertEqual(organisation.capacities(), ["evaluation_organisation"])

    def test_region_choices_are_limited_to_the_officers_scope(self):
        self.client.force_login(self.county_officer)
        response = self.client.get(reverse("orgs:register"))
        codes = [r.code for r in response.context["form"].fields["region"].queryset]
        self.assertEqual(codes, ["420102"])
        response = self.client.post(reverse("orgs:register"), self.form(region="420502"))
        self.assertTrue(response.context["form"].errors["region"])
        self.assertFalse(Organisation.objects.exists())

    def test_checksum_warning_asks_for_a_reason_then_accepts_it(self):
        good = make_uscc("420102", 22)
        bad = good[:-1] + ("0" if good[-1] != "0" else "1")
        self.client.force_login(self.county_officer)
        response = self.client.post(reverse("orgs:register"), self.form(uscc=bad))
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["show_override"])
        self.assertContains(
            response, "The last character (the GB 32100 check character) does not match."
        )
        self.assertContains(response, 'name="override_reason"')
        self.assertFalse(Organisation.objects.exists())

        response = self.client.post(
            reverse("orgs:register"),
            self.form(uscc=bad, override_reason="pilot code, licence seen"),
        )
        organisation = Organisation.objects.get()
        self.assertRedirects(response, reverse("orgs:detail", args=[organisation.pk]))
        self.assertFalse(organisation.uscc_check_passed)

    def test_invalid_input_shows_field_errors(self):
        self.client.force_login(self.county_officer)
        response = self.client.post(
            reverse("orgs:register"), self.form(uscc="123", name="", capacities=[])
        )
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors
        self.assertIn("name", errors)
        self.assertIn("capacities", errors)
        response = self.client.post(reverse("orgs:register"), self.form(uscc="123"))
        self.assertIn("18 characters", str(response.context["form"].errors["uscc"]))
        self.assertFalse(Organisation.objects.exists())

    def test_duplicate_credit_code_is_a_field_error(self):
        make_organisation(region=self.jiangan, serial=21)
        self.client.force_login(self.county_officer)
        response = self.client.post(reverse("orgs:register"), self.form())
        self.assertIn("already registered", str(response.context["form"].errors["uscc"]))

    def test_finance_officer_and_learner_get_403(self):
        for user in (self.finance_officer, self.learner):
            with self.subTest(user=user.username):
                self.client.force_login(user)
                self.assertEqual(self.client.get(reverse("orgs:register")).status_code, 403)
                self.assertEqual(
                    self.client.post(reverse("orgs:register"), self.form()).status_code, 403
                )
        self.assertFalse(Organisation.objects.exists())
