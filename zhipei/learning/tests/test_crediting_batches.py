"""The crediting pass recomputes all the people of a batch at once: the rows it stores are
those of crediting each person's days alone, one day at a time in day order (a reference
written out below as the pass did it before), and those recompute_days gives; and the number
of queries of a batch does not grow with the number of people and days it touches."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhipei.catalog.models import Lesson
from zhipei.learning import services
from zhipei.learning.crediting import events as ev
from zhipei.learning.crediting import rules
from zhipei.learning.models import CreditedTime, CreditingPolicy, Enrolment, UncreditedSegment
from zhipei.learning.queries import policy_in_force
from zhipei.learning.tests.helpers import T0, LivePassWorld
from zhipei.lrs.models import Statement
from zhipei.lrs.tests.helpers import HORIZON_WAIT_SECONDS
from zhipei.lrs_documents import profile
from zhipei.people.models import Person
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person

DAY1 = T0.date()
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY1 + timedelta(days=2)


def canonical(value: Any) -> str:
    """One stored value as text that compares equal when the values are equal (instants in
    UTC, JSON with sorted keys), so that rows can be sorted and compared."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(value, sort_keys=True)


def stored_rows() -> list[tuple[str, ...]]:
    credited = CreditedTime.objects.values_list(
        "enrolment_id",
        "day",
        "credited_seconds",
        "uncredited_seconds",
        "parameters",
        "media_seconds",
    )
    segments = UncreditedSegment.objects.values_list(
        "enrolment_id", "day", "start", "end", "seconds", "rule", "parameters", "statement_ids"
    )
    return sorted(("credited", *map(canonical, row)) for row in credited) + sorted(
        ("segment", *map(canonical, row)) for row in segments
    )


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    return start, start + timedelta(days=1)


def reference_rows(people: list[Person]) -> list[tuple[str, ...]]:
    """Every day with statements of every person credited from scratch, one day at a time in
    day order with a query of its own (statements by person and time, payloads read by
    json.loads), the media lessons' earlier credit carried from day to day: the rows the pass
    must have stored, as stored_rows gives them."""
    iris = ev.ProfileIris.for_site(settings.SITE_URL)
    zone = timezone.get_default_timezone()
    slack = services.WINDOW_SLACK
    credited: list[tuple[Any, ...]] = []
    segments: list[tuple[Any, ...]] = []
    for person in people:
        enrolments = {
            course_id: (pk, platform_id)
            for pk, course_id, platform_id in Enrolment.objects.filter(
                person=person, status=Enrolment.Status.ACTIVE
            ).values_list("pk", "course_id", "platform_id")
        }
        days: set[date] = set()
        for at, duration in Statement.objects.filter(person=person).values_list(
            "timestamp", "duration_seconds"
        ):
            days.add(timezone.localtime(at).date())
            if duration and duration > 0:
                days.add(timezone.localtime(at - timedelta(seconds=duration)).date())
        used: dict[rules.MediaKey, int] = defaultdict(int)
        for day in sorted(days):
            start, end = _day_bounds(day)
            events = []
            for row in Statement.objects.filter(
                person=person, timestamp__gte=start - slack, timestamp__lt=end + slack
            ).values_list(
                "statement_id",
                "verb_id",
                "timestamp",
                "course_id",
                "platform_id",
                "activity_id",
                "duration_seconds",
                "payload",
                "voided",
                "is_voiding",
            ):
                verb = ev.crediting_verb(row[1])
                enrolment = enrolments.get(row[3])
                if verb is None or enrolment is None or row[8] or row[9]:
                    continue
                if row[4] != enrolment[1]:
                    continue
                payload = json.loads(row[7])
                events.append(
                    ev.event_from_payload(
                        statement_id=str(row[0]),
                        verb=verb,
                        at=row[2],
                        enrolment=enrolment[0],
                        lesson=row[5],
                        duration_seconds=row[6],
                        payload=payload if isinstance(payload, dict) else {},
                        iris=iris,
                    )
                )
            media = {
                iri: seconds
                for iri, seconds in Lesson.objects.filter(
                    activity_iri__in={e.lesson for e in events}
                ).values_list("activity_iri", "media_duration_seconds")
                if seconds is not None
            }
            params, _policy = policy_in_force(person.region, day)
            result = rules.credit_day(
                events,
                day_start=int(start.timestamp()),
                day_end=int(end.timestamp()),
                params=params,
                media_durations=media,
                media_used=dict(used),
            )
            for key, seconds in result.media_credited.items():
                used[key] += seconds
            for enrolment_id, (credit, uncredit) in result.totals().items():
                lessons = {
                    lesson: seconds
                    for (owner, lesson), seconds in result.media_credited.items()
                    if owner == enrolment_id
                }
                credited_row = (enrolment_id, day, credit, uncredit, params.to_json(), lessons)
                credited.append(("credited", *map(canonical, credited_row)))
            for piece in result.uncredited:
                segment_row = (
                    piece.enrolment,
                    day,
                    datetime.fromtimestamp(piece.start, tz=zone),
                    datetime.fromtimestamp(piece.end, tz=zone),
                    piece.seconds,
                    piece.rule,
                    dict(piece.parameters),
                    list(piece.statement_ids),
                )
                segments.append(("segment", *map(canonical, segment_row)))
    return sorted(credited) + sorted(segments)


