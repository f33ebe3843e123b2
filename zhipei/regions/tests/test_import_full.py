"""The full GB/T 2260 files from ../shared/data: counts, idempotence in either order, history
resolution. bulk writes keep each import to seconds on SQLite."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from zhipei.audit.models import AuditEvent
from zhipei.regions.importer import import_regions
from zhipei.regions.models import Region
from zhipei.regions.queries import current, is_known_code, was_in_use
from zhipei.regions.tests.helpers import parent_of, region

pytestmark = [pytest.mark.django_db, pytest.mark.shared_data]

CURRENT = {"province": 34, "prefecture": 333, "county": 2846}


def files(shared_data):
    folder = shared_data / "admin_divisions"
    return folder / "gbt2260_codes_2024.csv", folder / "gbt2260_history_1981_2024.csv"


def current_counts() -> dict[str, int]:
    return dict(
        Counter(Region.objects.filter(valid_to_year__isnull=True).values_list("level", flat=True))
    )


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Region.objects.order_by("pk").values_list(
            "pk",
            "code",
            "name",
            "level",
            "parent_id",
            "scope_prefix",
            "valid_from_year",
            "valid_to_year",
            "successor_codes",
        )
    )


def test_codes_then_history_then_both_again(shared_data):
    codes, history = files(shared_data)

    first = import_regions(codes)
    assert (first.created, first.updated, first.unchanged) == (3213, 0, 0)
    assert current_counts() == CURRENT

    second = import_regions(history)
    assert second.created == 6823 - 3213
    assert second.created + second.updated + second.unchanged == 6823
    assert current_counts() == CURRENT
    assert Region.objects.count() == 6823
    state = snapshot()

    again_codes = import_regions(codes)
    again_history = import_regions(history)
    assert (again_codes.created, again_codes.updated, again_codes.unchanged) == (0, 0, 3213)
    assert (again_history.created, again_history.updated, again_history.unchanged) == (0, 0, 6823)
    assert snapshot() == state


def tree() -> dict[tuple[str, int], tuple[Any, ...]]:
    """The stored regions keyed by (code, start year), parents by code and start year (primary
    keys differ between runs)."""
    return {
        (code, start): tuple(rest)
        for code, start, *rest in Region.objects.values_list(
            "code",
            "valid_from_year",
            "name",
            "level",
            "scope_prefix",
            "valid_to_year",
            "successor_codes",
            "parent__code",
            "parent__valid_from_year",
        )
    }


def delete_all_regions() -> None:
    for level in ("county", "prefecture", "province"):
        Region.objects.filter(level=level).delete()


def test_history_then_codes_gives_the_same_tree_as_codes_then_history(shared_data):
    codes, history = files(shared_data)
    import_regions(history)
    result = import_regions(codes)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3213)
    history_first = tree()

    delete_all_regions()
    import_regions(codes)
    import_regions(history)

    assert len(history_first) == 6823
    assert tree() == history_first


def test_history_resolves_old_codes(shared_data):
    _, history = files(shared_data)
    import_regions(history)

    # 崇文区 110103: in use 1981–2010, merged into 东城区.
    assert is_known_code("110103")
    assert was_in_use("110103", 1986)
    assert not was_in_use("110103", 2015)
    assert current("110103") is None
    old = Region.objects.get(code="110103")
    assert (old.valid_from_year, old.valid_to_year, old.successor_codes) == (1981, 2010, "110101")
    assert parent_of(old).code == "110000"
    assert not is_known_code("990101")

    # A code used for two periods (随州市 429001: 1986–1990 and 1994–2000).
    assert was_in_use("429001", 1987)
    assert not was_in_use("429001", 1992)
    assert was_in_use("429001", 1999)


def test_parents_and_scope_prefixes(shared_data):
    codes, history = files(shared_data)
    import_regions(codes)
    import_regions(history)

    xiantao = region("429004")
    assert (parent_of(xiantao).code, xiantao.scope_prefix, xiantao.level) == (
        "420000",
        "429004",
        "county",
    )
    assert xiantao.valid_from_year == 1994  # corrected from the history
    jiangan = region("420102")
    assert (parent_of(jiangan).code, jiangan.scope_prefix) == ("420100", "420102")
    wuhan = region("420100")
    assert (parent_of(wuhan).code, wuhan.scope_prefix) == ("420000", "4201")
    assert region("420000").scope_prefix == "42"
    assert region("420000").parent is None
    dongcheng = region("110101")
    assert parent_of(dongcheng).code == "110000"  # municipality districts sit under the province

    # 樊东区 (1984–1995) hangs under 襄樊市, the 420600 of its own period, not today's 襄阳市.
    fandong = Region.objects.get(code="420603")
    assert (parent_of(fandong).name, parent_of(fandong).valid_to_year) == ("襄樊市", 2010)
    assert parent_of(region("420602")).name == "襄阳市"
    assert all(
        r.scope_prefix == {"province": r.code[:2], "prefecture": r.code[:4]}.get(r.level, r.code)
        for r in Region.objects.all()
    )
    assert not Region.objects.filter(parent__isnull=True).exclude(level="province").exists()


def test_command_reports_counts_and_audits(shared_data):
    codes, _ = files(shared_data)
    out = StringIO()

    call_command("import_regions", str(codes), stdout=out)
    call_command("import_regions", str(codes), stdout=out)

    lines = out.getvalue().splitlines()
    assert "3213 created, 0 updated, 0 unchanged." in lines[0]
    assert "0 created, 0 updated, 3213 unchanged." in lines[1]
    events = list(AuditEvent.objects.filter(action="regions.region.imported").order_by("pk"))
    assert [e.data["created"] for e in events] == [3213, 0]
    assert events[0].actor_id is None and events[0].actor_label == "system"
    assert events[0].data["file"] == "gbt2260_codes_2024.csv"
