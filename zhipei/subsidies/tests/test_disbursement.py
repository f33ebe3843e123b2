"""Disbursement end to end: building batches (holds, filters, never twice), the bank payment
file, the bank's return file (round trip, every refusal with its line number and nothing
applied, re-import), failed payments corrected and paid, or rejected with the commitment
released. The helpers here are shared with the view and race tests."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from openpyxl import load_workbook

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.audit.models import AuditEvent
from zhipei.core import crypto
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed, NotInScope
from zhipei.core.money import parse_yuan
from zhipei.people.services import place_hold
from zhipei.subsidies import bankfiles, disbursement, workflow
from zhipei.subsidies.bankfiles import ReturnFileRejected, ReturnLine
from zhipei.subsidies.disbursement import EmptyBatch
from zhipei.subsidies.ledger_checks import find_ledger_problems
from zhipei.subsidies.models import (
    Application,
    ApplicationStatus,
    BatchStatus,
    DisbursementBatch,
    FundAccount,
    FundSource,
    LedgerPosting,
    Payment,
    PaymentStatus,
    Programme,
    ReturnFileImport,
)
from zhipei.subsidies.queries import application_committed_fen, balances
from zhipei.subsidies.services import application_ref
from zhipei.subsidies.testing import ClaimWorld, build_claim_world, make_person_row, make_user

S = ApplicationStatus
SKILLS = FundSource.SKILLS_ACCOUNT
AMOUNT = 800_00  # 40 class hours at the demo policy, capped at ¥800 per project
_serial = itertools.count(1)


# --- Shared helpers ---------------------------------------------------------------------------


def approved_application(
    world: ClaimWorld, name: str = "李娜", *, account: str = "6222021234567890123"
) -> tuple[Application, User]:
    """An application driven through the workflow to finance approval (¥800 committed)."""
    person = make_person_row(world.jiangan, name=name)
    user = make_user(f"applicant-{next(_serial)}", (Role.LEARNER, None), person=person)
    application = workflow.start_application(
        Programme.LEARNER_TRAINING,
        by=user,
        person=person,
        inputs={"certificate": world.certificate(person).pk},
    )
    application = workflow.set_bank_details(
        application, payee_name=name, bank_name="中国工商银行", account_number=account, by=user
    )
    application = workflow.submit(application, by=user)
    application = workflow.approve_at_county(application, by=world.county_officer)
    application = workflow.approve_at_city(application, by=world.city_officer)
    if application.status == S.IN_PUBLICITY:  # the demo policy's public notice: let it end
        Application.objects.filter(pk=application.pk).update(
            due_at=timezone.now() - timedelta(seconds=1)
        )
        application.refresh_from_db()
    application = workflow.approve_for_payment(application, by=world.finance_officer)
    assert application.status == S.FINANCE_APPROVED
    return application, user


def wuhan(world: ClaimWorld):
    return world.regions["420100"]


def build(world: ClaimWorld, **kwargs):
    return disbursement.build_batch(
        by=kwargs.pop("by", world.finance_officer), source=SKILLS, region=wuhan(world), **kwargs
    )


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def read_xlsx(content: bytes) -> list[list[str]]:
    """The sheet's rows as text, without the empty cells a shorter row has at its end."""
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = []
    for values in book.worksheets[0].iter_rows(values_only=True):
        cells = [bankfiles.cell_text(v) for v in values]
        while cells and cells[-1] == "":
            cells.pop()
        rows.append(cells)
    book.close()
    return rows


def return_lines(
    payment_rows: list[list[str]], result: str = "paid", **overrides: object
) -> list[ReturnLine]:
    """What a bank answers for every payment of an exported file."""
    lines = []
    for row in payment_rows[1:-1]:
        values: dict[str, object] = {
            "reference": row[0],
            "amount_fen": parse_yuan(row[5]),
            "result": result,
            "bank_reference": f"BK-{row[0]}" if result == "paid" else "",
            "failure_reason": "" if result == "paid" else "户名与账号不符",
        }
        values.update(overrides)
        lines.append(ReturnLine(**values))  # type: ignore[arg-type]
    return lines


