"""Officer pages for policies and funds: happy path, outsider (404), wrong role (403), bad
input (field errors, nothing saved), preview before save, query counts."""

from __future__ import annotations

from datetime import date, timedelta

from django.urls import reverse
from django.utils import timezone

from zhipei.subsidies import services
from zhipei.subsidies.models import FundSource, LedgerPosting, PolicyVersion, Programme
from zhipei.subsidies.tests.helpers import SubsidiesTestCase, make_version

P = Programme.LEARNER_TRAINING
SKILLS = FundSource.SKILLS_ACCOUNT


def policy_post(region, **overrides):
    data = {
        "region": str(region.pk),
        "effective_from": "2021-01-01",
        "effective_to": "",
        "document_number": "武人社〔2021〕3号",
        "document_url": "https://example.gov.cn/doc/3",
        "evidence": "",
        "note": "",
        "per_class_hour_fen": "25.50",
        "min_age": "18",
        "same_occupation_level_once": "yes",
        "excluded_statuses": ["pensioner"],
        "action": "preview",
    }
    data.update(overrides)
    return data


class PolicyPageTests(SubsidiesTestCase):
    def setUp(self):
        self.hubei_version = make_version(self.hubei, {"per_class_hour_fen": 3000, "min_age": 16})

    def test_list_shows_versions_in_scope_above_and_national_but_not_other_cities(self):
        national = make_version(None, {"claim_window_months": 12})
        wuhan = make_version(self.wuhan, {"min_age": 17})
        yichang = make_version(self.yichang, {"min_age": 19})
        self.client.force_login(self.county_officer)
        with self.assertNumQueries(7):
            # session, user, officer prefixes, count, page of versions, may set policy,
            # nav roles
            response = self.client.get(reverse("subsidies:policy_list"))
        self.assertEqual(response.status_code, 200)
        shown = {v.pk for v in response.context["page"].object_list}
        self.assertEqual(shown, {national.pk, self.hubei_version.pk, wuhan.pk})
        self.assertNotIn(yichang.pk, shown)
        self.assertFalse(response.context["can_set_policy"])

    def test_list_offers_new_versions_to_city_officers(self):
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("subsidies:policy_list"), {"programme": P})
        self.assertContains(response, reverse("subsidies:policy_new", args=[P]))

    def test_people_without_an_officer_role_get_403(self):
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get(reverse("subsidies:policy_list")).status_code, 403)
        self.assertEqual(
            self.client.get(
                reverse("subsidies:policy_detail", args=[self.hubei_version.pk])
            ).status_code,
            403,
        )

    def test_anonymous_visitors_are_sent_to_log_in(self):
        response = self.client.get(reverse("subsidies:policy_list"))
        self.assertEqual(response.status_code, 302)

    def test_detail_shows_parameters_and_what_is_in_force(self):
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("subsidies:policy_detail", args=[self.hubei_version.pk]))
        self.assertContains(response, "¥30.00")
        self.assertContains(response, "测试〔2020〕1号")
        self.assertFalse(response.context["can_retire"])  # a province version, city officer

    def test_detail_outside_scope_is_404(self):
        yichang = make_version(self.yichang, {"min_age": 19})
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("subsidies:policy_detail", args=[yichang.pk]))
        self.assertEqual(response.status_code, 404)

    def test_form_previews_first_then_saves_exactly_what_was_previewed(self):
        self.client.force_login(self.city_officer)
        url = reverse("subsidies:policy_new", args=[P])
        self.assertEqual(self.client.get(url).status_code, 200)

        preview = self.client.post(url, policy_post(self.wuhan))
        self.assertEqual(preview.status_code, 200)
        self.assertFalse(PolicyVersion.objects.filter(line__region=self.wuhan).exists())
        rows = {row.name: row for row in preview.context["preview_rows"]}
        self.assertEqual(rows["per_class_hour_fen"].value, "¥25.50")
        self.assertEqual(rows["min_age"].value, "18")
        self.assertEqual(rows["claim_window_months"].source, None)
        digest = preview.context["digest"]

        # Save with a changed value: not what was previewed, so it is previewed again.
        changed = self.client.post(
            url, policy_post(self.wuhan, min_age="19", action="save", previewed=digest)
        )
        self.assertEqual(changed.status_code, 200)
        self.assertFalse(PolicyVersion.objects.filter(line__region=self.wuhan).exists())

        saved = self.client.post(url, policy_post(self.wuhan, action="save", previewed=digest))
        version = PolicyVersion.objects.get(line__region=self.wuhan)
        self.assertRedirects(saved, reverse("subsidies:policy_detail", args=[version.pk]))
        self.assertEqual(
            version.parameters,
            {
                "per_class_hour_fen": 2550,
                "min_age": 18,
                "same_occupation_level_once": True,
                "excluded_statuses": ["pensioner"],
            },
        )
        self.assertEqual(version.created_by, self.city_officer)

    def test_form_offers_neither_requires_certificate_nor_minutes_per_class_hour(self):
        self.client.force_login(self.city_officer)
        for programme, retired in (
            (P, ("requires_certificate", "minutes_per_class_hour")),
            (Programme.ENTERPRISE_ONLINE_TRAINING, ("minutes_per_class_hour",)),
        ):
            response = self.client.get(reverse("subsidies:policy_new", args=[programme]))
            self.assertEqual(response.status_code, 200)
            self.assertIn("per_class_hour_fen", response.context["form"].fields)
            for name in retired:
                self.assertNotIn(name, response.context["form"].fields)
                self.assertNotContains(response, f'name="{name}"')

    def test_a_page_from_before_the_change_saves_without_them(self):
        """A form sent from a page opened before the programme stopped offering them: the
        values are not part of the form, so neither the preview nor the version has them."""
        self.client.force_login(self.city_officer)
        url = reverse("subsidies:policy_new", args=[P])
        stale = {"requires_certificate": "no", "minutes_per_class_hour": "60"}
        preview = self.client.post(url, policy_post(self.wuhan, **stale))
        rows = {row.name for row in preview.context["preview_rows"]}
        self.assertFalse(rows & set(stale))
        self.client.post(
            url,
            policy_post(self.wuhan, **stale, action="save", previewed=preview.context["digest"]),
        )
        version = PolicyVersion.objects.get(line__region=self.wuhan)
        self.assertFalse(set(version.parameters) & set(stale))

    def test_detail_of_a_version_stored_with_them_leaves_them_out(self):
        PolicyVersion.objects.filter(pk=self.hubei_version.pk).update(
            parameters=self.hubei_version.parameters
            | {"requires_certificate": True, "minutes_per_class_hour": 45}
        )
        self.client.force_login(self.city_officer)
        response = self.client.get(reverse("subsidies:policy_detail", args=[self.hubei_version.pk]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            [row.name for row in response.context["rows"]], ["per_class_hour_fen", "min_age"]
        )
        self.assertNotContains(response, 'data-parameter="requires_certificate"')
        self.assertNotContains(response, 'data-parameter="minutes_per_class_hour"')

    def test_bad_input_shows_field_errors_and_saves_nothing(self):
        self.client.force_login(self.city_officer)
        url = reverse("subsidies:policy_new", args=[P])
        response = self.client.post(
            url,
            policy_post(
                self.wuhan,
                per_class_hour_fen="25.505",
                min_age="3",
                effective_to="2020-12-31",
                action="save",
            ),
        )
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertIn("at most two decimals", form.errors["per_class_hour_fen"][0])
        self.assertIn("min_age", form.errors)
        self.assertIn("effective_to", form.errors)
        self.assertFalse(PolicyVersion.objects.filter(line__region=self.wuhan).exists())

    def test_conflict_with_the_province_is_a_field_error(self):
        make_version(self.hubei, {"max_age_male": 60}, start=date(2021, 1, 1))
        self.client.force_login(self.city_officer)
        response = self.client.post(
            reverse("subsidies:policy_new", args=[P]), policy_post(self.wuhan, min_age="65")
        )
        self.assertEqual(
            response.context["form"].errors["max_age_male"],
            ["The maximum age must be above the minimum age."],
        )

    def test_overlap_is_a_field_error(self):
        make_version(self.wuhan, {"min_age": 17}, start=date(2021, 1, 1), end=date(2021, 12, 31))
        self.client.force_login(self.city_officer)
        url = reverse("subsidies:policy_new", args=[P])
        preview = self.client.post(url, policy_post(self.wuhan))
        response = self.client.post(
            url, policy_post(self.wuhan, action="save", previewed=preview.context["digest"])
        )
        self.assertIn(
            "is in force on some of these dates",
            response.context["form"].errors["effective_from"][0],
        )

    def test_region_outside_scope_is_not_a_choice(self):
        self.client.force_login(self.city_officer)
        response = self.client.post(
            reverse("subsidies:policy_new", args=[P]), policy_post(self.yichang)
        )
        self.assertIn("region", response.context["form"].errors)

    def test_county_officers_and_finance_officers_get_403_on_the_form(self):
        for user in (self.county_officer, self.finance):
            self.client.force_login(user)
            response = self.client.get(reverse("subsidies:policy_new", args=[P]))
            self.assertEqual(response.status_code, 403)

    def test_unknown_programme_is_404(self):
        self.client.force_login(self.city_officer)
        self.assertEqual(
            self.client.get(reverse("subsidies:policy_new", args=["lottery"])).status_code, 404
        )

    def test_retire_from_the_page(self):
        version = make_version(self.wuhan, {"min_age": 17})
        last_day = timezone.localdate() + timedelta(days=3)
        self.client.force_login(self.city_officer)
        response = self.client.post(
            reverse("subsidies:policy_retire", args=[version.pk]),
            {"last_day": last_day.isoformat(), "reason": "新文件"},
        )
        self.assertRedirects(response, reverse("subsidies:policy_detail", args=[version.pk]))
        version.refresh_from_db()
        self.assertEqual(version.effective_to, last_day)

    def test_retire_with_a_past_day_is_a_field_error(self):
        version = make_version(self.wuhan, {"min_age": 17})
        self.client.force_login(self.city_officer)
        response = self.client.post(
            reverse("subsidies:policy_retire", args=[version.pk]),
            {"last_day": "2020-06-01", "reason": "x"},
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("last_day", response.context["retire_form"].errors)
        version.refresh_from_db()
        self.assertIsNone(version.effective_to)

    def test_retire_by_a_reader_without_the_right_is_403_and_outsider_404(self):
        version = make_version(self.wuhan, {"min_age": 17})
        day = (timezone.localdate() + timedelta(days=3)).isoformat()
        self.client.force_login(self.county_officer)
        response = self.client.post(
            reverse("subsidies:policy_retire", args=[version.pk]), {"last_day": day, "reason": "x"}
        )
        self.assertEqual(response.status_code, 403)
        self.client.force_login(self.outsider_city)
        response = self.client.post(
            reverse("subsidies:policy_retire", args=[version.pk]), {"last_day": day, "reason": "x"}
        )
        self.assertEqual(response.status_code, 404)

    def test_policy_in_force_page(self):
        make_version(self.wuhan, {"per_class_hour_fen": 2500})
        self.client.force_login(self.county_officer)
        url = reverse("subsidies:policy_resolved", args=[P])
        response = self.client.get(url, {"region": str(self.jiangan.pk), "on_date": "2020-06-01"})
        rows = {row.name: row for row in response.context["rows"]}
        self.assertEqual(rows["per_class_hour_fen"].value, "¥25.00")
        self.assertEqual(rows["per_class_hour_fen"].source.region_code, "420100")
        self.assertEqual(rows["min_age"].source.region_code, "420000")
        # A region outside the officer's subtree is not a choice.
        response = self.client.get(url, {"region": str(self.xiling.pk), "on_date": "2020-06-01"})
        self.assertIn("region", response.context["form"].errors)


class FundPageTests(SubsidiesTestCase):
    def setUp(self):
        services.allocate_budget(
            source=SKILLS, region=self.wuhan, amount_fen=123_456_78, by=self.finance
        )
        services.allocate_budget(
            source=SKILLS, region=self.yichang, amount_fen=5_000_00, by=self.finance_yichang
        )
        services.commit_funds(
            source=SKILLS,
            region=self.wuhan,
            amount_fen=1_000_00,
            application=("x.app", "1"),
            by=self.finance,
        )

    def test_fund_list_shows_balances_in_yuan_for_the_scope_only(self):
        self.client.force_login(self.finance)
        with self.assertNumQueries(6):
            # session, user, officer prefixes, accounts in scope, balances, nav roles
            response = self.client.get(reverse("subsidies:fund_list"))
        self.assertContains(response, "¥123,456.78")
        self.assertContains(response, "¥122,456.78")
        self.assertContains(response, "¥1,000.00")
        self.assertNotContains(response, "¥5,000.00")

    def test_fund_detail_lists_postings(self):
        self.client.force_login(self.finance)
        response = self.client.get(reverse("subsidies:fund_detail", args=[SKILLS, self.wuhan.pk]))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["page"].paginator.count, 2)
        self.assertContains(response, "x.app #1")

    def test_fund_detail_outside_scope_is_404(self):
        self.client.force_login(self.finance)
        response = self.client.get(reverse("subsidies:fund_detail", args=[SKILLS, self.yichang.pk]))
        self.assertEqual(response.status_code, 404)
        response = self.client.get(
            reverse("subsidies:fund_detail", args=["lottery", self.wuhan.pk])
        )
        self.assertEqual(response.status_code, 404)

    def test_labour_officers_get_403_on_fund_pages(self):
        self.client.force_login(self.city_officer)
        for url in (
            reverse("subsidies:fund_list"),
            reverse("subsidies:fund_allocate"),
            reverse("subsidies:fund_detail", args=[SKILLS, self.wuhan.pk]),
        ):
            self.assertEqual(self.client.get(url).status_code, 403, url)

    def test_allocate_form(self):
        self.client.force_login(self.finance)
        url = reverse("subsidies:fund_allocate")
        self.assertEqual(self.client.get(url).status_code, 200)
        data = {
            "source": FundSource.EMPLOYMENT_FUND,
            "region": str(self.jiangan.pk),
            "amount": "￥1,000,000.50",
            "reference": "财社〔2021〕7号-420102",
            "memo": "2021 budget",
        }
        response = self.client.post(url, data)
        self.assertRedirects(
            response,
            reverse("subsidies:fund_detail", args=[FundSource.EMPLOYMENT_FUND, self.jiangan.pk]),
        )
        # Sending the form twice allocates once.
        self.client.post(url, data)
        postings = LedgerPosting.objects.filter(source=FundSource.EMPLOYMENT_FUND)
        self.assertEqual([p.amount_fen for p in postings], [100_000_050])

    def test_allocate_bad_input_shows_field_errors(self):
        self.client.force_login(self.finance)
        url = reverse("subsidies:fund_allocate")
        cases = [
            ({"amount": "12.345"}, "amount"),
            ({"amount": "-5"}, "amount"),
            ({"amount": "0"}, "amount"),
            ({"amount": "lots"}, "amount"),
            ({"region": str(self.yichang.pk)}, "region"),
            ({"source": "lottery"}, "source"),
        ]
        for override, field in cases:
            data = {
                "source": SKILLS,
                "region": str(self.wuhan.pk),
                "amount": "100",
                "reference": "",
                "memo": "",
            }
            data.update(override)
            with self.subTest(override=override):
                response = self.client.post(url, data)
                self.assertEqual(response.status_code, 422)
                self.assertIn(field, response.context["form"].errors)
        self.assertEqual(LedgerPosting.objects.count(), 3)

    def test_reused_allocation_reference_is_a_field_error(self):
        self.client.force_login(self.finance)
        url = reverse("subsidies:fund_allocate")
        base = {"source": SKILLS, "region": str(self.wuhan.pk), "reference": "R-1", "memo": ""}
        self.client.post(url, base | {"amount": "100"})
        response = self.client.post(url, base | {"amount": "200"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("reference", response.context["form"].errors)


class MenuTests(SubsidiesTestCase):
    def test_officers_find_policies_and_finance_officers_find_funds_in_the_menu(self):
        self.client.force_login(self.finance)
        page = self.client.get(reverse("subsidies:fund_list"))
        self.assertContains(page, f'href="{reverse("subsidies:fund_list")}"')
        self.assertContains(page, f'href="{reverse("subsidies:policy_list")}"')
        self.client.force_login(self.county_officer)
        page = self.client.get(reverse("subsidies:policy_list"))
        self.assertContains(page, f'href="{reverse("subsidies:policy_list")}"')
        self.assertNotContains(page, f'href="{reverse("subsidies:fund_list")}"')
