"""Pages of the filing workflow.

Organisation staff: their filings, a new filing of a kind (the kind's form), the filing with
its attachments, edit, submit, withdraw. Labour officers: the review queue of their scope with
filters and reminders, a filing's detail and the decision. Views parse input and call
filings.services / filings.queries; NotAllowed becomes 403, NotInScope 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import User
from zhipei.accounts.queries import signed_in_user
from zhipei.catalog.filings import queries, services
from zhipei.catalog.filings.forms import (
    AttachForm,
    DecisionForm,
    OrganisationForm,
    QueueFilterForm,
    kind_form_for_edit,
    kind_form_with_errors,
)
from zhipei.catalog.filings.kinds import KINDS, FilingKind
from zhipei.catalog.models import Filing, Upload
from zhipei.core.errors import DomainError, NotAllowed, NotInScope
from zhipei.core.forms import add_domain_error

PAGE_SIZE = 25


def _filer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.is_filer(user):
        raise PermissionDenied
    return user


def _reviewer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.is_reviewer(user):
        raise PermissionDenied
    return user


def _raise_for_scope(exc: DomainError) -> None:
    if isinstance(exc, NotInScope):
        raise Http404 from exc
    if isinstance(exc, NotAllowed) and not isinstance(exc, services.OwnOrganisation):
        raise PermissionDenied from exc


def _kind(code: str) -> FilingKind:
    kind = KINDS.get(code)
    if kind is None:
        raise Http404
    return kind


def _posted_fields(request: HttpRequest, kind: FilingKind) -> dict[str, Any]:
    return {name: request.POST.get(name, "") for name in kind.form_class.base_fields}


# --- organisation staff ------------------------------------------------------------------------


@never_cache
@login_required
def my_filings(request: HttpRequest) -> HttpResponse:
    user = _filer(request)
    page = Paginator(queries.filings_of(user), PAGE_SIZE).get_page(request.GET.get("page"))
    _label_kinds(page.object_list)
    return render(
        request, "catalog/filings/mine.html", {"page": page, "kinds": queries.kinds_for(user)}
    )


def _label_kinds(filings: Any) -> None:
    for filing in filings:
        kind = KINDS.get(filing.kind)
        filing.kind_label = kind.label if kind is not None else filing.kind


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def new_filing(request: HttpRequest, kind: str) -> HttpResponse:
    user = _filer(request)
    filing_kind = _kind(kind)
    organisations = queries.organisations_filing(user, filing_kind)
    if not organisations:
        raise PermissionDenied
    if request.method == "POST":
        org_form = OrganisationForm(request.POST, organisations=organisations)
        data = _posted_fields(request, filing_kind)
        if org_form.is_valid():
            try:
                filing = services.create_filing(
                    org_form.cleaned_data["organisation"], kind=kind, data=data, by=user
                )
            except services.FilingDataInvalid as exc:
                form = kind_form_with_errors(filing_kind.form_class, data, exc.errors)
            except DomainError as exc:
                _raise_for_scope(exc)
                form = kind_form_with_errors(filing_kind.form_class, data, {})
                add_domain_error(org_form, exc)
            else:
                messages.success(
                    request, _("The draft is saved. Attach the documents, then submit.")
                )
                return redirect("filings:detail", pk=filing.pk)
        else:
            form = kind_form_with_errors(filing_kind.form_class, data, {})
    else:
        org_form = OrganisationForm(organisations=organisations)
        form = kind_form_for_edit(filing_kind.form_class, None)
    return render(
        request,
        "catalog/filings/edit.html",
        {
            "kind": filing_kind,
            "form": form,
            "org_form": org_form,
            "single_organisation": organisations[0] if len(organisations) == 1 else None,
            "filing": None,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def edit_filing(request: HttpRequest, pk: int) -> HttpResponse:
    user = _filer(request)
    filing = queries.get_filing_of(user, pk)
    filing_kind = _kind(filing.kind)
    if filing.status not in services.EDITABLE:
        messages.error(request, _("This filing can no longer be changed."))
        return redirect("filings:detail", pk=filing.pk)
    if request.method == "POST":
        data = _posted_fields(request, filing_kind)
        try:
            services.update_filing(filing, data=data, by=user)
        except services.FilingDataInvalid as exc:
            form = kind_form_with_errors(filing_kind.form_class, data, exc.errors)
        except DomainError as exc:
            _raise_for_scope(exc)
            messages.error(request, str(exc.message))
            return redirect("filings:detail", pk=filing.pk)
        else:
            messages.success(request, _("The filing is saved."))
            return redirect("filings:detail", pk=filing.pk)
    else:
        form = kind_form_for_edit(filing_kind.form_class, filing)
    return render(
        request,
        "catalog/filings/edit.html",
        {"kind": filing_kind, "form": form, "org_form": None, "filing": filing},
    )


def _render_detail(
    request: HttpRequest,
    filing: Filing,
    *,
    attach_form: AttachForm | None = None,
    submit_errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    editable = filing.status in services.EDITABLE
    missing = submit_errors
    if missing is None and editable:
        missing = services.check_complete(filing)
    labels = {row.name: row.label for row in queries.display_rows(filing)}
    labels["attachments"] = _("Attachments")
    kind = KINDS.get(filing.kind)
    context = {
        "filing": filing,
        "kind": kind,
        "required_labels": [
            Upload.Kind(k).label for k in (kind.required_attachments if kind else ())
        ],
        "rows": queries.display_rows(filing),
        "attachments": list(filing.attachments.all()),
        "editable": editable,
        "withdrawable": filing.status in services.ALLOWED
        and Filing.Status.WITHDRAWN in services.ALLOWED[filing.status],
        "attach_form": attach_form or AttachForm(),
        "missing": [(labels.get(name, name), msgs) for name, msgs in (missing or {}).items()],
        "overdue": queries.is_overdue(filing),
    }
    return render(request, "catalog/filings/detail.html", context, status=status)


@never_cache
@login_required
def filing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _filer(request)
    return _render_detail(request, queries.get_filing_of(user, pk))


@login_required
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    user = _filer(request)
    filing = queries.get_filing_of(user, pk)
    form = AttachForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_document(
                filing, form.cleaned_data["file"], kind=form.cleaned_data["kind"], by=user
            )
        except DomainError as exc:
            _raise_for_scope(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The document is attached."))
            return redirect("filings:detail", pk=filing.pk)
    return _render_detail(request, filing, attach_form=form, status=422)


@login_required
@require_POST
def remove_attachment(request: HttpRequest, pk: int, upload_pk: int) -> HttpResponse:
    user = _filer(request)
    filing = queries.get_filing_of(user, pk)
    upload = filing.attachments.filter(pk=upload_pk).first()
    if upload is None:
        raise Http404
    try:
        services.remove_document(upload, by=user)
    except DomainError as exc:
        _raise_for_scope(exc)
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The document is removed."))
    return redirect("filings:detail", pk=filing.pk)


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _filer(request)
    filing = queries.get_filing_of(user, pk)
    try:
        services.submit_filing(filing, by=user)
    except services.FilingDataInvalid as exc:
        return _render_detail(request, filing, submit_errors=exc.errors, status=422)
    except DomainError as exc:
        _raise_for_scope(exc)
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The filing is submitted for review."))
    return redirect("filings:detail", pk=filing.pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _filer(request)
    filing = queries.get_filing_of(user, pk)
    try:
        services.withdraw_filing(filing, by=user)
    except DomainError as exc:
        _raise_for_scope(exc)
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The filing is withdrawn."))
    return redirect("filings:detail", pk=filing.pk)


@never_cache
@login_required
def attachment_file(request: HttpRequest, pk: int, upload_pk: int) -> FileResponse:
    """A document of a filing, for its organisation's staff or an officer reviewing it."""
    user = signed_in_user(request)
    if queries.is_filer(user) and queries.filings_of(user).filter(pk=pk).exists():
        filing = queries.get_filing_of(user, pk)
    elif queries.is_reviewer(user):
        filing = queries.get_filing_for_review(user, pk)
    else:
        raise Http404
    upload = filing.attachments.filter(pk=upload_pk).first()
    if upload is None:
        raise Http404
    return FileResponse(
        upload.file.open("rb"),
        as_attachment=True,
        filename=upload.original_name,
        content_type=upload.content_type,
    )


