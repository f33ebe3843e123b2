"""Importing GB/T 2260 division codes into `Region` (shared/data/SOURCES.md §2).

Two CSV formats, told apart by their header:

* **codes** (`gbt2260_codes_2024.csv`): `code,name,level,parent_code,…` — the codes in use at one
  date. It adds and updates current regions and never retires one, so a partial file (the demo
  subset) is fine. The file carries no dates: a new region gets `valid_from_year` 1981 (where the
  history starts), or the year its code was last retired when the database knows earlier periods.
* **history** (`gbt2260_history_1981_2024.csv`): `代码,一级行政区,二级行政区,名称,级别,状态,启用时间,
  变更/弃用时间,新代码` — every period of every code since 1981. For each code it lists, the file is
  taken as the whole truth about that code's periods: the current row takes the file's in-use
  period (so its start year is corrected), other periods match on their start year, and a current
  row whose code the file ends is retired.

Parents follow one rule in both formats: a county's parent is the prefecture `XXXX00` if such a
region exists (in the county's period), otherwise the province `XX0000`; a prefecture's parent is
its province. Matching and diffing happen in memory over all regions (a few thousand rows), and
the writes are a handful of bulk statements in one transaction, so the full files import in
seconds and a second import changes nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.audit.services import record
from zhipei.core.csvimport import (
    CsvRow,
    CsvTable,
    ImportFileError,
    ImportRejected,
    ImportResult,
    RowError,
    import_transaction,
    read_csv,
    require_columns,
)
from zhipei.regions.models import Region

FORMAT_CODES = "codes"
FORMAT_HISTORY = "history"

CODES_COLUMNS = ("code", "name", "level", "parent_code")
HISTORY_COLUMNS = ("代码", "名称", "级别", "状态", "启用时间", "变更/弃用时间", "新代码")

HISTORY_LEVELS = {
    "省级": Region.Level.PROVINCE,
    "地级": Region.Level.PREFECTURE,
    "县级": Region.Level.COUNTY,
}
IN_USE = "在用"
HISTORY_STATUSES = {IN_USE, "变更", "弃用"}

FIRST_YEAR = 1981  # the history starts here; earlier dates are checked as 1981 (queries.was_in_use)
EARLIEST_YEAR = 1949
LEVEL_ORDER = (Region.Level.PROVINCE, Region.Level.PREFECTURE, Region.Level.COUNTY)

_CODE_RE = re.compile(r"^[1-9][0-9]{5}\Z")
_YEAR_RE = re.compile(r"^[0-9]{4}\Z")
_SUCCESSORS_RE = re.compile(r"^[0-9]{6}(\[[0-9]{4}\])?(;[0-9]{6}(\[[0-9]{4}\])?)*\Z")
_COMPARED = (
    "name",
    "level",
    "parent_id",
    "scope_prefix",
    "valid_from_year",
    "valid_to_year",
    "successor_codes",
)
_MAX_NAME = Region._meta.get_field("name").max_length or 100
_MAX_SUCCESSORS = Region._meta.get_field("successor_codes").max_length or 200


def level_of(code: str) -> str:
    """The level a six-digit code's shape implies (SOURCES.md §2.1)."""
    if code.endswith("0000"):
        return Region.Level.PROVINCE
    if code.endswith("00"):
        return Region.Level.PREFECTURE
    return Region.Level.COUNTY


def scope_prefix_for(code: str, level: str) -> str:
    """Province → first 2 digits, prefecture → first 4, county → all 6."""
    if level == Region.Level.PROVINCE:
        return code[:2]
    if level == Region.Level.PREFECTURE:
        return code[:4]
    return code


def parent_candidates(code: str, level: str) -> list[str]:
    """Codes that may be the parent, in order of preference."""
    province = code[:2] + "0000"
    if level == Region.Level.PROVINCE:
        return []
    if level == Region.Level.PREFECTURE:
        return [province]
    prefecture = code[:4] + "00"
    return [province] if prefecture == province else [prefecture, province]


@dataclass(frozen=True)
class _Period:
    """One validated row: the wanted state of one Region row."""

    line: int
    code: str
    name: str
    level: str
    valid_from: int | None  # None: the codes format does not say
    valid_to: int | None
    successors: str | None  # None: the codes format does not say
    parent_code: str  # as written in the codes format ("" = not given / history format)

    def overlaps(self, start: int, end: int | None) -> bool:
        return _overlap(self.valid_from or FIRST_YEAR, self.valid_to, start, end)


