"""Importing the occupational classification (职业分类大典 2022) and its trades (工种).

`import_occupations` reads `occupation_classification_2022.csv` (shared/data/SOURCES.md §1.1):
`code, level, parent_code, name` are required; `gbm, is_green, is_digital, definition, tasks` are
optional (a column the file lacks leaves that field alone). `import_trades` reads
`occupation_work_types_partial.csv` (§1.3): `occupation_code, work_type_name` required,
`occupation_name` optional and, when given, checked against the occupation.

Both add and update; neither deletes what a file does not list. Matching and diffing happen in
memory, writes are bulk statements in one transaction with one audit event, and a second import
of the same file changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from zhipei.audit.services import record
from zhipei.core.csvimport import (
    CsvRow,
    CsvTable,
    ImportRejected,
    ImportResult,
    RowError,
    import_transaction,
    read_csv,
    require_columns,
)
from zhipei.occupations.models import Occupation, Trade

OCCUPATION_COLUMNS = ("code", "level", "parent_code", "name")
OPTIONAL_OCCUPATION_COLUMNS = ("gbm", "is_green", "is_digital", "definition", "tasks")
TRADE_COLUMNS = ("occupation_code", "work_type_name")

# The code form of each level: 大类 `4`, 中类 `4-04`, 小类 `4-04-05`, 职业 `4-04-05-05`.
_CODE_RE = re.compile(r"^[1-8](-[0-9]{2}){0,3}\Z")
_GBM_RE = re.compile(r"^[0-9]{5}\Z")
_FLAGS = {"true": True, "false": False, "": False}
_MAX_NAME = Occupation._meta.get_field("name").max_length or 200
_MAX_TRADE = Trade._meta.get_field("name").max_length or 200


def level_of(code: str) -> int:
    return code.count("-") + 1


def parent_code_of(code: str) -> str:
    return code.rsplit("-", 1)[0] if "-" in code else ""


def _flag(value: str) -> bool | None:
    return _FLAGS.get(value.strip().lower())


# --- occupations ---------------------------------------------------------------------------


class BadRow(Exception):
    """Raised by the row checks; becomes a RowError with the row's line number."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind, self.reason = kind, reason
        super().__init__(reason)


def _check_code(code: str, level_text: str) -> int:
    if not _CODE_RE.match(code):
        raise BadRow(
            "bad_code",
            _("bad code %(code)r: expected a form like 4, 4-04, 4-04-05 or 4-04-05-05.")
            % {"code": code},
        )
    if level_text not in {"1", "2", "3", "4"}:
        raise BadRow(
            "unknown_level",
            _("unknown level %(level)r: expected 1, 2, 3 or 4.") % {"level": level_text},
        )
    level = int(level_text)
    if level != level_of(code):
        raise BadRow(
            "level_mismatch",
            _("level %(level)s does not fit code %(code)s, which is a level %(expected)s code.")
            % {"level": level, "code": code, "expected": level_of(code)},
        )
    return level


def _check_parent(code: str, parent_code: str) -> None:
    if parent_code == parent_code_of(code):
        return
    if level_of(code) == 1:
        reason = _("a major group (level 1) has no parent, but parent_code is %(parent)r.") % {
            "parent": parent_code
        }
    else:
        reason = _("parent_code %(parent)r is wrong: the parent of %(code)s is %(expected)s.") % {
            "parent": parent_code,
            "code": code,
            "expected": parent_code_of(code),
        }
    raise BadRow("bad_parent", reason)