def return_csv(lines: list[ReturnLine]) -> bytes:
    return bankfiles.to_csv(bankfiles.return_file_rows(lines))


def fund_balances(world: ClaimWorld) -> dict[str, int]:
    accounts = list(FundAccount.objects.filter(source=SKILLS, region=wuhan(world)))
    totals = balances(accounts)
    return {a.kind: totals[a.pk] for a in accounts}


def exported(world: ClaimWorld, count: int = 2) -> tuple[DisbursementBatch, list[list[str]]]:
    for i in range(count):
        approved_application(world, name=f"王{i}", account=f"62220212345678{i:05d}")
    batch = build(world).batch
    _name, content = disbursement.export_batch(batch, by=world.finance_officer)
    batch.refresh_from_db()
    return batch, read_csv(content)


def import_file(world, batch, content: bytes, filename: str = "return.csv"):
    return disbursement.import_return_file(
        batch, by=world.finance_officer, filename=filename, data=content
    )


def problems(exc: ReturnFileRejected) -> set[tuple[int, str]]:
    return {(e.line, e.code) for e in exc.errors}


pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_claim_world()


# --- Building ---------------------------------------------------------------------------------


def test_build_places_approved_applications_with_a_snapshot_of_the_payee(world):
    one, _u1 = approved_application(world, "李娜", account="6222 0212 3456 7890 123")
    two, _u2 = approved_application(world, "张伟", account="6228480012345678")

    built = build(world)

    batch = built.batch
    assert built.left_out == []
    assert batch.status == BatchStatus.OPEN
    assert (batch.payment_count, batch.total_fen) == (2, 2 * AMOUNT)
    payments = list(batch.payments.order_by("pk"))
    assert [p.application_id for p in payments] == [one.pk, two.pk]
    assert [p.reference for p in payments] == [f"{batch.number}-00001", f"{batch.number}-00002"]
    assert payments[0].payee_name == "李娜" and payments[0].account_masked == "6222 **** 0123"
    assert all(p.status == PaymentStatus.PENDING and p.amount_fen == AMOUNT for p in payments)
    for application in (one, two):
        application.refresh_from_db()
        assert application.status == S.IN_BATCH
    event = AuditEvent.objects.get(action="subsidies.batch.built")
    assert event.data["count"] == 2 and event.data["total_fen"] == 2 * AMOUNT
    assert "62220212345678" not in json.dumps(event.data)


def test_an_empty_batch_is_refused_and_nothing_is_created(world):
    with pytest.raises(EmptyBatch, match="No application of this fund is waiting for payment"):
        build(world)
    assert not DisbursementBatch.objects.exists()


def test_a_held_applicant_is_left_out_and_reported_and_the_rest_is_paid(world):
    held, _u = approved_application(world, "赵敏")
    free, _u2 = approved_application(world, "周洁")
    assert held.person is not None
    place_hold(held.person, reason="Case 7", by=world.county_officer)

    built = build(world)

    assert [p.application_id for p in built.batch.payments.all()] == [free.pk]
    assert [o.application_id for o in built.left_out] == [held.pk]
    assert "hold" in built.left_out[0].reason.lower()
    held.refresh_from_db()
    assert held.status == S.FINANCE_APPROVED
    # The evaluation that found the hold is kept: it explains the refusal.
    assert held.evaluations.filter(stage="batch", eligible=False).exists()


def test_when_every_applicant_is_held_the_batch_is_refused_with_the_reasons(world):
    held, _u = approved_application(world, "赵敏")
    assert held.person is not None
    place_hold(held.person, reason="Case 7", by=world.county_officer)
    with pytest.raises(EmptyBatch) as caught:
        build(world)
    assert [o.application_id for o in caught.value.left_out] == [held.pk]
    assert not DisbursementBatch.objects.exists()
    held.refresh_from_db()
    assert held.status == S.FINANCE_APPROVED