def _overlap(a_from: int, a_to: int | None, b_from: int, b_to: int | None) -> bool:
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def detect_format(table: CsvTable) -> str:
    if "代码" in table.header:
        require_columns(table, HISTORY_COLUMNS)
        return FORMAT_HISTORY
    if "code" in table.header:
        require_columns(table, CODES_COLUMNS)
        return FORMAT_CODES
    raise ImportFileError(
        _(
            "%(file)s matches neither region file format: expected the columns %(codes)s "
            "(current codes) or %(history)s (code history)."
        )
        % {
            "file": table.name,
            "codes": ",".join(CODES_COLUMNS),
            "history": ",".join(HISTORY_COLUMNS),
        }
    )


# --- validating rows (no database) ---------------------------------------------------------


class BadRow(Exception):
    """Raised by the row checks; becomes a RowError with the row's line number."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind, self.reason = kind, reason
        super().__init__(reason)


def _check_code(code: str) -> None:
    if not _CODE_RE.match(code):
        raise BadRow(
            "bad_code",
            _("bad code %(code)r: a region code is six digits, not starting with 0.")
            % {"code": code},
        )


def _check_level(code: str, level: str | None, written: str, expected: str) -> str:
    if level is None:
        raise BadRow(
            "unknown_level",
            _("unknown level %(level)r: expected %(expected)s.")
            % {"level": written, "expected": expected},
        )
    if level != level_of(code):
        raise BadRow(
            "level_mismatch",
            _("level %(level)s does not fit code %(code)s, which is a %(expected)s code.")
            % {"level": written, "code": code, "expected": level_of(code)},
        )
    return level


def _check_name(name: str) -> None:
    if not name:
        raise BadRow("bad_name", _("the name is empty."))
    if len(name) > _MAX_NAME:
        raise BadRow(
            "bad_name", _("the name is longer than %(max)s characters.") % {"max": _MAX_NAME}
        )


def _year(value: str, what: str) -> int:
    latest = timezone.now().year + 1
    if not _YEAR_RE.match(value) or not EARLIEST_YEAR <= int(value) <= latest:
        raise BadRow(
            "bad_year",
            _("bad %(what)s %(value)r: expected a year from %(first)s to %(last)s.")
            % {"what": what, "value": value, "first": EARLIEST_YEAR, "last": latest},
        )
    return int(value)


def _codes_period(row: CsvRow) -> _Period:
    v = row.values
    code, name = v["code"], v["name"]
    _check_code(code)
    level = _check_level(
        code,
        v["level"] if v["level"] in Region.Level.values else None,
        v["level"],
        "province, prefecture, county",
    )
    _check_name(name)
    parent_code = v["parent_code"]
    if level == Region.Level.PROVINCE and parent_code:
        raise BadRow(
            "bad_parent",
            _("a province has no parent, but parent_code is %(parent)s.") % {"parent": parent_code},
        )
    if parent_code and parent_code not in parent_candidates(code, level):
        raise BadRow(
            "bad_parent",
            _("parent_code %(parent)s cannot be the parent of %(code)s: expected %(expected)s.")
            % {
                "parent": parent_code,
                "code": code,
                "expected": _(" or ").join(parent_candidates(code, level)),
            },
        )
    return _Period(row.line, code, name, level, None, None, None, parent_code)


def _history_years(status: str, start: str, end: str) -> tuple[int, int | None]:
    valid_from = _year(start, _("start year (启用时间)"))
    if status == IN_USE:
        if end:
            raise BadRow(
                "bad_year",
                _("a code in use (在用) has no end year, but 变更/弃用时间 is %(value)r.")
                % {"value": end},
            )
        return valid_from, None
    if not end:
        raise BadRow(
            "bad_year",
            _("a changed or abolished code (%(status)s) needs an end year (变更/弃用时间).")
            % {"status": status},
        )
    valid_to = _year(end, _("end year (变更/弃用时间)"))
    if valid_to <= valid_from:
        raise BadRow(
            "bad_year",
            _("the end year %(end)s is not after the start year %(start)s.")
            % {"end": valid_to, "start": valid_from},
        )
    return valid_from, valid_to


def _successors(value: str) -> str:
    successors = value.replace("；", ";").replace(" ", "")
    if successors and not _SUCCESSORS_RE.match(successors):
        raise BadRow(
            "bad_successor",
            _("bad successor codes (新代码) %(value)r: expected six-digit codes separated by ';'.")
            % {"value": value},
        )
    if len(successors) > _MAX_SUCCESSORS:
        raise BadRow(
            "bad_successor",
            _("the successor codes (新代码) are longer than %(max)s characters.")
            % {"max": _MAX_SUCCESSORS},
        )
    return successors


def _history_period(row: CsvRow) -> _Period:
    v = row.values
    code, name, status = v["代码"], v["名称"], v["状态"]
    _check_code(code)
    level = _check_level(code, HISTORY_LEVELS.get(v["级别"]), v["级别"], "省级, 地级, 县级")
    _check_name(name)
    if status not in HISTORY_STATUSES:
        raise BadRow(
            "unknown_status",
            _("unknown status %(status)r: expected 在用, 变更 or 弃用.") % {"status": status},
        )
    valid_from, valid_to = _history_years(status, v["启用时间"], v["变更/弃用时间"])
    successors = _successors(v["新代码"])
    return _Period(row.line, code, name, level, valid_from, valid_to, successors, "")


def validate_rows(table: CsvTable, file_format: str) -> tuple[list[_Period], list[RowError]]:
    """Every row checked on its own and against the other rows of the file (duplicates,
    overlapping periods). No database access."""
    errors = list(table.errors)
    periods: list[_Period] = []
    parse = _codes_period if file_format == FORMAT_CODES else _history_period
    for row in table.rows:
        try:
            periods.append(parse(row))
        except BadRow as bad:
            errors.append(RowError(row.line, bad.kind, bad.reason))
    kept: list[_Period] = []
    seen: dict[str, list[_Period]] = defaultdict(list)
    for period in periods:
        clash = next(
            (
                other
                for other in seen[period.code]
                if file_format == FORMAT_CODES
                or other.overlaps(period.valid_from or 0, period.valid_to)
            ),
            None,
        )
        if clash is not None:
            if file_format == FORMAT_CODES:
                reason = _("duplicate code %(code)s (first on line %(other)s).") % {
                    "code": period.code,
                    "other": clash.line,
                }
            else:
                reason = _(
                    "duplicate code %(code)s: its period overlaps the one on line %(other)s."
                ) % {"code": period.code, "other": clash.line}
            errors.append(RowError(period.line, "duplicate_code", reason))
            continue
        seen[period.code].append(period)
        kept.append(period)
    return kept, errors


# --- planning against the database (in memory) ---------------------------------------------


class _Plan:
    """The wanted state: existing rows to change, new rows to create, the parent of each."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Region]] = defaultdict(list)
        self.original: dict[int, tuple[Any, ...]] = {}
        for region in Region.objects.order_by("pk"):
            self.rows[region.code].append(region)
            self.original[id(region)] = tuple(getattr(region, f) for f in _COMPARED)
        self.touched: dict[int, Region] = {}  # id() → row taken by a file row
        self.parent_of: dict[int, Region] = {}  # id(row) → parent row (maybe new)
        self.errors: list[RowError] = []

    def current(self, code: str) -> Region | None:
        return next((r for r in self.rows.get(code, []) if r.valid_to_year is None), None)

    def in_period(self, code: str, start: int, end: int | None) -> Region | None:
        """The row of `code` whose period overlaps [start, end); the latest if several."""
        found = [
            r
            for r in self.rows.get(code, [])
            if _overlap(r.valid_from_year, r.valid_to_year, start, end)
        ]
        return max(found, key=lambda r: r.valid_from_year) if found else None

    def take(self, period: _Period, row: Region | None) -> Region:
        if row is None:
            row = Region(code=period.code)
            self.rows[period.code].append(row)
        row.name = period.name
        row.level = period.level
        row.scope_prefix = scope_prefix_for(period.code, period.level)
        if period.valid_from is not None:
            row.valid_from_year = period.valid_from
            row.valid_to_year = period.valid_to
        if period.successors is not None:
            row.successor_codes = period.successors
        self.touched[id(row)] = row
        return row

    def is_new(self, row: Region) -> bool:
        return id(row) not in self.original

    def changed_fields(self, row: Region) -> tuple[str, ...]:
        """Names of the fields that differ from the stored row (parent_id must be set)."""
        return tuple(
            name
            for name, before in zip(_COMPARED, self.original[id(row)], strict=True)
            if getattr(row, name) != before
        )


