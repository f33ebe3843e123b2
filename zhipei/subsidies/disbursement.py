"""Disbursement (补贴发放): payment batches, the bank payment file and the bank's return file.

A finance officer of a fund's region builds a batch from that fund's applications approved for
payment (and those whose payment failed and whose payee has since entered their bank details
again); each goes through workflow.place_in_batch, which checks holds once more, and gets a
`Payment` with a snapshot of where the money goes. Exporting the batch produces the bank file
(subsidies.bankfiles) and marks the batch as sent. The bank's return file is checked in full
before anything is applied; then each line is recorded — paid: the ledger moves the amount
from committed to paid under the bank's transaction reference and the application is paid;
failed: the application goes back to its payee for correction. When every payment of a batch
is settled, the batch is closed.

A payment is never made twice: the database keeps one pending-or-paid payment per application,
applications move by compare-and-swap, a return file is imported once per batch (by the
SHA-256 of its bytes), imports of one batch are serialised on the batch row, and the ledger
refuses to reuse a bank reference. Every service is one transaction with its audit events;
full account numbers exist in clear only in the bank file, never in logs or audit data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.scope import get_in_scope, scope_to_regions
from zhipei.accounts.services import require_role
from zhipei.audit import services as audit
from zhipei.catalog.uploads import clean_name
from zhipei.core import crypto
from zhipei.core.errors import (
    Conflict,
    InvalidInput,
    OnHold,
    StaleObject,
    TransitionNotAllowed,
)
from zhipei.core.money import yuan
from zhipei.regions.models import Region
from zhipei.subsidies import bankfiles, workflow
from zhipei.subsidies import services as ledger
from zhipei.subsidies.errors import BankDetailsMissing, ConflictDeclared, SelfReview
from zhipei.subsidies.facts import Facts
from zhipei.subsidies.models import (
    Application,
    ApplicationStatus,
    ApplicationStep,
    BatchStatus,
    DisbursementBatch,
    FundAccount,
    FundSource,
    LedgerPosting,
    Payment,
    PaymentStatus,
    PostingKind,
    Programme,
    ReturnFileImport,
)

S = ApplicationStatus
B = BatchStatus
P = PaymentStatus
FINANCE = frozenset({Role.FINANCE_OFFICER})


class EmptyBatch(Conflict):
    """Nothing could be placed in the batch; `left_out` says why for each application."""

    code = "empty_batch"

    def __init__(self, message: str, left_out: Sequence[LeftOut] = ()) -> None:
        self.left_out = list(left_out)
        super().__init__(message)


@dataclass(frozen=True)
class LeftOut:
    """An application asked for but not placed in the batch, and why."""

    application_id: int
    number: str
    reason: str


@dataclass
class BuiltBatch:
    batch: DisbursementBatch
    left_out: list[LeftOut] = field(default_factory=list)


@dataclass
class ImportOutcome:
    """What importing one return file did. `already_imported`: the same file was imported
    before and nothing changed now."""

    file_import: ReturnFileImport
    already_imported: bool
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    closed: bool = False


# --- Reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fund:
    """A fund a finance officer may pay from: a source at a region."""

    source: str
    region: Region

    @property
    def key(self) -> str:
        return f"{self.source}:{self.region.pk}"

    @property
    def label(self) -> str:
        return f"{FundSource(self.source).label} · {self.region.name} ({self.region.code})"


def funds_for(user: User) -> list[Fund]:
    """The funds open in the finance officer's regions."""
    accounts = scope_to_regions(
        FundAccount.objects.filter(kind=FundAccount.Kind.AVAILABLE), user, roles=FINANCE
    ).select_related("region")
    return [Fund(a.source, a.region) for a in accounts.order_by("region__code", "source")]


def busiest_fund(funds: Sequence[Fund]) -> Fund | None:
    """The fund with the most applications approved for payment (the first fund if none
    has any): what the new-batch page shows first."""
    if not funds:
        return None
    counts = {
        (row["fund_source"], row["fund_region"]): row["n"]
        for row in Application.objects.filter(
            status=S.FINANCE_APPROVED, fund_region__in=[f.region for f in funds]
        )
        .order_by()
        .values("fund_source", "fund_region")
        .annotate(n=models.Count("pk"))
    }
    return max(funds, key=lambda f: counts.get((f.source, f.region.pk), 0))


def batches_for(user: User) -> models.QuerySet[DisbursementBatch]:
    """Batches of the funds in the finance officer's regions, newest first."""
    return scope_to_regions(
        DisbursementBatch.objects.all(), user, region_field="fund_region", roles=FINANCE
    ).select_related("fund_region", "created_by")


