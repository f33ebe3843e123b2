"""Reads over the region tree."""

from __future__ import annotations

from django.db.models import Q

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
