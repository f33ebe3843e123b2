"""A small region tree for tests in any app (Hubei: two cities, counties, a province-direct
county-level city, and a county in another city for the outsider persona)."""

from __future__ import annotations

from zhipei.regions.models import Region

_TREE = [
    ("420000", "湖北省", "province", None),
    ("420100", "武汉市", "prefecture", "420000"),
    ("420102", "江岸区", "county", "420100"),
    ("420106", "武昌区", "county", "420100"),
    ("420500", "宜昌市", "prefecture", "420000"),
    ("420502", "西陵区", "county", "420500"),
    ("429004", "仙桃市", "county", "420000"),
]


def scope_prefix_for(code: str, level: str) -> str:
    """Province XX0000 → XX, prefecture XXXX00 → XXXX, county → all six digits."""
    return {"province": code[:2], "prefecture": code[:4]}.get(level, code)


def make_region_tree() -> dict[str, Region]:
    """Create (or fetch) the test tree; returns regions by code."""
    regions: dict[str, Region] = {}
    for code, name, level, parent in _TREE:
        regions[code], _ = Region.objects.get_or_create(
            code=code,
            valid_to_year=None,
            defaults={
                "name": name,
                "level": level,
                "parent": regions.get(parent) if parent else None,
                "scope_prefix": scope_prefix_for(code, level),
            },
        )
    return regions
