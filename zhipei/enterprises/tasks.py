"""Background entry points of enterprises: the two halves of a roster import."""

from __future__ import annotations

from django_tasks import task

from zhipei.enterprises import imports


@task()
def parse_roster_import(roster_import_id: int) -> str:
    """Check an uploaded roster's rows (imports.parse_roster_import)."""
    roster_import = imports.parse_roster_import(roster_import_id)
    return roster_import.status if roster_import is not None else "missing"


@task()
def commit_roster_import(roster_import_id: int) -> str:
    """Add the chosen rows to the roster in batches (imports.run_roster_commit)."""
    roster_import = imports.run_roster_commit(roster_import_id)
    return roster_import.status if roster_import is not None else "missing"
