"""Payment batch pages for finance officers: the list, a new batch from filtered candidates,
a batch with its payments and times to payment, the bank file downloads and the return-file
upload. Scoped to the officer's regions: batches of other regions are 404, people without the
finance role get 403. Views parse forms and call subsidies.disbursement; they never write."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import User
from zhipei.accounts.queries import signed_in_user
from zhipei.catalog.uploads import max_upload_bytes
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.money import yuan
from zhipei.core.text import ascii_digits
from zhipei.core.views import raise_for_scope_errors
from zhipei.subsidies import bankfiles, disbursement, queries
from zhipei.subsidies.forms_batches import BatchFilterForm, BuildBatchForm, ReturnFileForm
from zhipei.subsidies.models import Application, DisbursementBatch, Payment, PaymentStatus

PAGE_SIZE = 50
MAX_CANDIDATES_SHOWN = 500


def _finance_officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.is_finance_officer(user):
        raise PermissionDenied
    return user


def duration_text(value: timedelta | None) -> str:
    """A time to payment in days and hours (hours and minutes under a day; "" when not paid
    yet)."""
    if value is None:
        return ""
    minutes = max(int(value.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


# --- List -------------------------------------------------------------------------------------


@never_cache
@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    user = _finance_officer(request)
    page = Paginator(disbursement.batches_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "subsidies/batches/batch_list.html", {"page": page})


# --- New batch --------------------------------------------------------------------------------


def _candidates(form: BatchFilterForm) -> list[Application]:
    fund = form.selected_fund
    return disbursement.candidate_applications(fund.source, fund.region, **form.filters())


def _new_page(
    request: HttpRequest,
    filter_form: BatchFilterForm,
    *,
    build_form: BuildBatchForm | None = None,
    left_out: list[disbursement.LeftOut] | None = None,
    status: int = 200,
) -> HttpResponse:
    candidates: list[Application] = []
    if filter_form.is_valid():
        candidates = _candidates(filter_form)
    shown = candidates[:MAX_CANDIDATES_SHOWN]
    ticked: set[int] | None = None
    if build_form is not None:
        ticked = {int(v) for v in request.POST.getlist("applications") if ascii_digits(v)}
    hidden = [
        (name, filter_form.data.get(name, ""))
        for name in BatchFilterForm.FILTERS
        if filter_form.is_bound
    ]
    context: dict[str, Any] = {
        "form": filter_form,
        "build_form": build_form,
        "has_funds": bool(filter_form.funds),
        "candidates": [(a, ticked is None or a.pk in ticked) for a in shown],
        "candidate_count": len(candidates),
        "candidate_total_fen": sum(a.amount_fen for a in candidates),
        "shown_count": len(shown),
        "more_than_shown": len(candidates) > len(shown),
        "hidden_filters": hidden,
        "left_out": left_out or [],
    }
    return render(request, "subsidies/batches/batch_new.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest) -> HttpResponse:
    user = _finance_officer(request)
    funds = disbursement.funds_for(user)
    regions = queries.regions_for_funds(user)
    if request.method == "GET":
        data: Mapping[str, Any] | None = request.GET if "fund" in request.GET else None
        default = disbursement.busiest_fund(funds)
        if data is None and default is not None:
            data = {"fund": default.key}
        form = BatchFilterForm(data, funds=funds, regions=regions)
        return _new_page(request, form)

    build_form = BuildBatchForm(request.POST, funds=funds, regions=regions)
    filter_form = BatchFilterForm(request.POST, funds=funds, regions=regions)
    if not build_form.is_valid():
        return _new_page(request, filter_form, build_form=build_form, status=422)
    fund = build_form.selected_fund
    try:
        built = disbursement.build_batch(
            by=user,
            source=fund.source,
            region=fund.region,
            application_ids=build_form.cleaned_data["applications"],
            **build_form.filters(),
        )
    except disbursement.EmptyBatch as exc:
        add_domain_error(build_form, exc)
        return _new_page(
            request, filter_form, build_form=build_form, left_out=exc.left_out, status=422
        )
    except DomainError as exc:
        raise_for_scope_errors(exc)
        add_domain_error(build_form, exc)
        return _new_page(request, filter_form, build_form=build_form, status=422)
    batch = built.batch
    messages.success(
        request,
        ngettext(
            "Batch %(number)s holds %(count)s payment, %(total)s.",
            "Batch %(number)s holds %(count)s payments, %(total)s in all.",
            batch.payment_count,
        )
        % {"number": batch.number, "count": batch.payment_count, "total": yuan(batch.total_fen)},
    )
    for item in built.left_out:
        messages.warning(
            request,
            _("%(number)s was left out: %(reason)s")
            % {"number": item.number, "reason": item.reason},
        )
    return redirect("subsidies:batch_detail", pk=batch.pk)


# --- One batch --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    time_to_payment: str


def _detail_page(
    request: HttpRequest,
    batch: DisbursementBatch,
    *,
    upload_form: ReturnFileForm | None = None,
    line_errors: list[bankfiles.LineError] | None = None,
    status: int = 200,
) -> HttpResponse:
    payments = disbursement.payments_of(batch)
    times = disbursement.payment_times(payments)
    counts = dict.fromkeys(PaymentStatus.values, 0)
    for payment in payments:
        counts[payment.status] += 1
    context = {
        "batch": batch,
        "fund": disbursement.Fund(batch.fund_source, batch.fund_region),
        "rows": [PaymentRow(p, duration_text(times.per_payment[p.pk])) for p in payments],
        "median": duration_text(times.median),
        "mean": duration_text(times.mean),
        "counts": counts,
        "paid_fen": sum(p.amount_fen for p in payments if p.status == PaymentStatus.PAID),
        "upload_form": upload_form or ReturnFileForm(),
        "line_errors": line_errors or [],
        "return_files": list(batch.return_files.select_related("imported_by")),
        "can_import": batch.status in ("exported", "closed"),
        "can_export": batch.status != "cancelled",
        "return_columns": bankfiles.RETURN_COLUMNS,
    }
    return render(request, "subsidies/batches/batch_detail.html", context, status=status)


@never_cache
@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _finance_officer(request)
    return _detail_page(request, disbursement.get_batch_for(user, pk))


@never_cache
@login_required
@require_POST
def batch_export(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    user = _finance_officer(request)
    batch = disbursement.get_batch_for(user, pk)
    if file_format not in bankfiles.FORMATS:
        raise Http404
    try:
        filename, content = disbursement.export_batch(batch, by=user, file_format=file_format)
    except DomainError as exc:
        raise_for_scope_errors(exc)
        messages.error(request, str(exc.message))
        return redirect("subsidies:batch_detail", pk=batch.pk)
    response = HttpResponse(content, content_type=bankfiles.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _read_upload(file: UploadedFile) -> bytes | None:
    """The upload's bytes, or None when it is larger than the upload limit."""
    limit = max_upload_bytes()
    if file.size is not None and file.size > limit:
        return None
    content = b"".join(file.chunks())
    return content if len(content) <= limit else None


