"""Reads over organisations. Officer-facing reads go through accounts.scope (region scope);
a system administrator sees every organisation."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from zhipei.accounts.models import OFFICER_ROLES, Role, RoleAssignment, User
from zhipei.accounts.scope import get_in_scope, officer_prefixes, scope_to_regions
from zhipei.orgs.models import (
    Capacity,
    Organisation,
    OrganisationHold,
    Platform,
    PlatformCredential,
)
from zhipei.regions.models import Region

# Labour and finance officers read organisations in their region subtree; only labour officers
# (and system administrators) change them (services.py checks that).
ORG_READ_ROLES = OFFICER_ROLES
ORG_WRITE_ROLES = frozenset({Role.LABOUR_OFFICER})
CAPACITY_RELATIONS = tuple(c.value for c in Capacity)


def active_roles(user: User) -> frozenset[str]:
    """The user's active roles (one query, cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_zhipei_orgs_roles", None)
    if cached is None:
        cached = frozenset(
            RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).values_list(
                "role", flat=True
            )
        )
        user._zhipei_orgs_roles = cached  # type: ignore[attr-defined]
    return cached


def is_system_admin(user: User) -> bool:
    return Role.SYSTEM_ADMIN in active_roles(user)


def can_view_organisations(user: User) -> bool:
    """Whether the user may open the organisation pages at all (scope is checked per object)."""
    return bool(active_roles(user) & (ORG_READ_ROLES | {Role.SYSTEM_ADMIN}))


def can_change_organisations(user: User) -> bool:
    """Whether the user holds a role that may change organisations somewhere."""
    return bool(active_roles(user) & (ORG_WRITE_ROLES | {Role.SYSTEM_ADMIN}))


def regions_for_registration(user: User) -> QuerySet[Region]:
    """Current regions the user may register organisations in, for the region picker."""
    regions = Region.objects.filter(valid_to_year__isnull=True).order_by("code")
    if is_system_admin(user):
        return regions
    condition = Q()
    prefixes = officer_prefixes(user, roles=ORG_WRITE_ROLES)
    if not prefixes:
        return regions.none()
    for prefix in prefixes:
        condition |= Q(scope_prefix__startswith=prefix)
    return regions.filter(condition)


def organisations_for(user: User) -> QuerySet[Organisation]:
    """Organisations the user may see: inside a labour officer's region subtree, or all for a
    system administrator; none for anyone else."""
    queryset = Organisation.objects.select_related("region", *CAPACITY_RELATIONS)
    if is_system_admin(user):
        return queryset
    return scope_to_regions(queryset, user, region_field="region", roles=ORG_READ_ROLES)


def search_organisations(
    user: User, *, text: str = "", capacity: str = ""
) -> QuerySet[Organisation]:
    """Organisations in scope whose name contains `text` or whose uscc starts with it,
    optionally only those with `capacity`, each annotated `on_hold`."""
    queryset = organisations_for(user)
    text = text.strip()
    if text:
        queryset = queryset.filter(Q(name__icontains=text) | Q(uscc__startswith=text.upper()))
    if capacity:
        if capacity not in CAPACITY_RELATIONS:
            return queryset.none()
        queryset = queryset.filter(**{f"{capacity}__isnull": False})
    active = OrganisationHold.objects.filter(organisation=OuterRef("pk"), lifted_at__isnull=True)
    return queryset.annotate(on_hold=Exists(active)).order_by("name", "pk")


def get_organisation_for(user: User, pk: int | str) -> Organisation:
    """One organisation inside the user's scope; Http404 outside it."""
    queryset = Organisation.objects.select_related("region", *CAPACITY_RELATIONS)
    if not is_system_admin(user):
        return get_in_scope(queryset, user, pk, region_field="region", roles=ORG_READ_ROLES)
    try:
        return queryset.get(pk=pk)
    except (Organisation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_hold_of(organisation: Organisation, pk: int | str) -> OrganisationHold:
    """A hold of an organisation already fetched in scope; Http404 if it belongs elsewhere."""
    try:
        return OrganisationHold.objects.get(organisation=organisation, pk=pk)
    except (OrganisationHold.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def get_credential_of(platform: Platform, pk: int | str) -> PlatformCredential:
    """A credential of a platform already fetched in scope; Http404 if it belongs elsewhere."""
    try:
        return PlatformCredential.objects.select_related("platform__organisation__region").get(
            platform=platform, pk=pk
        )
    except (PlatformCredential.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def has_active_hold(organisation: Organisation) -> bool:
    """Whether any hold on the organisation is still in force (approvals must refuse)."""
    return OrganisationHold.objects.filter(
        organisation=organisation, lifted_at__isnull=True
    ).exists()


def active_holds(organisation: Organisation) -> QuerySet[OrganisationHold]:
    return OrganisationHold.objects.filter(
        organisation=organisation, lifted_at__isnull=True
    ).select_related("placed_by")


def holds_of(organisation: Organisation) -> QuerySet[OrganisationHold]:
    """Every hold, active and lifted, newest first."""
    return OrganisationHold.objects.filter(organisation=organisation).select_related(
        "placed_by", "lifted_by"
    )


def credentials_of(platform: Platform) -> QuerySet[PlatformCredential]:
    """Every credential of the platform, active and revoked, newest first."""
    return PlatformCredential.objects.filter(platform=platform).select_related(
        "created_by", "revoked_by"
    )


def find_by_uscc(uscc: str) -> Organisation | None:
    """The organisation with this (normalised) credit code, unscoped: for commands."""
    from zhipei.orgs.uscc import normalise

    return (
        Organisation.objects.select_related("region", *CAPACITY_RELATIONS)
        .filter(uscc=normalise(uscc))
        .first()
    )
