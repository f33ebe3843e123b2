"""The bank files of a disbursement batch: the payment file Zhipei sends and the return file
the bank sends back. Pure functions over rows of text; nothing here reads the database.

Both files are one table, as CSV or as an Excel workbook (first sheet), with the same rows:

1. a header row naming the columns (names as below, any order for the return file);
2. one row per payment;
3. a last row, the checksum line: ``CHECKSUM,<count>,<total>,<sha256>`` — the number of
   payment rows, the sum of their amounts in yuan, and the SHA-256 (hex) of the canonical text
   of every row before it, header included.

Canonical text: each row's cells as text with surrounding spaces removed, trailing empty cells
dropped, written as one CSV line (comma-separated; a cell holding a comma, a double quote or a
line break is put in double quotes, with quotes doubled), each line ended by a line feed,
encoded as UTF-8 without a byte-order mark. Blank rows are left out. So the checksum is the
same for the CSV and the Excel form of a file, and for CRLF or LF line ends.

Amounts are yuan with exactly two decimals and no thousands separator (``1234.50``).

Payment file (we write it): ``payment_reference, application, payee_name, bank_name,
account_number, amount``. CSV files are UTF-8 (no byte-order mark) with CRLF line ends; in the
workbook every cell is a text cell, so long account numbers keep every digit and nothing a
payee typed can become a formula.

Return file (the bank writes it): columns ``payment_reference`` (as we sent it), ``amount``
(as we sent it), ``result`` (``paid`` or ``failed``), ``bank_reference`` (the bank's
transaction reference; required when paid), ``failure_reason`` (required when failed) and,
optionally, ``paid_on`` (``YYYY-MM-DD``, the day the bank paid). Other columns are allowed and
ignored. CSV return files may be UTF-8 (with or without a byte-order mark) or GB18030/GBK. In a
workbook, amounts should be text cells; a number cell is read as its shortest decimal form
(``800.5``) and the checksum must then be computed over that text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook, load_workbook

from zhipei.core.errors import InvalidInput
from zhipei.core.money import parse_yuan, plain_yuan

CHECKSUM = "CHECKSUM"
PAYMENT_COLUMNS = (
    "payment_reference",
    "application",
    "payee_name",
    "bank_name",
    "account_number",
    "amount",
)
RETURN_COLUMNS = ("payment_reference", "amount", "result", "bank_reference", "failure_reason")
OPTIONAL_RETURN_COLUMNS = ("paid_on",)
PAID = "paid"
FAILED = "failed"
RESULTS = (PAID, FAILED)
CSV_FORMAT = "csv"
XLSX_FORMAT = "xlsx"
FORMATS = (CSV_FORMAT, XLSX_FORMAT)
CONTENT_TYPES = {
    CSV_FORMAT: "text/csv; charset=utf-8",
    XLSX_FORMAT: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_LINES = 50_000
MAX_COLUMNS = 30
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}\Z")
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_MODIFIED_RE = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


@dataclass(frozen=True)
class LineError:
    """One refused line: `line` is its number in the file (header = 1; 0 = the file as a
    whole), `code` is stable for machines, `message` is for people."""

    line: int
    code: str
    message: str

    def __str__(self) -> str:
        if self.line == 0:
            return self.message
        return _("line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


class BankFileError(InvalidInput):
    """The file cannot be read as a table at all."""

    code = "bank_file_unreadable"


class ReturnFileRejected(InvalidInput):
    """The return file has bad lines: nothing of it was applied. `errors` lists every one."""

    code = "return_file_rejected"

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.line, e.code))
        super().__init__(
            ngettext(
                "The return file has %(count)s problem; nothing was applied.",
                "The return file has %(count)s problems; nothing was applied.",
                len(self.errors),
            )
            % {"count": len(self.errors)},
            field="file",
        )


# --- Writing ----------------------------------------------------------------------------------


def amount_text(fen: int) -> str:
    """Integer fen as the files write amounts: ``123450`` → ``"1234.50"``."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError("amount_text takes non-negative integer fen")
    return plain_yuan(fen)


def _canonical_cells(cells: Sequence[str]) -> list[str]:
    kept = [cell.strip() for cell in cells]
    while kept and kept[-1] == "":
        kept.pop()
    return kept