# --- reviewing officers ------------------------------------------------------------------------


@never_cache
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _reviewer(request)
    form = QueueFilterForm(request.GET)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    filings = queries.review_queue(
        user,
        kind=filters.get("kind", ""),
        status=filters.get("status", ""),
        overdue=bool(filters.get("overdue")),
    )
    page = Paginator(filings, PAGE_SIZE).get_page(request.GET.get("page"))
    _label_kinds(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filter_form": form,
        "query_string": query.urlencode(),
        "notices": list(queries.notices_for(user)[:20]),
        "now": timezone.now(),
    }
    template = (
        "catalog/filings/_partials/queue_results.html"
        if getattr(request, "htmx", False)
        else "catalog/filings/queue.html"
    )
    return render(request, template, context)


def _render_review(
    request: HttpRequest, filing: Filing, *, form: DecisionForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "filing": filing,
        "kind": KINDS.get(filing.kind),
        "rows": queries.display_rows(filing),
        "attachments": list(filing.attachments.all()),
        "form": form or DecisionForm(),
        "can_decide": filing.status == Filing.Status.SUBMITTED,
        "overdue": queries.is_overdue(filing),
        "routed_up": KINDS[filing.kind].review_level != filing.review_region.level
        if filing.kind in KINDS
        else False,
    }
    return render(request, "catalog/filings/review.html", context, status=status)


@never_cache
@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reviewer(request)
    return _render_review(request, queries.get_filing_for_review(user, pk))


@login_required
@require_POST
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _reviewer(request)
    filing = queries.get_filing_for_review(user, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        decision, note = form.cleaned_data["decision"], form.cleaned_data["note"]
        action = {
            DecisionForm.APPROVE: services.approve_filing,
            DecisionForm.RETURN: services.return_filing,
            DecisionForm.REJECT: services.reject_filing,
        }[decision]
        try:
            action(filing, by=user, note=note)
        except DomainError as exc:
            _raise_for_scope(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("filings:review_detail", pk=filing.pk)
    filing.refresh_from_db()
    return _render_review(request, filing, form=form, status=422)
