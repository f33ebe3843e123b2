"""Browser journey through headless Chromium (Playwright, sync API): a course reaches the
public catalogue.

A selected platform publishes a course through the platform API (a real signed HTTP request
to the live server), a county labour officer logs in and approves it on the course review page,
and an anonymous visitor on a phone finds it by browsing the occupation tree from the
catalogue's home page down to the occupation, opens it and sees where it is taught. Phone-size
screenshots of the catalogue go to var/screenshots/.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.support import PHONE, SCREENSHOTS
from zhipei.accounts.models import Role
from zhipei.accounts.services import create_user, grant_role
from zhipei.catalog.models import Course
from zhipei.catalog.tests.catalogues.helpers import make_occupations, make_uscc
from zhipei.orgs import services as org_services
from zhipei.orgs.models import Platform
from zhipei.orgs.signing import signed_headers
from zhipei.regions.testing import make_region_tree

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating data) would otherwise be refused as "async unsafe" (STYLE §11).

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhipei-test-2026"
SITE = "https://jiangan-online.example.cn"


@pytest.fixture
def world(tmp_path: Path, settings: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = str(tmp_path)
    regions = make_region_tree()
    make_occupations()
    organisation = org_services.register_organisation(
        uscc=make_uscc("420102", 77),
        name="江岸在线职业学院",
        region=regions["420102"],
        capacities={"platform"},
        website=SITE,
        by=None,
    )
    # Selected by a call (the selection journey has its own browser test).
    Platform.objects.filter(organisation=organisation).update(status=Platform.Status.SELECTED)
    platform = Platform.objects.get(organisation=organisation)
    credential, secret = org_services.issue_credential(platform, by=None, label="browser test")
    officer = create_user(username="jiangan", password=PASSWORD, display_name="江岸区劳动就业官员")
    grant_role(officer, role=Role.LABOUR_OFFICER, region=regions["420102"], by=None)
    return {"key_id": credential.key_id, "secret": secret}


def publish_through_the_api(base_url: str, key_id: str, secret: str) -> dict[str, Any]:
    body = json.dumps(
        {
            "external_id": "AI-TRAINER-101",
            "title": "人工智能训练师入门（数据标注）",
            "description": "数据采集、清洗与标注的基础操作。",
            "occupation_codes": ["4-04-05-05"],
            "skill_level": 5,
            "categories": ["skills", "new_knowledge"],
            "class_hours": "16.0",
            "is_free": True,
            "activity_iri": f"{SITE}/xapi/courses/AI-TRAINER-101",
            "url": f"{SITE}/courses/AI-TRAINER-101",
            "lessons": [
                {
                    "external_id": "L1",
                    "title": "什么是数据标注",
                    "kind": "video",
                    "activity_iri": f"{SITE}/xapi/courses/AI-TRAINER-101/l1",
                    "media_duration_seconds": 1260,
                },
                {
                    "external_id": "L2",
                    "title": "标注规范",
                    "kind": "document",
                    "activity_iri": f"{SITE}/xapi/courses/AI-TRAINER-101/l2",
                },
            ],
        },
        ensure_ascii=False,
    ).encode("utf-8")
    url = f"{base_url}/api/v1/courses"
    headers = signed_headers(key_id, secret, method="POST", path=urlsplit(url).path, body=body)
    request = urllib.request.Request(  # noqa: S310 - the live test server
        url,
        data=body,
        method="POST",
        headers={**headers, "Content-Type": "application/json", "Idempotency-Key": "browser-1"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        assert response.status == 201
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_published_course_is_found_in_the_public_catalogue_by_occupation(
    browser: Any, live_server: Any, world: dict[str, Any]
) -> None:
    publish_through_the_api(live_server.url, world["key_id"], world["secret"])
    course = Course.objects.get(external_id="AI-TRAINER-101")
    assert course.status == Course.Status.SUBMITTED

    # Not in the catalogue before an officer approves it.
    visitor = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = visitor.new_page()
    try:
        page.goto(f"{live_server.url}/catalogue/courses/?occupation=4-04-05-05")
        assert page.locator(".course-card").count() == 0
    finally:
        visitor.close()

    officer = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = officer.new_page()
    try:
        page.goto(f"{live_server.url}/courses/{course.pk}/")
        assert "/accounts/login/" in page.url
        page.fill("#id_username", "jiangan")
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(f"{live_server.url}/courses/{course.pk}/")
        page.locator("#review-box button[type=submit]").first.click()  # approve
        page.wait_for_function("() => !document.querySelector('#review-box button[type=submit]')")
    finally:
        officer.close()
    course.refresh_from_db()
    assert course.status == Course.Status.APPROVED

    visitor = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = visitor.new_page()
    try:
        page.goto(f"{live_server.url}/")
        # The catalogue is in the menu, behind the menu button on a phone.
        page.locator("[data-menu-toggle]").click()
        page.locator("#site-menu nav a[href='/catalogue/']").click()
        page.wait_for_url(f"{live_server.url}/catalogue/")
        coverage = page.locator("#occupation-coverage").inner_text()
        assert "1" in coverage and "100" in coverage
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "public-catalogue-home-phone.png"), full_page=True)

        # Down the tree: 大类 4 → 中类 4-04 → 小类 4-04-05 → 职业 4-04-05-05.
        for code in ("4", "4-04", "4-04-05", "4-04-05-05"):
            page.locator(".tree a", has_text=code).first.click()
            page.wait_for_url(f"**occupation={code}")
        assert "人工智能训练师" in page.locator("h1").inner_text()
        cards = page.locator(".course-card")
        assert cards.count() == 1
        assert "人工智能训练师入门（数据标注）" in cards.first.inner_text()
        page.screenshot(
            path=str(SCREENSHOTS / "public-catalogue-courses-phone.png"), full_page=True
        )

        cards.first.get_by_role("link").click()
        page.wait_for_url(f"{live_server.url}/catalogue/courses/{course.pk}/")
        link = page.locator("#course-link")
        assert link.get_attribute("href") == f"{SITE}/courses/AI-TRAINER-101"
        assert "21:00" in page.locator(".lessons").inner_text()  # the video's 1260 s
        page.screenshot(path=str(SCREENSHOTS / "public-catalogue-course-phone.png"), full_page=True)

        # The same course through the occupation filter of the search form.
        page.goto(f"{live_server.url}/catalogue/courses/?occupation=4-04-05&price=free")
        assert page.locator(".course-card").count() == 1
        # No horizontal scrolling on a phone.
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
    finally:
        visitor.close()
