"""Crediting policy services: a new version from a date (validated field by field, in the
actor's scope, audited), its preview, and re-applying the policy to a period in the
background."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from django.utils import timezone

from zhipei.accounts.models import Role, User
from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput, NotAllowed, NotInScope
from zhipei.learning import queries, services
from zhipei.learning.models import CreditingPolicy, RecreditRun
from zhipei.learning.policies.services import (
    PolicyDraft,
    PolicyInvalid,
    create_crediting_policy,
    preview_crediting_policy,
    request_recredit,
    run_recredit,
)
from zhipei.learning.tests.helpers import T0, LearningWorld, make_user

DAY = T0.date()


class PolicyServiceWorld(LearningWorld):
    city_officer: User
    county_officer: User
    outsider: User
    finance: User
    admin: User

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.city_officer = make_user("city", role=Role.LABOUR_OFFICER, region=cls.regions["420100"])
        cls.county_officer = make_user(
            "county", role=Role.LABOUR_OFFICER, region=cls.regions["420102"]
        )
        cls.outsider = make_user("outsider", role=Role.LABOUR_OFFICER, region=cls.regions["420500"])
        cls.finance = make_user("finance", role=Role.FINANCE_OFFICER, region=cls.regions["420100"])
        cls.admin = make_user("admin", role=Role.SYSTEM_ADMIN)

    def draft(self, **changes: object) -> PolicyDraft:
        base = PolicyDraft(
            region=self.regions["420100"],
            effective_from=date(2026, 1, 1),
            effective_to=None,
            minutes_per_class_hour=45,
            daily_cap_minutes=240,
            face_check_required=True,
            face_check_interval_minutes=30,
            idle_after_minutes=10,
            allow_seek_forward=False,
        )
        return replace(base, **changes)  # type: ignore[arg-type]


class CreatePolicyTests(PolicyServiceWorld):
    def test_a_labour_officer_creates_a_version_for_a_region_in_scope(self) -> None:
        policy = create_crediting_policy(self.draft(), by=self.city_officer)
        self.assertEqual(
            (policy.region, policy.effective_from, policy.daily_cap_minutes),
            (self.regions["420100"], date(2026, 1, 1), 240),
        )
        params, in_force = queries.policy_in_force(self.region, DAY)
        self.assertEqual(in_force, policy)
        self.assertEqual(params.daily_cap_minutes, 240)
        event = AuditEvent.objects.get(action="learning.crediting_policy.created")
        self.assertEqual((event.actor_id, event.object_id), (self.city_officer.pk, str(policy.pk)))
        self.assertEqual(event.region_code, "420100")
        self.assertEqual(event.data["parameters"]["daily_cap_minutes"], 240)
        self.assertIsNone(event.data["parameters_before"]["daily_cap_minutes"])
        self.assertIsNone(event.data["replaces"])

    def test_a_child_version_overrides_the_parent_in_its_region_only(self) -> None:
        create_crediting_policy(self.draft(), by=self.city_officer)
        county = create_crediting_policy(
            self.draft(region=self.region, minutes_per_class_hour=40), by=self.county_officer
        )
        self.assertEqual(queries.policy_in_force(self.region, DAY)[1], county)
        other_county = self.regions["420106"]
        self.assertEqual(queries.policy_in_force(other_county, DAY)[0].minutes_per_class_hour, 45)

    def test_each_bad_value_is_an_error_on_its_field(self) -> None:
        bad = self.draft(
            minutes_per_class_hour=0,
            daily_cap_minutes=1441,
            face_check_interval_minutes=-5,
            idle_after_minutes=241,
            effective_to=date(2025, 12, 31),
        )
        with self.assertRaises(PolicyInvalid) as caught:
            create_crediting_policy(bad, by=self.city_officer)
        self.assertEqual(
            set(caught.exception.errors),
            {
                "minutes_per_class_hour",
                "daily_cap_minutes",
                "face_check_interval_minutes",
                "idle_after_minutes",
                "effective_to",
            },
        )
        self.assertIn("from 1 to 240", caught.exception.errors["minutes_per_class_hour"][0])
        self.assertFalse(CreditingPolicy.objects.exists())
        self.assertFalse(
            AuditEvent.objects.filter(action__startswith="learning.crediting").exists()
        )

    def test_limits_are_inclusive_and_empty_limits_mean_none(self) -> None:
        policy = create_crediting_policy(
            self.draft(
                minutes_per_class_hour=240,
                daily_cap_minutes=None,
                face_check_interval_minutes=None,
                idle_after_minutes=1,
            ),
            by=self.city_officer,
        )
        self.assertEqual(
            (policy.daily_cap_minutes, policy.face_check_interval_minutes), (None, None)
        )
        with self.assertRaises(PolicyInvalid):
            create_crediting_policy(
                self.draft(effective_from=date(2026, 2, 1), minutes_per_class_hour=True),
                by=self.city_officer,
            )

    def test_two_versions_of_a_region_cannot_start_on_the_same_day(self) -> None:
        create_crediting_policy(self.draft(), by=self.city_officer)
        with self.assertRaises(PolicyInvalid) as caught:
            create_crediting_policy(self.draft(daily_cap_minutes=60), by=self.city_officer)
        self.assertEqual(set(caught.exception.errors), {"effective_from"})
        # Another region may.
        create_crediting_policy(self.draft(region=self.region), by=self.county_officer)

    def test_outside_the_scope_or_without_the_role_is_refused(self) -> None:
        with self.assertRaises(NotInScope):
            create_crediting_policy(self.draft(), by=self.outsider)
        with self.assertRaises(NotInScope):
            create_crediting_policy(self.draft(), by=self.county_officer)  # the city above
        with self.assertRaises(NotAllowed):
            create_crediting_policy(self.draft(), by=self.finance)
        with self.assertRaises(NotAllowed):
            create_crediting_policy(self.draft(region=None), by=self.city_officer)
        self.assertFalse(CreditingPolicy.objects.exists())

    def test_the_national_version_is_for_system_administrators(self) -> None:
        policy = create_crediting_policy(self.draft(region=None), by=self.admin)
        self.assertIsNone(policy.region)
        self.assertEqual(queries.policy_in_force(self.region, DAY)[1], policy)


class PreviewTests(PolicyServiceWorld):
    def test_the_preview_compares_with_the_policy_in_force_that_day(self) -> None:
        province = CreditingPolicy.objects.create(
            region=self.regions["420000"], effective_from=date(2020, 1, 1), created_at=T0
        )
        county = CreditingPolicy.objects.create(
            region=self.region, effective_from=date(2020, 1, 1), created_at=T0
        )
        preview = preview_crediting_policy(
            self.draft(minutes_per_class_hour=40), by=self.city_officer
        )
        self.assertEqual(preview.current_policy, province)
        changed = {row.name: (row.current, row.proposed) for row in preview.rows if row.changed}
        self.assertEqual(
            changed, {"minutes_per_class_hour": (45, 40), "daily_cap_minutes": (None, 240)}
        )
        self.assertEqual(preview.kept_by, [county])
        self.assertFalse(CreditingPolicy.objects.filter(region=self.regions["420100"]).exists())

    def test_a_preview_checks_the_values_and_the_scope_as_saving_does(self) -> None:
        with self.assertRaises(PolicyInvalid):
            preview_crediting_policy(self.draft(idle_after_minutes=0), by=self.city_officer)
        with self.assertRaises(NotInScope):
            preview_crediting_policy(self.draft(), by=self.outsider)


class RecreditRunTests(PolicyServiceWorld):
    def setUp(self) -> None:
        self.enrolment = services.enrol(
            self.person, self.course, occupation=self.welder, by=self.learner
        )
        self.store(self.study(T0, 30))
        services.recredit(DAY, DAY)

    def test_a_requested_period_is_credited_again_in_the_background(self) -> None:
        self.assertEqual(queries.credited_minutes(self.enrolment), 30)
        create_crediting_policy(self.draft(daily_cap_minutes=20), by=self.city_officer)
        self.assertEqual(queries.credited_minutes(self.enrolment), 30)  # not yet re-applied
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            run = request_recredit(
                self.regions["420100"], period_start=DAY, period_end=DAY, by=self.city_officer
            )
            self.assertEqual(run.status, RecreditRun.Status.QUEUED)
        self.assertEqual(len(callbacks), 1)
        run.refresh_from_db()
        self.assertEqual(run.status, RecreditRun.Status.DONE)
        self.assertEqual((run.people, run.days_recomputed), (1, 1))
        self.assertIsNotNone(run.started_at)
        self.assertIsNotNone(run.finished_at)
        self.assertEqual(queries.credited_minutes(self.enrolment), 20)
        (reason,) = queries.uncredited_reasons(self.enrolment)
        self.assertEqual((reason.code, reason.minutes), ("daily_cap", 10))
        requested = AuditEvent.objects.get(action="learning.crediting.recredit_requested")
        self.assertEqual(
            (requested.actor_id, requested.object_id), (self.city_officer.pk, str(run.pk))
        )
        done = AuditEvent.objects.get(
            action="learning.crediting.recredited", actor_id=self.city_officer.pk
        )
        self.assertEqual(done.data["days"], 1)

    def test_running_a_run_again_changes_nothing(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            run = request_recredit(
                self.region, period_start=DAY, period_end=DAY, by=self.county_officer
            )
        again = run_recredit(run.pk)
        assert again is not None
        self.assertEqual(again.status, RecreditRun.Status.DONE)
        self.assertEqual(
            AuditEvent.objects.filter(
                action="learning.crediting.recredited", actor_id=self.county_officer.pk
            ).count(),
            1,
        )
        self.assertIsNone(run_recredit(999_999))

    def test_learners_outside_the_region_are_not_touched(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            run = request_recredit(
                self.regions["420106"], period_start=DAY, period_end=DAY, by=self.city_officer
            )
        run.refresh_from_db()
        self.assertEqual((run.status, run.people, run.days_recomputed), ("done", 0, 0))

    def test_bad_periods_are_refused_on_their_field(self) -> None:
        today = timezone.localdate()
        cases = [
            (DAY, DAY - timedelta(days=1), "period_end"),
            (today, today + timedelta(days=1), "period_end"),
            (DAY - timedelta(days=366), DAY, "period_start"),
            (date(1, 1, 1), date(1, 12, 31), "period_start"),  # before the years credited
        ]
        for start, end, field in cases:
            with self.assertRaises(InvalidInput) as caught:
                request_recredit(
                    self.region, period_start=start, period_end=end, by=self.city_officer
                )
            self.assertEqual(caught.exception.field, field)
        # 366 days is the most.
        request_recredit(
            self.region,
            period_start=DAY - timedelta(days=365),
            period_end=DAY,
            by=self.city_officer,
        )
        self.assertEqual(RecreditRun.objects.count(), 1)

    def test_only_labour_officers_in_scope_may_ask(self) -> None:
        with self.assertRaises(NotInScope):
            request_recredit(self.region, period_start=DAY, period_end=DAY, by=self.outsider)
        with self.assertRaises(NotAllowed):
            request_recredit(self.region, period_start=DAY, period_end=DAY, by=self.finance)
        self.assertFalse(RecreditRun.objects.exists())
