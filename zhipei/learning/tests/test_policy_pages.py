"""Officer pages for crediting policies: the versions in scope, a new version with preview and
save, re-applying a period in the background and the run's result."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.test import Client

from zhipei.accounts.models import Role, User
from zhipei.audit.models import AuditEvent
from zhipei.learning import queries, services
from zhipei.learning.models import CreditingPolicy, RecreditRun
from zhipei.learning.tests.helpers import T0, LearningWorld, make_user

LIST = "/learning/policies/"
NEW = "/learning/policies/new"
RECREDIT = "/learning/policies/recredit/"
DAY = T0.date()


class PolicyPageWorld(LearningWorld):
    officer: User
    outsider: User
    finance: User
    province: CreditingPolicy
    yichang: CreditingPolicy

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.officer = make_user("city", role=Role.LABOUR_OFFICER, region=cls.regions["420100"])
        cls.outsider = make_user("outsider", role=Role.LABOUR_OFFICER, region=cls.regions["420500"])
        cls.finance = make_user("finance", role=Role.FINANCE_OFFICER, region=cls.regions["420100"])
        cls.province = CreditingPolicy.objects.create(
            region=cls.regions["420000"], effective_from=date(2020, 1, 1), created_at=T0
        )
        cls.yichang = CreditingPolicy.objects.create(
            region=cls.regions["420500"],
            effective_from=date(2024, 3, 1),
            minutes_per_class_hour=50,
            created_at=T0,
        )

    def form_data(self, **changes: Any) -> dict[str, Any]:
        data = {
            "region": str(self.regions["420100"].pk),
            "effective_from": "2026-06-01",
            "effective_to": "",
            "minutes_per_class_hour": "40",
            "daily_cap_minutes": "180",
            "face_check_required": "on",
            "face_check_interval_minutes": "30",
            "idle_after_minutes": "10",
            "action": "preview",
        }
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}


class PolicyListTests(PolicyPageWorld):
    def test_officer_sees_the_versions_that_apply_in_the_region(self) -> None:
        self.client.force_login(self.officer)
        response = self.client.get(LIST)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(list(response.context["policies"]), [self.province])
        html = response.content.decode()
        self.assertIn("湖北省", html)
        self.assertNotIn("2024-03-01", html)  # Yichang's version is not theirs
        self.assertIn('data-testid="in-force"', html)
        self.assertIn(NEW, html)
        self.assertIn(RECREDIT, html)

    def test_finance_officer_reads_without_the_actions(self) -> None:
        self.client.force_login(self.finance)
        response = self.client.get(LIST)
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(NEW, response.content.decode())

    def test_outsider_sees_their_own_regions_versions(self) -> None:
        self.client.force_login(self.outsider)
        response = self.client.get(LIST)
        self.assertEqual(list(response.context["policies"]), [self.province, self.yichang])

    def test_learners_are_refused_and_visitors_sent_to_log_in(self) -> None:
        self.assertEqual(self.client.get(LIST).status_code, 302)
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get(LIST).status_code, 403)


class NewPolicyPageTests(PolicyPageWorld):
    def test_the_form_starts_from_the_parameters_in_force(self) -> None:
        CreditingPolicy.objects.filter(pk=self.province.pk).update(idle_after_minutes=7)
        self.client.force_login(self.officer)
        response = self.client.get(NEW, {"region": self.regions["420100"].pk})
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertEqual(form.initial["idle_after_minutes"], 7)
        self.assertEqual(form.initial["region"], self.regions["420100"])
        regions = set(form.fields["region"].queryset.values_list("code", flat=True))
        self.assertEqual(regions, {"420100", "420102", "420106"})

    def test_preview_then_save(self) -> None:
        self.client.force_login(self.officer)
        preview = self.client.post(NEW, self.form_data())
        self.assertEqual(preview.status_code, 200)
        html = preview.content.decode()
        self.assertIn('id="preview"', html)
        self.assertIn('data-changed="minutes_per_class_hour"', html)
        self.assertIn('data-changed="daily_cap_minutes"', html)
        self.assertNotIn('data-changed="idle_after_minutes"', html)
        self.assertFalse(CreditingPolicy.objects.filter(region=self.regions["420100"]).exists())
        digest = preview.context["digest"]

        saved = self.client.post(NEW, self.form_data(action="save", previewed=digest))
        policy = CreditingPolicy.objects.get(region=self.regions["420100"])
        self.assertRedirects(
            saved,
            f"{RECREDIT}?region={self.regions['420100'].pk}&period_start=2026-06-01",
            fetch_redirect_response=False,
        )
        self.assertEqual((policy.minutes_per_class_hour, policy.daily_cap_minutes), (40, 180))
        self.assertFalse(policy.allow_seek_forward)
        self.assertTrue(
            AuditEvent.objects.filter(
                action="learning.crediting_policy.created", object_id=str(policy.pk)
            ).exists()
        )
        self.assertEqual(queries.policy_in_force(self.region, date(2026, 6, 1))[1], policy)

    def test_saving_what_was_not_previewed_previews_it_first(self) -> None:
        self.client.force_login(self.officer)
        digest = self.client.post(NEW, self.form_data()).context["digest"]
        response = self.client.post(
            NEW, self.form_data(action="save", previewed=digest, minutes_per_class_hour="30")
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn('id="preview"', response.content.decode())
        self.assertFalse(CreditingPolicy.objects.filter(region=self.regions["420100"]).exists())

    def test_bad_values_are_field_errors_and_nothing_is_saved(self) -> None:
        self.client.force_login(self.officer)
        response = self.client.post(
            NEW,
            self.form_data(
                minutes_per_class_hour="0",
                daily_cap_minutes="-5",
                face_check_interval_minutes="99999",
                idle_after_minutes="abc",
                effective_to="2026-05-01",
                action="save",
            ),
        )
        self.assertEqual(response.status_code, 422)
        errors = response.context["form"].errors
        self.assertEqual(set(errors), {"idle_after_minutes"})  # the type check comes first
        response = self.client.post(
            NEW,
            self.form_data(
                minutes_per_class_hour="0",
                daily_cap_minutes="-5",
                face_check_interval_minutes="99999",
                effective_to="2026-05-01",
            ),
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(
            set(response.context["form"].errors),
            {
                "minutes_per_class_hour",
                "daily_cap_minutes",
                "face_check_interval_minutes",
                "effective_to",
            },
        )
        self.assertNotIn('id="preview"', response.content.decode())
        for missing in ("region", "effective_from", "minutes_per_class_hour"):
            response = self.client.post(NEW, self.form_data(**{missing: ""}))
            self.assertEqual(response.status_code, 422)
            self.assertIn(missing, response.context["form"].errors)
        self.assertFalse(CreditingPolicy.objects.filter(region=self.regions["420100"]).exists())

    def test_a_region_outside_the_scope_is_not_a_choice(self) -> None:
        self.client.force_login(self.officer)
        response = self.client.post(
            NEW, self.form_data(region=str(self.regions["420502"].pk), action="save")
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("region", response.context["form"].errors)
        self.assertEqual(CreditingPolicy.objects.count(), 2)

    def test_a_region_that_is_no_whole_number_is_ignored(self) -> None:
        # "²" passes str.isdigit() but is no primary key: it was a 500.
        self.client.force_login(self.officer)
        for value in ("²", "①", "abc"):
            with self.subTest(value=value):
                self.assertEqual(self.client.get(NEW, {"region": value}).status_code, 200)

    def test_finance_officers_and_learners_get_403(self) -> None:
        for user in (self.finance, self.learner):
            self.client.force_login(user)
            self.assertEqual(self.client.get(NEW).status_code, 403)
            self.assertEqual(self.client.post(NEW, self.form_data()).status_code, 403)

    def test_a_post_without_the_csrf_token_is_refused(self) -> None:
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.officer)
        self.assertEqual(client.post(NEW, self.form_data()).status_code, 403)


class RecreditPageTests(PolicyPageWorld):
    def setUp(self) -> None:
        self.enrolment = services.enrol(
            self.person, self.course, occupation=self.welder, by=self.learner
        )
        self.store(self.study(T0, 30))
        services.recredit(DAY, DAY)

    def test_reapplying_a_period_runs_in_the_background_and_shows_the_result(self) -> None:
        CreditingPolicy.objects.filter(pk=self.province.pk).update(daily_cap_minutes=25)
        self.client.force_login(self.officer)
        form = self.client.get(
            RECREDIT, {"region": str(self.regions["420100"].pk), "period_start": "2026-05-01"}
        )
        self.assertEqual(form.status_code, 200)
        self.assertEqual(form.context["form"].initial["period_start"], "2026-05-01")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                RECREDIT,
                {
                    "region": self.regions["420100"].pk,
                    "period_start": "2026-05-01",
                    "period_end": "2026-05-01",
                },
            )
        run = RecreditRun.objects.get()
        self.assertRedirects(response, f"{RECREDIT}{run.pk}/", fetch_redirect_response=False)
        self.assertEqual(run.status, RecreditRun.Status.DONE)
        self.assertEqual(queries.credited_minutes(self.enrolment), 25)
        page = self.client.get(f"{RECREDIT}{run.pk}/")
        html = page.content.decode()
        self.assertIn('data-status="done"', html)
        self.assertIn('id="run-days">1<', html)
        self.assertIn('id="run-people">1<', html)
        self.assertNotIn("hx-trigger", html)
        self.assertIn(f"{RECREDIT}{run.pk}/", self.client.get(LIST).content.decode())

    def test_a_queued_run_updates_itself(self) -> None:
        self.client.force_login(self.officer)
        # Without executing the on-commit callbacks the run stays queued.
        self.client.post(
            RECREDIT,
            {
                "region": self.regions["420102"].pk,
                "period_start": "2026-05-01",
                "period_end": "2026-05-01",
            },
        )
        run = RecreditRun.objects.get()
        page = self.client.get(f"{RECREDIT}{run.pk}/").content.decode()
        self.assertIn('data-status="queued"', page)
        self.assertIn('hx-trigger="every 3s"', page)
        partial = self.client.get(f"{RECREDIT}{run.pk}/", headers={"HX-Request": "true"})
        self.assertNotIn("<html", partial.content.decode())
        self.assertIn('id="run-status"', partial.content.decode())

    def test_bad_periods_are_field_errors(self) -> None:
        self.client.force_login(self.officer)
        region = self.regions["420100"].pk
        cases = [
            ({"period_start": "2026-05-02", "period_end": "2026-05-01"}, "period_end"),
            ({"period_start": "2026-05-01", "period_end": "2999-01-01"}, "period_end"),
            ({"period_start": "2024-01-01", "period_end": "2026-05-01"}, "period_start"),
            ({"period_start": "not a day", "period_end": "2026-05-01"}, "period_start"),
            ({"period_start": "2026-05-01", "period_end": ""}, "period_end"),
        ]
        for data, field in cases:
            response = self.client.post(RECREDIT, {"region": region, **data})
            self.assertEqual(response.status_code, 422, data)
            self.assertIn(field, response.context["form"].errors, data)
        response = self.client.post(
            RECREDIT,
            {
                "region": self.regions["420502"].pk,
                "period_start": "2026-05-01",
                "period_end": "2026-05-01",
            },
        )
        self.assertEqual(response.status_code, 422)
        self.assertIn("region", response.context["form"].errors)
        self.assertFalse(RecreditRun.objects.exists())

    def test_roles_and_scope(self) -> None:
        self.client.force_login(self.officer)
        self.client.post(
            RECREDIT,
            {
                "region": self.regions["420102"].pk,
                "period_start": "2026-05-01",
                "period_end": "2026-05-01",
            },
        )
        run_url = f"{RECREDIT}{RecreditRun.objects.get().pk}/"
        self.client.force_login(self.finance)
        self.assertEqual(self.client.get(RECREDIT).status_code, 403)
        self.assertEqual(self.client.get(run_url).status_code, 200)  # reading is for officers
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(run_url).status_code, 404)
        self.assertEqual(self.client.get(f"{RECREDIT}999999/").status_code, 404)
        self.client.force_login(self.learner)
        self.assertEqual(self.client.get(RECREDIT).status_code, 403)
        self.assertEqual(self.client.get(run_url).status_code, 403)
