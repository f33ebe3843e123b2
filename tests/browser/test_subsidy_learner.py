"""Browser journey of a learner's training subsidy, end to end through the pages:

1. A learner with a completion certificate claims on a phone (390×844): picks the certificate,
   reads the explained eligibility (every rule, the amount and how it was computed), enters the
   bank account and submits. The page never scrolls sideways.
2. The county officer approves it from the application page.
3. The city officer approves it from the city queue with a batch review; the public notice
   (公示) starts.
4. The notice lasts five working days under the demo policy. The test cannot wait a week, so
   it moves the notice's end into the past in the data — exactly what the passage of time
   does; nothing else is written behind the pages' back.
5. The finance officer approves it for payment, builds a payment batch, exports the bank file
   and uploads the bank's return file built from that export.
6. The learner sees "paid" with the date.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.support import DESKTOP, PHONE, fits_phone, log_in, shoot
from zhipei.accounts.models import Role
from zhipei.core.money import parse_yuan
from zhipei.subsidies import bankfiles
from zhipei.subsidies.models import Application, ApplicationStatus
from zhipei.subsidies.testing import TEST_PASSWORD, build_claim_world, make_person_row, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

S = ApplicationStatus


@pytest.fixture
def world() -> Any:
    world = build_claim_world()
    person = make_person_row(world.jiangan, name="李娜")
    make_user("lina", (Role.LEARNER, None), person=person)
    world.extra["certificate"] = world.certificate(person)
    return world


def learner_claims_on_a_phone(browser: Any, base: str, world: Any) -> Application:
    page = log_in(browser, base, "lina", TEST_PASSWORD, viewport=PHONE)
    try:
        page.goto(f"{base}/subsidies/mine/")
        assert fits_phone(page)
        page.locator("[data-testid=new-claim]").click()
        page.wait_for_url("**/subsidies/claim/")
        certificate = world.extra["certificate"]
        card = page.locator(f"[data-testid=certificate][data-number='{certificate.number}']")
        assert card.is_visible()
        assert fits_phone(page)
        with page.expect_navigation():
            card.locator("[data-testid=claim-learner_training]").click()

        # The explained eligibility: every rule met, the amount and how it was computed.
        assert page.locator("[data-testid=verdict]").inner_text().startswith("Meets the rules")
        reasons = page.locator("#eligibility [data-testid=reasons] li")
        assert reasons.count() >= 10
        assert page.locator("#eligibility li[data-outcome=fail]").count() == 0
        amount_reason = page.locator("#eligibility li[data-code=amount]").inner_text()
        assert "40.0 class hours × ¥30.00 per class hour = ¥1,200.00" in amount_reason
        assert "¥800.00" in page.locator("#eligibility li[data-code=project_cap]").inner_text()
        assert page.locator("[data-testid=amount]").inner_text() == "¥800.00"
        assert fits_phone(page)
        shoot(page, "subsidy-learner-eligibility-phone")

        # Bank details: the payee is prefilled with the learner's name.
        assert page.input_value("#id_payee_name") == "李娜"
        page.fill("#id_bank_name", "中国工商银行武汉江岸支行")
        page.fill("#id_account_number", "6222 0212 3456 7890 123")
        with page.expect_navigation():
            page.locator("[data-testid=submit]").click()
        assert page.locator(".status.status-submitted").first.is_visible()
        assert "6222 **** 0123" in page.content()
        assert "6222021234567890123" not in page.content()
        assert page.locator("[data-testid=due]").is_visible()
        assert fits_phone(page)
        shoot(page, "subsidy-learner-submitted-phone")
    finally:
        page.context.close()
    application = Application.objects.get()
    assert application.status == S.SUBMITTED
    return application


def county_officer_approves(browser: Any, base: str, application: Application) -> None:
    page = log_in(browser, base, "county-officer", TEST_PASSWORD, viewport=DESKTOP)
    try:
        page.goto(f"{base}/subsidies/review/")
        page.wait_for_url("**/subsidies/review/county/")
        row = page.locator(f"[data-testid=queue-row][data-number='{application.number}']")
        with page.expect_navigation():
            row.get_by_role("link", name=application.number).click()
        # The officer reads the same reasons the learner did.
        assert page.locator("#eligibility li[data-code=amount]").is_visible()
        assert page.locator("[data-testid=applicant]").inner_text().count("李娜") == 1
        page.fill("#id_note", "Certificate checked against the platform.")
        with page.expect_navigation():
            page.locator("[data-testid=approve]").click()
        assert page.locator(".status.status-county_approved").first.is_visible()
    finally:
        page.context.close()


def city_officer_approves_in_a_batch(browser: Any, base: str, application: Application) -> None:
    page = log_in(browser, base, "city-officer", TEST_PASSWORD, viewport=DESKTOP)
    try:
        page.goto(f"{base}/subsidies/review/city/")
        row = page.locator(f"[data-testid=queue-row][data-number='{application.number}']")
        row.locator("input[type=checkbox]").check()
        page.select_option("#id_action", "approve")
        with page.expect_navigation():
            page.locator("[data-testid=batch-submit]").click()
        outcome = page.locator(f"[data-testid=outcome][data-pk='{application.pk}']")
        assert outcome.get_attribute("data-done") == "1"
        shoot(page, "subsidy-city-batch-outcome")
        # The public notice lists it, the name masked.
        page.goto(f"{base}/subsidies/publicity/")
        notice = page.locator(f"[data-testid=publicity-row][data-number='{application.number}']")
        assert "李*" in notice.inner_text()
        assert "李娜" not in page.content()
    finally:
        page.context.close()


def end_the_public_notice(application: Application) -> None:
    # The notice runs five working days (demo policy); move its end into the past, as time
    # would (see the module docstring).
    application.refresh_from_db()
    assert application.status == S.IN_PUBLICITY
    Application.objects.filter(pk=application.pk).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


def finance_officer_approves(browser: Any, base: str, application: Application) -> Any:
    page = log_in(browser, base, "finance-officer", TEST_PASSWORD, viewport=DESKTOP)
    page.goto(f"{base}/subsidies/review/finance/")
    row = page.locator(f"[data-testid=queue-row][data-number='{application.number}']")
    with page.expect_navigation():
        row.get_by_role("link", name=application.number).click()
    with page.expect_navigation():
        page.locator("[data-testid=approve]").click()
    assert page.locator(".status.status-finance_approved").first.is_visible()
    assert page.locator("[data-testid=committed]").inner_text().startswith("¥800.00")
    return page


def pay_in_a_batch(page: Any, base: str, application: Application) -> None:
    """Build a batch, export the bank file (CSV) and upload the bank's return file: every
    line of the export reported paid, with the checksum line the bank adds."""
    page.goto(f"{base}/subsidies/batches/new/")
    pick = page.locator(f"#app-{application.pk}")
    pick.check()
    with page.expect_navigation():
        page.locator("[data-testid=build-batch] button[type=submit]").click()
    assert page.locator("[data-testid=batch-facts]").is_visible()
    with page.expect_download() as download:
        page.locator("form[action$='/export/csv/'] button").click()
    exported = Path(download.value.path()).read_bytes()
    page.reload()  # a download does not navigate; the page now offers the return file
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8"))))
    header, lines = rows[0], rows[1:-1]
    assert rows[-1][0] == bankfiles.CHECKSUM
    reference, amount = header.index("payment_reference"), header.index("amount")
    assert [line[header.index("application")] for line in lines] == [application.number]
    assert lines[0][header.index("account_number")] == "6222021234567890123"
    answer = bankfiles.return_file_rows(
        [
            bankfiles.ReturnLine(
                reference=line[reference],
                amount_fen=parse_yuan(line[amount]),
                result=bankfiles.PAID,
                bank_reference=f"ICBC-{index:06d}",
                paid_on=timezone.localdate(),
            )
            for index, line in enumerate(lines, start=1)
        ]
    )
    page.locator("[data-testid=return-file-form] input[type=file]").set_input_files(
        files=[{"name": "return.csv", "mimeType": "text/csv", "buffer": bankfiles.to_csv(answer)}]
    )
    with page.expect_navigation():
        page.locator("[data-testid=return-file-form] button[type=submit]").click()
    assert page.locator("[data-testid=return-files]").is_visible()
    shoot(page, "subsidy-finance-batch-paid")


def learner_sees_paid(browser: Any, base: str, application: Application) -> None:
    application.refresh_from_db()
    assert application.status == S.PAID and application.paid_at is not None
    day = timezone.localtime(application.paid_at).date().isoformat()
    page = log_in(browser, base, "lina", TEST_PASSWORD, viewport=PHONE)
    try:
        page.goto(f"{base}/subsidies/mine/")
        card = page.locator(f"[data-testid=application][data-number='{application.number}']")
        assert card.locator(".status.status-paid").is_visible()
        assert day in card.locator("[data-testid=paid-on]").inner_text()
        with page.expect_navigation():
            card.get_by_role("link").first.click()
        assert day in page.locator("[data-testid=paid-on]").inner_text()
        assert page.locator("[data-testid=time-to-payment]").is_visible()
        assert fits_phone(page)
        shoot(page, "subsidy-learner-paid-phone")
    finally:
        page.context.close()


def test_learner_claims_on_a_phone_and_is_paid_after_review(
    browser: Any, live_server: Any, world: Any
) -> None:
    base = live_server.url
    application = learner_claims_on_a_phone(browser, base, world)
    county_officer_approves(browser, base, application)
    city_officer_approves_in_a_batch(browser, base, application)
    end_the_public_notice(application)
    page = finance_officer_approves(browser, base, application)
    try:
        pay_in_a_batch(page, base, application)
    finally:
        page.context.close()
    learner_sees_paid(browser, base, application)
