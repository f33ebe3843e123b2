"""Browser journey through platform selection (征集遴选), headless Chromium (Playwright):

a platform operator applies to an open call (fills the form, uploads a small PDF, submits);
after the deadline the city officer starts the review and assigns two county reviewers, who
each score every criterion; the officer selects the platform and publishes the results (the
new API secret is shown once); the platform then appears, with its selection date, on the
public list, which opens without logging in at a phone's width.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.support import DESKTOP, PHONE, SCREENSHOTS
from zhipei.accounts.models import Role
from zhipei.accounts.services import create_user, grant_role
from zhipei.catalog.models import Criterion, PlatformApplication, PlatformCall
from zhipei.catalog.selection import services
from zhipei.catalog.selection.inputs import CallData, RubricItemData
from zhipei.occupations.models import Occupation
from zhipei.orgs.models import Organisation, Platform, PlatformCredential
from zhipei.regions.testing import make_region_tree

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test
# itself (creating data) would otherwise be refused as "async unsafe" (STYLE §11).

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Zhipei-test-2026"
ORG_NAME = "江城学堂科技有限公司"
# A small but well-formed PDF (header, catalog, trailer).
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def media(tmp_path: Path, settings: Any) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path


@pytest.fixture
def world(media: Path) -> dict[str, Any]:
    regions = make_region_tree()
    people = {}
    for username, region in (
        ("wuhan", "420100"),
        ("jiangan", "420102"),
        ("wuchang", "420106"),
    ):
        people[username] = create_user(username=username, password=PASSWORD)
        grant_role(people[username], role=Role.LABOUR_OFFICER, region=regions[region], by=None)
    organisation = Organisation.objects.create(
        uscc="914201027000000001", name=ORG_NAME, region=regions["420102"]
    )
    people["operator"] = create_user(username="operator", password=PASSWORD)
    grant_role(people["operator"], role=Role.PLATFORM_OPERATOR, organisation=organisation, by=None)
    major = Occupation.objects.create(code="4", level=1, name="社会生产服务和生活服务人员")
    middle = Occupation.objects.create(code="4-04", level=2, name="信息传输服务人员", parent=major)
    minor = Occupation.objects.create(
        code="4-04-05", level=3, name="信息技术服务人员", parent=middle
    )
    Occupation.objects.create(code="4-04-05-05", level=4, name="人工智能训练师", parent=minor)
    now = timezone.now()
    call = services.create_call(
        CallData(
            region=regions["420100"],
            title="2026年武汉市线上职业技能培训平台征集",
            criteria="依法设立，具备互联网培训资质",
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=7),
            rubric=[RubricItemData(c, weight=1, max_score=10) for c in Criterion.values],
            reviewers_required=2,
        ),
        by=people["wuhan"],
    )
    services.open_call(call, by=people["wuhan"])
    return {"people": people, "call": call, "organisation": organisation}


def _log_in(browser: Any, base: str, username: str, *, viewport: dict[str, int] = DESKTOP) -> Any:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url
    return context, page


def _click_form_button(page: Any, action: str) -> None:
    page.locator(f'form[action="{action}"] button[type="submit"]').click()
    page.wait_for_load_state()


def test_platform_applies_is_reviewed_selected_and_listed(
    browser: Any, live_server: Any, world: dict[str, Any]
) -> None:
    base = live_server.url
    call: PlatformCall = world["call"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. The platform operator applies at a phone's width.
    context, page = _log_in(browser, base, "operator", viewport=PHONE)
    try:
        page.goto(f"{base}/selection/open/")
        page.locator(f'a[href="/selection/open/{call.pk}/apply/"]').click()
        page.wait_for_url(f"{base}/selection/open/{call.pk}/apply/")
        page.fill("#id_website", "https://learn.example.cn")
        page.fill("#id_summary", "面向武汉市的人工智能训练师线上课程，年培训2万人次。")
        page.fill("#id_occupation_codes", "4-04-05-05")
        page.fill("#id_offered_courses", "人工智能训练师（四级）")
        page.fill("#id_interface_contact_name", "张工")
        page.fill("#id_interface_contact_phone", "027-8888 6666")
        page.fill("#id_interface_contact_email", "api@learn.example.cn")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(f"{base}/selection/mine/*/")
        application = PlatformApplication.objects.get(call=call)
        assert application.status == PlatformApplication.Status.DRAFT

        page.select_option("#id_kind", "business_licence")
        page.set_input_files(
            "#id_file",
            files=[{"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF}],
        )
        _click_form_button(page, f"/selection/mine/{application.pk}/documents/")
        assert page.get_by_text("营业执照.pdf").is_visible()

        _click_form_button(page, f"/selection/mine/{application.pk}/submit/")
        application.refresh_from_db()
        assert application.status == PlatformApplication.Status.SUBMITTED
        assert page.locator("[data-testid=application-status]").inner_text().strip()
        page.screenshot(path=str(SCREENSHOTS / "selection-applied-phone.png"), full_page=True)
    finally:
        context.close()

    # The deadline passes.
    PlatformCall.objects.filter(pk=call.pk).update(closes_at=timezone.now() - timedelta(minutes=1))

    # 2. The city officer starts the review and assigns two county reviewers.
    context, page = _log_in(browser, base, "wuhan")
    try:
        page.goto(f"{base}/selection/calls/{call.pk}/")
        _click_form_button(page, f"/selection/calls/{call.pk}/review/")
        reviewers = world["people"]
        page.check(f'input[name=reviewers][value="{reviewers["jiangan"].pk}"]')
        page.check(f'input[name=reviewers][value="{reviewers["wuchang"].pk}"]')
        _click_form_button(page, f"/selection/calls/{call.pk}/reviewers/")
        assert page.get_by_text(ORG_NAME).first.is_visible()
    finally:
        context.close()

    # 3. Each reviewer scores every criterion; the second sees the first's total only after.
    for reviewer, value in (("jiangan", 8), ("wuchang", 9)):
        context, page = _log_in(browser, base, reviewer)
        try:
            page.goto(f"{base}/selection/reviews/")
            page.get_by_role("link", name=ORG_NAME).click()
            page.wait_for_url(f"{base}/selection/reviews/*/")
            if reviewer == "wuchang":
                # The first reviewer's total (6 × 8) is hidden; a clock time ("14:48") is not it.
                text = page.locator("main").inner_text()
                assert re.search(r"(?<![\d:])48(?![\d:])", text) is None
            for criterion in Criterion.values:
                page.fill(f"#id_score_{criterion}", str(value))
            page.fill("#id_comment", "资质齐全")
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_load_state()
            assert str(value * 6) in page.locator("main").inner_text()
            if reviewer == "wuchang":
                assert "48" in page.locator("main").inner_text()
        finally:
            context.close()

    # 4. The officer selects the platform and publishes; the secret is shown once.
    context, page = _log_in(browser, base, "wuhan")
    try:
        page.goto(f"{base}/selection/applications/{application.pk}/")
        page.check('input[name=outcome][value="selected"]')
        _click_form_button(page, f"/selection/applications/{application.pk}/decide/")
        page.wait_for_url(f"{base}/selection/calls/{call.pk}/")
        _click_form_button(page, f"/selection/calls/{call.pk}/publish/")
        secrets = page.locator("[data-testid=new-secrets]")
        assert secrets.is_visible()
        credential = PlatformCredential.objects.get(platform__organisation=world["organisation"])
        assert credential.key_id in secrets.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "selection-published.png"), full_page=True)
    finally:
        context.close()

    platform = Platform.objects.get(organisation=world["organisation"])
    assert platform.status == Platform.Status.SELECTED

    # 5. Anyone sees it on the public list, on a phone, without logging in.
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{base}/")
        page.locator("[data-menu-toggle]").click()
        page.locator('#site-menu a[href="/selection/platforms/"]').click()
        page.wait_for_url(f"{base}/selection/platforms/")
        listed = page.locator(f'article[data-platform="{platform.pk}"]')
        assert ORG_NAME in listed.inner_text()
        assert timezone.localdate().strftime("%Y-%m-%d") in listed.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "selection-public-list-phone.png"), full_page=True)
    finally:
        context.close()
