"""The incremental crediting pass over statements stored through the LRS service."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

from zhipei.core.errors import InvalidInput
from zhipei.core.scheduler import registered_jobs
from zhipei.learning import queries, services
from zhipei.learning.models import CreditedTime, CreditingPolicy, CreditingState, UncreditedSegment
from zhipei.learning.tasks import credit_new_statements as credit_task
from zhipei.learning.tests.helpers import T0, LearningWorld, LivePassWorld
from zhipei.lrs.tests.helpers import HORIZON_WAIT_SECONDS
from zhipei.lrs_documents import profile

DAY = date(2026, 5, 1)


class CreditingPassTests(LivePassWorld):
    def setUp(self) -> None:
        super().setUp()
        self.enrolment = services.enrol(
            self.person, self.course, occupation=self.welder, by=self.learner
        )

    def rows(self) -> list[tuple[object, ...]]:
        return sorted(
            CreditedTime.objects.values_list(
                "enrolment_id", "day", "credited_seconds", "uncredited_seconds"
            )
        ) + sorted(
            UncreditedSegment.objects.values_list("enrolment_id", "start", "end", "rule", "seconds")
        )

    def test_the_pass_credits_a_session_stored_through_the_lrs(self) -> None:
        self.store(self.study(T0, 30))
        summary = self.run_pass()
        self.assertEqual((summary.statements, summary.days_recomputed), (31, 1))
        self.assertEqual(queries.credited_minutes(self.enrolment), 30)
        self.assertEqual(queries.class_hours_credited(self.enrolment), Decimal("0.6"))
        self.assertEqual(queries.uncredited_reasons(self.enrolment), [])
        day = CreditedTime.objects.get(enrolment=self.enrolment)
        self.assertEqual((day.day, day.credited_seconds), (DAY, 1800))
        self.assertEqual(day.parameters["minutes_per_class_hour"], 45)
        state = CreditingState.objects.get(name=services.STATE_NAME)
        self.assertEqual(state.last_summary["statements"], 31)

    def test_partial_sessions_accumulate_across_passes_and_days(self) -> None:
        self.store(self.study(T0, 20, session="a"))
        self.run_pass()
        self.store(self.study(T0 + timedelta(hours=2), 25, session="b"))
        self.store(self.study(T0 + timedelta(days=1), 15, session="c"))
        summary = self.run_pass()
        self.assertEqual(summary.days_recomputed, 2)
        self.assertEqual(queries.credited_minutes(self.enrolment), 60)
        self.assertEqual(queries.class_hours_credited(self.enrolment), Decimal("1.3"))
        self.assertEqual(queries.uncredited_reasons(self.enrolment), [])

    def test_a_session_across_midnight_is_split_between_the_two_days(self) -> None:
        self.store(self.study(T0.replace(hour=23, minute=50), 20))
        summary = self.run_pass()
        self.assertEqual(summary.days_recomputed, 2)
        days = dict(
            CreditedTime.objects.filter(enrolment=self.enrolment).values_list(
                "day", "credited_seconds"
            )
        )
        self.assertEqual(days, {DAY: 600, date(2026, 5, 2): 600})

    def test_a_period_ending_before_it_starts_is_refused(self) -> None:
        with self.assertRaises(InvalidInput):
            services.recredit(DAY, date(2026, 4, 30))

    def test_repeating_the_pass_and_recrediting_change_nothing(self) -> None:
        self.store(self.study(T0, 30, face=None))
        self.run_pass()
        before = self.rows()
        self.assertTrue(before)
        self.assertEqual(self.run_pass().statements, 0)
        self.assertEqual(services.recredit(DAY, DAY), 1)
        self.assertEqual(self.rows(), before)

    def test_statements_that_cannot_be_credited_are_counted(self) -> None:
        stranger = self.stmt(profile.PROGRESSED, T0, duration="PT1M", actor="nobody-knows-me")
        unknown_course = self.stmt(profile.PROGRESSED, T0, duration="PT1M")
        unknown_course["object"]["id"] = "https://platform.example.cn/not-in-catalogue"
        self.store([stranger, unknown_course, *self.study(T0, 3, lesson=self.text)])
        summary = self.run_pass()
        self.assertEqual(
            (summary.unknown_learner, summary.unknown_course, summary.not_enrolled), (1, 1, 4)
        )
        self.assertEqual(summary.days_recomputed, 0)
        self.assertFalse(CreditedTime.objects.exists())

    def test_odd_timestamps_and_absurd_durations_do_not_stop_the_pass(self) -> None:
        # Valid xAPI, stored as sent; they once raised OverflowError in the pass, which then
        # failed at the same batch every time, and nobody's learning was credited any more.
        odd = [
            self.stmt(profile.PROGRESSED, T0, duration="PT1M") | {"timestamp": moment}
            for moment in ("0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "9999-12-31T23:59:59Z")
        ]
        absurd = [
            self.stmt(profile.PROGRESSED, T0 + timedelta(minutes=40), duration=text)
            for text in ("P3000000Y", "PT" + "9" * 400 + "S")
        ]
        self.store([*odd, *absurd, *self.study(T0, 30)])
        summary = self.run_pass()
        self.assertEqual(summary.odd_timestamp, 3)
        # A heartbeat's duration is read as a day at most: it reaches into the day before,
        # which is recomputed and has nothing to credit.
        self.assertEqual(summary.days_recomputed, 2)
        # The session's 30 minutes are credited; the two long heartbeats ten minutes after
        # its end cover those ten minutes only (from the previous heartbeat), and that time
        # is explained, not credited: no face check within the last 30 minutes.
        self.assertEqual(queries.credited_minutes(self.enrolment), 30)
        (reason,) = queries.uncredited_reasons(self.enrolment)
        self.assertEqual((reason.code, reason.minutes), ("face_check_missing", 10))
        self.assertEqual(
            list(CreditedTime.objects.values_list("day", "credited_seconds", "uncredited_seconds")),
            [(DAY, 1800, 600)],
        )
        self.assertEqual(services.recredit(DAY, DAY), 1)  # and re-crediting works too

    def test_a_period_outside_the_years_credited_is_refused(self) -> None:
        for start, end, field in [
            (date(1, 1, 1), DAY, "period_start"),
            (date(1999, 12, 31), DAY, "period_start"),
            (DAY, date(2100, 1, 1), "period_end"),
        ]:
            with self.assertRaises(InvalidInput) as caught:
                services.recredit(start, end)
            self.assertEqual(caught.exception.field, field)

    def test_a_failed_start_check_is_explained(self) -> None:
        self.store(self.study(T0, 10, face="failed"))
        self.run_pass()
        self.assertEqual(queries.credited_minutes(self.enrolment), 0)
        (reason,) = queries.uncredited_reasons(self.enrolment)
        self.assertEqual((reason.code, reason.minutes), ("face_check_failed", 10))
        self.assertIn("face check", reason.message)
        segment = UncreditedSegment.objects.get()
        self.assertEqual(segment.parameters, {"result": "failed"})
        self.assertEqual(len(segment.statement_ids), 1)

    def test_overlapping_sessions_on_two_courses_are_credited_once(self) -> None:
        other = services.enrol(self.person, self.other_course, by=self.learner)
        self.store(self.study(T0, 30, session="a"))
        self.store(self.study(T0 + timedelta(minutes=10), 30, lesson=self.text, session="b"))
        self.run_pass()
        self.assertEqual(queries.credited_minutes(self.enrolment), 30)
        self.assertEqual(queries.credited_minutes(other), 10)
        (reason,) = queries.uncredited_reasons(other)
        self.assertEqual((reason.code, reason.minutes), ("overlap", 20))

    def test_a_voided_heartbeat_is_taken_back(self) -> None:
        statements = self.study(T0, 10)
        self.store(statements)
        self.run_pass()
        voiding = self.stmt(profile.ADL_VERBS + "voided", T0 + timedelta(hours=1))
        voiding["object"] = {"objectType": "StatementRef", "id": statements[-1]["id"]}
        voiding.pop("context")
        self.store([voiding])
        summary = self.run_pass()
        self.assertEqual(summary.days_recomputed, 1)
        self.assertEqual(queries.credited_minutes(self.enrolment), 9)

    def test_without_a_passed_check_within_the_interval_credit_stops(self) -> None:
        self.store(self.study(T0, 40))
        self.run_pass()
        self.assertEqual(queries.credited_minutes(self.enrolment), 30)
        (reason,) = queries.uncredited_reasons(self.enrolment)
        self.assertEqual((reason.code, reason.minutes), ("face_check_missing", 10))
        self.assertIn("within 30 minutes", reason.message)

    def test_a_policy_change_is_applied_by_recredit(self) -> None:
        self.store(self.study(T0, 30))
        self.run_pass()
        self.assertEqual(queries.credited_minutes(self.enrolment), 30)
        CreditingPolicy.objects.create(
            region=self.regions["420100"],
            effective_from=date(2026, 1, 1),
            daily_cap_minutes=20,
            created_at=T0,
        )
        self.assertEqual(services.recredit(DAY, DAY, region=self.regions["420000"]), 1)
        self.assertEqual(queries.credited_minutes(self.enrolment), 20)
        (reason,) = queries.uncredited_reasons(self.enrolment)
        self.assertEqual((reason.code, reason.minutes), ("daily_cap", 10))
        self.assertIn("20 minutes", reason.message)
        # Learners outside the region are left alone.
        self.assertEqual(services.recredit(DAY, DAY, region=self.regions["420502"]), 0)

    def test_the_task_runs_the_pass_and_is_scheduled_every_minute(self) -> None:
        self.store(self.study(T0, 5))
        deadline = time.monotonic() + HORIZON_WAIT_SECONDS
        read = 0
        while read < 6 and time.monotonic() < deadline:
            result = credit_task.enqueue()
            assert result.return_value is not None
            read += result.return_value["statements"]
        self.assertEqual(read, 6)
        self.assertEqual(queries.credited_minutes(self.enrolment), 5)
        jobs = {job.name: job for job in registered_jobs()}
        self.assertEqual(jobs["learning.credit_new_statements"].every_seconds, 60)


class PolicyResolutionTests(LearningWorld):
    def policy(self, region, start, end=None, **params) -> CreditingPolicy:
        return CreditingPolicy.objects.create(
            region=region, effective_from=start, effective_to=end, created_at=T0, **params
        )

    def test_built_in_defaults_without_any_policy(self) -> None:
        params, policy = queries.policy_in_force(self.region, DAY)
        self.assertIsNone(policy)
        self.assertEqual((params.minutes_per_class_hour, params.idle_after_minutes), (45, 10))
        self.assertEqual((params.face_check_interval_minutes, params.daily_cap_minutes), (30, None))

    def test_nearest_region_in_force_wins_over_national(self) -> None:
        national = self.policy(None, date(2020, 1, 1), minutes_per_class_hour=50)
        province = self.policy(self.regions["420000"], date(2020, 1, 1), minutes_per_class_hour=40)
        city = self.policy(
            self.regions["420100"], date(2026, 6, 1), minutes_per_class_hour=30
        )  # not yet in force on DAY
        self.policy(self.regions["420502"], date(2020, 1, 1), minutes_per_class_hour=20)
        self.assertEqual(queries.policy_in_force(self.region, DAY)[1], province)
        self.assertEqual(queries.policy_in_force(self.region, date(2026, 7, 1))[1], city)
        self.assertEqual(queries.policy_in_force(None, DAY)[1], national)
        province.effective_to = date(2026, 4, 30)
        province.save()
        self.assertEqual(
            queries.policy_in_force(self.region, DAY), (queries._params(national), national)
        )
