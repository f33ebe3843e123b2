"""The demo subset of the occupational classification, hand-typed (the full files stay in
shared/data): about thirty occupations across all eight major groups with their 大类/中类/小类
ancestors (`occupations.csv`, the columns of occupation_classification_2022.csv that matter,
with short definitions) and a few 工种 (`trades.csv`). Loaded through the same importers as the
full files, so loading is idempotent.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from zhipei.core.csvimport import ImportResult
from zhipei.occupations.importer import import_occupations, import_trades

DEMO_DIR = Path(__file__).resolve().parent
OCCUPATIONS_FILE = DEMO_DIR / "occupations.csv"
TRADES_FILE = DEMO_DIR / "trades.csv"


def load_demo_occupations() -> list[ImportResult]:
    """Import the demo occupations, then their trades."""
    with transaction.atomic():
        return [import_occupations(OCCUPATIONS_FILE), import_trades(TRADES_FILE)]


def load_demo_reference_data() -> list[ImportResult]:
    """The demo occupations and trades (zhipei.regions.demo.load_demo_reference_data loads
    these together with the demo regions)."""
    return load_demo_occupations()
