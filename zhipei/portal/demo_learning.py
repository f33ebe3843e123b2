"""Demo learning history: two demo learners study a demo course on a selected platform,
reported as xAPI statements through the LRS, credited by the crediting pass, and earn
completion certificates — so that `make run` shows credited hours with reasons and the
subsidy claims that stand on the certificates.

Everything goes through the services the platforms and workers use (enrol, store_statements,
credit_new_statements, issue_certificate). Idempotent: statement ids are derived from fixed
names (uuid5), so a second run stores nothing new and issues nothing new.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from time import monotonic, sleep
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from zhipei.catalog.models import Course, Lesson
from zhipei.catalog.queries import catalogue_status
from zhipei.learning.certificates.queries import passed_test
from zhipei.learning.certificates.rules import CertificateRefused
from zhipei.learning.certificates.services import issue_certificate
from zhipei.learning.models import Enrolment
from zhipei.learning.services import credit_new_statements, enrol_for_platform
from zhipei.lrs.models import Statement
from zhipei.lrs.services import store_statements
from zhipei.lrs_documents import profile
from zhipei.orgs.models import PlatformCredential
from zhipei.people.queries import find_person_by_id_number, learners_home_page
from zhipei.people.services import pseudonym_for
from zhipei.portal.demo import LEARNERS, Writer

NAMESPACE = uuid.UUID("8d1b3c52-6a43-4c55-9a0e-2f7f1b0c9e11")
# Who studies: demo learner keys (portal.demo.LEARNERS) and, for the first, one session
# without a face check so that My learning shows an uncredited reason.
STUDENTS = ("wang", "li")
SESSION_MINUTES = 25  # under the default 30-minute face-check interval


@dataclass
class LearningDemoReport:
    statements: int = 0
    certificates: list[str] = field(default_factory=list)


def _id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _pick_course(region_code: str, on_date: date) -> tuple[Course, Lesson] | None:
    """An approved demo course with a document lesson that counts in the catalogues where the
    learners live (so its certificate can be claimed)."""
    from zhipei.regions.queries import current

    region = current(region_code)
    if region is None:
        return None
    for course in Course.objects.filter(
        status=Course.Status.APPROVED, external_id__startswith="DEMO-"
    ).order_by("pk"):
        lesson = course.lessons.filter(media_duration_seconds__isnull=True).first()
        if lesson is not None and catalogue_status(course, region, on_date).counted:
            return course, lesson
    return None


def _statement(
    verb: str, at: datetime, *, actor: dict[str, Any], lesson: Lesson, session: str, **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": _id(actor["account"]["name"], session, verb, at.isoformat()),
        "actor": actor,
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": lesson.activity_iri},
        "context": {
            "contextActivities": {"parent": [{"id": lesson.course.activity_iri}]},
            "extensions": {profile.SESSION_ID: session},
        },
        "timestamp": at.isoformat(),
    }
    data.update(extra)
    return data


def _session(
    start: datetime, *, actor: dict[str, Any], lesson: Lesson, session: str, face: bool
) -> list[dict[str, Any]]:
    site = settings.SITE_URL
    opening: dict[str, Any] = {}
    if face:
        opening = {
            "result": {
                "extensions": {
                    profile.face_check_iri(site): {
                        "result": "passed",
                        "checkedAt": start.isoformat(),
                        "trigger": "session-start",
                    }
                }
            }
        }
    out = [
        _statement(
            profile.INITIALIZED, start, actor=actor, lesson=lesson, session=session, **opening
        )
    ]
    for minute in range(1, SESSION_MINUTES + 1):
        verb = profile.TERMINATED if minute == SESSION_MINUTES else profile.PROGRESSED
        out.append(
            _statement(
                verb,
                start + timedelta(minutes=minute),
                actor=actor,
                lesson=lesson,
                session=session,
                result={"duration": "PT1M"},
            )
        )
    return out


def _test_passed(at: datetime, *, actor: dict[str, Any], course: Course) -> dict[str, Any]:
    return {
        "id": _id(actor["account"]["name"], course.pk, "test"),
        "actor": actor,
        "verb": {"id": profile.PASSED},
        "object": {
            "objectType": "Activity",
            "id": f"{course.activity_iri}/test",
            "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"},
        },
        "context": {"contextActivities": {"parent": [{"id": course.activity_iri}]}},
        "result": {"success": True, "score": {"scaled": 0.86}},
        "timestamp": at.isoformat(),
    }


def _credit(new_statements: int) -> None:
    """Run the crediting pass until it has read the statements just stored. On PostgreSQL its
    commit-safe horizon is the oldest transaction open in this database: one open elsewhere
    in it (another process's work) holds the pass back for a while, so an empty pass is
    waited out, up to five minutes, instead of taken for the end. Inside a caller's
    transaction (a test's) the statements are not committed and on PostgreSQL cannot be read
    before it ends: there the first empty pass ends it."""
    deadline = monotonic() + (0 if connection.in_atomic_block else 300)
    read = 0
    while True:
        found = credit_new_statements().statements
        read += found
        if read >= new_statements or (not found and monotonic() >= deadline):
            return
        if not found:
            sleep(0.1)


def load_demo_learning(out: Writer, *, today: date | None = None) -> LearningDemoReport:
    report = LearningDemoReport()
    today = today or timezone.localdate()
    first_day = today - timedelta(days=40)
    tz = timezone.get_current_timezone()
    learners = {spec.key: spec for spec in LEARNERS}
    # Demo platforms are selected on the day the demo loads, so the course counts from today;
    # the test is passed today, which is the certificate's completion date.
    picked = _pick_course(learners[STUDENTS[0]].county, today)
    if picked is None:
        out.write("No demo course counts in the catalogues; no learning history loaded.\n")
        return report
    course, lesson = picked
    credential = (
        PlatformCredential.objects.filter(platform=course.platform, revoked_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if credential is None:
        out.write("The demo platform has no API credential; no learning history loaded.\n")
        return report
    enrolments: list[Enrolment] = []
    stored_before = Statement.objects.count()
    for number, key in enumerate(STUDENTS):
        person = find_person_by_id_number(learners[key].id_number)
        if person is None:
            continue
        enrolment, _new = enrol_for_platform(course.platform, person, course)
        if enrolment.certificates.exists():
            continue  # loaded before
        enrolments.append(enrolment)
        pseudonym, _created = pseudonym_for(person, platform=course.platform)
        actor = {
            "objectType": "Agent",
            "account": {"homePage": learners_home_page(settings.SITE_URL), "name": pseudonym},
        }
        minutes_needed = int(course.class_hours * 45) + SESSION_MINUTES
        sessions = -(-minutes_needed // SESSION_MINUTES)
        statements: list[dict[str, Any]] = []
        for index in range(sessions + (1 if number == 0 else 0)):
            day = first_day + timedelta(days=index // 6)
            start = datetime.combine(day, time(9 + (index % 6), 0), tzinfo=tz)
            statements += _session(
                start,
                actor=actor,
                lesson=lesson,
                session=f"demo-{key}-{index}",
                face=not (number == 0 and index == 0),
            )
        if passed_test(enrolment) is None:
            # Passed now, after enrolling: the test's id is fixed, so it is reported once.
            statements.append(_test_passed(timezone.now(), actor=actor, course=course))
        for chunk in range(0, len(statements), 200):
            stored = store_statements(
                credential=credential, statements=statements[chunk : chunk + 200], version="1.0.3"
            )
            report.statements += len(stored)
    _credit(Statement.objects.count() - stored_before)
    for enrolment in enrolments:
        try:
            certificate = issue_certificate(enrolment)
        except CertificateRefused as refused:
            out.write(f"No certificate for enrolment {enrolment.pk}: {refused.codes}\n")
            continue
        report.certificates.append(certificate.number)
    return report
