"""manage.py import_trades PATH [--skip-bad-rows]: 工种 of stored occupations
(occupation_work_types_partial.csv format). Idempotent."""

from __future__ import annotations

from zhipei.core.importcommand import ImportCommand
from zhipei.occupations.importer import import_trades


class Command(ImportCommand):
    help = (
        "Import trades (工种): occupation_code, work_type_name and optionally occupation_name. "
        "Import the occupations first. Bad rows stop the import unless --skip-bad-rows is given."
    )
    importer = staticmethod(import_trades)