def get_batch_for(user: User, pk: object) -> DisbursementBatch:
    """One batch in the finance officer's scope; Http404 otherwise."""
    return get_in_scope(
        DisbursementBatch.objects.select_related("fund_region", "created_by", "exported_by"),
        user,
        pk,
        region_field="fund_region",
        roles=FINANCE,
    )


def account_fingerprint(application: Application) -> str:
    """Changes whenever the payee enters their bank details (each entry is sealed afresh)."""
    return hashlib.sha256(bytes(application.account_ciphertext or b"")).hexdigest()


def candidate_applications(
    source: str,
    region: Region,
    *,
    kind: str = "",
    applicant_region: Region | None = None,
    approved_from: date | None = None,
    approved_to: date | None = None,
    min_fen: int | None = None,
    max_fen: int | None = None,
) -> list[Application]:
    """Applications of one fund waiting for a batch, oldest first: approved for payment, or
    failed at the bank and with bank details entered again since. Each carries `approved_at`
    (its finance approval). Filters: kind, the applicant's region subtree, the finance approval
    date and the amount (both ends inclusive)."""
    approved_at = Subquery(
        ApplicationStep.objects.filter(application=OuterRef("pk"), to_status=S.FINANCE_APPROVED)
        .order_by("-at")
        .values("at")[:1]
    )
    failed_fingerprint = Subquery(
        Payment.objects.filter(application=OuterRef("pk"), status=P.FAILED)
        .order_by("-pk")
        .values("account_fingerprint")[:1]
    )
    queryset = (
        Application.objects.filter(
            fund_source=source,
            fund_region=region,
            status__in=[S.FINANCE_APPROVED, S.PAYMENT_FAILED],
        )
        .annotate(approved_at=approved_at, failed_fingerprint=failed_fingerprint)
        .select_related("region", "fund_region", "person", "enterprise__organisation")
    )
    if kind:
        queryset = queryset.filter(kind=kind)
    if applicant_region is not None:
        queryset = queryset.filter(region__scope_prefix__startswith=applicant_region.scope_prefix)
    if approved_from is not None:
        queryset = queryset.filter(approved_at__date__gte=approved_from)
    if approved_to is not None:
        queryset = queryset.filter(approved_at__date__lte=approved_to)
    if min_fen is not None:
        queryset = queryset.filter(amount_fen__gte=min_fen)
    if max_fen is not None:
        queryset = queryset.filter(amount_fen__lte=max_fen)
    return [
        application
        for application in queryset.order_by("pk")
        if application.status == S.FINANCE_APPROVED
        or account_fingerprint(application) != application.failed_fingerprint
    ]


def payments_of(batch: DisbursementBatch) -> list[Payment]:
    return list(batch.payments.select_related("application", "settled_by_import").order_by("pk"))


@dataclass
class PaymentTimes:
    """Time from first submission to payment: per payment (None until paid) and for the
    batch's paid payments."""

    per_payment: dict[int, timedelta | None]
    median: timedelta | None
    mean: timedelta | None


def payment_times(payments: Sequence[Payment]) -> PaymentTimes:
    per_payment = {p.pk: workflow.time_to_payment(p.application) for p in payments}
    known = sorted(
        t for p in payments if (t := per_payment[p.pk]) is not None and p.status == P.PAID
    )
    if not known:
        return PaymentTimes(per_payment, None, None)
    middle = len(known) // 2
    median = known[middle] if len(known) % 2 else (known[middle - 1] + known[middle]) / 2
    return PaymentTimes(per_payment, median, sum(known, timedelta()) / len(known))


# --- Building a batch ------------------------------------------------------------------------


def _payment_ad(reference: str) -> bytes:
    # The payment reference (a field) is the associated data, as rotate_keys expects.
    return reference.encode()


def _new_payment(
    batch: DisbursementBatch, application: Application, serial: int, now: datetime
) -> Payment:
    reference = f"{batch.number}-{serial:05d}"
    digits = workflow.account_number(application)
    key_id, blob = crypto.encrypt(digits.encode(), associated_data=_payment_ad(reference))
    return Payment.objects.create(
        batch=batch,
        application=application,
        reference=reference,
        amount_fen=application.amount_fen,
        payee_name=application.payee_name,
        bank_name=application.bank_name,
        account_masked=application.account_masked,
        account_ciphertext=blob,
        account_key_id=key_id,
        account_fingerprint=account_fingerprint(application),
        created_at=now,
    )