class BatchedPassTests(LivePassWorld):
    def setUp(self) -> None:
        super().setUp()
        self.enrolment = services.enrol(
            self.person, self.course, occupation=self.welder, by=self.learner
        )
        self.text_enrolment = services.enrol(self.person, self.other_course, by=self.learner)

    def new_learner(self, region_code: str = "420102", *, enrolled: bool = True) -> tuple[Any, str]:
        person = make_person(self.regions[region_code])
        name, _created = pseudonym_for(person, platform=self.platform)
        if enrolled:
            services.enrol_for_platform(self.platform, person, self.course, occupation=self.welder)
        return person, name

    def credit_in_small_batches(self, batch_size: int) -> services.PassSummary:
        """Like run_pass, in batches of `batch_size` statements, so that one person's day is
        spread over several batches and one batch holds several people and days."""
        expected, self.unread = self.unread, 0
        total = services.PassSummary()
        deadline = time.monotonic() + HORIZON_WAIT_SECONDS
        while total.statements < expected and time.monotonic() < deadline:
            summary = services.credit_new_statements(batch_size=batch_size)
            total.add(summary)
            if not summary.statements:
                time.sleep(0.05)
        return total

    def test_the_batched_pass_stores_what_crediting_each_person_alone_stores(self) -> None:
        # A policy with a daily cap in force for the other region's learner only.
        CreditingPolicy.objects.create(
            region=self.regions["420502"],
            effective_from=date(2026, 1, 1),
            daily_cap_minutes=20,
            created_at=T0,
        )
        bo, bo_name = self.new_learner()
        chen, chen_name = self.new_learner("420502")
        _stranger, stranger_name = self.new_learner(enrolled=False)
        late_day1 = self.study(T0, 40, session="a")
        voided = self.study(T0 + timedelta(days=1), 30, session="c")
        first = [
            *voided,  # day 2 of the video before day 1 arrives
            *self.study(T0, 40, session="b1", actor=bo_name),  # face checks stop at 30 min
            *self.study(T0 + timedelta(days=1), 30, session="c1", actor=chen_name),  # capped
        ]
        self.store(first)
        summary = self.credit_in_small_batches(7)
        void = self.stmt(profile.ADL_VERBS + "voided", T0 + timedelta(days=1, hours=2))
        void["object"] = {"objectType": "StatementRef", "id": voided[5]["id"]}
        void.pop("context")
        unknown_course = self.stmt(profile.PROGRESSED, T0, duration="PT1M")
        unknown_course["object"]["id"] = "https://platform.example.cn/not-in-catalogue"
        second = [
            *late_day1,  # takes the video's budget from day 2
            # overlaps the video: the earlier session keeps the time
            *self.study(T0 + timedelta(minutes=10), 30, lesson=self.text, session="t"),
            # the video again from 23:50 on day 1 to 00:20 on day 2
            *self.study(T0.replace(hour=23, minute=50), 30, session="m"),
            *self.study(T0 + timedelta(days=2), 20, session="b2", actor=bo_name, face="failed"),
            *self.study(T0, 5, lesson=self.text, session="bt", actor=bo_name),  # not enrolled
            *self.study(T0, 5, session="s", actor=stranger_name),  # not enrolled
            self.stmt(profile.PROGRESSED, T0, duration="PT1M", actor="nobody-knows-me"),
            unknown_course,
            void,
        ]
        self.store(second)
        summary.add(self.credit_in_small_batches(7))

        self.assertEqual(summary.statements, len(first) + len(second))
        self.assertEqual(
            (summary.unknown_learner, summary.unknown_course, summary.not_enrolled), (1, 1, 12)
        )
        self.assertGreater(summary.batches, 20)
        rows = stored_rows()
        people = [self.person, bo, chen]
        self.assertEqual(rows, reference_rows(people))
        rules_seen = {row[6] for row in rows if row[0] == "segment"}
        self.assertEqual(
            rules_seen,
            {
                canonical(rules.OVERLAP),
                canonical(rules.BEYOND_MEDIA_DURATION),
                canonical(rules.FACE_CHECK_MISSING),
                canonical(rules.FACE_CHECK_FAILED),
                canonical(rules.DAILY_CAP),
                # the voided heartbeat leaves a gap in the media positions: a forward jump
                canonical(rules.SEEK_FORWARD),
            },
        )
        days = {row[2] for row in rows if row[0] == "credited"}
        self.assertEqual(days, {canonical(DAY1), canonical(DAY2), canonical(DAY3)})

        # recompute_days, one person at a time, stores the same rows again.
        CreditedTime.objects.all().delete()
        UncreditedSegment.objects.all().delete()
        for person in people:
            outcomes = services.recompute_days(person, [DAY1, DAY2, DAY3])
            self.assertEqual(sorted(outcomes), [DAY1, DAY2, DAY3])
        self.assertEqual(stored_rows(), rows)

    def test_statements_stored_before_their_evidence_are_credited_from_the_payload(self) -> None:
        bo, bo_name = self.new_learner()
        self.store(
            [
                *self.study(T0, 40, session="a"),
                *self.study(T0 + timedelta(minutes=10), 30, lesson=self.text, session="t"),
                *self.study(T0, 40, session="b", actor=bo_name, face="failed"),
            ]
        )
        # As if every other statement had been stored before the LRS kept evidence.
        seqs = list(Statement.objects.order_by("seq").values_list("seq", flat=True))
        Statement.objects.filter(seq__in=seqs[::2]).update(evidence="")
        self.assertTrue(Statement.objects.exclude(evidence="").exists())

        summary = self.credit_in_small_batches(9)

        self.assertEqual(summary.statements, len(seqs))
        rows = stored_rows()
        self.assertEqual(rows, reference_rows([self.person, bo]))
        self.assertIn(canonical(rules.OVERLAP), {row[6] for row in rows if row[0] == "segment"})

    def run_one_batch(self) -> tuple[services.PassSummary, int]:
        """The first batch that reads what was stored, and the queries it made."""
        expected, self.unread = self.unread, 0
        deadline = time.monotonic() + HORIZON_WAIT_SECONDS
        while time.monotonic() < deadline:
            with CaptureQueriesContext(connection) as queries:
                summary = services.credit_new_statements(max_batches=1)
            if summary.statements:
                self.assertEqual(summary.statements, expected)
                return summary, len(queries)
            time.sleep(0.05)
        raise AssertionError("the pass read nothing")

    def two_days(self, actor: str | None = None) -> list[dict[str, Any]]:
        return [
            *self.study(T0, 3, session=f"{actor}-1", actor=actor),
            *self.study(T0 + timedelta(days=1), 3, session=f"{actor}-2", actor=actor),
        ]

    def test_the_queries_of_a_batch_do_not_grow_with_its_people_and_days(self) -> None:
        services.credit_new_statements()  # creates the state row
        self.store(self.two_days())
        one, queries_for_one = self.run_one_batch()
        self.assertEqual(one.days_recomputed, 2)
        names = [self.new_learner()[1] for _n in range(5)]
        self.store([statement for name in names for statement in self.two_days(name)])
        five, queries_for_five = self.run_one_batch()
        self.assertEqual(five.days_recomputed, 10)
        self.assertEqual(CreditedTime.objects.count(), 12)
        self.assertEqual(queries_for_five, queries_for_one)
        # The state row (get; lock; update), the new statements, who is enrolled, the people,
        # their enrolments locked, their stored media use, the statements around their days,
        # the lessons, the policy of each of the two days, a delete per table, the insert of
        # the credited rows (no segments here): 15; BEGIN and COMMIT; on PostgreSQL, sorting
        # switched off and on around the read of new statements, and the insert is a COPY,
        # which is not captured.
        self.assertLessEqual(queries_for_one, 18)
