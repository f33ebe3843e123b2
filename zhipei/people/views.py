"""Officer pages for people: list and search, detail, create, holds, categories, reveal.

Only labour officers use these pages, and only inside their region subtree: every read goes
through zhipei.accounts.scope (404 outside scope, 403 without the role). The views parse forms
and call people.services / people.queries; they never write models.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import Role, User
from zhipei.accounts.queries import signed_in_user
from zhipei.accounts.scope import get_in_scope, officer_prefixes, scope_to_regions
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.text import ascii_digits
from zhipei.core.views import raise_for_scope_errors
from zhipei.people import queries, services
from zhipei.people.forms import (
    AddCategoryForm,
    IdNumberSearchForm,
    LiftHoldForm,
    PersonCreateForm,
    PersonSearchForm,
    PlaceHoldForm,
    RevealForm,
    looks_like_id_number,
)
from zhipei.people.models import Person, PersonHold
from zhipei.regions.models import Region

LABOUR_ROLES = frozenset({Role.LABOUR_OFFICER})
PAGE_SIZE = 25


def _labour_officer(request: HttpRequest) -> User:
    """The signed-in labour officer, or 403 for anyone without an active labour-officer role."""
    user = signed_in_user(request)
    if not officer_prefixes(user, roles=LABOUR_ROLES):
        raise PermissionDenied
    return user


def _regions_in_scope(user: User) -> QuerySet[Region]:
    """Current regions inside the officer's subtree, for the region pickers."""
    condition = Q()
    for prefix in officer_prefixes(user, roles=LABOUR_ROLES):
        condition |= Q(scope_prefix__startswith=prefix)
    return Region.objects.filter(condition, valid_to_year__isnull=True).order_by("code")


def _people_in_scope(user: User) -> QuerySet[Person]:
    return scope_to_regions(Person.objects.all(), user, roles=LABOUR_ROLES)


def _person_or_404(user: User, pk: int) -> Person:
    return get_in_scope(Person.objects.select_related("region"), user, pk, roles=LABOUR_ROLES)


# --- list and search -------------------------------------------------------------------------


