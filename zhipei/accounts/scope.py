"""The one scoping function for officer queries (ARCHITECTURE invariant 3).

Every query an officer's page or service runs passes through `scope_to_regions`, which keeps
only rows whose region lies in the subtree of one of the officer's regions. Regions nest by
code prefix (regions.Region.scope_prefix), so the filter is an indexed `startswith` per
assignment. A user without an officer role sees nothing.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.http import Http404

from zhipei.accounts.models import OFFICER_ROLES, Role, RoleAssignment, User

M = TypeVar("M", bound=models.Model)

_CACHE_NAME = "_zhipei_scope_cache"


def officer_prefixes(user: User, *, roles: frozenset[str] = OFFICER_ROLES) -> list[str]:
    """Scope prefixes of the user's active officer assignments (cached on the user object)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cache: dict[frozenset[str], list[str]] = getattr(user, _CACHE_NAME, None) or {}
    if roles not in cache:
        prefixes = list(
            RoleAssignment.objects.filter(
                user=user, role__in=roles, revoked_at__isnull=True, region__isnull=False
            ).values_list("region__scope_prefix", flat=True)
        )
        # A prefix inside another adds nothing: keep the shortest ones.
        kept = sorted(set(prefixes), key=len)
        minimal: list[str] = []
        for prefix in kept:
            if not any(prefix.startswith(p) for p in minimal):
                minimal.append(prefix)
        cache[roles] = minimal
        setattr(user, _CACHE_NAME, cache)
    return cache[roles]


def forget_cached_scope(user: User) -> None:
    """Drop the prefixes cached on this user object (after its roles changed)."""
    if hasattr(user, _CACHE_NAME):
        delattr(user, _CACHE_NAME)


def scope_to_regions(
    queryset: models.QuerySet[M],
    user: User,
    *,
    region_field: str = "region",
    roles: frozenset[str] = OFFICER_ROLES,
) -> models.QuerySet[M]:
    """Rows of `queryset` whose `<region_field>` lies inside one of the user's officer regions.

    `region_field` is the path to a regions.Region foreign key (e.g. "organisation__region").
    """
    prefixes = officer_prefixes(user, roles=roles)
    if not prefixes:
        return queryset.none()
    condition = models.Q()
    for prefix in prefixes:
        condition |= models.Q(**{f"{region_field}__scope_prefix__startswith": prefix})
    return queryset.filter(condition)


def get_in_scope(
    queryset: models.QuerySet[M],
    user: User,
    pk: object,
    *,
    region_field: str = "region",
    roles: frozenset[str] = OFFICER_ROLES,
) -> M:
    """One object by pk inside the user's scope; Http404 outside it so existence doesn't leak."""
    try:
        return scope_to_regions(queryset, user, region_field=region_field, roles=roles).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def region_in_scope(
    user: User, region_code_prefix: str, *, roles: frozenset[str] = OFFICER_ROLES
) -> bool:
    """Whether a region (given by its scope prefix) lies inside the user's officer scope."""
    return any(region_code_prefix.startswith(p) for p in officer_prefixes(user, roles=roles))


def has_role(user: User, role: Role | str) -> bool:
    return user.is_authenticated and user.holds_role(role)