def canonical_text(rows: Iterable[Sequence[str]]) -> str:
    """The text the checksum is computed over (see the module docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for cells in rows:
        kept = _canonical_cells(cells)
        if kept:
            writer.writerow(kept)
    return out.getvalue()


def content_sha256(rows: Iterable[Sequence[str]]) -> str:
    return hashlib.sha256(canonical_text(rows).encode("utf-8")).hexdigest()


def with_checksum(rows: list[list[str]], *, count: int, total_fen: int) -> list[list[str]]:
    """`rows` (header and data) followed by their checksum line."""
    return [*rows, [CHECKSUM, str(count), amount_text(total_fen), content_sha256(rows)]]


@dataclass(frozen=True)
class PaymentLine:
    """One row of the payment file, with the account number in clear (memory only)."""

    reference: str
    application: str
    payee_name: str
    bank_name: str
    account_number: str
    amount_fen: int


def payment_file_rows(lines: Sequence[PaymentLine]) -> list[list[str]]:
    """Header, one row per payment and the checksum line."""
    rows = [list(PAYMENT_COLUMNS)]
    rows.extend(
        [
            line.reference,
            line.application,
            line.payee_name,
            line.bank_name,
            line.account_number,
            amount_text(line.amount_fen),
        ]
        for line in lines
    )
    return with_checksum(rows, count=len(lines), total_fen=sum(line.amount_fen for line in lines))


@dataclass(frozen=True)
class ReturnLine:
    """One line of a return file as the bank writes it (for tests and bank simulators)."""

    reference: str
    amount_fen: int
    result: str
    bank_reference: str = ""
    failure_reason: str = ""
    paid_on: date | None = None


def return_file_rows(lines: Sequence[ReturnLine]) -> list[list[str]]:
    """A well-formed return file: header, the lines and their checksum line."""
    with_dates = any(line.paid_on is not None for line in lines)
    header = list(RETURN_COLUMNS) + (["paid_on"] if with_dates else [])
    rows = [header]
    for line in lines:
        row = [
            line.reference,
            amount_text(line.amount_fen),
            line.result,
            line.bank_reference,
            line.failure_reason,
        ]
        if with_dates:
            row.append(line.paid_on.isoformat() if line.paid_on else "")
        rows.append(row)
    return with_checksum(rows, count=len(lines), total_fen=sum(line.amount_fen for line in lines))


def to_csv(rows: Iterable[Sequence[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def to_xlsx(rows: Iterable[Sequence[str]], *, sheet_title: str, when: datetime) -> bytes:
    """The rows as a workbook of text cells. The same rows and `when` always give the same
    bytes (the document dates and the zip entries' times are set to `when`), so exporting a
    batch again yields the same file."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title[:31]
    for values in rows:
        sheet.append(list(values))
    for row in sheet.iter_rows():
        for cell in row:
            # Text, whatever it looks like: a payee name starting with "=" stays a name.
            cell.data_type = "s"
            cell.number_format = "@"
    for letter, width in zip("ABCDEF", (22, 14, 20, 24, 26, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    stamp = when.astimezone(UTC).replace(microsecond=0)
    book.properties.creator = "Zhipei"
    book.properties.created = stamp.replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return _fixed_zip(out.getvalue(), stamp)


def _fixed_zip(data: bytes, stamp: datetime) -> bytes:
    """Rewrite a workbook's zip with every entry dated `stamp` and the document's
    "modified" date set to it (openpyxl writes the current time into both)."""
    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, 0)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED_RE.sub(rb"\g<1>" + iso + rb"\g<2>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


# --- Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    line: int
    cells: tuple[str, ...]

    @property
    def blank(self) -> bool:
        return not any(self.cells)


def _number_text(value: float | int | Decimal) -> str:
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _temporal_text(value: date) -> str:
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    return value.isoformat()


def cell_text(value: Any) -> str:
    """A workbook cell as the text the checksum and the parser read."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, date):
        text = _temporal_text(value)
    elif isinstance(value, (int, float, Decimal)):
        text = _number_text(value)
    else:
        text = str(value).strip()
    return text


def _too_many_lines() -> BankFileError:
    return BankFileError(
        _("The file has more than %(max)s lines; split it.") % {"max": MAX_LINES}, field="file"
    )


def _read_csv(data: bytes) -> list[Row]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly any byte string
        raise BankFileError(_("The file is not UTF-8 or GB18030 text."), field="file")
    if "\x00" in text:
        raise BankFileError(_("The file is not a CSV text file."), field="file")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[Row] = []
    try:
        for cells in reader:
            if len(rows) >= MAX_LINES:
                raise _too_many_lines()
            rows.append(Row(reader.line_num, tuple(c.strip() for c in cells[:MAX_COLUMNS])))
    except csv.Error as exc:
        raise BankFileError(
            _("The CSV file cannot be read near line %(line)s: %(problem)s")
            % {"line": reader.line_num, "problem": str(exc)},
            field="file",
        ) from exc
    return rows


def _read_xlsx(data: bytes) -> list[Row]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any failure to open the workbook is the file's fault
        raise BankFileError(_("The Excel file cannot be opened."), field="file") from exc
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise BankFileError(_("The Excel file has no sheet."), field="file")
        rows: list[Row] = []
        for number, values in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
        ):
            if number > MAX_LINES:
                raise _too_many_lines()
            rows.append(Row(number, tuple(cell_text(v) for v in values)))
        return rows
    except BankFileError:
        raise
    except Exception as exc:  # a broken sheet inside a readable zip
        raise BankFileError(_("The Excel file cannot be read."), field="file") from exc
    finally:
        book.close()


def read_table(filename: str, data: bytes) -> tuple[str, list[Row]]:
    """The rows of an uploaded CSV or .xlsx file and its format. The format is decided by
    the content (a workbook is a zip) and must match the name's extension."""
    extension = PurePath(filename or "").suffix.lower()
    if extension not in (".csv", ".xlsx"):
        raise BankFileError(
            _("Upload the return file as .csv or .xlsx (got “%(name)s”).") % {"name": filename},
            field="file",
        )
    if not data:
        raise BankFileError(_("The file is empty."), field="file")
    is_workbook = data.startswith(b"PK\x03\x04")
    if is_workbook != (extension == ".xlsx"):
        raise BankFileError(
            _("The file “%(name)s” is named %(extension)s but its content is not.")
            % {"name": filename, "extension": extension},
            field="file",
        )
    if is_workbook:
        return XLSX_FORMAT, _read_xlsx(data)
    return CSV_FORMAT, _read_csv(data)


# --- Return files -----------------------------------------------------------------------------


@dataclass
class ParsedLine:
    """One payment line of a return file, as read. `amount_fen` is None when the amount
    could not be read (the error is reported)."""

    line: int
    reference: str
    amount_fen: int | None
    result: str
    bank_reference: str
    failure_reason: str
    paid_on: date | None


@dataclass
class ParsedReturnFile:
    file_format: str
    lines: list[ParsedLine] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)

    def error(self, line: int, code: str, message: str) -> None:
        self.errors.append(LineError(line, code, message))


def _header_map(header: Row, parsed: ParsedReturnFile) -> dict[str, int] | None:
    names = [cell.strip().lower() for cell in header.cells]
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in RETURN_COLUMNS + OPTIONAL_RETURN_COLUMNS:
            if name in positions:
                parsed.error(
                    header.line,
                    "duplicate_column",
                    _("The column “%(column)s” appears twice.") % {"column": name},
                )
            positions.setdefault(name, index)
    missing = [name for name in RETURN_COLUMNS if name not in positions]
    if missing:
        parsed.error(
            header.line,
            "missing_columns",
            _("The header lacks the columns: %(columns)s. Expected: %(expected)s.")
            % {"columns": ", ".join(missing), "expected": ", ".join(RETURN_COLUMNS)},
        )
        return None
    return positions


def _split_checksum(rows: list[Row], parsed: ParsedReturnFile) -> tuple[list[Row], Row | None]:
    """The data rows (after the header) and the checksum row; reports a missing, repeated or
    misplaced checksum line."""
    body = [row for row in rows[1:] if not row.blank]
    marks = [i for i, row in enumerate(body) if row.cells[0].strip().upper() == CHECKSUM]
    if not marks:
        parsed.error(
            rows[-1].line if rows else 0,
            "checksum_missing",
            _(
                "The checksum line is missing: the last line must be CHECKSUM,<count>,<total>,"
                "<sha256>."
            ),
        )
        return body, None
    last = marks[-1]
    for index in marks[:-1]:
        parsed.error(
            body[index].line,
            "checksum_repeated",
            _("Only the last line may be a checksum line."),
        )
    for row in body[last + 1 :]:
        parsed.error(row.line, "after_checksum", _("Nothing may follow the checksum line."))
    data = [row for i, row in enumerate(body[:last]) if i not in marks]
    return data, body[last]


def _cell(row: Row, positions: dict[str, int], name: str) -> str:
    index = positions.get(name)
    if index is None or index >= len(row.cells):
        return ""
    return row.cells[index].strip()


def _parse_line(row: Row, positions: dict[str, int], parsed: ParsedReturnFile) -> ParsedLine:
    reference = _cell(row, positions, "payment_reference")
    if not reference:
        parsed.error(row.line, "reference_missing", _("The payment reference is empty."))
    amount_fen: int | None = None
    raw_amount = _cell(row, positions, "amount")
    try:
        amount_fen = parse_yuan(raw_amount)
    except InvalidInput as exc:
        parsed.error(
            row.line,
            "bad_amount",
            _("The amount “%(amount)s” cannot be read: %(problem)s")
            % {"amount": raw_amount, "problem": exc.message},
        )
    result = _cell(row, positions, "result").lower()
    bank_reference = _cell(row, positions, "bank_reference")
    failure_reason = _cell(row, positions, "failure_reason")
    if result not in RESULTS:
        parsed.error(
            row.line,
            "bad_result",
            _("The result “%(result)s” is neither “paid” nor “failed”.")
            % {"result": _cell(row, positions, "result")},
        )
    elif result == PAID and not bank_reference:
        parsed.error(
            row.line, "bank_reference_missing", _("A paid line needs the bank's reference.")
        )
    elif result == FAILED and not failure_reason:
        parsed.error(row.line, "reason_missing", _("A failed line needs the failure reason."))
    if len(bank_reference) > 100:
        parsed.error(row.line, "bank_reference_too_long", _("The bank reference is too long."))
    paid_on: date | None = None
    raw_day = _cell(row, positions, "paid_on")
    if raw_day:
        try:
            if not _DATE_RE.match(raw_day):
                raise ValueError(raw_day)
            paid_on = date.fromisoformat(raw_day)
        except ValueError:
            parsed.error(
                row.line,
                "bad_date",
                _("The payment date “%(day)s” is not a date (YYYY-MM-DD).") % {"day": raw_day},
            )
    return ParsedLine(
        line=row.line,
        reference=reference,
        amount_fen=amount_fen,
        result=result,
        bank_reference=bank_reference,
        failure_reason=failure_reason[:500],
        paid_on=paid_on,
    )


def _check_duplicates(parsed: ParsedReturnFile) -> None:
    seen: dict[str, int] = {}
    seen_bank: dict[str, int] = {}
    for line in parsed.lines:
        if line.reference:
            if line.reference in seen:
                parsed.error(
                    line.line,
                    "duplicate_line",
                    _("Payment %(reference)s appears again (first on line %(first)s).")
                    % {"reference": line.reference, "first": seen[line.reference]},
                )
            else:
                seen[line.reference] = line.line
        if line.bank_reference and line.result == PAID:
            if line.bank_reference in seen_bank:
                parsed.error(
                    line.line,
                    "duplicate_bank_reference",
                    _("The bank reference %(bank)s is used again (first on line %(first)s).")
                    % {"bank": line.bank_reference, "first": seen_bank[line.bank_reference]},
                )
            else:
                seen_bank[line.bank_reference] = line.line


def _check_checksum(header: Row, data: list[Row], checksum: Row, parsed: ParsedReturnFile) -> None:
    cells = [*checksum.cells, "", "", ""]
    count_text, total_text, digest = cells[1].strip(), cells[2].strip(), cells[3].strip()
    expected = content_sha256([header.cells, *(row.cells for row in data)])
    if not _SHA256_RE.match(digest):
        parsed.error(
            checksum.line,
            "checksum_malformed",
            _("The checksum line's last cell must be a SHA-256 in hexadecimal (64 characters)."),
        )
    elif digest.lower() != expected:
        parsed.error(
            checksum.line,
            "checksum_mismatch",
            _(
                "The checksum does not match the file's lines: the file was changed after it "
                "was made, or made in another way."
            ),
        )
    if count_text != str(len(data)):
        parsed.error(
            checksum.line,
            "count_mismatch",
            _("The checksum line counts %(stated)s payments; the file has %(actual)s.")
            % {"stated": count_text or "—", "actual": len(data)},
        )
    amounts = [line.amount_fen for line in parsed.lines]
    if all(amount is not None for amount in amounts):
        total = sum(amount for amount in amounts if amount is not None)
        try:
            stated: int | None = parse_yuan(total_text)
        except InvalidInput:
            stated = None
        if stated != total:
            parsed.error(
                checksum.line,
                "total_mismatch",
                _("The checksum line totals %(stated)s; the lines add up to %(actual)s.")
                % {"stated": total_text or "—", "actual": amount_text(total)},
            )


def parse_return_file(filename: str, data: bytes) -> ParsedReturnFile:
    """Read a return file and check everything that needs no database: the columns, each
    line's cells, duplicate lines and bank references, and the checksum line. Every problem
    is collected with its line number; the caller refuses the file when there is any.
    Raises BankFileError when the file cannot be read as a table at all."""
    file_format, rows = read_table(filename, data)
    parsed = ParsedReturnFile(file_format=file_format)
    rows_with_content = [row for row in rows if not row.blank]
    if not rows_with_content:
        raise BankFileError(_("The file has no lines."), field="file")
    header = rows_with_content[0]
    positions = _header_map(header, parsed)
    if positions is None:
        return parsed
    start = rows.index(header)
    data_rows, checksum = _split_checksum(rows[start:], parsed)
    if not data_rows:
        parsed.error(header.line, "no_lines", _("The file has no payment lines."))
    parsed.lines = [_parse_line(row, positions, parsed) for row in data_rows]
    _check_duplicates(parsed)
    if checksum is not None:
        _check_checksum(header, data_rows, checksum, parsed)
    return parsed
