"""Officer pages: subsidy policies (labour officers at province or city level set them; every
officer reads those that apply in their regions) and funds (finance officers).

Views parse forms and call subsidies.services / subsidies.queries; they never write models.
NotInScope becomes 404 and NotAllowed 403, so existence never leaks across regions.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import User
from zhipei.accounts.queries import signed_in_user
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.views import raise_for_scope_errors
from zhipei.subsidies import queries, services
from zhipei.subsidies.display import resolved_rows, version_rows
from zhipei.subsidies.forms import (
    AllocateForm,
    PolicyVersionForm,
    ResolveForm,
    RetireForm,
)
from zhipei.subsidies.models import FundSource, Programme
from zhipei.subsidies.parameters import InvalidParameters

PAGE_SIZE = 50


def _policy_reader(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.can_read_policies(user):
        raise PermissionDenied
    return user


def _finance_officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.is_finance_officer(user):
        raise PermissionDenied
    return user


# --- Policies ------------------------------------------------------------------------------


@never_cache
@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    user = _policy_reader(request)
    programme = request.GET.get("programme", "")
    if programme not in Programme.values:
        programme = ""
    versions = queries.policies_for(user, programme=programme)
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "subsidies/policy_list.html",
        {
            "page": page,
            "programmes": Programme.choices,
            "programme": programme,
            "can_set_policy": queries.can_set_policy(user),
            "today": timezone.localdate(),
        },
    )


def _draft_digest(form: PolicyVersionForm) -> str:
    """Fingerprint of what was previewed, so Save stores exactly what the officer saw."""
    data = {name: form.cleaned_data.get(name) for name in sorted(form.fields)}
    region = data.get("region")
    data["region"] = region.pk if region is not None else None
    encoded = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _add_errors(form: PolicyVersionForm, errors: dict[str, list[str]]) -> None:
    for name, messages_ in errors.items():
        for message in messages_:
            form.add_error(name if name in form.fields else None, message)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request: HttpRequest, programme: str) -> HttpResponse:
    user = _policy_reader(request)
    if programme not in Programme.values:
        raise Http404
    if not queries.can_set_policy(user):
        raise PermissionDenied
    regions = queries.regions_for_policies(user)
    context: dict[str, Any] = {
        "programme": programme,
        "programme_label": Programme(programme).label,
    }
    if request.method != "POST":
        form = PolicyVersionForm(
            programme=programme, regions=regions, initial={"effective_from": timezone.localdate()}
        )
        return render(request, "subsidies/policy_form.html", context | {"form": form})

    form = PolicyVersionForm(request.POST, programme=programme, regions=regions)
    if form.is_valid():
        data = form.cleaned_data
        draft = services.VersionDraft(
            programme=programme,
            region=data["region"],
            effective_from=data["effective_from"],
            effective_to=data["effective_to"],
            parameters=form.parameters(),
        )
        digest = _draft_digest(form)
        try:
            if request.POST.get("action") == "save" and request.POST.get("previewed") == digest:
                version = services.create_policy_version(
                    draft,
                    document_number=data["document_number"],
                    document_url=data["document_url"],
                    is_example=data["is_example"],
                    evidence=data["evidence"],
                    note=data["note"],
                    by=user,
                )
                messages.success(request, _("The new policy version is saved."))
                return redirect("subsidies:policy_detail", pk=version.pk)
            preview = services.preview_policy_version(draft)
        except InvalidParameters as exc:
            _add_errors(form, exc.errors)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            context |= {"preview": preview, "preview_rows": resolved_rows(preview)}
            # Values that disagree with the levels above are errors on their fields, and
            # there is nothing to save until they are fixed.
            _add_errors(form, preview.problems)
            if not preview.problems:
                context["digest"] = digest
    return render(request, "subsidies/policy_form.html", context | {"form": form})


@never_cache
@login_required
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _policy_reader(request)
    version = queries.get_policy_version_for(user, pk)
    line = version.line
    today = timezone.localdate()
    resolved = queries.resolve_policy(line.programme, line.region, today)
    can_retire = True
    try:
        services.require_policy_officer(user, line.region)
    except DomainError:
        can_retire = False
    return render(
        request,
        "subsidies/policy_detail.html",
        {
            "version": version,
            "rows": version_rows(line.programme, version.parameters),
            "resolved_rows": resolved_rows(resolved),
            "resolved": resolved,
            "today": today,
            "can_retire": can_retire and version.withdrawn_at is None,
            "retire_form": RetireForm(initial={"last_day": today}),
        },
    )


@never_cache
@login_required
@require_POST
def policy_retire(request: HttpRequest, pk: int) -> HttpResponse:
    user = _policy_reader(request)
    version = queries.get_policy_version_for(user, pk)
    form = RetireForm(request.POST)
    if form.is_valid():
        try:
            services.retire_policy_version(
                version,
                last_day=form.cleaned_data["last_day"],
                by=user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The policy version is retired."))
            return redirect("subsidies:policy_detail", pk=version.pk)
    line = version.line
    resolved = queries.resolve_policy(line.programme, line.region, timezone.localdate())
    return render(
        request,
        "subsidies/policy_detail.html",
        {
            "version": version,
            "rows": version_rows(line.programme, version.parameters),
            "resolved_rows": resolved_rows(resolved),
            "resolved": resolved,
            "today": timezone.localdate(),
            "can_retire": True,
            "retire_form": form,
        },
        status=422,
    )


@never_cache
@login_required
def policy_resolved(request: HttpRequest, programme: str) -> HttpResponse:
    user = _policy_reader(request)
    if programme not in Programme.values:
        raise Http404
    regions = queries.regions_for_readers(user)
    form = ResolveForm(
        request.GET or None, regions=regions, initial={"on_date": timezone.localdate()}
    )
    context: dict[str, Any] = {
        "programme": programme,
        "programme_label": Programme(programme).label,
        "form": form,
    }
    if form.is_bound and form.is_valid():
        on_date: date = form.cleaned_data["on_date"]
        resolved = queries.resolve_policy(programme, form.cleaned_data["region"], on_date)
        context |= {"resolved": resolved, "rows": resolved_rows(resolved)}
    return render(request, "subsidies/policy_resolved.html", context)


# --- Funds ---------------------------------------------------------------------------------


@never_cache
@login_required
def fund_list(request: HttpRequest) -> HttpResponse:
    user = _finance_officer(request)
    return render(request, "subsidies/fund_list.html", {"funds": queries.fund_summaries_for(user)})


@never_cache
@login_required
def fund_detail(request: HttpRequest, source: str, region_pk: int) -> HttpResponse:
    user = _finance_officer(request)
    if source not in FundSource.values:
        raise Http404
    fund = queries.fund_summary_for(user, source, region_pk)
    page = Paginator(queries.postings_of_fund(source, fund.region), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "subsidies/fund_detail.html", {"fund": fund, "page": page})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def fund_allocate(request: HttpRequest) -> HttpResponse:
    user = _finance_officer(request)
    regions = queries.regions_for_funds(user)
    form = AllocateForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            posting = services.allocate_budget(
                source=data["source"],
                region=data["region"],
                amount_fen=data["amount"],
                reference=data["reference"],
                memo=data["memo"],
                by=user,
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The budget is allocated."))
            return redirect(
                "subsidies:fund_detail", source=posting.source, region_pk=posting.region_id
            )
    status = 422 if request.method == "POST" else 200
    return render(request, "subsidies/fund_allocate.html", {"form": form}, status=status)
