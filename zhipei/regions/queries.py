"""Reads over the region tree."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from zhipei.regions.models import Region


def is_known_code(code: str) -> bool:
    """Whether `code` was ever a GB/T 2260 code (current or retired)."""
    return Region.objects.filter(code=code).exists()


def was_in_use(code: str, year: int) -> bool:
    """Whether `code` was in use in `year` (start inclusive, end exclusive). Years before 1981,
    where the history starts, are checked as 1981."""
    year = max(year, 1981)
    return Region.objects.filter(
        Q(valid_to_year__isnull=True) | Q(valid_to_year__gt=year),
        code=code,
        valid_from_year__lte=year,
    ).exists()


def current(code: str) -> Region | None:
    """The current region with this code, or None."""
    return Region.objects.filter(code=code, valid_to_year__isnull=True).first()


def history(code: str) -> QuerySet[Region]:
    """Every period of `code`, oldest first (the current one last)."""
    return Region.objects.filter(code=code).order_by("valid_from_year")


def provinces(*, include_retired: bool = False) -> QuerySet[Region]:
    """Province-level regions, current ones only unless asked."""
    queryset = Region.objects.filter(level=Region.Level.PROVINCE)
    return queryset if include_retired else queryset.filter(valid_to_year__isnull=True)


def children(region: Region, *, include_retired: bool = False) -> QuerySet[Region]:
    """The regions directly under `region`, by code."""
    queryset = Region.objects.filter(parent=region)
    if not include_retired:
        queryset = queryset.filter(valid_to_year__isnull=True)
    return queryset.order_by("code", "valid_from_year")


def ancestors(region: Region) -> list[Region]:
    """The regions above `region`, the province first (empty for a province). One query."""
    chain = Region.objects.select_related("parent__parent").get(pk=region.pk)
    found: list[Region] = []
    parent = chain.parent
    while parent is not None:
        found.append(parent)
        parent = parent.parent if parent.parent_id is not None else None
    return found[::-1]


def subtree(region: Region, *, include_retired: bool = False) -> QuerySet[Region]:
    """`region` and every region below it: codes starting with its scope prefix (the same rule
    as officer scoping, accounts.scope)."""
    queryset = Region.objects.filter(code__startswith=region.scope_prefix)
    if not include_retired:
        queryset = queryset.filter(valid_to_year__isnull=True)
    return queryset.order_by("code", "valid_from_year")