def _render_list(
    request: HttpRequest,
    user: User,
    *,
    search_form: PersonSearchForm,
    id_form: IdNumberSearchForm,
    status: int = 200,
) -> HttpResponse:
    people = _people_in_scope(user).select_related("region")
    if search_form.is_valid():
        q = search_form.cleaned_data["q"]
        region: Region | None = search_form.cleaned_data["region"]
        if q:
            people = (
                people.filter(phone__startswith=q)
                if ascii_digits(q)
                else people.filter(name__icontains=q)
            )
        if region is not None:
            people = people.filter(region__scope_prefix__startswith=region.scope_prefix)
    else:
        people = people.none()
    people = people.annotate(
        on_hold=Exists(PersonHold.objects.filter(person=OuterRef("pk"), lifted_at__isnull=True))
    ).order_by("name", "pk")
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "page": page,
        "search_form": search_form,
        "id_form": id_form,
        "query_string": query.urlencode(),
    }
    template = "people/_partials/results.html" if request.htmx else "people/list.html"  # type: ignore[attr-defined]
    return render(request, template, context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_list(request: HttpRequest) -> HttpResponse:
    user = _labour_officer(request)
    regions = _regions_in_scope(user)
    if request.method == "POST":
        # ID-number search: POST so the number never appears in a URL; the lookup goes through
        # the blind index, and a person outside the officer's scope is "not found".
        id_form = IdNumberSearchForm(request.POST)
        search_form = PersonSearchForm(regions=regions)
        if id_form.is_valid():
            person = queries.find_person_by_id_number(id_form.cleaned_data["id_number"])
            if person is not None and _people_in_scope(user).filter(pk=person.pk).exists():
                return redirect("people:detail", pk=person.pk)
            messages.warning(request, _("No person with this ID number in your area."))
            return redirect("people:list")
        return _render_list(request, user, search_form=search_form, id_form=id_form)
    if looks_like_id_number(request.GET.get("q", "")):
        # An ID number typed into the name/phone box arrived in the URL: drop it at once (a
        # redirect clears it from the address bar) and say where to search for it.
        messages.error(
            request,
            _("Search ID numbers with the ID number search: it keeps them out of web addresses."),
        )
        kept = request.GET.copy()
        kept.pop("q", None)
        kept.pop("page", None)
        target = reverse("people:list")
        return redirect(f"{target}?{kept.urlencode()}" if kept else target)
    search_form = PersonSearchForm(request.GET, regions=regions)
    return _render_list(request, user, search_form=search_form, id_form=IdNumberSearchForm())


# --- detail and actions ----------------------------------------------------------------------


def _render_detail(
    request: HttpRequest,
    person: Person,
    *,
    revealed_id: str | None = None,
    reveal_form: RevealForm | None = None,
    hold_form: PlaceHoldForm | None = None,
    lift_forms: dict[int, LiftHoldForm] | None = None,
    category_form: AddCategoryForm | None = None,
    status: int = 200,
) -> HttpResponse:
    holds = list(PersonHold.objects.filter(person=person).select_related("placed_by", "lifted_by"))
    lift_forms = lift_forms or {}
    active = [
        (hold, lift_forms.get(hold.pk, LiftHoldForm())) for hold in holds if not hold.lifted_at
    ]
    context: dict[str, Any] = {
        "person": person,
        "categories": list(person.categories.all()),
        "active_holds": active,
        "lifted_holds": [hold for hold in holds if hold.lifted_at],
        "revealed_id": revealed_id,
        "reveal_form": reveal_form or RevealForm(),
        "hold_form": hold_form or PlaceHoldForm(),
        "category_form": category_form or AddCategoryForm(),
    }
    return render(request, "people/detail.html", context, status=status)


@never_cache
@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _labour_officer(request)
    return _render_detail(request, _person_or_404(user, pk))


@never_cache
@login_required
@require_POST
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Shows the full ID number once, on this response only; the service audits the view."""
    user = _labour_officer(request)
    person = _person_or_404(user, pk)
    form = RevealForm(request.POST)
    if form.is_valid():
        try:
            number = services.reveal_id_number(
                person, by=user, purpose=form.cleaned_data["purpose"]
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            return _render_detail(request, person, revealed_id=number)
    return _render_detail(request, person, reveal_form=form)


@login_required
@require_POST
def person_place_hold(request: HttpRequest, pk: int) -> HttpResponse:
    user = _labour_officer(request)
    person = _person_or_404(user, pk)
    form = PlaceHoldForm(request.POST)
    if form.is_valid():
        try:
            services.place_hold(person, reason=form.cleaned_data["reason"], by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The hold is placed."))
            return redirect("people:detail", pk=person.pk)
    return _render_detail(request, person, hold_form=form)


@login_required
@require_POST
def person_lift_hold(request: HttpRequest, pk: int, hold_pk: int) -> HttpResponse:
    user = _labour_officer(request)
    person = _person_or_404(user, pk)
    hold = get_object_or_404(PersonHold, pk=hold_pk, person=person, lifted_at__isnull=True)
    form = LiftHoldForm(request.POST)
    if form.is_valid():
        try:
            services.lift_hold(hold, reason=form.cleaned_data["reason"], by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The hold is lifted."))
            return redirect("people:detail", pk=person.pk)
    return _render_detail(request, person, lift_forms={hold.pk: form})


@login_required
@require_POST
def person_add_category(request: HttpRequest, pk: int) -> HttpResponse:
    user = _labour_officer(request)
    person = _person_or_404(user, pk)
    form = AddCategoryForm(request.POST)
    if form.is_valid():
        try:
            services.add_category(
                person,
                category=form.cleaned_data["category"],
                source=form.cleaned_data["source"],
                valid_from=form.cleaned_data["valid_from"],
                valid_to=form.cleaned_data["valid_to"],
                by=user,
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The category is recorded."))
            return redirect("people:detail", pk=person.pk)
    return _render_detail(request, person, category_form=form)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_create(request: HttpRequest) -> HttpResponse:
    user = _labour_officer(request)
    regions = _regions_in_scope(user)
    if request.method == "POST":
        form = PersonCreateForm(request.POST, regions=regions)
        if form.is_valid():
            try:
                person = services.create_person(
                    name=form.cleaned_data["name"],
                    id_number=form.cleaned_data["id_number"],
                    region=form.cleaned_data["region"],
                    phone=form.cleaned_data["phone"],
                    by=user,
                )
            except DomainError as exc:
                raise_for_scope_errors(exc)
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The person is registered."))
                return redirect("people:detail", pk=person.pk)
    else:
        form = PersonCreateForm(regions=regions)
    return render(request, "people/create.html", {"form": form})
