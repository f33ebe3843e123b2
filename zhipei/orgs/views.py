"""Officer pages for organisations: list and search, detail, registration, capacities, holds
and platform API credentials.

Labour and finance officers read inside their region subtree (404 outside it); labour officers
and system administrators act (the services check that: NotAllowed becomes 403, NotInScope
404). Anyone else signed in gets 403. The views parse forms and call orgs.services /
orgs.queries; they never write models.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import User
from zhipei.accounts.queries import signed_in_user
from zhipei.core.errors import DomainError, StaleObject
from zhipei.core.forms import add_domain_error
from zhipei.core.views import raise_for_scope_errors
from zhipei.orgs import queries, services
from zhipei.orgs.forms import (
    AddCapacityForm,
    IssueCredentialForm,
    OrganisationSearchForm,
    ReasonForm,
    RegisterOrganisationForm,
)
from zhipei.orgs.models import Capacity, Organisation, Platform, PlatformCredential
from zhipei.orgs.uscc import CHECK_MESSAGES

PAGE_SIZE = 25


def _viewer(request: HttpRequest) -> User:
    """The signed-in officer, or 403 for anyone whose roles never see organisations."""
    user = signed_in_user(request)
    if not queries.can_view_organisations(user):
        raise PermissionDenied
    return user


def _platform_of(organisation: Organisation) -> Platform:
    try:
        return organisation.platform
    except Platform.DoesNotExist:
        raise Http404 from None


# --- list and search -------------------------------------------------------------------------


@never_cache
@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    form = OrganisationSearchForm(request.GET)
    if form.is_valid():
        organisations = queries.search_organisations(
            user, text=form.cleaned_data["q"], capacity=form.cleaned_data["capacity"]
        )
    else:
        organisations = queries.search_organisations(user).none()
    page = Paginator(organisations, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "page": page,
        "search_form": form,
        "query_string": query.urlencode(),
        "can_change": queries.can_change_organisations(user),
    }
    template = "orgs/_partials/results.html" if request.htmx else "orgs/list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


# --- registration ----------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def organisation_register(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    if not queries.can_change_organisations(user):
        raise PermissionDenied
    regions = queries.regions_for_registration(user)
    failed_checks: list[str] = []
    if request.method == "POST":
        form = RegisterOrganisationForm(request.POST, regions=regions)
        if form.is_valid():
            data = form.cleaned_data
            try:
                organisation = services.register_organisation(
                    uscc=data["uscc"],
                    name=data["name"],
                    region=data["region"],
                    capacities=set(data["capacities"]),
                    by=user,
                    override_reason=data["override_reason"],
                    address=data["address"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    website=data["website"],
                )
            except services.UsccWarning as exc:
                failed_checks = exc.failed_checks
                add_domain_error(form, exc)
            except DomainError as exc:
                raise_for_scope_errors(exc)
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The organisation is registered."))
                return redirect("orgs:detail", pk=organisation.pk)
    else:
        form = RegisterOrganisationForm(regions=regions)
    context = {
        "form": form,
        "failed_checks": [CHECK_MESSAGES[c] for c in failed_checks],
        "show_override": bool(failed_checks) or bool(form.data.get("override_reason")),
    }
    return render(request, "orgs/register.html", context)


# --- detail and actions ----------------------------------------------------------------------


def _render_detail(
    request: HttpRequest,
    user: User,
    organisation: Organisation,
    *,
    capacity_form: AddCapacityForm | None = None,
    hold_form: ReasonForm | None = None,
    lift_forms: dict[int, ReasonForm] | None = None,
    issue_form: IssueCredentialForm | None = None,
    revoke_forms: dict[int, ReasonForm] | None = None,
    new_secret: tuple[PlatformCredential, str] | None = None,
) -> HttpResponse:
    held = organisation.capacities()
    missing = [c for c in Capacity.values if c not in held]
    holds = list(queries.holds_of(organisation))
    lift_forms = lift_forms or {}
    revoke_forms = revoke_forms or {}
    credentials: list[tuple[PlatformCredential, ReasonForm | None]] = []
    if Capacity.PLATFORM in held:
        credentials = [
            (
                credential,
                revoke_forms.get(credential.pk, ReasonForm()) if credential.is_active else None,
            )
            for credential in queries.credentials_of(organisation.platform)
        ]
    context: dict[str, Any] = {
        "organisation": organisation,
        "capacities": [Capacity(c) for c in held],
        "is_platform": Capacity.PLATFORM in held,
        "can_change": queries.can_change_organisations(user),
        "missing_capacities": missing,
        "capacity_form": capacity_form or AddCapacityForm(missing=missing),
        "active_holds": [
            (hold, lift_forms.get(hold.pk, ReasonForm())) for hold in holds if not hold.lifted_at
        ],
        "lifted_holds": [hold for hold in holds if hold.lifted_at],
        "hold_form": hold_form or ReasonForm(),
        "credentials": credentials,
        "issue_form": issue_form or IssueCredentialForm(),
        "new_credential": new_secret[0] if new_secret else None,
        "new_secret": new_secret[1] if new_secret else None,
    }
    return render(request, "orgs/detail.html", context)


@never_cache
@login_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    return _render_detail(request, user, queries.get_organisation_for(user, pk))


@login_required
@require_POST
def organisation_add_capacity(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    organisation = queries.get_organisation_for(user, pk)
    missing = [c for c in Capacity.values if c not in organisation.capacities()]
    form = AddCapacityForm(request.POST, missing=missing)
    if form.is_valid():
        try:
            services.add_capacity(
                organisation,
                capacity=form.cleaned_data["capacity"],
                website=form.cleaned_data["website"],
                by=user,
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The capacity is added."))
            return redirect("orgs:detail", pk=organisation.pk)
    return _render_detail(request, user, organisation, capacity_form=form)


@login_required
@require_POST
def organisation_place_hold(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    organisation = queries.get_organisation_for(user, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.place_hold(organisation, reason=form.cleaned_data["reason"], by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The hold is placed."))
            return redirect("orgs:detail", pk=organisation.pk)
    return _render_detail(request, user, organisation, hold_form=form)


@login_required
@require_POST
def organisation_lift_hold(request: HttpRequest, pk: int, hold_pk: int) -> HttpResponse:
    user = _viewer(request)
    organisation = queries.get_organisation_for(user, pk)
    hold = queries.get_hold_of(organisation, hold_pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.lift_hold(hold, reason=form.cleaned_data["reason"], by=user)
        except StaleObject as exc:
            # Lifted meanwhile: its form is gone from the page, so say it at the top.
            messages.error(request, str(exc.message))
            return redirect("orgs:detail", pk=organisation.pk)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The hold is lifted."))
            return redirect("orgs:detail", pk=organisation.pk)
    return _render_detail(request, user, organisation, lift_forms={hold.pk: form})


@never_cache
@login_required
@require_POST
def credential_issue(request: HttpRequest, pk: int) -> HttpResponse:
    """Issues a credential and shows its secret on this response only (never cached)."""
    user = _viewer(request)
    organisation = queries.get_organisation_for(user, pk)
    platform = _platform_of(organisation)
    form = IssueCredentialForm(request.POST)
    if form.is_valid():
        try:
            credential, secret = services.issue_credential(
                platform, by=user, label=form.cleaned_data["label"]
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            return _render_detail(request, user, organisation, new_secret=(credential, secret))
    return _render_detail(request, user, organisation, issue_form=form)


@never_cache
@login_required
@require_POST
def credential_rotate(request: HttpRequest, pk: int, credential_pk: int) -> HttpResponse:
    user = _viewer(request)
    organisation = queries.get_organisation_for(user, pk)
    credential = queries.get_credential_of(_platform_of(organisation), credential_pk)
    try:
        new, secret = services.rotate_credential(credential, by=user)
    except DomainError as exc:
        raise_for_scope_errors(exc)
        messages.error(request, str(exc.message))
        return redirect("orgs:detail", pk=organisation.pk)
    return _render_detail(request, user, organisation, new_secret=(new, secret))


@login_required
@require_POST
def credential_revoke(request: HttpRequest, pk: int, credential_pk: int) -> HttpResponse:
    user = _viewer(request)
    organisation = queries.get_organisation_for(user, pk)
    credential = queries.get_credential_of(_platform_of(organisation), credential_pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.revoke_credential(credential, by=user, reason=form.cleaned_data["reason"])
        except StaleObject as exc:
            messages.error(request, str(exc.message))
            return redirect("orgs:detail", pk=organisation.pk)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The credential is revoked."))
            return redirect("orgs:detail", pk=organisation.pk)
    return _render_detail(request, user, organisation, revoke_forms={credential.pk: form})
