"""Browser journeys through headless Chromium (Playwright, sync API).

1. A county officer (江岸区) logs in through the real login form, sees the people of their
   county, opens one, and gets a 404 for a person in another city's county (西陵区).
2. The home page renders in Chinese, the language switch turns it into English, and at a
   phone viewport (390×844) the menu button opens the navigation.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.browser.support import PHONE, SCREENSHOTS
from zhipei.accounts.models import Role
from zhipei.accounts.services import create_user, grant_role
from zhipei.people.idnumber import check_character
from zhipei.people.services import create_person
from zhipei.regions.testing import make_region_tree

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating data) would otherwise be refused as "async unsafe" (STYLE §11).

pytestmark = [pytest.mark.browser, pytest.mark.chinese, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhipei-test-2026"


def synthetic_id(county: str, born: date, serial: int) -> str:
    body = f"{county}{born:%Y%m%d}{serial:03d}"
    return body + check_character(body)


@pytest.fixture
def people() -> dict[str, Any]:
    regions = make_region_tree()
    officer = create_user(username="jiangan", password=PASSWORD, display_name="江岸区劳动就业官员")
    grant_role(officer, role=Role.LABOUR_OFFICER, region=regions["420102"], by=None)
    made = {
        "wang": create_person(
            name="王小明",
            id_number=synthetic_id("420102", date(1992, 4, 15), 31),
            region=regions["420102"],
            phone="13800270001",
            by=None,
        ),
        "li": create_person(
            name="李娜",
            id_number=synthetic_id("420102", date(1995, 9, 2), 42),
            region=regions["420102"],
            by=None,
        ),
        "chen": create_person(
            name="陈静",
            id_number=synthetic_id("420502", date(1990, 3, 8), 72),
            region=regions["420502"],
            by=None,
        ),
    }
    return made


def test_county_officer_sees_own_county_and_404_elsewhere(
    browser: Any, live_server: Any, people: dict[str, Any]
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/people/")
        # Not logged in: sent to the real login form, which brings us back afterwards.
        assert "/accounts/login/" in page.url
        page.fill("#id_username", "jiangan")
        page.fill("#id_password", PASSWORD)
        page.press("#id_password", "Enter")
        page.wait_for_url(f"{live_server.url}/people/")

        results = page.locator("#results")
        assert results.get_by_text("王小明").is_visible()
        assert results.get_by_text("李娜").is_visible()
        assert results.get_by_text("陈静").count() == 0
        assert people["wang"].id_masked in results.inner_text()

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "officer-people-list-phone.png"), full_page=True)

        results.get_by_role("link", name="王小明").click()
        page.wait_for_url(f"{live_server.url}/people/{people['wang'].pk}/")
        assert page.locator("h1").inner_text() == "王小明"
        assert people["wang"].id_masked in page.content()

        response = page.goto(f"{live_server.url}/people/{people['chen'].pk}/")
        assert response is not None
        assert response.status == 404
        assert "陈静" not in page.content()
    finally:
        context.close()


def test_home_page_switches_language_and_menu_works_on_a_phone(
    browser: Any, live_server: Any
) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert "职培" in page.locator("header .brand").inner_text()

        # On a phone the navigation sits behind the menu button until it is opened.
        nav = page.locator("#site-menu")
        toggle = page.locator("[data-menu-toggle]")
        assert toggle.is_visible()
        assert not nav.is_visible()
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert nav.is_visible()
        assert page.locator("#site-menu nav a").first.is_visible()

        page.locator(".lang-switch button").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", level=1).inner_text() == (
            "Internet + vocational skills training"
        )
        # …and back to Chinese.
        page.locator("[data-menu-toggle]").click()
        page.locator(".lang-switch button").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "zh-hans"
    finally:
        context.close()