def _place(
    batch: DisbursementBatch,
    application: Application,
    *,
    by: User,
    facts: Facts,
    serial: int,
    now: datetime,
) -> Payment | LeftOut:
    """Move one application into the batch and create its payment, inside a savepoint: a
    refusal or a lost race leaves nothing of it behind (except the evaluation that found a
    hold, which explains the refusal)."""
    try:
        with transaction.atomic():
            try:
                workflow.check_reviewer(application, by)
                placed = workflow.place_in_batch(application, by=by, facts=facts)
            except (OnHold, BankDetailsMissing, SelfReview, ConflictDeclared) as exc:
                return LeftOut(application.pk, application.number, str(exc.message))
            return _new_payment(batch, placed, serial, now)
    except (StaleObject, TransitionNotAllowed, IntegrityError):
        # Another batch (or officer) moved it first; the database keeps one live payment.
        return LeftOut(
            application.pk,
            application.number,
            _("Another batch took it first, or its status changed meanwhile."),
        )


@transaction.atomic(durable=True)
def build_batch(
    *,
    by: User,
    source: str,
    region: Region,
    application_ids: Sequence[int] | None = None,
    kind: str = "",
    applicant_region: Region | None = None,
    approved_from: date | None = None,
    approved_to: date | None = None,
    min_fen: int | None = None,
    max_fen: int | None = None,
) -> BuiltBatch:
    """A new batch of the fund (`source` at `region`) with every candidate application that
    matches the filters (and, when `application_ids` is given, only those). Applications on
    hold, without bank details, that the officer is party to or that another batch took
    meanwhile are left out and reported, not fatal; ids that are not candidates are reported
    too. Guarantees: each application is in at most one pending or paid payment; the batch's
    count and total are its payments'. Raises NotAllowed, NotInScope, InvalidInput (unknown
    source or kind), EmptyBatch (nothing could be placed: the batch is not created)."""
    if source not in FundSource.values:
        raise InvalidInput(_("Unknown fund source."), field="fund")
    if kind and kind not in Programme.values:
        raise InvalidInput(_("Unknown subsidy kind."), field="kind")
    require_role(by, Role.FINANCE_OFFICER, region=region)
    candidates = candidate_applications(
        source,
        region,
        kind=kind,
        applicant_region=applicant_region,
        approved_from=approved_from,
        approved_to=approved_to,
        min_fen=min_fen,
        max_fen=max_fen,
    )
    left_out: list[LeftOut] = []
    if application_ids is not None:
        wanted = {int(pk) for pk in application_ids}
        found = {a.pk for a in candidates}
        candidates = [a for a in candidates if a.pk in wanted]
        left_out.extend(
            LeftOut(
                pk,
                f"SQ{pk:08d}",
                _(
                    "It is not waiting for payment from this fund (paid, in another batch, or "
                    "outside the filters)."
                ),
            )
            for pk in sorted(wanted - found)
        )
    if not candidates:
        raise EmptyBatch(
            _(
                "No application of this fund is waiting for payment with these filters; "
                "the batch was not created."
            ),
            left_out,
        )
    now = timezone.now()
    batch = DisbursementBatch.objects.create(
        fund_source=source, fund_region=region, created_at=now, created_by=by
    )
    facts = Facts.load(candidates)
    payments: list[Payment] = []
    for application in candidates:
        outcome = _place(batch, application, by=by, facts=facts, serial=len(payments) + 1, now=now)
        if isinstance(outcome, Payment):
            payments.append(outcome)
        else:
            left_out.append(outcome)
    if not payments:
        raise EmptyBatch(
            _("No application could be placed in the batch; the batch was not created."),
            left_out,
        )
    total = sum(p.amount_fen for p in payments)
    DisbursementBatch.objects.filter(pk=batch.pk).update(
        payment_count=len(payments), total_fen=total
    )
    audit.record(
        "subsidies.batch.built",
        actor=by,
        obj=batch,
        region_code=region.code,
        data={
            "source": source,
            "count": len(payments),
            "total_fen": total,
            "payments": [p.reference for p in payments],
            "applications": [p.application_id for p in payments],
            "left_out": [{"application": o.application_id, "reason": o.reason} for o in left_out],
        },
    )
    batch.refresh_from_db()
    return BuiltBatch(batch, left_out)


# --- Exporting the bank file -----------------------------------------------------------------