def test_only_the_chosen_applications_go_in_and_other_ids_are_reported(world):
    one, _u1 = approved_application(world, "李娜")
    two, _u2 = approved_application(world, "张伟")
    built = build(world, application_ids=[two.pk, 999_999])
    assert [p.application_id for p in built.batch.payments.all()] == [two.pk]
    assert [o.application_id for o in built.left_out] == [999_999]
    one.refresh_from_db()
    assert one.status == S.FINANCE_APPROVED


def test_filters_choose_by_kind_amount_region_and_approval_date(world):
    approved_application(world, "李娜")
    today = timezone.localdate()
    candidates = disbursement.candidate_applications
    region = wuhan(world)
    assert len(candidates(SKILLS, region)) == 1
    assert candidates(SKILLS, region, kind=Programme.LIVING_ALLOWANCE) == []
    assert len(candidates(SKILLS, region, min_fen=AMOUNT, max_fen=AMOUNT)) == 1
    assert candidates(SKILLS, region, min_fen=AMOUNT + 1) == []
    assert candidates(SKILLS, region, max_fen=AMOUNT - 1) == []
    assert len(candidates(SKILLS, region, approved_from=today, approved_to=today)) == 1
    assert candidates(SKILLS, region, approved_from=today + timedelta(days=1)) == []
    assert candidates(SKILLS, region, approved_to=today - timedelta(days=1)) == []
    assert len(candidates(SKILLS, region, applicant_region=world.jiangan)) == 1
    assert candidates(SKILLS, region, applicant_region=world.regions["420106"]) == []
    assert candidates(FundSource.EMPLOYMENT_FUND, region) == []


def test_only_finance_officers_of_the_fund_region_build_batches(world):
    approved_application(world)
    yichang = make_user("finance-yichang", (Role.FINANCE_OFFICER, world.regions["420500"]))
    with pytest.raises(NotInScope):
        build(world, by=yichang)
    with pytest.raises(NotAllowed):
        build(world, by=world.city_officer)
    with pytest.raises(InvalidInput):
        disbursement.build_batch(by=world.finance_officer, source="piggy_bank", region=wuhan(world))
    assert not DisbursementBatch.objects.exists()


def test_an_officer_never_pays_their_own_claim(world):
    _application, insider = approved_application(world, "钱多")
    RoleAssignment.objects.create(
        user=insider, role=Role.FINANCE_OFFICER, region=wuhan(world), granted_at=timezone.now()
    )
    with pytest.raises(EmptyBatch) as caught:
        build(world, by=insider)
    assert "party to" in caught.value.left_out[0].reason


def test_an_application_is_never_in_two_batches(world):
    application, _u = approved_application(world)
    first = build(world).batch
    with pytest.raises(EmptyBatch) as caught:
        build(world, application_ids=[application.pk])
    assert [o.application_id for o in caught.value.left_out] == [application.pk]
    assert Payment.objects.filter(application=application).count() == 1
    assert first.payments.get().application_id == application.pk


def test_the_database_refuses_a_second_live_payment_for_an_application(world):
    application, _u = approved_application(world)
    batch = build(world).batch
    payment = batch.payments.get()
    other = DisbursementBatch.objects.create(
        fund_source=SKILLS, fund_region=wuhan(world), created_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            batch=other,
            application=application,
            reference="PC-SNEAKY-1",
            amount_fen=AMOUNT,
            payee_name="x",
            bank_name="x",
            account_masked="x",
            account_ciphertext=b"x",
            account_key_id="k",
            account_fingerprint="f",
            created_at=timezone.now(),
        )
    assert Payment.objects.filter(application=application).get() == payment


# --- Exporting --------------------------------------------------------------------------------


