"""A media lesson is credited for no longer than it lasts over all days, not per day: earlier
days keep the budget, and a change on one day is carried to the later days (statements through
the LRS service, the crediting pass and recredit)."""

from __future__ import annotations

from datetime import date, timedelta

from zhipei.learning import queries, services
from zhipei.learning.models import CreditedTime, UncreditedSegment
from zhipei.learning.tests.helpers import T0, LivePassWorld
from zhipei.lrs_documents import profile

DAY1 = T0.date()
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)


class MediaAcrossDaysTests(LivePassWorld):
    def setUp(self) -> None:
        super().setUp()
        self.enrolment = services.enrol(
            self.person, self.course, occupation=self.welder, by=self.learner
        )

    def by_day(self) -> dict[date, int]:
        return dict(
            CreditedTime.objects.filter(enrolment=self.enrolment).values_list(
                "day", "credited_seconds"
            )
        )

    def rows(self) -> list[tuple[object, ...]]:
        return sorted(
            CreditedTime.objects.values_list(
                "enrolment_id", "day", "credited_seconds", "uncredited_seconds", "media_seconds"
            )
        ) + sorted(
            UncreditedSegment.objects.values_list(
                "enrolment_id", "day", "start", "end", "rule", "parameters"
            )
        )

    def test_the_second_day_gets_only_what_the_first_left(self) -> None:
        # The video lasts 60 minutes: 25 + 25 minutes on day 1, 25 more on day 2.
        self.store(self.study(T0, 25, session="a"))
        self.store(self.study(T0 + timedelta(hours=2), 25, session="b"))
        self.store(self.study(T0 + timedelta(days=1), 25, session="c"))
        self.run_pass()
        self.assertEqual(self.by_day(), {DAY1: 3000, DAY2: 600})
        self.assertEqual(queries.credited_minutes(self.enrolment), 60)
        (reason,) = queries.uncredited_reasons(self.enrolment)
        self.assertEqual((reason.code, reason.minutes), ("beyond_media_duration", 15))
        segment = UncreditedSegment.objects.get()
        self.assertEqual(segment.day, DAY2)
        self.assertEqual(
            segment.parameters,
            {"media_duration_seconds": 3600, "credited_earlier_seconds": 3000},
        )
        self.assertIn("60 minutes", reason.message)
        self.assertIn("50 minutes of it were already counted on earlier days", reason.message)
        day2 = CreditedTime.objects.get(enrolment=self.enrolment, day=DAY2)
        self.assertEqual(day2.media_seconds, {self.video.activity_iri: 600})

    def test_an_earlier_day_reported_late_takes_the_budget_from_later_days(self) -> None:
        self.store(self.study(T0 + timedelta(days=1), 30, session="b"))
        self.store(self.study(T0 + timedelta(days=2), 25, session="c"))
        self.run_pass()
        self.assertEqual(self.by_day(), {DAY2: 1800, DAY3: 1500})
        # Day 1's statements arrive after days 2 and 3 were credited.
        self.store(self.study(T0, 30, session="a"))
        summary = self.run_pass()
        self.assertEqual(summary.days_recomputed, 3)  # day 1, and days 2 and 3 carried along
        self.assertEqual(self.by_day(), {DAY1: 1800, DAY2: 1800, DAY3: 0})
        self.assertEqual(queries.credited_minutes(self.enrolment), 60)
        reasons = {r.code: r.minutes for r in queries.uncredited_reasons(self.enrolment)}
        self.assertEqual(reasons, {"beyond_media_duration": 25})
        # The same as crediting everything afresh, in any order.
        before = self.rows()
        self.assertEqual(services.recredit(DAY1, DAY3), 3)
        self.assertEqual(self.rows(), before)
        services.recompute_day(self.person, DAY3)
        services.recompute_day(self.person, DAY2)
        self.assertEqual(self.rows(), before)

    def test_voiding_an_earlier_day_gives_the_budget_back_to_later_days(self) -> None:
        self.store(self.study(T0, 30, session="a"))
        second = self.study(T0 + timedelta(hours=1), 20, session="a2")
        self.store(second)
        self.store(self.study(T0 + timedelta(days=1), 30, session="b"))
        self.run_pass()
        self.assertEqual(self.by_day(), {DAY1: 3000, DAY2: 600})
        voiding = []
        for statement in second:
            void = self.stmt(profile.ADL_VERBS + "voided", T0 + timedelta(hours=3))
            void["object"] = {"objectType": "StatementRef", "id": statement["id"]}
            void.pop("context")
            voiding.append(void)
        self.store(voiding)
        self.run_pass()
        self.assertEqual(self.by_day(), {DAY1: 1800, DAY2: 1800})
        self.assertEqual(queries.uncredited_reasons(self.enrolment), [])

    def test_a_day_without_the_lesson_is_left_alone(self) -> None:
        other = services.enrol(self.person, self.other_course, by=self.learner)
        self.store(self.study(T0 + timedelta(days=2), 10, lesson=self.text, session="t"))
        self.run_pass()
        computed = CreditedTime.objects.get(enrolment=other).computed_at
        self.store(self.study(T0, 30, session="a"))
        summary = self.run_pass()
        self.assertEqual(summary.days_recomputed, 1)
        self.assertEqual(CreditedTime.objects.get(enrolment=other).computed_at, computed)
