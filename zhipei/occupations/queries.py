"""Reads over the occupational classification tree. Reference data: not region-scoped."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from zhipei.occupations.models import Occupation, Trade

# A search term that is a code or the start of one: 4, 4-, 4-04, 4-04-0, 4-04-05-05.
_CODE_PREFIX_RE = re.compile(r"^[1-8](-[0-9]{0,2}){0,3}\Z")


def get_node(code: str) -> Occupation | None:
    """The node with this code at any level (大类, 中类, 小类 or 职业), or None."""
    return Occupation.objects.filter(code=code.strip()).first()


def get_occupation(code: str) -> Occupation | None:
    """The occupation (level 4, what training and certificates name) with this code, or None.
    Codes of upper-level groups give None; use `get_node` for those."""
    return Occupation.objects.filter(code=code.strip(), level=Occupation.Level.OCCUPATION).first()


def major_groups() -> QuerySet[Occupation]:
    """The eight 大类."""
    return Occupation.objects.filter(level=Occupation.Level.MAJOR).order_by("code")


def children(node: Occupation | None) -> QuerySet[Occupation]:
    """The nodes directly under `node`; under None, the major groups."""
    if node is None:
        return major_groups()
    return Occupation.objects.filter(parent=node).order_by("code")


def ancestors(node: Occupation) -> list[Occupation]:
    """The groups above `node`, the major group first (empty for a major group). One query."""
    codes = [node.code[:end] for end in (1, 4, 7) if end < len(node.code)]
    by_code = {o.code: o for o in Occupation.objects.filter(code__in=codes)}
    return [by_code[code] for code in codes if code in by_code]


def occupations_under(node: Occupation | None) -> QuerySet[Occupation]:
    """The occupations (level 4) anywhere under `node` (itself, if it is one); all of them
    under None."""
    queryset = Occupation.objects.filter(level=Occupation.Level.OCCUPATION)
    if node is None:
        return queryset.order_by("code")
    if node.level == Occupation.Level.OCCUPATION:
        return queryset.filter(pk=node.pk)
    return queryset.filter(code__startswith=node.code + "-").order_by("code")


def search(term: str, *, level: int | None = None, limit: int = 50) -> QuerySet[Occupation]:
    """Nodes whose code starts with `term` (when it looks like a code) or whose name contains
    it; `level` narrows to one level (4 = occupations only). At most `limit` rows, by code."""
    term = term.strip()
    if not term:
        return Occupation.objects.none()
    by_code = _CODE_PREFIX_RE.match(term) is not None
    queryset = Occupation.objects.filter(
        Q(code__startswith=term) if by_code else Q(name__icontains=term)
    )
    if level is not None:
        queryset = queryset.filter(level=level)
    return queryset.order_by("code")[:limit]


def trades(occupation: Occupation) -> QuerySet[Trade]:
    """The 工种 of one occupation, by name."""
    return Trade.objects.filter(occupation=occupation).order_by("name")