def _parent_for(plan: _Plan, period: _Period, start: int, end: int | None) -> Region | None:
    for code in parent_candidates(period.code, period.level):
        parent = plan.in_period(code, start, end)
        if parent is not None:
            return parent
    return None


def _unknown_parent(period: _Period) -> RowError:
    return RowError(
        period.line,
        "unknown_parent",
        _("unknown parent: no region %(codes)s exists in the period of %(code)s.")
        % {
            "codes": _(" or ").join(parent_candidates(period.code, period.level)),
            "code": period.code,
        },
    )


def _plan_codes(plan: _Plan, periods: list[_Period]) -> None:
    for period in periods:
        parent: Region | None = None
        if period.level != Region.Level.PROVINCE:
            parent, error = _current_parent(plan, period)
            if error is not None:
                plan.errors.append(error)
                continue
        row = plan.current(period.code)
        if row is None:
            retired = [r.valid_to_year or FIRST_YEAR for r in plan.rows.get(period.code, [])]
            row = plan.take(period, None)
            row.valid_from_year = max(retired, default=FIRST_YEAR)
            row.valid_to_year = None
        else:
            plan.take(period, row)
        if parent is not None:
            plan.parent_of[id(row)] = parent


def _current_parent(plan: _Plan, period: _Period) -> tuple[Region | None, RowError | None]:
    """The current parent of a row of the codes format, checked against its parent_code."""
    candidates = parent_candidates(period.code, period.level)
    preferred = next((plan.current(c) for c in candidates if plan.current(c) is not None), None)
    if not period.parent_code:
        if preferred is None:
            return None, _unknown_parent(period)
        return preferred, None
    given = plan.current(period.parent_code)
    if given is None:
        return None, RowError(
            period.line,
            "unknown_parent",
            _("unknown parent %(parent)s: no such region in use, in this file or the database.")
            % {"parent": period.parent_code},
        )
    if preferred is not None and preferred is not given:
        return None, RowError(
            period.line,
            "bad_parent",
            _("parent_code %(given)s is wrong: region %(expected)s exists, so it is the parent.")
            % {"given": period.parent_code, "expected": preferred.code},
        )
    return given, None


