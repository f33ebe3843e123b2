"""Reads of the filing workflow: the filer's own filings, the officers' review queue (region
scoped by the review region, accounts.scope) and its notices, and a filing's fields for display."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from zhipei.accounts.models import ORGANISATION_ROLES, Role, RoleAssignment, User
from zhipei.accounts.scope import get_in_scope, scope_to_regions
from zhipei.catalog.filings.kinds import KINDS, FilingKind
from zhipei.catalog.models import Filing
from zhipei.orgs.models import Organisation

S = Filing.Status
REVIEWER_ROLES = frozenset({Role.LABOUR_OFFICER})


def _org_roles(user: User) -> list[tuple[str, int]]:
    """(role, organisation id) of the user's active organisation roles; cached on the user."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached: list[tuple[str, int]] | None = getattr(user, "_zhipei_filing_org_roles", None)
    if cached is None:
        cached = [
            (role, pk)
            for role, pk in RoleAssignment.objects.filter(
                user=user,
                role__in=ORGANISATION_ROLES,
                revoked_at__isnull=True,
                organisation__isnull=False,
            ).values_list("role", "organisation_id")
            if pk is not None
        ]
        user._zhipei_filing_org_roles = cached  # type: ignore[attr-defined]
    return cached


def _org_ids_of(user: User, roles: frozenset[str] = ORGANISATION_ROLES) -> set[int]:
    return {pk for role, pk in _org_roles(user) if role in roles}


def is_filer(user: User) -> bool:
    """Whether the user works for some organisation (and so may have filings)."""
    return bool(_org_ids_of(user))


def is_reviewer(user: User) -> bool:
    return (
        user.is_authenticated
        and RoleAssignment.objects.filter(
            user=user, role=Role.LABOUR_OFFICER, revoked_at__isnull=True
        ).exists()
    )


def filings_of(user: User) -> QuerySet[Filing]:
    """Filings of the organisations the user works for, newest first."""
    return (
        Filing.objects.filter(organisation_id__in=_org_ids_of(user))
        .select_related("organisation", "review_region")
        .order_by("-created_at", "-pk")
    )


def get_filing_of(user: User, pk: int | str) -> Filing:
    """One filing of the user's organisations; Http404 otherwise."""
    try:
        return filings_of(user).select_related("region").get(pk=pk)
    except (Filing.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _organisations(ids: set[int]) -> list[Organisation]:
    return list(
        Organisation.objects.filter(pk__in=ids).select_related(
            "enterprise", "platform", "training_institution", "evaluation_organisation"
        )
    )


def _may_file(kind: FilingKind, organisation: Organisation, roles: set[str]) -> bool:
    return bool(roles & kind.filer_roles) and bool(
        set(organisation.capacities()) & kind.filer_capacities
    )


def organisations_filing(user: User, kind: FilingKind) -> list[Organisation]:
    """The organisations the user may file `kind` for (role and capacity)."""
    organisations = _organisations(_org_ids_of(user, kind.filer_roles))
    return [
        o
        for o in organisations
        if _may_file(kind, o, {r for r, pk in _org_roles(user) if pk == o.pk})
    ]


def kinds_for(user: User) -> list[FilingKind]:
    """The kinds the user may file for at least one organisation (one query)."""
    roles = _org_roles(user)
    organisations = _organisations({pk for _role, pk in roles})
    return [
        kind
        for kind in KINDS.values()
        if any(_may_file(kind, o, {r for r, pk in roles if pk == o.pk}) for o in organisations)
    ]


def review_queue(
    user: User,
    *,
    kind: str = "",
    status: str = "",
    overdue: bool = False,
    now: datetime | None = None,
) -> QuerySet[Filing]:
    """Filings reviewed inside the officer's scope (never drafts), soonest deadline first."""
    now = now or timezone.now()
    queryset = scope_to_regions(
        Filing.objects.exclude(status=S.DRAFT),
        user,
        region_field="review_region",
        roles=REVIEWER_ROLES,
    )
    if kind:
        queryset = queryset.filter(kind=kind)
    if status:
        queryset = queryset.filter(status=status)
    if overdue:
        queryset = queryset.filter(status=S.SUBMITTED, due_at__lt=now)
    return queryset.select_related("organisation", "review_region").order_by(
        "due_at", "-submitted_at", "-pk"
    )


def notices_for(user: User) -> QuerySet[Filing]:
    """In-app reminders: submitted filings in scope the deadline job has reminded about."""
    return review_queue(user, status=S.SUBMITTED).filter(reminded_at__isnull=False)


def get_filing_for_review(user: User, pk: object) -> Filing:
    """One non-draft filing in the officer's scope; Http404 outside it."""
    return get_in_scope(
        Filing.objects.exclude(status=S.DRAFT).select_related(
            "organisation", "review_region", "region", "decided_by"
        ),
        user,
        pk,
        region_field="review_region",
        roles=REVIEWER_ROLES,
    )


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    value: str


def display_rows(filing: Filing) -> list[Row]:
    """The filing's fields in the kind's order, with labels and readable values."""
    kind = KINDS.get(filing.kind)
    if kind is None:
        return [Row(k, k, str(v)) for k, v in filing.data.items()]
    rows: list[Row] = []
    for name, field in kind.form_class.base_fields.items():
        value: Any = filing.data.get(name)
        if value in (None, "", []):
            text = ""
        elif isinstance(field, forms.ChoiceField):
            labels = {str(k): v for k, v in field.choices}  # type: ignore[misc,union-attr]
            text = str(labels.get(str(value), value))
        else:
            text = str(field.prepare_value(value))
        rows.append(Row(name, str(field.label), text))
    return rows


def is_overdue(filing: Filing, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return filing.status == S.SUBMITTED and filing.due_at is not None and filing.due_at < now
