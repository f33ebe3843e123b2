"""Reads over shutdown declarations and rosters.

`shutdown_on` and `on_roster` are what the subsidy rules ask; they are not scoped (the caller
already holds the enterprise). Pages go through the `*_for` functions: an enterprise
administrator sees their own enterprise's records, a labour or finance officer those of
enterprises in their region subtree (accounts.scope), anyone else nothing.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404

from zhipei.accounts.models import OFFICER_ROLES, Role, RoleAssignment, User
from zhipei.accounts.scope import get_in_scope, scope_to_regions
from zhipei.enterprises.models import (
    Employment,
    RosterImport,
    RosterImportRow,
    ShutdownDeclaration,
    ShutdownEvidence,
)
from zhipei.orgs.models import Enterprise
from zhipei.people.models import Person
from zhipei.people.queries import find_person_by_id_number

_REGION = "enterprise__organisation__region"
_LABOUR = frozenset({Role.LABOUR_OFFICER})


def shutdown_on(enterprise: Enterprise, on_date: date) -> ShutdownDeclaration | None:
    """The confirmed declaration whose period (first day to last day, the early end when there
    is one) covers `on_date`, or None. Submission refuses overlapping live declarations, so
    there is at most one; the earliest-starting is returned if data says otherwise."""
    return (
        ShutdownDeclaration.objects.annotate(last_day=Coalesce("ended_early_on", "ends_on"))
        .filter(
            enterprise=enterprise,
            status=ShutdownDeclaration.Status.CONFIRMED,
            starts_on__lte=on_date,
            last_day__gte=on_date,
        )
        .order_by("starts_on", "pk")
        .first()
    )


def on_roster(enterprise: Enterprise, person: Person, on_date: date) -> Employment | None:
    """The person's period on the enterprise's roster that covers `on_date` (start and end
    days included), or None."""
    return (
        Employment.objects.filter(enterprise=enterprise, person=person, start_on__lte=on_date)
        .filter(Q(end_on__isnull=True) | Q(end_on__gte=on_date))
        .order_by("start_on")
        .first()
    )


# --- Who sees what ----------------------------------------------------------------------------


def administered_enterprises(user: User) -> QuerySet[Enterprise]:
    """Enterprises the user administers (active enterprise_admin assignments)."""
    if not user.is_authenticated or not user.is_active:
        return Enterprise.objects.none()
    organisation_ids = RoleAssignment.objects.filter(
        user=user, role=Role.ENTERPRISE_ADMIN, revoked_at__isnull=True
    ).values("organisation_id")
    return (
        Enterprise.objects.filter(organisation_id__in=organisation_ids)
        .select_related("organisation__region")
        .order_by("organisation__name", "pk")
    )


def get_administered_enterprise(user: User, pk: int | str | None = None) -> Enterprise | None:
    """The enterprise the administrator acts for: the one with `pk` among theirs, or their
    first when none is named; None when they administer none (or not that one)."""
    enterprises = administered_enterprises(user)
    if pk is None:
        return enterprises.first()
    try:
        return enterprises.filter(pk=pk).first()
    except (ValueError, TypeError):
        return None


def enterprises_for_officer(user: User) -> QuerySet[Enterprise]:
    return scope_to_regions(
        Enterprise.objects.select_related("organisation__region"),
        user,
        region_field="organisation__region",
        roles=OFFICER_ROLES,
    ).order_by("organisation__name", "pk")


def get_enterprise_for_officer(user: User, pk: int | str) -> Enterprise:
    return get_in_scope(
        Enterprise.objects.select_related("organisation__region"),
        user,
        pk,
        region_field="organisation__region",
        roles=OFFICER_ROLES,
    )


def _declarations() -> QuerySet[ShutdownDeclaration]:
    return ShutdownDeclaration.objects.select_related(
        "enterprise__organisation__region", "created_by", "decided_by", "ended_by"
    )


def declarations_of(enterprise: Enterprise) -> QuerySet[ShutdownDeclaration]:
    return _declarations().filter(enterprise=enterprise)


def declarations_for_officer(user: User, *, status: str = "") -> QuerySet[ShutdownDeclaration]:
    """Declarations of enterprises in a labour officer's regions (never drafts: those are the
    enterprise's own business until submitted), oldest submission first."""
    queryset = scope_to_regions(
        _declarations().exclude(status=ShutdownDeclaration.Status.DRAFT),
        user,
        region_field=_REGION,
        roles=_LABOUR,
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("submitted_at", "pk")


def get_declaration_for_admin(enterprise: Enterprise, pk: int | str) -> ShutdownDeclaration:
    try:
        return declarations_of(enterprise).get(pk=pk)
    except (ShutdownDeclaration.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_declaration_for_officer(user: User, pk: int | str) -> ShutdownDeclaration:
    return get_in_scope(
        _declarations().exclude(status=ShutdownDeclaration.Status.DRAFT),
        user,
        pk,
        region_field=_REGION,
        roles=_LABOUR,
    )


def evidence_of(declaration: ShutdownDeclaration) -> QuerySet[ShutdownEvidence]:
    return ShutdownEvidence.objects.filter(declaration=declaration).select_related("uploaded_by")


def get_evidence_of(declaration: ShutdownDeclaration, pk: int | str) -> ShutdownEvidence:
    try:
        return evidence_of(declaration).get(pk=pk)
    except (ShutdownEvidence.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def roster_of(
    enterprise: Enterprise, *, text: str = "", current_on: date | None = None
) -> QuerySet[Employment]:
    """The enterprise's roster, newest start first. `text` matches the name, or a whole ID
    number (through the blind index, never a LIKE over clear numbers); with `current_on`, only
    periods covering that day."""
    queryset = Employment.objects.filter(enterprise=enterprise).select_related(
        "person", "added_by", "removed_by"
    )
    text = text.strip()
    if text:
        person = find_person_by_id_number(text) if len(text) == 18 else None
        if person is not None:
            queryset = queryset.filter(person=person)
        else:
            queryset = queryset.filter(person__name__icontains=text)
    if current_on is not None:
        queryset = queryset.filter(start_on__lte=current_on).filter(
            Q(end_on__isnull=True) | Q(end_on__gte=current_on)
        )
    return queryset.order_by("-start_on", "person__name", "pk")


def get_employment_of(enterprise: Enterprise, pk: int | str) -> Employment:
    try:
        return Employment.objects.select_related("person", "enterprise__organisation__region").get(
            enterprise=enterprise, pk=pk
        )
    except (Employment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def imports_of(enterprise: Enterprise) -> QuerySet[RosterImport]:
    return RosterImport.objects.filter(enterprise=enterprise).select_related("uploaded_by")


def get_import_of(enterprise: Enterprise, pk: int | str) -> RosterImport:
    try:
        return imports_of(enterprise).get(pk=pk)
    except (RosterImport.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def import_rows(
    roster_import: RosterImport, *, good: bool | None = None
) -> QuerySet[RosterImportRow]:
    queryset = RosterImportRow.objects.filter(roster_import=roster_import).defer("id_ciphertext")
    if good is not None:
        queryset = queryset.filter(is_good=good)
    return queryset.order_by("row_number")