def _plan_history(plan: _Plan, periods: list[_Period]) -> None:
    by_code: dict[str, list[_Period]] = defaultdict(list)
    for period in periods:
        by_code[period.code].append(period)
    for code, code_periods in by_code.items():
        # Parents first: a period that cannot be placed is a bad row and plays no further part.
        placed: list[tuple[_Period, Region]] = []
        for period in code_periods:
            assert period.valid_from is not None
            if period.level == Region.Level.PROVINCE:
                continue
            parent = _parent_for(plan, period, period.valid_from, period.valid_to)
            if parent is None:
                plan.errors.append(_unknown_parent(period))
            else:
                placed.append((period, parent))
        parents = {p.line: parent for p, parent in placed}
        accepted = [
            p for p in code_periods if p.level == Region.Level.PROVINCE or p.line in parents
        ]
        if not accepted:
            continue
        for period, stored in _pair(plan, code, accepted):
            row = plan.take(period, stored)
            if period.line in parents:
                plan.parent_of[id(row)] = parents[period.line]


def _pair(plan: _Plan, code: str, periods: list[_Period]) -> list[tuple[_Period, Region | None]]:
    """Match the file's periods of one code to its rows in the database."""
    existing = list(plan.rows.get(code, []))
    current_row = plan.current(code)
    by_start = {r.valid_from_year: r for r in existing if r is not current_row}
    pairs: dict[int, Region | None] = {}
    used: set[int] = set()
    in_use = next((p for p in periods if p.valid_to is None), None)
    if in_use is not None:
        row = current_row or by_start.get(in_use.valid_from or 0)
        pairs[in_use.line] = row
        if row is not None:
            used.add(id(row))
    for period in periods:
        if period is in_use:
            continue
        row = by_start.get(period.valid_from or 0)
        if row is not None and id(row) not in used:
            pairs[period.line] = row
            used.add(id(row))
        else:
            pairs[period.line] = None
    kept = list(periods)
    if current_row is not None and id(current_row) not in used:
        # The file ends this code: the current row becomes its latest period.
        latest = max(periods, key=lambda p: p.valid_from or 0)
        if pairs[latest.line] is None:
            pairs[latest.line] = current_row
            used.add(id(current_row))
        else:
            plan.errors.append(
                RowError(
                    latest.line,
                    "conflict",
                    _(
                        "code %(code)s is in use in the database, but this file gives it no "
                        "period in use and its latest period is already stored."
                    )
                    % {"code": code},
                )
            )
            kept.remove(latest)
    # Start years must stay unique per code (the region_code_period constraint).
    untouched_starts = {r.valid_from_year for r in existing if id(r) not in used}
    result: list[tuple[_Period, Region | None]] = []
    for period in kept:
        if period.valid_from in untouched_starts:
            plan.errors.append(
                RowError(
                    period.line,
                    "conflict",
                    _(
                        "code %(code)s already has a stored period starting in %(year)s that "
                        "this file does not match."
                    )
                    % {"code": code, "year": period.valid_from},
                )
            )
            continue
        result.append((period, pairs[period.line]))
    return result