def test_the_bank_file_has_a_header_a_row_per_payment_and_a_checksum_line(world):
    approved_application(world, "李娜", account="6222 0212 3456 7890 123")
    approved_application(world, "张伟", account="6228480012345678")
    batch = build(world).batch

    filename, content = disbursement.export_batch(batch, by=world.finance_officer)

    assert filename == f"{batch.number}-payments.csv"
    assert b"\r\n" in content and not content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(content)
    assert rows[0] == list(bankfiles.PAYMENT_COLUMNS)
    assert rows[1][0] == f"{batch.number}-00001"
    assert rows[1][2:] == ["李娜", "中国工商银行", "6222021234567890123", "800.00"]
    assert rows[2][4:] == ["6228480012345678", "800.00"]
    checksum = rows[-1]
    assert checksum[:3] == ["CHECKSUM", "2", "1600.00"]
    assert checksum[3] == bankfiles.content_sha256(rows[:-1])
    batch.refresh_from_db()
    assert batch.status == BatchStatus.EXPORTED
    assert batch.file_sha256 == checksum[3]
    assert batch.exported_by == world.finance_officer and batch.exported_at is not None
    # The export is audited; no account number reaches the audit log.
    events = AuditEvent.objects.filter(object_type="subsidies.disbursementbatch")
    assert events.filter(action="subsidies.batch.exported").count() == 1
    everything = json.dumps([e.data for e in AuditEvent.objects.all()])
    assert "6222021234567890123" not in everything and "6228480012345678" not in everything


def test_exporting_again_returns_the_same_file_in_csv_and_excel(world):
    approved_application(world, "王芳（工资卡）")
    batch = build(world).batch
    _n, first_csv = disbursement.export_batch(batch, by=world.finance_officer)
    name, first_xlsx = disbursement.export_batch(
        batch, by=world.finance_officer, file_format="xlsx"
    )
    _n, again_csv = disbursement.export_batch(batch, by=world.finance_officer)
    _n, again_xlsx = disbursement.export_batch(batch, by=world.finance_officer, file_format="xlsx")

    assert name.endswith(".xlsx")
    assert first_csv == again_csv
    assert first_xlsx == again_xlsx
    assert read_xlsx(first_xlsx) == read_csv(first_csv)
    assert read_csv(first_csv)[1][2] == "王芳（工资卡）"
    assert AuditEvent.objects.filter(action="subsidies.batch.exported").count() == 1
    assert AuditEvent.objects.filter(action="subsidies.batch.file_downloaded").count() == 3


def test_export_is_refused_when_the_payments_no_longer_give_the_file_sent(world):
    approved_application(world)
    batch = build(world).batch
    disbursement.export_batch(batch, by=world.finance_officer)
    Payment.objects.filter(batch=batch).update(payee_name="冒名顶替")
    with pytest.raises(Conflict, match="checksum differs"):
        disbursement.export_batch(batch, by=world.finance_officer)


def test_export_is_for_finance_officers_of_the_fund_and_known_formats(world):
    approved_application(world)
    batch = build(world).batch
    yichang = make_user("finance-yichang", (Role.FINANCE_OFFICER, world.regions["420500"]))
    with pytest.raises(NotInScope):
        disbursement.export_batch(batch, by=yichang)
    with pytest.raises(InvalidInput):
        disbursement.export_batch(batch, by=world.finance_officer, file_format="pdf")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.OPEN


# --- The return file: round trip --------------------------------------------------------------


def test_round_trip_pays_every_application_and_keeps_the_ledger_sound(world):
    batch, rows = exported(world, count=2)
    before = fund_balances(world)

    outcome = import_file(world, batch, return_csv(return_lines(rows)))

    assert (outcome.paid, outcome.failed, outcome.unchanged) == (2, 0, 0)
    assert outcome.closed and not outcome.already_imported
    after = fund_balances(world)
    assert after["paid"] == before["paid"] + 2 * AMOUNT
    assert after["committed"] == before["committed"] - 2 * AMOUNT
    assert after["available"] == before["available"]
    assert find_ledger_problems().problems == []
    batch.refresh_from_db()
    assert batch.status == BatchStatus.CLOSED and batch.closed_at is not None
    for payment in batch.payments.select_related("application"):
        assert payment.status == PaymentStatus.PAID
        assert payment.bank_reference == f"BK-{payment.reference}"
        assert payment.settled_by_import == outcome.file_import
        application = payment.application
        assert application.status == S.PAID and application.paid_at is not None
        assert workflow.time_to_payment(application) is not None
        assert application_committed_fen(*application_ref(application)) == 0
        posting = LedgerPosting.objects.get(kind="payment", reference=payment.bank_reference)
        assert posting.amount_fen == AMOUNT and posting.memo == payment.reference
    assert outcome.file_import.summary == {
        "lines": 2, "paid": 2, "failed": 0, "unchanged": 0, "closed": True
    }  # fmt: skip
    assert AuditEvent.objects.filter(action="subsidies.batch.closed").count() == 1


