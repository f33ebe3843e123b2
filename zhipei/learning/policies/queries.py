"""Reads for the crediting policy pages, region-scoped (accounts.scope): the versions that
apply in an officer's regions, the regions a labour officer may set policy for, and the
re-application runs of their regions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404

from zhipei.accounts.models import Role, User
from zhipei.accounts.scope import officer_prefixes, scope_to_regions
from zhipei.learning.crediting.rules import Params
from zhipei.learning.models import CreditingPolicy, RecreditRun
from zhipei.learning.queries import policy_in_force
from zhipei.regions.models import Region

LABOUR = frozenset({Role.LABOUR_OFFICER})


def _ancestor_prefixes(prefix: str) -> set[str]:
    # Scope prefixes nest by code: 42 (province) ⊃ 4201 (city) ⊃ 420102 (county).
    return {prefix[:length] for length in (2, 4, 6) if length <= len(prefix)}


def _regions_under(prefixes: list[str]) -> QuerySet[Region]:
    if not prefixes:
        return Region.objects.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(scope_prefix__startswith=prefix)
    return Region.objects.filter(condition, valid_to_year__isnull=True).order_by("code")


def regions_for_policy_officer(user: User) -> QuerySet[Region]:
    """Current regions a labour officer may set crediting policy for or re-apply it in."""
    return _regions_under(officer_prefixes(user, roles=LABOUR))


def can_set_policy(user: User) -> bool:
    return bool(officer_prefixes(user, roles=LABOUR))


def policies_for(user: User) -> QuerySet[CreditingPolicy]:
    """Crediting policy versions that apply in the officer's regions: those of the regions in
    their subtrees, of the regions above them, and the national ones. By region, newest
    first."""
    prefixes = officer_prefixes(user)
    if not prefixes:
        return CreditingPolicy.objects.none()
    above: set[str] = set()
    for prefix in prefixes:
        above |= _ancestor_prefixes(prefix)
    condition = Q(region__isnull=True) | Q(region__scope_prefix__in=sorted(above))
    for prefix in prefixes:
        condition |= Q(region__scope_prefix__startswith=prefix)
    return (
        CreditingPolicy.objects.filter(condition)
        .select_related("region")
        .order_by("region__code", "-effective_from", "-pk")
    )


@dataclass(frozen=True)
class InForce:
    region: Region
    params: Params
    policy: CreditingPolicy | None


def in_force_for(user: User, day: date) -> list[InForce]:
    """The parameters in force on `day` at the top of each of the officer's subtrees."""
    prefixes = officer_prefixes(user)
    regions = Region.objects.filter(scope_prefix__in=prefixes, valid_to_year__isnull=True)
    out: list[InForce] = []
    for region in regions.select_related("parent__parent").order_by("code"):
        params, policy = policy_in_force(region, day)
        out.append(InForce(region, params, policy))
    return out


def runs_for(user: User) -> QuerySet[RecreditRun]:
    """Re-application runs for regions in the officer's subtrees, newest first."""
    return scope_to_regions(
        RecreditRun.objects.select_related("region", "requested_by"), user
    ).order_by("-requested_at", "-pk")


def get_run_for(user: User, pk: int | str) -> RecreditRun:
    try:
        return runs_for(user).get(pk=pk)
    except (RecreditRun.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