@never_cache
@login_required
@require_POST
def batch_import(request: HttpRequest, pk: int) -> HttpResponse:
    user = _finance_officer(request)
    batch = disbursement.get_batch_for(user, pk)
    form = ReturnFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail_page(request, batch, upload_form=form, status=422)
    upload: UploadedFile = form.cleaned_data["file"]
    content = _read_upload(upload)
    if content is None:
        form.add_error("file", _("The file is larger than the upload limit."))
        return _detail_page(request, batch, upload_form=form, status=422)
    try:
        outcome = disbursement.import_return_file(
            batch, by=user, filename=upload.name or "", data=content
        )
    except bankfiles.ReturnFileRejected as exc:
        add_domain_error(form, exc)
        return _detail_page(request, batch, upload_form=form, line_errors=exc.errors, status=422)
    except DomainError as exc:
        raise_for_scope_errors(exc)
        add_domain_error(form, exc)
        return _detail_page(request, batch, upload_form=form, status=422)
    if outcome.already_imported:
        messages.info(
            request,
            _("This return file was imported already on %(day)s; nothing changed.")
            % {"day": timezone.localtime(outcome.file_import.imported_at).date().isoformat()},
        )
    else:
        text = ngettext(
            "%(count)s payment recorded as paid",
            "%(count)s payments recorded as paid",
            outcome.paid,
        ) % {"count": outcome.paid}
        text += "; " + ngettext("%(count)s failed", "%(count)s failed", outcome.failed) % {
            "count": outcome.failed
        }
        text += "; " + ngettext(
            "%(count)s already recorded", "%(count)s already recorded", outcome.unchanged
        ) % {"count": outcome.unchanged}
        if outcome.closed:
            text += "; " + _("the batch is closed")
        messages.success(request, text + ".")
    return redirect("subsidies:batch_detail", pk=batch.pk)
