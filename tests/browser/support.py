"""Helpers the browser journeys share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def fits_phone(page: Any) -> bool:
    """No sideways scrolling at the phone width."""
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= PHONE["width"]


def log_in(
    browser: Any,
    base: str,
    username: str,
    password: str,
    *,
    viewport: dict[str, int],
    locale: str = "en-GB",
) -> Any:
    """A new browser context signed in through the password form; returns its page."""
    context = browser.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/?tab=password")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.press("#id_password", "Enter")
    return page


def shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
