"""Browser journey of an enterprise's online-training subsidy during a shutdown (R11):

1. The enterprise administrator declares a full shutdown, attaches the government order and
   submits it; the county labour officer confirms it.
2. The administrator imports the roster from an Excel workbook (made here with openpyxl from
   the enterprise import template), previews it and adds the good rows.
3. Two people on the roster complete an online course within the shutdown (their completion
   certificates are written by ClaimWorld.certificate: issuing them is the learning app's
   business, tested there).
4. The administrator claims the subsidy for them: the certificates are offered pre-selected,
   a mistyped actual cost is a field error, the claim shows the reasons per person and the
   amount, and is submitted with the enterprise's bank account; the county officer finds it in
   the review queue.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.browser.support import DESKTOP, PHONE, log_in, shoot
from zhipei.accounts.models import Role, RoleAssignment
from zhipei.enterprises.imports import build_template
from zhipei.enterprises.models import Employment, ShutdownDeclaration
from zhipei.people.testing import make_id_number
from zhipei.subsidies.models import Application, ApplicationStatus, Programme
from zhipei.subsidies.testing import TEST_PASSWORD, build_claim_world, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = ApplicationStatus
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
STAFF = (
    ("周杰", make_id_number("420102", "19880515", seq=13)),
    ("吴敏", make_id_number("420102", "19920708", seq=24)),
)


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def world() -> Any:
    world = build_claim_world()
    organisation = make_org(world.jiangan, "江岸精密制造有限公司", "enterprise")
    admin = make_user("hr")
    RoleAssignment.objects.create(
        user=admin,
        role=Role.ENTERPRISE_ADMIN,
        organisation=organisation,
        granted_at=world.course.created_at,
    )
    world.extra["enterprise"] = organisation.enterprise
    return world


def roster_workbook() -> bytes:
    """The enterprise import template (its header row) filled with two employees."""
    book = load_workbook(io.BytesIO(build_template()))
    sheet = book.worksheets[0]
    for name, number in STAFF:
        sheet.append([name, number, "", "职工", "2025-01-02", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def declare_and_submit_a_shutdown(page: Any, base: str) -> None:
    page.goto(f"{base}/enterprises/declarations/new/")
    page.select_option("#id_kind", "full")
    page.fill("#id_starts_on", "2026-03-01")
    page.fill("#id_ends_on", "2026-04-30")
    page.select_option("#id_cause", "epidemic")
    page.fill("#id_cause_detail", "区政府停工通知")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the draft").click()
    page.set_input_files(
        "#id_file",
        files=[{"name": "停工通知.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Add the document").click()
    assert page.locator("[data-testid=evidence] a").count() == 1
    with page.expect_navigation():
        page.get_by_role("button", name="Submit to the labour bureau").click()
    assert ShutdownDeclaration.objects.get().status == ShutdownDeclaration.Status.SUBMITTED


def officer_confirms_the_shutdown(browser: Any, base: str) -> None:
    page = log_in(browser, base, "county-officer", TEST_PASSWORD, viewport=DESKTOP)
    try:
        page.goto(f"{base}/enterprises/review/")
        with page.expect_navigation():
            page.locator("[data-testid=review-queue] a").first.click()
        with page.expect_navigation():
            page.get_by_role("button", name="Confirm").click()
    finally:
        page.context.close()
    assert ShutdownDeclaration.objects.get().status == ShutdownDeclaration.Status.CONFIRMED


def import_the_roster(page: Any, base: str) -> None:
    page.goto(f"{base}/enterprises/roster/import/")
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "花名册.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": roster_workbook(),
            }
        ],
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Check the file").click()
    # The check runs as a background task; the page polls until the preview is ready.
    page.locator("[data-testid=import-preview]").wait_for()
    preview = page.locator("[data-testid=import-preview]").inner_text()
    assert "周杰" in preview and "吴敏" in preview
    assert STAFF[0][1] not in page.content()  # ID numbers only masked
    with page.expect_navigation():
        page.locator("button[formaction$='/commit/']").click()
    page.wait_for_function("!document.querySelector('[data-testid=import-progress]')")
    assert Employment.objects.count() == 2


def staff_complete_courses(world: Any) -> list[Any]:
    return [
        world.certificate(
            employment.person, started_on=date(2026, 3, 2), completed_on=date(2026, 3, 25)
        )
        for employment in Employment.objects.select_related("person").order_by("person__name")
    ]


def claim_for_the_staff(page: Any, base: str, certificates: list[Any]) -> Application:
    page.goto(f"{base}/subsidies/enterprise/")
    with page.expect_navigation():
        page.locator("[data-testid=new-claim]").click()
    with page.expect_navigation():
        page.locator("[data-testid=declaration]").first.click()
    form = page.locator("[data-testid=enterprise-claim-form]")
    for certificate in certificates:
        assert form.locator(f"input[name=certificates][value='{certificate.pk}']").is_checked()
    page.fill("#id_actual_cost", "3000.125")
    with page.expect_navigation():
        page.locator("[data-testid=start]").click()
    assert "at most two decimals" in form.inner_text()
    assert not Application.objects.exists()
    page.fill("#id_actual_cost", "3,000")
    with page.expect_navigation():
        page.locator("[data-testid=start]").click()

    # Reasons per person, and the amount: 40 class hours × ¥30 capped at ¥800 each.
    lines = page.locator("#eligibility [data-testid=line]")
    assert lines.count() == 2
    for index in range(2):
        line = lines.nth(index)
        assert line.locator("li[data-outcome=pass]").count() >= 3
        assert "¥800.00" in line.inner_text()
    assert page.locator("[data-testid=amount]").inner_text() == "¥1,600.00"
    assert page.locator("[data-testid=verdict]").inner_text().startswith("Meets the rules")
    shoot(page, "subsidy-enterprise-claim-eligibility")

    assert page.input_value("#id_payee_name") == "江岸精密制造有限公司"
    page.fill("#id_bank_name", "中国银行武汉江岸支行")
    page.fill("#id_account_number", "4000 1234 5678 9012")
    with page.expect_navigation():
        page.locator("[data-testid=submit]").click()
    assert page.locator(".status.status-submitted").first.is_visible()
    application = Application.objects.get()
    assert application.kind == Programme.ENTERPRISE_ONLINE_TRAINING
    assert application.status == S.SUBMITTED
    return application


def test_enterprise_declares_imports_roster_and_claims_for_staff(
    browser: Any, live_server: Any, world: Any
) -> None:
    base = live_server.url
    page = log_in(browser, base, "hr", TEST_PASSWORD, viewport=DESKTOP)
    try:
        declare_and_submit_a_shutdown(page, base)
        officer_confirms_the_shutdown(browser, base)
        import_the_roster(page, base)
        certificates = staff_complete_courses(world)
        application = claim_for_the_staff(page, base, certificates)
    finally:
        page.context.close()

    page = log_in(browser, base, "county-officer", TEST_PASSWORD, viewport=PHONE)
    try:
        page.goto(f"{base}/subsidies/review/county/")
        row = page.locator(f"[data-testid=queue-row][data-number='{application.number}']")
        assert "江岸精密制造有限公司" in row.inner_text()
        assert "¥1,600.00" in row.inner_text()
    finally:
        page.context.close()