def _account_of(payment: Payment) -> str:
    return crypto.decrypt(
        payment.account_key_id,
        bytes(payment.account_ciphertext),
        associated_data=_payment_ad(payment.reference),
    ).decode()


def _file_rows(batch: DisbursementBatch) -> list[list[str]]:
    lines = [
        bankfiles.PaymentLine(
            reference=p.reference,
            application=p.application.number,
            payee_name=p.payee_name,
            bank_name=p.bank_name,
            account_number=_account_of(p),
            amount_fen=p.amount_fen,
        )
        for p in payments_of(batch)
    ]
    return bankfiles.payment_file_rows(lines)


def export_filename(batch: DisbursementBatch, file_format: str) -> str:
    return f"{batch.number}-payments.{file_format}"


@transaction.atomic(durable=True)
def export_batch(
    batch: DisbursementBatch, *, by: User, file_format: str = bankfiles.CSV_FORMAT
) -> tuple[str, bytes]:
    """The bank payment file of the batch as (filename, bytes), CSV or Excel (see
    subsidies.bankfiles for the layout). The first export moves the batch from open to
    exported and stores the checksum of its content; every later export returns the same
    content (and, for Excel, the same bytes) and is refused if the payments no longer give
    that checksum. Each export is audited without the account numbers.
    Raises NotAllowed, NotInScope, InvalidInput (format), Conflict (cancelled batch or
    payments changed since the first export)."""
    if file_format not in bankfiles.FORMATS:
        raise InvalidInput(_("Choose CSV or Excel."), field="format")
    batch = DisbursementBatch.objects.select_related("fund_region").get(pk=batch.pk)
    require_role(by, Role.FINANCE_OFFICER, region=batch.fund_region)
    if batch.status == B.CANCELLED:
        raise Conflict(_("This batch was cancelled; it has no bank file."))
    rows = _file_rows(batch)
    digest = rows[-1][3]
    first = False
    if batch.status == B.OPEN:
        now = timezone.now()
        first = (
            DisbursementBatch.objects.filter(pk=batch.pk, status=B.OPEN).update(
                status=B.EXPORTED, exported_at=now, exported_by=by, file_sha256=digest
            )
            == 1
        )
        batch.refresh_from_db()
    if not first and digest != batch.file_sha256:
        raise Conflict(
            _(
                "The payments of this batch no longer give the file sent to the bank (its "
                "checksum differs). Do not send it; report this to the system administrator."
            )
        )
    assert batch.exported_at is not None
    if file_format == bankfiles.XLSX_FORMAT:
        content = bankfiles.to_xlsx(rows, sheet_title=batch.number, when=batch.exported_at)
    else:
        content = bankfiles.to_csv(rows)
    audit.record(
        "subsidies.batch.exported" if first else "subsidies.batch.file_downloaded",
        actor=by,
        obj=batch,
        region_code=batch.fund_region.code,
        data={
            "format": file_format,
            "count": batch.payment_count,
            "total_fen": batch.total_fen,
            "sha256": digest,
        },
    )
    return export_filename(batch, file_format), content


# --- Importing the bank's return file --------------------------------------------------------


def _paid_at(day: date | None, now: datetime) -> datetime:
    """The payment time: the import's, or — when the bank gives the day — the end of that
    day, never later than now (so the time to payment is never understated)."""
    if day is None:
        return now
    end = timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
    return min(end, now)


def _settled_label(payment: Payment) -> str:
    when = timezone.localtime(payment.settled_at).date().isoformat() if payment.settled_at else ""
    return when


def _check_result(
    line: bankfiles.ParsedLine,
    payment: Payment,
    used_by_payment: dict[str, str],
    used_in_ledger: dict[str, str],
    parsed: bankfiles.ParsedReturnFile,
) -> None:
    """A line must agree with a payment already settled, and a paid line must not reuse a
    bank reference that records another payment."""
    if line.result not in bankfiles.RESULTS:
        return
    if payment.status == P.PAID:
        if line.result != bankfiles.PAID or line.bank_reference != payment.bank_reference:
            parsed.error(
                line.line,
                "contradicts_settled",
                _(
                    "Payment %(reference)s was recorded as paid on %(day)s with bank "
                    "reference %(bank)s; this line says otherwise."
                )
                % {
                    "reference": payment.reference,
                    "day": _settled_label(payment),
                    "bank": payment.bank_reference,
                },
            )
    elif payment.status == P.FAILED:
        if line.result != bankfiles.FAILED:
            parsed.error(
                line.line,
                "contradicts_settled",
                _(
                    "Payment %(reference)s was recorded as failed on %(day)s; this line "
                    "says otherwise."
                )
                % {"reference": payment.reference, "day": _settled_label(payment)},
            )
    elif line.result == bankfiles.PAID:
        other = used_by_payment.get(line.bank_reference)
        posted_for = used_in_ledger.get(line.bank_reference)
        if (other is not None and other != payment.reference) or (
            posted_for is not None and posted_for != str(payment.application_id)
        ):
            parsed.error(
                line.line,
                "bank_reference_used",
                _("The bank reference %(bank)s already records another payment.")
                % {"bank": line.bank_reference},
            )


