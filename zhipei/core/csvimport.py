"""Shared plumbing for the CSV importers (regions, occupations, trades).

Every importer follows one policy (ARCHITECTURE invariant 9):

* the file must be UTF-8 (a byte-order mark is accepted and dropped); anything else is refused
  with a message naming the file;
* missing columns are named;
* every row is validated before anything is written, and each bad row is reported with its line
  number (the header is line 1) and the reason;
* with any bad row nothing is imported (`ImportRejected`) unless the caller asked to skip bad
  rows, in which case the good rows are imported and the bad ones are still listed;
* the write is one transaction, so an import is never half-saved.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zhipei.core.errors import Conflict, InvalidInput


class ImportFileError(InvalidInput):
    """The file as a whole cannot be read: not found, not UTF-8, no header, missing columns."""

    code = "import_file_error"


@dataclass(frozen=True)
class RowError:
    """One bad row: `line` is the physical line in the file (header = 1), `code` is stable for
    machines, `reason` is for people."""

    line: int
    code: str
    reason: str

    def __str__(self) -> str:
        return _("line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass
class ImportResult:
    """What one import did (or, when rejected, would have refused)."""

    kind: str
    file: str
    file_format: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        text = _(
            "%(kind)s from %(file)s: %(created)s created, %(updated)s updated, "
            "%(unchanged)s unchanged."
        ) % {
            "kind": self.kind,
            "file": self.file,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }
        if self.errors:
            text += " " + ngettext(
                "%(count)s bad row skipped.", "%(count)s bad rows skipped.", len(self.errors)
            ) % {"count": len(self.errors)}
        return text

    def audit_data(self) -> dict[str, object]:
        return {
            "file": self.file,
            "format": self.file_format,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "bad_rows": len(self.errors),
            "bad_lines": [error.line for error in self.errors][:100],
        }


class ImportRejected(InvalidInput):
    """The file has bad rows and the caller did not ask to skip them: nothing was imported."""

    code = "import_rejected"

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        message = ngettext(
            "%(file)s has %(count)s bad row; nothing was imported.",
            "%(file)s has %(count)s bad rows; nothing was imported.",
            len(result.errors),
        ) % {"file": result.file, "count": len(result.errors)}
        super().__init__(message)

    def report(self) -> str:
        """The message, every bad row on its own line, and the way out."""
        lines = [str(self.message), *(str(error) for error in self.result.errors)]
        lines.append(_("Fix these rows, or import the good rows only with --skip-bad-rows."))
        return "\n".join(lines)


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


@dataclass
class CsvTable:
    name: str
    header: list[str]
    rows: list[CsvRow]
    # Rows whose field count differs from the header's, found while reading.
    errors: list[RowError]


def decode_utf8(name: str, data: bytes) -> str:
    """UTF-8 text of `data` without a byte-order mark; ImportFileError otherwise."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            data.decode("gb18030")
        except UnicodeDecodeError:
            hint = ""
        else:
            hint = " " + _("It looks like GBK/GB 18030, which is not accepted.")
        raise ImportFileError(
            _(
                "%(file)s is not UTF-8 text (undecodable byte at offset %(offset)s)."
                "%(hint)s Save it as UTF-8 and import it again."
            )
            % {"file": name, "offset": exc.start, "hint": hint}
        ) from None


def read_csv(path: Path | str) -> CsvTable:
    """Read a whole CSV file: header row first, comma separated, standard quoting."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(
            _("Cannot read %(file)s: %(error)s") % {"file": str(path), "error": exc.strerror}
        ) from None
    return parse_csv(path.name, data)


def parse_csv(name: str, data: bytes) -> CsvTable:
    text = decode_utf8(name, data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise ImportFileError(
            _("%(file)s is empty: it has no header row.") % {"file": name}
        ) from None
    except csv.Error as exc:
        raise ImportFileError(
            _("%(file)s is not a readable CSV file: %(error)s") % {"file": name, "error": exc}
        ) from None
    duplicates = sorted({column for column in header if column and header.count(column) > 1})
    if duplicates:
        raise ImportFileError(
            _("%(file)s has duplicate columns: %(columns)s.")
            % {"file": name, "columns": ", ".join(duplicates)}
        )
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if len(cells) != len(header):
                errors.append(
                    RowError(
                        line,
                        "field_count",
                        _("the row has %(found)s fields but the header has %(expected)s.")
                        % {"found": len(cells), "expected": len(header)},
                    )
                )
                continue
            rows.append(
                CsvRow(
                    line, {column: cell.strip() for column, cell in zip(header, cells, strict=True)}
                )
            )
    except csv.Error as exc:
        raise ImportFileError(
            _("%(file)s is not a readable CSV file (line %(line)s): %(error)s")
            % {"file": name, "line": reader.line_num, "error": exc}
        ) from None
    return CsvTable(name=name, header=header, rows=rows, errors=errors)


def require_columns(table: CsvTable, required: Iterable[str]) -> None:
    missing = [column for column in required if column not in table.header]
    if missing:
        raise ImportFileError(
            ngettext(
                "%(file)s lacks the column %(columns)s.",
                "%(file)s lacks the columns %(columns)s.",
                len(missing),
            )
            % {"file": table.name, "columns": ", ".join(missing)}
        )


@contextmanager
def import_transaction(name: str) -> Iterator[None]:
    """One transaction for the whole write. Rows are matched in memory, so a concurrent import
    of the same data can still collide on a unique constraint: that rolls everything back and
    becomes a Conflict asking for a re-run (which then finds the other import's rows)."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise Conflict(
            _(
                "%(file)s: the data changed while importing (another import?). Nothing was saved; run the import again."
            )
            % {"file": name}
        ) from None