def test_an_excel_return_file_is_read_like_the_csv_one(world):
    batch, rows = exported(world, count=1)
    workbook = bankfiles.to_xlsx(
        bankfiles.return_file_rows(return_lines(rows)), sheet_title="回盘", when=timezone.now()
    )
    outcome = import_file(world, batch, workbook, filename="回盘.xlsx")
    assert outcome.paid == 1 and outcome.file_import.file_format == "xlsx"


def test_the_day_the_bank_gives_becomes_the_payment_time(world):
    batch, rows = exported(world, count=1)
    today = timezone.localdate()
    outcome = import_file(world, batch, return_csv(return_lines(rows, paid_on=today)))
    payment = outcome.file_import.settled_payments.get()
    application = payment.application
    assert timezone.localtime(application.paid_at).date() == today
    assert application.paid_at <= timezone.now()


def test_a_payment_day_in_the_future_is_refused(world):
    batch, rows = exported(world, count=1)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ReturnFileRejected) as caught:
        import_file(world, batch, return_csv(return_lines(rows, paid_on=tomorrow)))
    assert problems(caught.value) == {(2, "bad_date")}


def test_reimporting_the_same_file_changes_nothing(world):
    batch, rows = exported(world, count=2)
    content = return_csv(return_lines(rows))
    first = import_file(world, batch, content)
    postings = LedgerPosting.objects.count()
    steps = sum(p.application.steps.count() for p in batch.payments.all())

    again = import_file(world, batch, content)

    assert again.already_imported and again.file_import == first.file_import
    assert LedgerPosting.objects.count() == postings
    assert sum(p.application.steps.count() for p in batch.payments.all()) == steps
    assert ReturnFileImport.objects.count() == 1


def test_a_partial_return_file_leaves_the_batch_open_until_the_rest_comes(world):
    batch, rows = exported(world, count=2)
    lines = return_lines(rows)
    first = import_file(world, batch, return_csv(lines[:1]))
    assert first.paid == 1 and not first.closed
    batch.refresh_from_db()
    assert batch.status == BatchStatus.EXPORTED
    # The bank's full file later: the first line agrees with what is recorded.
    second = import_file(world, batch, return_csv(lines))
    assert (second.paid, second.unchanged, second.closed) == (1, 1, True)


def test_a_file_contradicting_settled_payments_is_refused_line_by_line(world):
    batch, rows = exported(world, count=2)
    import_file(world, batch, return_csv(return_lines(rows)))
    postings = LedgerPosting.objects.count()
    failed = return_lines(rows, result="failed")
    other_refs = return_lines(rows, bank_reference="BK-OTHER")[:1]

    with pytest.raises(ReturnFileRejected) as caught:
        import_file(world, batch, return_csv(failed))
    assert problems(caught.value) == {(2, "contradicts_settled"), (3, "contradicts_settled")}
    with pytest.raises(ReturnFileRejected) as caught:
        import_file(world, batch, return_csv(other_refs))
    assert problems(caught.value) == {(2, "contradicts_settled")}
    assert LedgerPosting.objects.count() == postings
    assert AuditEvent.objects.filter(action="subsidies.batch.return_file_refused").count() == 2


def test_importing_before_export_is_refused(world):
    approved_application(world)
    batch = build(world).batch
    with pytest.raises(Conflict, match="Export the batch"):
        import_file(world, batch, b"payment_reference\r\n")


# --- The return file: refusals ---------------------------------------------------------------


def _tampered_amount(rows, lines, batch):
    lines[1] = ReturnLine(**{**lines[1].__dict__, "amount_fen": lines[1].amount_fen + 100})
    return return_csv(lines)  # checksum recomputed: only the amount check can catch it


def _unknown_reference(rows, lines, batch):
    lines[0] = ReturnLine(**{**lines[0].__dict__, "reference": "PC99999999-00001"})
    return return_csv(lines)


