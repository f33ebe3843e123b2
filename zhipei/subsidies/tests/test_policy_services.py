"""Policy versions: who may create and retire them, validation, overlaps, succession,
previews, the audit trail, and parameters a programme no longer offers."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

from django.apps import apps
from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput, NotAllowed, NotInScope
from zhipei.subsidies import services
from zhipei.subsidies.errors import PolicyOverlap
from zhipei.subsidies.models import PolicyVersion, Programme
from zhipei.subsidies.parameters import SPECS, InvalidParameters, validate_parameters
from zhipei.subsidies.queries import resolve_policy
from zhipei.subsidies.tests.helpers import SubsidiesTestCase, make_version

P = Programme.LEARNER_TRAINING
EOT = Programme.ENTERPRISE_ONLINE_TRAINING
CERTIFICATE_REASON = (
    "No longer a parameter: every learner-training claim rests on a completion certificate."
)
CLASS_HOURS_REASON = (
    "No longer a subsidy parameter: class hours are credited under the region's crediting "
    "policy (learning policies), and certificates carry them."
)


def draft(region, parameters, start=date(2020, 1, 1), end=None, programme=P):
    return services.VersionDraft(
        programme=programme,
        region=region,
        effective_from=start,
        effective_to=end,
        parameters=parameters,
    )


class CreateVersionTests(SubsidiesTestCase):
    def test_city_officer_creates_a_version_for_a_county_in_scope(self):
        version = make_version(self.jiangan, {"min_age": 18}, by=self.city_officer)
        self.assertEqual(version.line.region, self.jiangan)
        self.assertEqual(version.created_by, self.city_officer)

    def test_province_officer_creates_for_the_province(self):
        make_version(self.hubei, {"min_age": 18}, by=self.province_officer)

    def test_county_officer_may_not_set_policy(self):
        with self.assertRaises(NotAllowed):
            make_version(self.jiangan, {"min_age": 18}, by=self.county_officer)

    def test_officer_outside_region_gets_not_in_scope(self):
        with self.assertRaises(NotInScope):
            make_version(self.jiangan, {"min_age": 18}, by=self.outsider_city)
        with self.assertRaises(NotInScope):
            make_version(self.hubei, {"min_age": 18}, by=self.city_officer)

    def test_finance_officer_and_learner_may_not_set_policy(self):
        for user in (self.finance, self.learner):
            with self.assertRaises(NotAllowed):
                make_version(self.wuhan, {"min_age": 18}, by=user)

    def test_national_versions_need_a_system_administrator(self):
        with self.assertRaises(NotAllowed):
            make_version(None, {"min_age": 16}, by=self.province_officer)
        make_version(None, {"min_age": 16}, by=self.sysadmin)

    def test_bad_parameters_are_refused_with_field_errors_and_nothing_saved(self):
        with self.assertRaises(InvalidParameters) as caught:
            make_version(
                self.wuhan,
                {
                    "min_age": "eighteen",
                    "per_class_hour_fen": -1,
                    "colour": "red",
                    "excluded_statuses": ["pensioner", "astronaut"],
                },
                by=self.city_officer,
            )
        errors = caught.exception.errors
        self.assertEqual(errors["min_age"], ["Enter a whole number."])
        self.assertEqual(errors["per_class_hour_fen"], ["Must be at least 0."])
        self.assertEqual(errors["colour"], ["This parameter does not belong to the programme."])
        self.assertIn("excluded_statuses", errors)
        self.assertFalse(PolicyVersion.objects.exists())

    def test_floats_never_pass_as_fen(self):
        with self.assertRaises(InvalidParameters) as caught:
            validate_parameters(P, {"per_class_hour_fen": 30.5})
        self.assertEqual(caught.exception.errors["per_class_hour_fen"], ["Enter a whole number."])

    def test_booleans_are_not_numbers_and_numbers_are_not_booleans(self):
        with self.assertRaises(InvalidParameters) as caught:
            validate_parameters(P, {"min_age": True, "same_occupation_level_once": 1})
        self.assertEqual(set(caught.exception.errors), {"min_age", "same_occupation_level_once"})

    def test_a_list_value_may_not_repeat_or_be_empty(self):
        with self.assertRaises(InvalidParameters):
            validate_parameters(P, {"excluded_statuses": ["pensioner", "pensioner"]})
        with self.assertRaises(InvalidParameters):
            validate_parameters(P, {"excluded_statuses": []})

    def test_a_version_must_set_something(self):
        with self.assertRaises(InvalidParameters):
            make_version(self.wuhan, {}, by=self.city_officer)

    def test_document_number_is_required(self):
        with self.assertRaises(InvalidInput) as caught:
            services.create_policy_version(
                draft(self.wuhan, {"min_age": 16}), document_number="  ", by=self.city_officer
            )
        self.assertEqual(caught.exception.field, "document_number")

    def test_last_day_before_first_day_is_refused(self):
        with self.assertRaises(InvalidInput) as caught:
            make_version(self.wuhan, {"min_age": 16}, start=date(2020, 5, 1), end=date(2020, 4, 30))
        self.assertEqual(caught.exception.field, "effective_to")

    def test_merged_values_must_agree_with_the_levels_above(self):
        make_version(self.hubei, {"min_age": 16, "max_age_male": 60})
        with self.assertRaises(InvalidParameters) as caught:
            make_version(self.wuhan, {"min_age": 65}, by=self.city_officer)
        self.assertEqual(
            caught.exception.errors["max_age_male"],
            ["The maximum age must be above the minimum age."],
        )

    def test_overlapping_versions_at_one_region_are_refused(self):
        make_version(self.wuhan, {"min_age": 16}, start=date(2020, 1, 1), end=date(2020, 6, 30))
        with self.assertRaises(PolicyOverlap):
            make_version(
                self.wuhan, {"min_age": 18}, start=date(2020, 6, 30), end=date(2020, 12, 31)
            )
        with self.assertRaises(PolicyOverlap):
            make_version(self.wuhan, {"min_age": 18}, start=date(2019, 1, 1))
        make_version(self.wuhan, {"min_age": 18}, start=date(2020, 7, 1), end=date(2020, 12, 31))
        self.assertEqual(PolicyVersion.objects.count(), 2)

    def test_same_dates_at_parent_and_child_are_not_an_overlap(self):
        make_version(self.hubei, {"min_age": 16})
        make_version(self.wuhan, {"min_age": 18})

    def test_open_ended_successor_closes_its_predecessor_the_day_before(self):
        old = make_version(self.wuhan, {"min_age": 16, "per_class_hour_fen": 3000})
        new = make_version(
            self.wuhan, {"min_age": 18}, start=date(2021, 1, 1), by=self.city_officer
        )

        old.refresh_from_db()
        self.assertEqual(old.effective_to, date(2020, 12, 31))
        self.assertEqual(old.parameters, {"min_age": 16, "per_class_hour_fen": 3000})
        self.assertEqual(resolve_policy(P, self.wuhan, date(2020, 12, 31))["min_age"], 16)
        self.assertEqual(resolve_policy(P, self.wuhan, date(2021, 1, 1))["min_age"], 18)
        # The successor sets only min_age: the rate is not carried over from the old version.
        self.assertIsNone(resolve_policy(P, self.wuhan, date(2021, 1, 1)).get("per_class_hour_fen"))
        closed = AuditEvent.objects.get(action="subsidies.policy.version_closed")
        self.assertEqual(closed.object_id, str(old.pk))
        self.assertEqual(closed.data["effective_to"], {"old": None, "new": "2020-12-31"})
        created = AuditEvent.objects.get(
            action="subsidies.policy.version_created", object_id=str(new.pk)
        )
        self.assertEqual(created.actor_id, self.city_officer.pk)
        self.assertEqual(created.data["changes"]["min_age"], {"old": 16, "new": 18})
        self.assertEqual(created.data["changes"]["per_class_hour_fen"], {"old": 3000, "new": None})

    def test_successor_starting_first_or_bounded_is_refused(self):
        make_version(self.wuhan, {"min_age": 16}, start=date(2020, 6, 1))
        with self.assertRaises(PolicyOverlap):
            make_version(self.wuhan, {"min_age": 18}, start=date(2020, 6, 1))
        with self.assertRaises(PolicyOverlap):
            make_version(self.wuhan, {"min_age": 18}, start=date(2021, 1, 1), end=date(2021, 6, 30))

    def test_audit_records_old_and_new_values_against_the_parent(self):
        make_version(self.hubei, {"min_age": 16})
        version = make_version(self.wuhan, {"min_age": 18}, by=self.city_officer)
        event = AuditEvent.objects.get(
            action="subsidies.policy.version_created", object_id=str(version.pk)
        )
        self.assertEqual(event.region_code, "420100")
        self.assertEqual(event.data["changes"], {"min_age": {"old": 16, "new": 18}})
        self.assertEqual(event.data["parameters"], {"min_age": 18})


class PreviewTests(SubsidiesTestCase):
    def test_preview_shows_the_merged_result_and_saves_nothing(self):
        make_version(self.hubei, {"min_age": 16, "per_class_hour_fen": 3000})
        preview = services.preview_policy_version(draft(self.wuhan, {"per_class_hour_fen": 2500}))
        self.assertEqual(preview["per_class_hour_fen"], 2500)
        self.assertIsNone(preview.parameters["per_class_hour_fen"].version_id)
        self.assertEqual(preview["min_age"], 16)
        self.assertEqual(PolicyVersion.objects.count(), 1)

    def test_preview_replaces_the_regions_current_version(self):
        make_version(self.wuhan, {"min_age": 16, "per_class_hour_fen": 3000})
        preview = services.preview_policy_version(
            draft(self.wuhan, {"min_age": 18}, start=date(2021, 1, 1))
        )
        self.assertEqual(preview.values, {"min_age": 18})

    def test_preview_on_a_date_outside_the_draft(self):
        make_version(self.hubei, {"min_age": 16})
        preview = services.preview_policy_version(
            draft(self.wuhan, {"min_age": 18}, start=date(2021, 1, 1)), on_date=date(2020, 6, 1)
        )
        self.assertEqual(preview["min_age"], 16)

    def test_preview_outside_the_drafts_dates_keeps_the_regions_own_version(self):
        make_version(self.wuhan, {"min_age": 16})
        preview = services.preview_policy_version(
            draft(self.wuhan, {"min_age": 18}, start=date(2021, 1, 1)), on_date=date(2020, 6, 1)
        )
        self.assertEqual(preview["min_age"], 16)
        self.assertIsNotNone(preview.parameters["min_age"].version_id)

    def test_preview_reports_conflicts_with_the_levels_above(self):
        make_version(self.hubei, {"max_age_male": 60})
        preview = services.preview_policy_version(draft(self.wuhan, {"min_age": 70}))
        self.assertIn("max_age_male", preview.problems)


class RetireTests(SubsidiesTestCase):
    def test_retiring_ends_an_open_version_and_the_parent_applies_again(self):
        make_version(self.hubei, {"min_age": 16})
        version = make_version(self.wuhan, {"min_age": 18})
        last_day = timezone.localdate() + timedelta(days=10)

        services.retire_policy_version(
            version, last_day=last_day, by=self.city_officer, reason="新文件"
        )

        version.refresh_from_db()
        self.assertEqual(version.effective_to, last_day)
        self.assertEqual(resolve_policy(P, self.wuhan, last_day)["min_age"], 18)
        self.assertEqual(resolve_policy(P, self.wuhan, last_day + timedelta(days=1))["min_age"], 16)
        event = AuditEvent.objects.get(action="subsidies.policy.version_retired")
        self.assertEqual(event.data["effective_to"], {"old": None, "new": last_day.isoformat()})
        self.assertEqual(event.data["changes"], {"min_age": {"old": 18, "new": 16}})

    def test_a_future_version_retired_before_it_starts_is_withdrawn(self):
        start = timezone.localdate() + timedelta(days=30)
        version = make_version(self.wuhan, {"min_age": 18}, start=start)
        services.retire_policy_version(
            version, last_day=start - timedelta(days=5), by=self.city_officer
        )
        version.refresh_from_db()
        self.assertIsNotNone(version.withdrawn_at)
        self.assertIsNone(resolve_policy(P, self.wuhan, start).get("min_age"))
        # Its dates are free again.
        make_version(self.wuhan, {"min_age": 20}, start=start)

    def test_the_past_is_never_rewritten(self):
        version = make_version(self.wuhan, {"min_age": 18})
        with self.assertRaises(InvalidInput) as caught:
            services.retire_policy_version(version, last_day=date(2020, 6, 1), by=self.city_officer)
        self.assertEqual(caught.exception.field, "last_day")

    def test_cannot_retire_after_its_end_or_twice(self):
        end = timezone.localdate() + timedelta(days=5)
        version = make_version(self.wuhan, {"min_age": 18}, end=end)
        with self.assertRaises(InvalidInput):
            services.retire_policy_version(version, last_day=end, by=self.city_officer)
        start = timezone.localdate() + timedelta(days=30)
        future = make_version(self.wuhan, {"min_age": 18}, start=start)
        services.retire_policy_version(
            future, last_day=start - timedelta(days=1), by=self.city_officer
        )
        with self.assertRaises(InvalidInput):
            services.retire_policy_version(
                future, last_day=start - timedelta(days=1), by=self.city_officer
            )

    def test_retiring_needs_a_policy_officer_in_scope(self):
        version = make_version(self.wuhan, {"min_age": 18})
        last_day = timezone.localdate() + timedelta(days=10)
        with self.assertRaises(NotInScope):
            services.retire_policy_version(version, last_day=last_day, by=self.outsider_city)
        with self.assertRaises(NotAllowed):
            services.retire_policy_version(version, last_day=last_day, by=self.county_officer)


class DemoPolicyTests(SubsidiesTestCase):
    def test_demo_policies_are_complete_examples_and_load_once(self):
        from zhipei.subsidies.demo import load_demo_policies

        self.assertEqual(load_demo_policies(), 5)
        self.assertEqual(load_demo_policies(), 0)
        self.assertEqual(PolicyVersion.objects.count(), 5)
        self.assertTrue(all(v.is_example for v in PolicyVersion.objects.all()))
        for programme in Programme.values:
            resolved = resolve_policy(programme, self.xiling, date(2020, 6, 1))
            self.assertTrue(resolved.is_complete, (programme, resolved.missing, resolved.problems))


def store_as_before(version, **retired):
    """The version as stored before the programme stopped offering `retired` (parameters
    are never edited through the services, so straight to the row)."""
    PolicyVersion.objects.filter(pk=version.pk).update(parameters=version.parameters | retired)
    version.refresh_from_db()
    return version


class RetiredParameterTests(SubsidiesTestCase):
    """`requires_certificate` and `minutes_per_class_hour` changed no decision (a learner
    claim always rests on a certificate; class hours are credited under the learning app's
    crediting policy), so the programmes no longer offer them."""

    def test_the_programmes_do_not_offer_them(self):
        offered = {programme: {spec.name for spec in specs} for programme, specs in SPECS.items()}
        self.assertFalse({"requires_certificate", "minutes_per_class_hour"} & offered[P])
        self.assertNotIn("minutes_per_class_hour", offered[EOT])

    def test_setting_one_is_refused_with_the_reason_and_nothing_saved(self):
        with self.assertRaises(InvalidParameters) as caught:
            make_version(
                self.wuhan,
                {"min_age": 18, "requires_certificate": True, "minutes_per_class_hour": 45},
                by=self.city_officer,
            )
        self.assertEqual(
            caught.exception.errors,
            {
                "requires_certificate": [CERTIFICATE_REASON],
                "minutes_per_class_hour": [CLASS_HOURS_REASON],
            },
        )
        self.assertFalse(PolicyVersion.objects.exists())
        self.assertFalse(AuditEvent.objects.filter(action__startswith="subsidies.").exists())

    def test_enterprise_programme_refuses_minutes_per_class_hour_with_the_reason(self):
        with self.assertRaises(InvalidParameters) as caught:
            validate_parameters(EOT, {"per_class_hour_fen": 3000, "minutes_per_class_hour": 60})
        self.assertEqual(caught.exception.errors, {"minutes_per_class_hour": [CLASS_HOURS_REASON]})
        # It never offered a certificate switch: the plain refusal.
        with self.assertRaises(InvalidParameters) as caught:
            validate_parameters(EOT, {"requires_certificate": False})
        self.assertEqual(
            caught.exception.errors,
            {"requires_certificate": ["This parameter does not belong to the programme."]},
        )

    def test_a_version_stored_with_them_still_resolves_previews_and_takes_a_successor(self):
        hubei = store_as_before(
            make_version(self.hubei, {"min_age": 16, "per_class_hour_fen": 3000}),
            requires_certificate=False,
            minutes_per_class_hour=60,
        )
        resolved = resolve_policy(P, self.jiangan, date(2020, 6, 1))
        self.assertEqual(resolved.values, {"per_class_hour_fen": 3000, "min_age": 16})
        self.assertNotIn("requires_certificate", resolved.missing)
        self.assertNotIn("minutes_per_class_hour", resolved.missing)
        self.assertEqual(resolved.problems, {})

        preview = services.preview_policy_version(draft(self.wuhan, {"min_age": 18}))
        self.assertEqual(preview.values, {"per_class_hour_fen": 3000, "min_age": 18})
        wuhan = make_version(self.wuhan, {"min_age": 18}, by=self.city_officer)
        event = AuditEvent.objects.get(
            action="subsidies.policy.version_created", object_id=str(wuhan.pk)
        )
        self.assertEqual(event.data["changes"], {"min_age": {"old": 16, "new": 18}})
        # A successor at the province closes the stored version and does not carry them on.
        successor = make_version(self.hubei, {"min_age": 17}, start=date(2021, 1, 1))
        hubei.refresh_from_db()
        self.assertEqual(hubei.effective_to, date(2020, 12, 31))
        self.assertEqual(successor.parameters, {"min_age": 17})


class RetireParametersMigrationTests(SubsidiesTestCase):
    migration = importlib.import_module(
        "zhipei.subsidies.migrations.0006_retire_requires_certificate_and_minutes_per_class_hour"
    )

    def migrate(self):
        self.migration.remove_retired_parameters(apps, None)

    def test_removes_them_from_stored_versions_and_records_each_change(self):
        learner = store_as_before(
            make_version(self.hubei, {"min_age": 16, "per_class_hour_fen": 3000}),
            requires_certificate=True,
            minutes_per_class_hour=45,
        )
        only_retired = make_version(self.wuhan, {"min_age": 17})
        PolicyVersion.objects.filter(pk=only_retired.pk).update(
            parameters={"minutes_per_class_hour": 40}
        )
        enterprise = store_as_before(
            make_version(None, {"per_class_hour_fen": 2500}, programme=EOT),
            minutes_per_class_hour=60,
            requires_certificate=True,  # never an enterprise parameter: not this migration's
        )
        untouched = make_version(self.yichang, {"min_age": 18})
        other_programme = store_as_before(
            make_version(
                self.hubei,
                {"online_rate_per_class_hour_fen": 500},
                programme=Programme.LIVING_ALLOWANCE,
            ),
            minutes_per_class_hour=45,
        )
        before_events = AuditEvent.objects.count()

        self.migrate()

        stored = {v.pk: v.parameters for v in PolicyVersion.objects.all()}
        self.assertEqual(stored[learner.pk], {"min_age": 16, "per_class_hour_fen": 3000})
        self.assertEqual(stored[only_retired.pk], {})
        self.assertEqual(
            stored[enterprise.pk], {"per_class_hour_fen": 2500, "requires_certificate": True}
        )
        self.assertEqual(stored[untouched.pk], {"min_age": 18})
        self.assertEqual(
            stored[other_programme.pk],
            {"online_rate_per_class_hour_fen": 500, "minutes_per_class_hour": 45},
        )
        events = {
            e.object_id: e
            for e in AuditEvent.objects.filter(action="subsidies.policy.parameters_retired")
        }
        self.assertEqual(AuditEvent.objects.count(), before_events + 3)
        self.assertEqual(set(events), {str(learner.pk), str(only_retired.pk), str(enterprise.pk)})
        event = events[str(learner.pk)]
        self.assertEqual(
            (event.object_type, event.region_code, event.actor_id, event.actor_label),
            ("subsidies.policyversion", "420000", None, "system"),
        )
        self.assertEqual(event.data["programme"], P)
        self.assertEqual(
            event.data["parameters"],
            {
                "requires_certificate": {"old": True, "new": None},
                "minutes_per_class_hour": {"old": 45, "new": None},
            },
        )
        self.assertEqual(events[str(enterprise.pk)].region_code, "")
        self.assertEqual(
            events[str(enterprise.pk)].data["parameters"],
            {"minutes_per_class_hour": {"old": 60, "new": None}},
        )
        # The resolved policy is what it was: the values had stopped applying already.
        self.assertEqual(
            resolve_policy(P, self.jiangan, date(2020, 6, 1)).values,
            {"per_class_hour_fen": 3000, "min_age": 16},
        )

    def test_running_it_again_changes_nothing(self):
        store_as_before(make_version(self.hubei, {"min_age": 16}), minutes_per_class_hour=45)
        self.migrate()
        after_first = (
            list(PolicyVersion.objects.values_list("pk", "parameters")),
            AuditEvent.objects.count(),
        )
        self.migrate()
        self.assertEqual(
            (
                list(PolicyVersion.objects.values_list("pk", "parameters")),
                AuditEvent.objects.count(),
            ),
            after_first,
        )
