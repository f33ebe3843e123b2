"""A small world for the learning tests: a selected platform with an LRS credential, a
learner with a pseudonym and a user, an approved course with two occupations and a video
lesson, and statements following docs/xapi-profile.md."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.test import TestCase, TransactionTestCase
from django.utils import timezone

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.catalog.models import Course, Lesson
from zhipei.learning.services import PassSummary, credit_new_statements
from zhipei.lrs.services import store_statements
from zhipei.lrs.tests.helpers import HORIZON_WAIT_SECONDS, make_platform
from zhipei.lrs_documents import profile
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.people.models import Person
from zhipei.people.queries import learners_home_page
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 5, 1, 8, 30, tzinfo=SHANGHAI)


def make_course(platform: Any, region: Any, slug: str, occupations: list[Occupation]) -> Course:
    now = timezone.now()
    course = Course.objects.create(
        platform=platform,
        external_id=slug,
        title=f"Course {slug}",
        class_hours=2,
        activity_iri=f"https://platform.example.cn/courses/{slug}",
        url=f"https://platform.example.cn/c/{slug}",
        region=region,
        status=Course.Status.APPROVED,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    course.occupations.set(occupations)
    return course


def make_user(
    username: str, *, person: Person | None = None, role: str = Role.LEARNER, **where: Any
) -> User:
    user = User.objects.create_user(
        username=username, password="x-unused-password-1", person=person
    )
    RoleAssignment.objects.create(user=user, role=role, granted_at=timezone.now(), **where)
    return user


class World:
    """The shared fixtures and statement builders (see LearningWorld, LivePassWorld)."""

    regions: dict[str, Region]
    region: Region
    platform: Platform
    credential: PlatformCredential
    person: Person
    pseudonym: str
    learner: User
    welder: Occupation
    fitter: Occupation
    course: Course
    video: Lesson
    other_course: Course
    text: Lesson

    @classmethod
    def build_world(cls) -> None:
        cls.regions = make_region_tree()
        cls.region = cls.regions["420102"]
        cls.platform, cls.credential, _secret = make_platform(cls.region)
        cls.person = make_person(cls.region)
        cls.pseudonym, _created = pseudonym_for(cls.person, platform=cls.platform)
        cls.learner = make_user("wang", person=cls.person)
        major = Occupation.objects.create(code="6", level=1, name="生产制造及有关人员")
        cls.welder = Occupation.objects.create(code="6-18", level=2, name="焊工", parent=major)
        cls.fitter = Occupation.objects.create(code="6-19", level=2, name="钳工", parent=major)
        cls.course = make_course(cls.platform, cls.region, "weld", [cls.welder, cls.fitter])
        cls.video = Lesson.objects.create(
            course=cls.course,
            position=1,
            external_id="v1",
            title="Video 1",
            kind=Lesson.Kind.VIDEO,
            activity_iri="https://platform.example.cn/courses/weld/v1",
            media_duration_seconds=3600,
        )
        cls.other_course = make_course(cls.platform, cls.region, "safety", [cls.welder])
        cls.text = Lesson.objects.create(
            course=cls.other_course,
            position=1,
            external_id="t1",
            title="Text 1",
            kind=Lesson.Kind.TEXT,
            activity_iri="https://platform.example.cn/courses/safety/t1",
        )

    # --- statements ---------------------------------------------------------------------

    def actor(self, name: str | None = None) -> dict[str, Any]:
        return {
            "objectType": "Agent",
            "account": {
                "homePage": learners_home_page(settings.SITE_URL),
                "name": name or self.pseudonym,
            },
        }

    def stmt(
        self,
        verb: str,
        at: datetime,
        *,
        lesson: Lesson | None = None,
        session: str = "s-1",
        duration: str | None = None,
        extensions: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        lesson = lesson or self.video
        result: dict[str, Any] = {}
        if duration:
            result["duration"] = duration
        if extensions:
            result["extensions"] = extensions
        data: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "actor": self.actor(actor),
            "verb": {"id": verb},
            "object": {"objectType": "Activity", "id": lesson.activity_iri},
            "context": {
                "registration": "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10",
                "contextActivities": {"parent": [{"id": lesson.course.activity_iri}]},
                "extensions": {profile.SESSION_ID: session},
            },
            "timestamp": at.isoformat(),
        }
        if result:
            data["result"] = result
        return data

    def face(self, result: str, at: datetime, trigger: str = "session-start") -> dict[str, Any]:
        return {
            profile.face_check_iri(settings.SITE_URL): {
                "result": result,
                "checkedAt": at.isoformat(),
                "trigger": trigger,
            }
        }

    def study(
        self,
        start: datetime,
        minutes: int,
        *,
        lesson: Lesson | None = None,
        session: str = "s-1",
        face: str | None = "passed",
        actor: str | None = None,
    ) -> list[dict[str, Any]]:
        """A session: initialized (with a start face check) → one heartbeat a minute →
        terminated, `minutes` long, with media segments on video lessons."""
        lesson = lesson or self.video
        out = [
            self.stmt(
                profile.INITIALIZED,
                start,
                lesson=lesson,
                session=session,
                extensions=self.face(face, start) if face else None,
                actor=actor,
            )
        ]
        for minute in range(1, minutes + 1):
            verb = profile.TERMINATED if minute == minutes else profile.PROGRESSED
            extensions = None
            if lesson.media_duration_seconds:
                extensions = {
                    profile.media_segment_iri(settings.SITE_URL): {
                        "from": (minute - 1) * 60,
                        "to": minute * 60,
                    }
                }
            out.append(
                self.stmt(
                    verb,
                    start + timedelta(minutes=minute),
                    lesson=lesson,
                    session=session,
                    duration="PT1M",
                    extensions=extensions,
                    actor=actor,
                )
            )
        return out

    unread = 0

    def store(self, statements: list[dict[str, Any]]) -> list[str]:
        ids = store_statements(credential=self.credential, statements=statements, version="1.0.3")
        self.unread += len(ids)
        return ids

    def run_pass(self) -> PassSummary:
        """Run the crediting pass until it has read what was stored since. On PostgreSQL a
        transaction open in this database, or one that ended just after a read's snapshot,
        holds the pass back for a while, late but never wrong, so poll."""
        expected, self.unread = self.unread, 0
        total = PassSummary()
        deadline = time.monotonic() + HORIZON_WAIT_SECONDS
        while time.monotonic() < deadline:
            total.add(credit_new_statements())
            if total.statements >= expected:
                break
            time.sleep(0.05)
        return total


class LearningWorld(World, TestCase):
    """The world, built once per class; statements stored inside the test's transaction are
    not visible to the pass on PostgreSQL (use LivePassWorld for the pass)."""

    @classmethod
    def setUpTestData(cls) -> None:
        cls.build_world()


class LivePassWorld(World, TransactionTestCase):
    """The world rebuilt for each test, with statements committed: the pass reads them
    through the commit-safe watermark on both databases."""

    def setUp(self) -> None:
        self.build_world()
