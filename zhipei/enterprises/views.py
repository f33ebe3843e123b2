"""Pages for enterprise administrators (declarations, roster, roster import) and labour
officers (declarations to confirm, rosters in scope). Thin: forms in, one query or service,
domain errors shown on the form; NotInScope is a 404 and NotAllowed a 403."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import Role, User
from zhipei.accounts.queries import signed_in_user
from zhipei.accounts.scope import has_role
from zhipei.core.errors import DomainError, NotAllowed, NotInScope
from zhipei.enterprises import imports, queries, services
from zhipei.enterprises.forms import (
    DecisionForm,
    DeclarationForm,
    EmploymentForm,
    EndEarlyForm,
    EndEmploymentForm,
    EvidenceForm,
    RosterUploadForm,
)
from zhipei.enterprises.models import RosterImport, ShutdownDeclaration
from zhipei.orgs.models import Enterprise

PAGE_SIZE = 25
# An ID number never travels in a URL (ARCHITECTURE invariant 2): searching for one is a POST,
# and a GET query that looks like one is ignored.
_ID_LIKE = re.compile(r"^\s*[0-9]{15,17}[0-9Xx]?\s*\Z")


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _raise_for_scope(exc: DomainError) -> None:
    if isinstance(exc, NotInScope):
        raise Http404 from exc
    if isinstance(exc, NotAllowed) and exc.field is None:
        raise PermissionDenied from exc


def _form_error(form: Any, exc: DomainError) -> None:
    _raise_for_scope(exc)
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, str(exc.message))


def _message_error(request: HttpRequest, exc: DomainError) -> None:
    _raise_for_scope(exc)
    messages.error(request, str(exc.message))


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _search_text(request: HttpRequest) -> tuple[str, str]:
    """The roster search text, and the form of it safe to put into page links."""
    if request.method == "POST":
        text = request.POST.get("q", "")[:40]
    else:
        text = request.GET.get("q", "")[:40]
        if _ID_LIKE.match(text):
            text = ""
    return text, ("" if _ID_LIKE.match(text) else text)


def _enterprise(request: HttpRequest) -> Enterprise:
    """The enterprise the signed-in administrator acts for (403 for anyone else)."""
    enterprise = queries.get_administered_enterprise(signed_in_user(request))
    if enterprise is None:
        raise PermissionDenied
    return enterprise


def _officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not has_role(user, Role.LABOUR_OFFICER):
        raise PermissionDenied
    return user


# --- Enterprise administrators: declarations ---------------------------------------------------


@never_cache
@login_required
def declaration_list(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise(request)
    page = _page(request, queries.declarations_of(enterprise))
    return render(
        request, "enterprises/declarations.html", {"enterprise": enterprise, "page": page}
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def declaration_create(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise(request)
    form = DeclarationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            declaration = services.create_declaration(
                enterprise, by=signed_in_user(request), **form.cleaned_data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Draft saved. Add the evidence, then submit."))
            return redirect("enterprises:declaration_detail", pk=declaration.pk)
    return render(
        request,
        "enterprises/declaration_form.html",
        {"enterprise": enterprise, "form": form},
        status=422 if form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def declaration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = _enterprise(request)
    declaration = queries.get_declaration_for_admin(enterprise, pk)
    if declaration.status not in services.EDITABLE:
        messages.error(request, _("This declaration can no longer be changed."))
        return redirect("enterprises:declaration_detail", pk=declaration.pk)
    if request.method == "POST":
        form = DeclarationForm(request.POST)
        if form.is_valid():
            try:
                services.update_declaration(
                    declaration, by=signed_in_user(request), **form.cleaned_data
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("Declaration saved."))
                return redirect("enterprises:declaration_detail", pk=declaration.pk)
    else:
        form = DeclarationForm(
            initial={
                "kind": declaration.kind,
                "starts_on": declaration.starts_on,
                "ends_on": declaration.ends_on,
                "cause": declaration.cause,
                "cause_detail": declaration.cause_detail,
                "affected_employee_count": declaration.affected_employee_count,
            }
        )
    return render(
        request,
        "enterprises/declaration_form.html",
        {"enterprise": enterprise, "form": form, "declaration": declaration},
        status=422 if form.errors else 200,
    )


def _declaration_page(
    request: HttpRequest, declaration: ShutdownDeclaration, *, officer: bool, **forms: Any
) -> HttpResponse:
    context = {
        "declaration": declaration,
        "evidence": queries.evidence_of(declaration),
        "officer": officer,
        "evidence_form": forms.get("evidence_form") or EvidenceForm(),
        "end_form": forms.get("end_form") or EndEarlyForm(),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "editable": declaration.status in services.EDITABLE,
    }
    status = 422 if any(f is not None and f.errors for f in forms.values()) else 200
    return render(request, "enterprises/declaration_detail.html", context, status=status)


@never_cache
@login_required
def declaration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    declaration = queries.get_declaration_for_admin(_enterprise(request), pk)
    return _declaration_page(request, declaration, officer=False)


@login_required
@require_POST
def declaration_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    declaration = queries.get_declaration_for_admin(_enterprise(request), pk)
    by = signed_in_user(request)
    try:
        if action == "submit":
            services.submit_declaration(declaration, by=by)
            messages.success(request, _("Declaration submitted to the labour bureau."))
        elif action == "withdraw":
            services.withdraw_declaration(declaration, by=by)
            messages.success(request, _("Declaration withdrawn."))
        elif action == "evidence":
            form = EvidenceForm(request.POST, request.FILES)
            if not form.is_valid():
                return _declaration_page(request, declaration, officer=False, evidence_form=form)
            try:
                services.add_evidence(
                    declaration,
                    form.cleaned_data["file"],
                    description=form.cleaned_data["description"],
                    by=by,
                )
            except DomainError as exc:
                _form_error(form, exc)
                return _declaration_page(request, declaration, officer=False, evidence_form=form)
            messages.success(request, _("Document added."))
        elif action == "remove_evidence":
            evidence = queries.get_evidence_of(declaration, request.POST.get("evidence", ""))
            services.remove_evidence(evidence, by=by)
            messages.success(request, _("Document removed."))
        elif action == "end":
            end_form = EndEarlyForm(request.POST)
            if not end_form.is_valid():
                return _declaration_page(request, declaration, officer=False, end_form=end_form)
            try:
                services.end_declaration_early(declaration, by=by, **end_form.cleaned_data)
            except DomainError as exc:
                _form_error(end_form, exc)
                return _declaration_page(request, declaration, officer=False, end_form=end_form)
            messages.success(request, _("The end of the shutdown is recorded."))
        else:
            raise Http404
    except DomainError as exc:
        _message_error(request, exc)
    return redirect("enterprises:declaration_detail", pk=declaration.pk)


@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    user = signed_in_user(request)
    enterprise = queries.get_administered_enterprise(user)
    if enterprise is not None and queries.declarations_of(enterprise).filter(pk=pk).exists():
        declaration = queries.get_declaration_for_admin(enterprise, pk)
    elif has_role(user, Role.LABOUR_OFFICER):
        declaration = queries.get_declaration_for_officer(user, pk)
    else:
        raise Http404
    evidence = queries.get_evidence_of(declaration, evidence_pk)
    return FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name,
        content_type=evidence.content_type,
    )


# --- Enterprise administrators: roster ---------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def roster(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise(request)
    text, q_link = _search_text(request)
    current = (request.POST if request.method == "POST" else request.GET).get("current") == "1"
    employments = queries.roster_of(
        enterprise, text=text, current_on=timezone.localdate() if current else None
    )
    context = {
        "enterprise": enterprise,
        "page": _page(request, employments),
        "q": text,
        "q_link": q_link,
        "current": current,
        "end_form": EndEmploymentForm(),
        "officer": False,
    }
    template = (
        "enterprises/_partials/roster_table.html"
        if _is_htmx(request)
        else "enterprises/roster.html"
    )
    return render(request, template, context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def employment_add(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise(request)
    form = EmploymentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_employment_by_id_number(
                enterprise, by=signed_in_user(request), **form.cleaned_data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Added to the roster."))
            return redirect("enterprises:roster")
    status = 422 if form.errors else 200
    return render(
        request,
        "enterprises/employment_form.html",
        {"enterprise": enterprise, "form": form},
        status=status,
    )


@login_required
@require_POST
def employment_end(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = _enterprise(request)
    employment = queries.get_employment_of(enterprise, pk)
    form = EndEmploymentForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("enterprises:roster")
    try:
        services.end_employment(employment, by=signed_in_user(request), **form.cleaned_data)
    except DomainError as exc:
        _message_error(request, exc)
    else:
        messages.success(request, _("The period on the roster is ended."))
    return redirect("enterprises:roster")


# --- Enterprise administrators: roster import --------------------------------------------------


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    _enterprise(request)
    response = HttpResponse(
        imports.build_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="roster-template.xlsx"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise(request)
    form = (
        RosterUploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else RosterUploadForm()
    )
    if request.method == "POST" and form.is_valid():
        try:
            roster_import = imports.start_roster_import(
                enterprise, form.cleaned_data["file"], by=signed_in_user(request)
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return redirect("enterprises:import_detail", pk=roster_import.pk)
    context = {
        "enterprise": enterprise,
        "form": form,
        "recent": queries.imports_of(enterprise)[:10],
    }
    return render(request, "enterprises/import.html", context, status=422 if form.errors else 200)


@never_cache
@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    roster_import = queries.get_import_of(_enterprise(request), pk)
    context: dict[str, Any] = {
        "roster_import": roster_import,
        "failure_row": imports.commit_failure_row(roster_import),
    }
    if _is_htmx(request) and request.GET.get("progress") == "1":
        if roster_import.is_running:
            return render(request, "enterprises/_partials/import_progress.html", context)
        # Finished: tell htmx to load the whole page (the preview or the result).
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if not roster_import.is_running:
        context["error_rows"] = _page(request, queries.import_rows(roster_import, good=False))
        context["good_rows"] = queries.import_rows(roster_import, good=True)[:200]
    return render(request, "enterprises/import_detail.html", context)


@login_required
@require_POST
def import_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    roster_import = queries.get_import_of(_enterprise(request), pk)
    by = signed_in_user(request)
    actions = {
        "commit": imports.commit_roster_import,
        "cancel": imports.cancel_roster_import,
        "resume": imports.resume_roster_import,
    }
    if action not in actions:
        raise Http404
    try:
        done: RosterImport = actions[action](roster_import, by=by)
    except DomainError as exc:
        _message_error(request, exc)
    else:
        if done.status == RosterImport.Status.CANCELLED:
            messages.info(request, _("Nothing was imported."))
    return redirect("enterprises:import_detail", pk=roster_import.pk)


# --- Labour officers ---------------------------------------------------------------------------


@never_cache
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    officer = _officer(request)
    status = request.GET.get("status", ShutdownDeclaration.Status.SUBMITTED)
    if status not in ShutdownDeclaration.Status.values or status == "draft":
        status = ""
    page = _page(request, queries.declarations_for_officer(officer, status=status))
    statuses = [c for c in ShutdownDeclaration.Status.choices if c[0] != "draft"]
    return render(
        request,
        "enterprises/review_queue.html",
        {"page": page, "status": status, "statuses": statuses},
    )


@never_cache
@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    declaration = queries.get_declaration_for_officer(_officer(request), pk)
    return _declaration_page(request, declaration, officer=True)


@login_required
@require_POST
def review_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    officer = _officer(request)
    declaration = queries.get_declaration_for_officer(officer, pk)
    decisions = {
        "confirm": services.confirm_declaration,
        "return": services.return_declaration,
        "reject": services.reject_declaration,
    }
    if action == "end":
        end_form = EndEarlyForm(request.POST)
        if end_form.is_valid():
            try:
                services.end_declaration_early(declaration, by=officer, **end_form.cleaned_data)
            except DomainError as exc:
                _form_error(end_form, exc)
        if end_form.errors:
            return _declaration_page(request, declaration, officer=True, end_form=end_form)
        messages.success(request, _("The end of the shutdown is recorded."))
        return redirect("enterprises:review_detail", pk=declaration.pk)
    if action not in decisions:
        raise Http404
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        decisions[action](declaration, by=officer, note=form.cleaned_data.get("note", ""))
    except DomainError as exc:
        _form_error(form, exc)
        return _declaration_page(request, declaration, officer=True, decision_form=form)
    messages.success(request, _("Decision recorded."))
    return redirect("enterprises:review_detail", pk=declaration.pk)


@never_cache
@login_required
def officer_enterprises(request: HttpRequest) -> HttpResponse:
    officer = _officer(request)
    text = request.GET.get("q", "")[:40].strip()
    enterprises = queries.enterprises_for_officer(officer)
    if text:
        enterprises = enterprises.filter(organisation__name__icontains=text)
    return render(
        request,
        "enterprises/officer_enterprises.html",
        {"page": _page(request, enterprises), "q": text},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def officer_roster(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = queries.get_enterprise_for_officer(_officer(request), pk)
    text, q_link = _search_text(request)
    context = {
        "enterprise": enterprise,
        "page": _page(request, queries.roster_of(enterprise, text=text)),
        "q": text,
        "q_link": q_link,
        "current": False,
        "officer": True,
    }
    template = (
        "enterprises/_partials/roster_table.html"
        if _is_htmx(request)
        else "enterprises/roster.html"
    )
    return render(request, template, context)
