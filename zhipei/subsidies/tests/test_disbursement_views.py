"""Payment batch pages: finance officers of the fund's region only (others 404, other roles
403), bad input shown as field errors (never a 500), downloads with the right content types,
the return-file upload with its per-line errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from zhipei.accounts.models import Role
from zhipei.subsidies import bankfiles
from zhipei.subsidies.models import (
    ApplicationStatus,
    BatchStatus,
    DisbursementBatch,
    FundSource,
    Payment,
    PaymentStatus,
)
from zhipei.subsidies.testing import build_claim_world, make_user
from zhipei.subsidies.tests.test_disbursement import (
    AMOUNT,
    approved_application,
    build,
    exported,
    import_file,
    read_csv,
    return_csv,
    return_lines,
)
from zhipei.subsidies.views_batches import duration_text

pytestmark = pytest.mark.django_db
S = ApplicationStatus
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world():
    return build_claim_world()


@pytest.fixture
def finance(world, client):
    client.force_login(world.finance_officer)
    return client


@pytest.fixture
def outsider(world, client):
    user = make_user("finance-yichang", (Role.FINANCE_OFFICER, world.regions["420500"]))
    client.force_login(user)
    return client


def fund_key(world) -> str:
    return f"{FundSource.SKILLS_ACCOUNT}:{world.regions['420100'].pk}"


def export(client, batch, file_format="csv"):
    return client.post(reverse("subsidies:batch_export", args=[batch.pk, file_format]))


def upload(client, batch, content: bytes, name: str = "return.csv"):
    return client.post(
        reverse("subsidies:batch_import", args=[batch.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


# --- Roles and scope --------------------------------------------------------------------------


def test_menu_offers_payment_batches_to_finance_officers_only(world, client):
    client.force_login(world.finance_officer)
    assert "Payment batches" in client.get(reverse("portal:home")).content.decode()
    client.force_login(world.city_officer)
    assert "Payment batches" not in client.get(reverse("portal:home")).content.decode()


def test_people_without_the_finance_role_get_403_everywhere(world, client):
    approved_application(world)
    batch = build(world).batch
    client.force_login(world.city_officer)
    assert client.get(reverse("subsidies:batch_list")).status_code == 403
    assert client.get(reverse("subsidies:batch_new")).status_code == 403
    assert client.get(reverse("subsidies:batch_detail", args=[batch.pk])).status_code == 403
    assert export(client, batch).status_code == 403
    batch.refresh_from_db()
    assert batch.status == BatchStatus.OPEN


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    response = client.get(reverse("subsidies:batch_list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_finance_officers_of_other_regions_see_nothing_of_the_batch(world, outsider):
    approved_application(world)
    batch = build(world).batch
    response = outsider.get(reverse("subsidies:batch_list"))
    assert response.status_code == 200 and batch.number not in response.content.decode()
    assert outsider.get(reverse("subsidies:batch_detail", args=[batch.pk])).status_code == 404
    assert export(outsider, batch).status_code == 404
    assert upload(outsider, batch, b"x").status_code == 404
    # Their new-batch page offers only their own (here: no) funds, and refuses ours.
    response = outsider.post(
        reverse("subsidies:batch_new"), {"fund": fund_key(world), "applications": ["1"]}
    )
    assert response.status_code == 422
    assert not DisbursementBatch.objects.exclude(pk=batch.pk).exists()


# --- List and new batch -----------------------------------------------------------------------


def test_list_shows_the_batches_of_the_officers_funds(world, finance):
    approved_application(world)
    batch = build(world).batch
    response = finance.get(reverse("subsidies:batch_list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert batch.number in page and "¥800.00" in page


def test_new_batch_page_lists_candidates_with_their_total(world, finance):
    one, _u = approved_application(world, "李娜")
    two, _u2 = approved_application(world, "张伟")
    response = finance.get(reverse("subsidies:batch_new"))
    assert response.status_code == 200
    assert [a.pk for a, _ticked in response.context["candidates"]] == [one.pk, two.pk]
    assert response.context["candidate_total_fen"] == 2 * AMOUNT
    page = response.content.decode()
    assert one.number in page and "¥1,600.00" in page
    # Filters narrow the list.
    response = finance.get(
        reverse("subsidies:batch_new"), {"fund": fund_key(world), "min_amount": "800.01"}
    )
    assert response.context["candidates"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_amount": "1.001"}, "min_amount"),
        ({"min_amount": "-5"}, "min_amount"),
        ({"min_amount": "100", "max_amount": "50"}, "max_amount"),
        ({"approved_from": "2026-13-01"}, "approved_from"),
        ({"approved_from": "2026-05-02", "approved_to": "2026-05-01"}, "approved_to"),
        ({"kind": "lottery"}, "kind"),
        ({"region": "999999"}, "region"),
        ({"fund": "skills_account:999999"}, "fund"),
    ],
)
def test_bad_filters_are_field_errors_never_a_500(world, finance, params, field):
    response = finance.get(reverse("subsidies:batch_new"), {"fund": fund_key(world)} | params)
    assert response.status_code == 200
    assert field in response.context["form"].errors


def test_building_a_batch_from_the_ticked_applications(world, finance):
    one, _u = approved_application(world, "李娜")
    two, _u2 = approved_application(world, "张伟")
    response = finance.post(
        reverse("subsidies:batch_new"), {"fund": fund_key(world), "applications": [str(two.pk)]}
    )
    batch = DisbursementBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("subsidies:batch_detail", args=[batch.pk])
    assert list(batch.payments.values_list("application_id", flat=True)) == [two.pk]
    one.refresh_from_db()
    assert one.status == S.FINANCE_APPROVED


def test_building_reports_what_was_left_out(world, finance):
    one, _u = approved_application(world)
    build(world)  # another officer was quicker
    response = finance.post(
        reverse("subsidies:batch_new"), {"fund": fund_key(world), "applications": [str(one.pk)]}
    )
    assert response.status_code == 422
    assert DisbursementBatch.objects.count() == 1
    assert one.number in response.content.decode()
    assert "the batch was not created" in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"applications": []},
        {"applications": ["abc"]},
        {"applications": ["99999999999999999999999"]},
        {"applications": ["1"], "max_amount": "1.234"},
    ],
)
def test_bad_build_requests_are_refused_with_errors(world, finance, data):
    approved_application(world)
    response = finance.post(reverse("subsidies:batch_new"), {"fund": fund_key(world)} | data)
    assert response.status_code == 422
    assert not DisbursementBatch.objects.exists()


# --- One batch, downloads and return files ----------------------------------------------------


def test_detail_shows_payments_and_their_times(world, finance):
    approved_application(world, "李娜")
    batch = build(world).batch
    response = finance.get(reverse("subsidies:batch_detail", args=[batch.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"{batch.number}-00001" in page and "6222 **** 0123" in page
    assert "6222021234567890123" not in page  # full numbers only in the bank file
    assert "nothing paid yet" in page


def test_downloads_have_the_right_content_types_and_names(world, finance):
    approved_application(world)
    batch = build(world).batch
    response = export(finance, batch)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{batch.number}-payments.csv"'
    assert read_csv(response.content)[1][4] == "6222021234567890123"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    response = export(finance, batch, "xlsx")
    assert response["Content-Type"] == XLSX_TYPE
    assert response.content.startswith(b"PK\x03\x04")
    assert export(finance, batch, "pdf").status_code == 404
    get = finance.get(reverse("subsidies:batch_export", args=[batch.pk, "csv"]))
    assert get.status_code == 405
    batch.refresh_from_db()
    assert batch.status == BatchStatus.EXPORTED


def test_uploading_the_return_file_pays_and_closes_the_batch(world, finance):
    approved_application(world)
    batch = build(world).batch
    rows = read_csv(export(finance, batch).content)
    response = upload(finance, batch, return_csv(return_lines(rows)))
    assert response.status_code == 302
    page = finance.get(response["Location"]).content.decode()
    assert "1 payment recorded as paid" in page and "the batch is closed" in page
    assert "median" in page
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED
    # The same file again: a no-op, said so.
    response = upload(finance, batch, return_csv(return_lines(rows)))
    assert "imported already" in finance.get(response["Location"]).content.decode()


def test_a_bad_return_file_lists_every_bad_line_and_applies_nothing(world, finance):
    approved_application(world, "李娜")
    approved_application(world, "张伟")
    batch = build(world).batch
    rows = read_csv(export(finance, batch).content)
    lines = return_lines(rows)
    lines[0] = bankfiles.ReturnLine(**{**lines[0].__dict__, "reference": "PC00000999-00001"})
    lines[1] = bankfiles.ReturnLine(**{**lines[1].__dict__, "amount_fen": 1})
    response = upload(finance, batch, return_csv(lines))
    assert response.status_code == 422
    errors = {(e.line, e.code) for e in response.context["line_errors"]}
    assert errors == {(2, "unknown_reference"), (3, "amount_mismatch")}
    page = response.content.decode()
    assert "nothing was applied" in page and "PC00000999-00001" in page
    assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.PENDING}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("return.pdf", b"%PDF-1.4", "as .csv or .xlsx"),
        ("return.xlsx", b"not a workbook", "content is not"),
        ("return.csv", b"\r\n", "no lines"),
    ],
)
def test_unreadable_uploads_are_field_errors(world, finance, name, content, message):
    approved_application(world)
    batch = build(world).batch
    export(finance, batch)
    response = upload(finance, batch, content, name)
    assert response.status_code == 422
    assert message in " ".join(response.context["upload_form"].errors["file"])


def test_an_upload_without_a_file_or_before_export_is_refused(world, finance):
    approved_application(world)
    batch = build(world).batch
    response = finance.post(reverse("subsidies:batch_import", args=[batch.pk]), {})
    assert response.status_code == 422 and "file" in response.context["upload_form"].errors
    response = upload(finance, batch, b"payment_reference\r\n")
    assert response.status_code == 422
    assert "Export the batch" in response.content.decode()


def test_pages_take_a_fixed_number_of_queries(world, finance, django_assert_num_queries):
    batch, rows = exported(world, count=3)
    import_file(world, batch, return_csv(return_lines(rows)))
    approved_application(world, "待付")
    # session, user, officer prefixes, count, the page of batches, menu roles
    with django_assert_num_queries(6):
        finance.get(reverse("subsidies:batch_list"))
    # session, user, officer prefixes, the batch, its payments with their applications,
    # its return files, menu roles
    with django_assert_num_queries(7):
        finance.get(reverse("subsidies:batch_detail", args=[batch.pk]))
    # session, user, officer prefixes, funds, the busiest fund, candidates, menu roles,
    # regions for the filter
    with django_assert_num_queries(8):
        response = finance.get(reverse("subsidies:batch_new"))
    assert len(response.context["candidates"]) == 1


def test_times_to_payment_read_in_days_hours_or_minutes():
    assert duration_text(None) == ""
    assert duration_text(timedelta(seconds=59)) == "0 min"
    assert duration_text(timedelta(minutes=75)) == "1 h 15 min"
    assert duration_text(timedelta(days=9, hours=5, minutes=59)) == "9 d 5 h"