def _check_against_batch(
    batch: DisbursementBatch,
    parsed: bankfiles.ParsedReturnFile,
) -> list[tuple[bankfiles.ParsedLine, Payment]]:
    """Every check that needs the database, each failure added to `parsed.errors`; the
    lines paired with their payments."""
    references = {line.reference for line in parsed.lines if line.reference}
    payments = {
        p.reference: p
        for p in Payment.objects.filter(reference__in=references).select_related(
            "batch", "application"
        )
    }
    bank_refs = {
        line.bank_reference
        for line in parsed.lines
        if line.result == bankfiles.PAID and line.bank_reference
    }
    used_by_payment = dict(
        Payment.objects.filter(bank_reference__in=bank_refs).values_list(
            "bank_reference", "reference"
        )
    )
    used_in_ledger = dict(
        LedgerPosting.objects.filter(kind=PostingKind.PAYMENT, reference__in=bank_refs).values_list(
            "reference", "application_id"
        )
    )
    today = timezone.localdate()
    exported_on = timezone.localtime(batch.exported_at).date() if batch.exported_at else today
    plans: list[tuple[bankfiles.ParsedLine, Payment]] = []
    for line in parsed.lines:
        if not line.reference:
            continue
        payment = payments.get(line.reference)
        if payment is None:
            parsed.error(
                line.line,
                "unknown_reference",
                _("There is no payment %(reference)s.") % {"reference": line.reference},
            )
            continue
        if payment.batch_id != batch.pk:
            parsed.error(
                line.line,
                "other_batch",
                _("Payment %(reference)s belongs to batch %(other)s, not to this one.")
                % {"reference": line.reference, "other": payment.batch.number},
            )
            continue
        if line.amount_fen is not None and line.amount_fen != payment.amount_fen:
            parsed.error(
                line.line,
                "amount_mismatch",
                _(
                    "The amount %(amount)s differs from the %(sent)s sent for payment "
                    "%(reference)s: the line was changed."
                )
                % {
                    "amount": yuan(line.amount_fen),
                    "sent": yuan(payment.amount_fen),
                    "reference": line.reference,
                },
            )
        if line.paid_on is not None and not exported_on <= line.paid_on <= today:
            parsed.error(
                line.line,
                "bad_date",
                _(
                    "The payment date %(day)s is not between the day the file was sent "
                    "(%(sent)s) and today."
                )
                % {"day": line.paid_on.isoformat(), "sent": exported_on.isoformat()},
            )
        _check_result(line, payment, used_by_payment, used_in_ledger, parsed)
        plans.append((line, payment))
    return plans


def _settle(
    line: bankfiles.ParsedLine,
    payment: Payment,
    *,
    by: User,
    file_import: ReturnFileImport,
    now: datetime,
) -> None:
    application = payment.application
    if line.result == bankfiles.PAID:
        assert application.fund_region is not None
        ledger.pay_commitment(
            source=application.fund_source,
            region=application.fund_region,
            amount_fen=payment.amount_fen,
            application=ledger.application_ref(application),
            reference=line.bank_reference,
            by=by,
            memo=payment.reference,
        )
        workflow.record_paid(
            application,
            by=by,
            paid_at=_paid_at(line.paid_on, now),
            note=_("Paid by the bank (reference %(bank)s) in batch %(batch)s.")
            % {"bank": line.bank_reference, "batch": payment.batch.number},
        )
        changes: dict[str, Any] = {"status": P.PAID, "bank_reference": line.bank_reference}
    else:
        workflow.record_payment_failed(application, by=by, note=line.failure_reason)
        changes = {"status": P.FAILED, "failure_reason": line.failure_reason}
    changed = Payment.objects.filter(pk=payment.pk, status=P.PENDING).update(
        settled_at=now, settled_by_import=file_import, **changes
    )
    if changed != 1:  # pragma: no cover - the batch lock makes this unreachable
        raise StaleObject()