def _write(plan: _Plan, result: ImportResult) -> None:
    """Save level by level so every parent has its primary key before its children."""
    rows = list(plan.touched.values())
    for level in LEVEL_ORDER:
        at_level = [r for r in rows if r.level == level]
        for row in at_level:
            parent = plan.parent_of.get(id(row))
            row.parent_id = None if parent is None else parent.pk
        new = [r for r in at_level if plan.is_new(r)]
        # Rows grouped by the fields that changed: bulk_update builds one CASE per field, so
        # sending only the changed ones keeps it fast (most history updates touch one field).
        changed: dict[tuple[str, ...], list[Region]] = defaultdict(list)
        for row in at_level:
            if not plan.is_new(row) and (fields := plan.changed_fields(row)):
                changed[fields].append(row)
        updated = sum(len(group) for group in changed.values())
        result.created += len(new)
        result.updated += updated
        result.unchanged += len(at_level) - len(new) - updated
        # Updates before inserts: an updated current row may give up the start year that a
        # new retired period of the same code takes.
        for fields, group in changed.items():
            Region.objects.bulk_update(
                group, [f.removesuffix("_id") for f in fields], batch_size=1000
            )
        Region.objects.bulk_create(new, batch_size=1000)


def import_regions(
    path: Path | str, *, skip_bad_rows: bool = False, actor: models.Model | None = None
) -> ImportResult:
    """Import a region file (either format, detected from the header).

    Guarantees: nothing is written when the file cannot be read (ImportFileError) or has bad rows
    and `skip_bad_rows` is false (ImportRejected, carrying every bad row); otherwise the good rows
    are written in one transaction with one audit event `regions.region.imported`. A second
    import of the same file changes nothing.
    """
    table = read_csv(path)
    return import_regions_table(table, skip_bad_rows=skip_bad_rows, actor=actor)


def import_regions_table(
    table: CsvTable, *, skip_bad_rows: bool = False, actor: models.Model | None = None
) -> ImportResult:
    file_format = detect_format(table)
    periods, errors = validate_rows(table, file_format)
    result = ImportResult(kind=_("Regions"), file=table.name, file_format=file_format)
    with import_transaction(table.name):
        plan = _Plan()
        for level in LEVEL_ORDER:
            at_level = [p for p in periods if p.level == level]
            if file_format == FORMAT_CODES:
                _plan_codes(plan, at_level)
            else:
                _plan_history(plan, at_level)
        result.errors = sorted(errors + plan.errors, key=lambda e: e.line)
        if result.errors and not skip_bad_rows:
            raise ImportRejected(result)
        _write(plan, result)
        record(
            "regions.region.imported",
            actor=actor,
            object_type="regions.region",
            data=result.audit_data(),
        )
    result.imported = True
    return result
