"""Browser journey: a learner logs in on a phone (390×844), opens My learning and reads the
class hours credited for a course and, in plain words rendered from the rule codes, why some
minutes were not counted. The data is built the way production builds it: the learner enrols
through the service, the platform's xAPI statements go through the LRS store service and the
crediting pass turns them into credited time and reasons."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.browser.support import PHONE, fits_phone, shoot
from zhipei.accounts.models import Role
from zhipei.accounts.services import create_user, grant_role
from zhipei.catalog.models import Course, Lesson
from zhipei.learning.services import enrol
from zhipei.learning.tests.helpers import T0, World, make_course
from zhipei.lrs.tests.helpers import make_platform
from zhipei.occupations.models import Occupation
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person
from zhipei.regions.testing import make_region_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhipei-test-2026"


class Journey(World):
    """The statement builders of the learning tests (learning.tests.helpers.World) over this
    journey's platform, learner and lessons."""


@pytest.fixture
def learning() -> Journey:
    regions = make_region_tree()
    region = regions["420102"]
    journey = Journey()
    journey.platform, journey.credential, _secret = make_platform(region)
    journey.person = make_person(region, name="王小芳")
    journey.learner = create_user(username="wangxf", password=PASSWORD, person=journey.person)
    grant_role(journey.learner, role=Role.LEARNER, by=None)
    journey.pseudonym, _created = pseudonym_for(journey.person, platform=journey.platform)
    major = Occupation.objects.create(code="6", level=1, name="生产制造及有关人员")
    welder = Occupation.objects.create(code="6-18", level=2, name="焊工", parent=major)
    course = make_course(journey.platform, region, "weld", [welder])
    Course.objects.filter(pk=course.pk).update(title="Safe welding practice")
    course.refresh_from_db()
    journey.course = course
    journey.video = Lesson.objects.create(
        course=course,
        position=1,
        external_id="v1",
        title="Video: protective equipment",
        kind=Lesson.Kind.VIDEO,
        activity_iri="https://platform.example.cn/courses/weld/v1",
        media_duration_seconds=20 * 60,
    )
    journey.text = Lesson.objects.create(
        course=course,
        position=2,
        external_id="t1",
        title="Reading: fire safety",
        kind=Lesson.Kind.TEXT,
        activity_iri="https://platform.example.cn/courses/weld/t1",
    )
    enrol(journey.person, course, by=journey.learner)

    # Day 1: 10 minutes without a face check before the session, then 30 minutes with one on
    # the 20-minute video (10 of them beyond its length). Day 2: 30 minutes of reading.
    journey.store(journey.study(T0, 10, session="a", face=None))
    journey.store(journey.study(T0 + timedelta(hours=1), 30, session="b"))
    journey.store(journey.study(T0 + timedelta(days=1), 30, lesson=journey.text, session="c"))
    summary = journey.run_pass()
    assert summary.statements == 11 + 31 + 31  # initialized + one heartbeat a minute
    return journey


def test_learner_reads_credited_hours_and_reasons_on_a_phone(
    browser: Any, live_server: Any, learning: Journey
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/learning/")
        # Not logged in: the real login form, which brings the learner back.
        assert "/accounts/login/" in page.url
        page.fill("#id_username", "wangxf")
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(f"{live_server.url}/learning/")

        enrolment = page.locator("[data-testid=enrolment]")
        assert enrolment.count() == 1
        assert "Safe welding practice" in enrolment.locator("h2").inner_text()
        # 20 minutes on the video and 30 of reading: 50 minutes, 1.1 class hours of 45 minutes.
        assert enrolment.locator("[data-testid=hours]").inner_text() == "1.1 of 2.0 class hours"
        assert "50 minutes counted" in enrolment.inner_text()

        # The reasons sit behind "Time not counted" until opened.
        reasons = enrolment.locator("[data-testid=reason]")
        assert not reasons.first.is_visible()
        enrolment.locator("summary").click()
        face = enrolment.locator("[data-testid=reason][data-code=face_check_missing]")
        media = enrolment.locator("[data-testid=reason][data-code=beyond_media_duration]")
        assert face.is_visible() and media.is_visible()
        assert reasons.count() == 2
        face_text = face.inner_text()
        assert face_text.startswith("10 minutes")
        assert "no passed face check before this study time" in face_text
        media_text = media.inner_text()
        assert media_text.startswith("10 minutes")
        assert "no longer than its video or audio lasts (20 minutes)" in media_text
        # Rendered from codes, never stored sentences: no code leaks into the text.
        assert "face_check_missing" not in enrolment.inner_text()

        assert fits_phone(page)
        shoot(page, "my-learning-phone")

        # The menu (behind its button on a phone) marks My learning as the current page.
        page.locator("[data-menu-toggle]").click()
        current = page.locator("#site-menu nav a[aria-current=page]")
        assert current.inner_text() == "My learning"
    finally:
        context.close()