@transaction.atomic(durable=True)
def _apply_return_file(
    batch: DisbursementBatch, *, by: User, filename: str, data: bytes, sha256: str
) -> ImportOutcome:
    # Imports of one batch run one after another: the second sees the first's rows.
    # (SQLite: the IMMEDIATE transaction already holds the database write lock.)
    batch = (
        DisbursementBatch.objects.select_for_update().select_related("fund_region").get(pk=batch.pk)
    )
    require_role(by, Role.FINANCE_OFFICER, region=batch.fund_region)
    if batch.status not in (B.EXPORTED, B.CLOSED):
        raise Conflict(_("Export the batch to the bank before importing its return file."))
    existing = ReturnFileImport.objects.filter(batch=batch, sha256=sha256).first()
    if existing is not None:
        return ImportOutcome(existing, already_imported=True)
    parsed = bankfiles.parse_return_file(filename, data)
    plans = _check_against_batch(batch, parsed)
    if parsed.errors:
        raise bankfiles.ReturnFileRejected(parsed.errors)
    now = timezone.now()
    file_import = ReturnFileImport.objects.create(
        batch=batch,
        sha256=sha256,
        filename=clean_name(filename),
        file_format=parsed.file_format,
        imported_at=now,
        imported_by=by,
    )
    outcome = ImportOutcome(file_import, already_imported=False)
    for line, payment in plans:
        if payment.status != P.PENDING:
            outcome.unchanged += 1  # settled by an earlier file, and this line agrees
            continue
        _settle(line, payment, by=by, file_import=file_import, now=now)
        if line.result == bankfiles.PAID:
            outcome.paid += 1
        else:
            outcome.failed += 1
    if not batch.payments.filter(status=P.PENDING).exists():
        outcome.closed = (
            DisbursementBatch.objects.filter(pk=batch.pk, status=B.EXPORTED).update(
                status=B.CLOSED, closed_at=now
            )
            == 1
        )
    summary = {
        "lines": len(plans),
        "paid": outcome.paid,
        "failed": outcome.failed,
        "unchanged": outcome.unchanged,
        "closed": outcome.closed,
    }
    ReturnFileImport.objects.filter(pk=file_import.pk).update(summary=summary)
    file_import.refresh_from_db()
    audit.record(
        "subsidies.batch.return_file_imported",
        actor=by,
        obj=batch,
        region_code=batch.fund_region.code,
        data={"file": file_import.filename, "sha256": sha256, "format": parsed.file_format}
        | summary,
    )
    if outcome.closed:
        audit.record(
            "subsidies.batch.closed",
            actor=by,
            obj=batch,
            region_code=batch.fund_region.code,
            data={"count": batch.payment_count, "total_fen": batch.total_fen},
        )
    return outcome


@transaction.atomic(durable=True)
def _record_refusal(
    batch: DisbursementBatch, *, by: User, filename: str, sha256: str, exc: InvalidInput
) -> None:
    errors: list[bankfiles.LineError] = getattr(exc, "errors", [])
    audit.record(
        "subsidies.batch.return_file_refused",
        actor=by,
        obj=batch,
        region_code=batch.fund_region.code,
        data={
            "file": clean_name(filename),
            "sha256": sha256,
            "problems": [{"line": e.line, "problem": e.code} for e in errors[:200]]
            or [{"line": 0, "problem": exc.code}],
        },
    )


def import_return_file(
    batch: DisbursementBatch, *, by: User, filename: str, data: bytes
) -> ImportOutcome:
    """Apply the bank's return file (CSV or Excel; layout in subsidies.bankfiles) to the
    batch. Everything is checked first — columns, each line, duplicates, the checksum line,
    references unknown or of another batch, amounts differing from what was sent, lines
    contradicting payments already settled, bank references already used — and with any
    problem nothing is applied (ReturnFileRejected lists every problem with its line number;
    the refusal is audited). Then paid lines pay the commitment in the ledger under the bank's
    reference and mark the application paid; failed lines send it back for correction. Lines
    agreeing with payments already settled change nothing, and importing the same file again
    is a no-op. When no payment is left pending the batch is closed.
    Raises NotAllowed, NotInScope, Conflict (batch not exported), BankFileError,
    ReturnFileRejected."""
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        return _apply_return_file(batch, by=by, filename=filename, data=data, sha256=sha256)
    except (bankfiles.BankFileError, bankfiles.ReturnFileRejected) as exc:
        _record_refusal(batch, by=by, filename=filename, sha256=sha256, exc=exc)
        raise
