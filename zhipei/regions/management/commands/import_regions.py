"""manage.py import_regions PATH [--skip-bad-rows]: GB/T 2260 codes, either the current-codes
format or the 1981– history format (detected from the header). Idempotent."""

from __future__ import annotations

from zhipei.core.importcommand import ImportCommand
from zhipei.regions.importer import import_regions


class Command(ImportCommand):
    help = (
        "Import administrative division codes (gbt2260_codes_*.csv or "
        "gbt2260_history_*.csv). Bad rows stop the import unless --skip-bad-rows is given."
    )
    importer = staticmethod(import_regions)
