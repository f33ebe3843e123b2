"""The demo subset of the region tree, hand-typed (the full files stay in shared/data).

`regions.csv` (current-codes format): 湖北省 with 武汉市, 宜昌市, 襄阳市 and some of their
districts and counties, and the province-administered 仙桃市 and 潜江市. `regions_history.csv`
(history format): a few abolished Hubei codes that old ID numbers may still carry.
Both go through the same importer as the full files, so loading is idempotent.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from zhipei.core.csvimport import ImportResult
from zhipei.regions.importer import import_regions

DEMO_DIR = Path(__file__).resolve().parent
DEMO_FILES = (DEMO_DIR / "regions.csv", DEMO_DIR / "regions_history.csv")


def load_demo_regions() -> list[ImportResult]:
    """Import the demo regions (current codes first: the history rows need their parents)."""
    with transaction.atomic():
        return [import_regions(path) for path in DEMO_FILES]


def load_demo_reference_data() -> list[ImportResult]:
    """All demo reference data: the regions above, then the demo occupations and trades."""
    from zhipei.occupations.demo import load_demo_occupations

    with transaction.atomic():
        return [*load_demo_regions(), *load_demo_occupations()]