def _duplicate_line(rows, lines, batch):
    return return_csv([*lines, lines[0]])


def _bad_checksum(rows, lines, batch):
    table = bankfiles.return_file_rows(lines)
    table[1][3] = "BK-CHANGED-AFTERWARDS"
    return bankfiles.to_csv(table)


def _missing_checksum(rows, lines, batch):
    return bankfiles.to_csv(bankfiles.return_file_rows(lines)[:-1])


def _bad_result(rows, lines, batch):
    lines[1] = ReturnLine(**{**lines[1].__dict__, "result": "maybe"})
    return return_csv(lines)


def _three_decimals(rows, lines, batch):
    table = bankfiles.return_file_rows(lines)
    table[2][1] = "800.001"
    return bankfiles.to_csv(bankfiles.with_checksum(table[:-1], count=2, total_fen=2 * AMOUNT))


def _reused_bank_reference(rows, lines, batch):
    lines[1] = ReturnLine(**{**lines[1].__dict__, "bank_reference": lines[0].bank_reference})
    return return_csv(lines)


@pytest.mark.parametrize(
    ("make_file", "expected"),
    [
        (_tampered_amount, {(3, "amount_mismatch")}),
        (_unknown_reference, {(2, "unknown_reference")}),
        (_duplicate_line, {(4, "duplicate_line"), (4, "duplicate_bank_reference")}),
        (_bad_checksum, {(4, "checksum_mismatch")}),
        (_missing_checksum, {(3, "checksum_missing")}),
        (_bad_result, {(3, "bad_result")}),
        (_three_decimals, {(3, "bad_amount")}),
        (_reused_bank_reference, {(3, "duplicate_bank_reference")}),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else None,
)
def test_a_bad_return_file_is_refused_with_its_line_numbers_and_nothing_applied(
    world, make_file, expected
):
    batch, rows = exported(world, count=2)
    before = fund_balances(world)
    content = make_file(rows, return_lines(rows), batch)

    with pytest.raises(ReturnFileRejected) as caught:
        import_file(world, batch, content)

    assert problems(caught.value) == expected
    assert "nothing was applied" in str(caught.value.message)
    assert fund_balances(world) == before
    assert not ReturnFileImport.objects.exists()
    assert set(batch.payments.values_list("status", flat=True)) == {PaymentStatus.PENDING}
    assert set(
        Application.objects.filter(payments__batch=batch).values_list("status", flat=True)
    ) == {S.IN_BATCH}
    refusal = AuditEvent.objects.get(action="subsidies.batch.return_file_refused")
    assert {(p["line"], p["problem"]) for p in refusal.data["problems"]} == expected


def test_a_reference_of_another_batch_is_refused(world):
    batch, rows = exported(world, count=1)
    other_batch, other_rows = exported(world, count=1)
    lines = return_lines(rows) + return_lines(other_rows)
    with pytest.raises(ReturnFileRejected) as caught:
        import_file(world, batch, return_csv(lines))
    assert problems(caught.value) == {(3, "other_batch")}
    assert other_batch.number in str(caught.value.errors[0])
    assert not Payment.objects.filter(status=PaymentStatus.PAID).exists()


def test_a_bank_reference_already_paying_another_payment_is_refused(world):
    batch, rows = exported(world, count=1)
    import_file(world, batch, return_csv(return_lines(rows)))
    used = Payment.objects.get(batch=batch).bank_reference
    second, second_rows = exported(world, count=1)
    with pytest.raises(ReturnFileRejected) as caught:
        import_file(world, second, return_csv(return_lines(second_rows, bank_reference=used)))
    assert problems(caught.value) == {(2, "bank_reference_used")}


def test_an_unreadable_file_is_refused_and_the_refusal_audited(world):
    batch, _rows = exported(world, count=1)
    with pytest.raises(bankfiles.BankFileError):
        import_file(world, batch, b"PK\x03\x04not really a workbook", filename="return.xlsx")
    assert AuditEvent.objects.filter(action="subsidies.batch.return_file_refused").count() == 1


# --- Failed payments ---------------------------------------------------------------------------


def test_failed_then_corrected_bank_details_then_paid_in_a_new_batch(world):
    application, user = approved_application(world, "李娜", account="6222000000000001")
    batch = build(world).batch
    _n, content = disbursement.export_batch(batch, by=world.finance_officer)
    rows = read_csv(content)

    outcome = import_file(world, batch, return_csv(return_lines(rows, result="failed")))

    assert outcome.failed == 1 and outcome.closed
    application.refresh_from_db()
    assert application.status == S.PAYMENT_FAILED
    last_step = application.steps.last()
    assert last_step is not None and last_step.note == "户名与账号不符"
    failed = Payment.objects.get(batch=batch)
    assert failed.status == PaymentStatus.FAILED and failed.failure_reason == "户名与账号不符"
    assert application_committed_fen(*application_ref(application)) == AMOUNT  # still set aside
    # Not paid again until the payee corrects the bank details.
    with pytest.raises(EmptyBatch):
        build(world)

    workflow.set_bank_details(
        application,
        payee_name="李娜",
        bank_name="中国建设银行",
        account_number="6217000000000002",
        by=user,
    )
    second = build(world).batch
    payment = second.payments.get()
    assert payment.bank_name == "中国建设银行" and payment.account_masked == "6217 **** 0002"
    _n, second_content = disbursement.export_batch(second, by=world.finance_officer)
    second_rows = read_csv(second_content)
    assert second_rows[1][4] == "6217000000000002"
    import_file(world, second, return_csv(return_lines(second_rows)))

    application.refresh_from_db()
    assert application.status == S.PAID
    assert application_committed_fen(*application_ref(application)) == 0
    assert LedgerPosting.objects.filter(kind="payment").count() == 1
    assert find_ledger_problems().problems == []
    # The first batch's file is unchanged by the correction.
    _n, again = disbursement.export_batch(batch, by=world.finance_officer)
    assert again == content and rows[1][4] == "6222000000000001"


def test_failed_then_rejected_releases_the_commitment(world):
    application, _user = approved_application(world)
    batch = build(world).batch
    _n, content = disbursement.export_batch(batch, by=world.finance_officer)
    import_file(world, batch, return_csv(return_lines(read_csv(content), result="failed")))
    before = fund_balances(world)

    application.refresh_from_db()
    workflow.reject(application, by=world.finance_officer, note="账户已注销，申请人无法联系")

    application.refresh_from_db()
    assert application.status == S.REJECTED
    after = fund_balances(world)
    assert after["committed"] == before["committed"] - AMOUNT
    assert after["available"] == before["available"] + AMOUNT
    assert application_committed_fen(*application_ref(application)) == 0
    assert find_ledger_problems().problems == []
    with pytest.raises(EmptyBatch):
        build(world)


def test_batch_times_from_submission_to_payment(world):
    batch, rows = exported(world, count=2)
    lines = return_lines(rows)
    lines[1] = ReturnLine(**{**lines[1].__dict__, "result": "failed", "failure_reason": "x"})
    lines[1] = ReturnLine(**{**lines[1].__dict__, "bank_reference": ""})
    import_file(world, batch, return_csv(lines))
    payments = disbursement.payments_of(batch)
    times = disbursement.payment_times(payments)
    paid, failed = payments
    assert times.per_payment[failed.pk] is None
    assert times.per_payment[paid.pk] == workflow.time_to_payment(paid.application)
    assert times.median == times.mean == times.per_payment[paid.pk]


def test_the_account_snapshot_is_registered_for_key_rotation(world):
    approved_application(world, account="6222021234567890123")
    payment = build(world).batch.payments.get()
    spec = next(f for f in crypto.registered_fields() if f.model_label == "subsidies.Payment")
    # What rotate_keys would read: the blob opens with the registered associated data.
    clear = crypto.decrypt(
        getattr(payment, spec.key_id_field),
        bytes(getattr(payment, spec.ciphertext_field)),
        associated_data=crypto.associated_data_for(payment, spec),
    )
    assert clear == b"6222021234567890123"
    assert bytes(payment.account_ciphertext) != bytes(payment.application.account_ciphertext)