def _optional_values(v: dict[str, str], columns: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "gbm" in columns:
        if v["gbm"] and not _GBM_RE.match(v["gbm"]):
            raise BadRow("bad_gbm", _("bad gbm %(gbm)r: expected five digits.") % {"gbm": v["gbm"]})
        values["gbm"] = v["gbm"]
    for column in ("is_green", "is_digital"):
        if column in columns:
            flag = _flag(v[column])
            if flag is None:
                raise BadRow(
                    "bad_flag",
                    _("bad %(column)s %(value)r: expected true, false or empty.")
                    % {"column": column, "value": v[column]},
                )
            values[column] = flag
    for column in ("definition", "tasks"):
        if column in columns:
            values[column] = v[column]
    return values


def _occupation_values(row: CsvRow, columns: tuple[str, ...]) -> dict[str, Any]:
    """The field values of one row (only the optional fields the file has), or BadRow."""
    v = row.values
    level = _check_code(v["code"], v["level"])
    _check_parent(v["code"], v["parent_code"])
    name = v["name"]
    if not name:
        raise BadRow("bad_name", _("the name is empty."))
    if len(name) > _MAX_NAME:
        raise BadRow(
            "bad_name", _("the name is longer than %(max)s characters.") % {"max": _MAX_NAME}
        )
    return {"level": level, "name": name, **_optional_values(v, columns)}


def validate_occupation_rows(
    table: CsvTable, columns: tuple[str, ...]
) -> tuple[dict[str, tuple[int, dict[str, Any]]], dict[str, int], list[RowError]]:
    """Rows checked on their own and for duplicates (no database): the wanted values by code
    (with their line), the first line of every code (good or bad), and the bad rows."""
    errors = list(table.errors)
    wanted: dict[str, tuple[int, dict[str, Any]]] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        code = row.values["code"]
        lines.setdefault(code, row.line)
        try:
            values = _occupation_values(row, columns)
        except BadRow as bad:
            errors.append(RowError(row.line, bad.kind, bad.reason))
            continue
        if code in wanted:
            errors.append(
                RowError(
                    row.line,
                    "duplicate_code",
                    _("duplicate code %(code)s (first on line %(other)s).")
                    % {"code": code, "other": wanted[code][0]},
                )
            )
            continue
        wanted[code] = (row.line, values)
    return wanted, lines, errors


def import_occupations(
    path: Path | str, *, skip_bad_rows: bool = False, actor: models.Model | None = None
) -> ImportResult:
    """Import occupation classification rows.

    Guarantees: nothing is written when the file cannot be read (ImportFileError) or has bad rows
    and `skip_bad_rows` is false (ImportRejected, carrying every bad row); otherwise the good rows
    are written in one transaction with one audit event `occupations.occupation.imported`. A
    row whose parent is neither in the database nor a good row of the file is bad.
    """
    return import_occupations_table(read_csv(path), skip_bad_rows=skip_bad_rows, actor=actor)


def import_occupations_table(
    table: CsvTable, *, skip_bad_rows: bool = False, actor: models.Model | None = None
) -> ImportResult:
    require_columns(table, OCCUPATION_COLUMNS)
    columns = tuple(c for c in OPTIONAL_OCCUPATION_COLUMNS if c in table.header)
    fields = ["level", "name", *columns]
    result = ImportResult(kind=_("Occupations"), file=table.name, file_format="classification")
    wanted, lines, errors = validate_occupation_rows(table, columns)
    with import_transaction(table.name):
        existing = {o.code: o for o in Occupation.objects.all()}
        # Parents before children: a row is placed only if its parent is placed (a good row of
        # the file) or stored.
        placed: dict[str, Occupation] = {}
        created: list[Occupation] = []
        updated: list[Occupation] = []
        parents: dict[str, Occupation | None] = {}
        for code, (line, values) in sorted(wanted.items(), key=lambda item: level_of(item[0])):
            parent_code = parent_code_of(code)
            parent = (placed.get(parent_code) or existing.get(parent_code)) if parent_code else None
            if parent_code and parent is None:
                if parent_code in lines:
                    reason = _("its parent %(parent)s (line %(line)s) is a bad row.") % {
                        "parent": parent_code,
                        "line": lines[parent_code],
                    }
                else:
                    reason = _("unknown parent %(parent)s: not in this file or the database.") % {
                        "parent": parent_code
                    }
                errors.append(RowError(line, "unknown_parent", reason))
                continue
            occupation = existing.get(code)
            if occupation is None:
                occupation = Occupation(code=code, **values)
                created.append(occupation)
            else:
                before = [getattr(occupation, f) for f in fields]
                for name, value in values.items():
                    setattr(occupation, name, value)
                moved = parent is not None and (
                    parent.pk is None or parent.pk != occupation.parent_id
                )
                if moved or before != [getattr(occupation, f) for f in fields]:
                    updated.append(occupation)
            placed[code] = occupation
            parents[code] = parent
        result.errors = sorted(errors, key=lambda e: e.line)
        if result.errors and not skip_bad_rows:
            raise ImportRejected(result)

        result.created, result.updated = len(created), len(updated)
        result.unchanged = len(placed) - len(created) - len(updated)
        for level in (1, 2, 3, 4):
            batch_new = [o for o in created if o.level == level]
            batch_changed = [o for o in updated if o.level == level]
            for occupation in batch_new + batch_changed:
                parent = parents[occupation.code]
                occupation.parent_id = None if parent is None else parent.pk
            # Parents are saved a level earlier, so every parent has its primary key here.
            Occupation.objects.bulk_update(batch_changed, [*fields, "parent"], batch_size=500)
            Occupation.objects.bulk_create(batch_new, batch_size=500)
        record(
            "occupations.occupation.imported",
            actor=actor,
            object_type="occupations.occupation",
            data=result.audit_data(),
        )
    result.imported = True
    return result


# --- trades --------------------------------------------------------------------------------


def import_trades(
    path: Path | str, *, skip_bad_rows: bool = False, actor: models.Model | None = None
) -> ImportResult:
    """Import 工种 rows as `Trade`s of stored occupations (level 4).

    Guarantees as for `import_occupations`; a row naming an unknown occupation, an upper-level
    node, or (when `occupation_name` is given) a different occupation name is bad. Audit event
    `occupations.trade.imported`.
    """
    return import_trades_table(read_csv(path), skip_bad_rows=skip_bad_rows, actor=actor)


def import_trades_table(
    table: CsvTable, *, skip_bad_rows: bool = False, actor: models.Model | None = None
) -> ImportResult:
    require_columns(table, TRADE_COLUMNS)
    has_name = "occupation_name" in table.header
    result = ImportResult(kind=_("Trades"), file=table.name, file_format="work_types")
    errors = list(table.errors)
    with import_transaction(table.name):
        occupations = {o.code: o for o in Occupation.objects.all()}
        stored: dict[int, set[str]] = defaultdict(set)
        for occupation_id, name in Trade.objects.values_list("occupation_id", "name"):
            stored[occupation_id].add(name)
        seen: dict[tuple[str, str], int] = {}
        new: list[Trade] = []
        unchanged = 0
        for row in table.rows:
            code, name = row.values["occupation_code"], row.values["work_type_name"]

            def bad(kind: str, reason: str, line: int = row.line) -> None:
                errors.append(RowError(line, kind, reason))

            occupation = occupations.get(code)
            if not name:
                bad("bad_name", _("the trade name (work_type_name) is empty."))
            elif len(name) > _MAX_TRADE:
                bad(
                    "bad_name",
                    _("the trade name is longer than %(max)s characters.") % {"max": _MAX_TRADE},
                )
            elif occupation is None:
                bad(
                    "unknown_occupation",
                    _("unknown occupation code %(code)r: no such occupation is stored.")
                    % {"code": code},
                )
            elif occupation.level != Occupation.Level.OCCUPATION:
                bad(
                    "not_an_occupation",
                    _("%(code)s is a level %(level)s group, not an occupation (level 4).")
                    % {"code": code, "level": occupation.level},
                )
            elif has_name and row.values["occupation_name"] not in {"", occupation.name}:
                bad(
                    "name_mismatch",
                    _("occupation %(code)s is %(stored)s, but the row names %(given)s.")
                    % {
                        "code": code,
                        "stored": occupation.name,
                        "given": row.values["occupation_name"],
                    },
                )
            elif (code, name) in seen:
                bad(
                    "duplicate_trade",
                    _("duplicate trade %(name)s of %(code)s (first on line %(other)s).")
                    % {"name": name, "code": code, "other": seen[(code, name)]},
                )
            else:
                seen[(code, name)] = row.line
                if name in stored[occupation.pk]:
                    unchanged += 1
                else:
                    new.append(Trade(occupation=occupation, name=name))
        result.errors = sorted(errors, key=lambda e: e.line)
        if result.errors and not skip_bad_rows:
            raise ImportRejected(result)
        Trade.objects.bulk_create(new, batch_size=500)
        result.created, result.unchanged = len(new), unchanged
        record(
            "occupations.trade.imported",
            actor=actor,
            object_type="occupations.trade",
            data=result.audit_data(),
        )
    result.imported = True
    return result
