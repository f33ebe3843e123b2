"""manage.py import_occupations PATH [--skip-bad-rows]: the occupational classification
(occupation_classification_2022.csv format). Idempotent."""

from __future__ import annotations

from zhipei.core.importcommand import ImportCommand
from zhipei.occupations.importer import import_occupations


class Command(ImportCommand):
    help = (
        "Import the occupational classification (职业分类大典): code, level, parent_code, name "
        "and optionally gbm, is_green, is_digital, definition, tasks. Bad rows stop the import "
        "unless --skip-bad-rows is given."
    )
    importer = staticmethod(import_occupations)
