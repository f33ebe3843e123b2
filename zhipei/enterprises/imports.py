"""Excel import of a roster (职工花名册): template, upload, background check, preview, commit.

Flow: `start_roster_import` checks the upload's type from its content and keeps its bytes
encrypted on a RosterImport; a background task (`tasks.parse_roster_import`) reads the workbook
into RosterImportRow rows — each with its row number, its problems, and the ID number
encrypted — and wipes the file. The administrator sees the preview (masked ID numbers only)
and chooses `commit_roster_import` (good rows only) or `cancel_roster_import` (nothing). The
commit runs in a background task in resumable batches: each batch is one transaction that adds
its rows and advances the counters, so a failure leaves whole batches done and the rest
pending, and `resume_roster_import` carries on where it stopped. When the import ends every
row's ciphertext is wiped.

Why not keep the uploaded file: it holds ID numbers in clear, and Zhipei keeps ID numbers only
encrypted (ARCHITECTURE invariant 2). Encrypting the bytes until the parse is done keeps the
background task possible without ever writing a clear number to disk.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from zhipei.accounts.models import User
from zhipei.audit.services import record
from zhipei.catalog.catalogues.excel import Column
from zhipei.catalog.uploads import XLSX, check_file
from zhipei.core.crypto import CryptoError, decrypt, encrypt
from zhipei.core.errors import DomainError, InvalidInput, StaleObject, TransitionNotAllowed
from zhipei.core.text import ascii_digits
from zhipei.enterprises.models import (
    Employment,
    EmploymentKind,
    RosterImport,
    RosterImportRow,
)
from zhipei.enterprises.services import (
    clean_dispatcher,
    insert_employment,
    require_enterprise_admin,
)
from zhipei.orgs.models import Enterprise
from zhipei.people.idnumber import MESSAGES as ID_MESSAGES
from zhipei.people.idnumber import InvalidIdNumber, Reason, parse_id_number
from zhipei.people.models import Person
from zhipei.people.queries import find_person_by_id_number, id_number_blind_index
from zhipei.people.services import MOBILE_RE, NAME_MAX_LENGTH, create_person
from zhipei.regions.models import Region

logger = logging.getLogger(__name__)

MAX_ROWS = 20000
PARSE_BATCH = 500
COMMIT_BATCH = 200
EARLIEST_START = date(1950, 1, 1)
SHEET_TITLE = "花名册 Roster"
ST = RosterImport.Status

COLUMNS = (
    Column("name", "姓名", required=True),
    Column("id_number", "公民身份号码", required=True),
    Column("phone", "手机号码"),
    Column("kind", "人员类型", required=True),
    Column("start_on", "开始日期", required=True),
    Column("dispatcher", "派遣单位"),
)
_LABELS = {c.key: c.header for c in COLUMNS}
KIND_WORDS: dict[str, str] = {
    "employee": EmploymentKind.EMPLOYEE,
    "职工": EmploymentKind.EMPLOYEE,
    "员工": EmploymentKind.EMPLOYEE,
    "在职职工": EmploymentKind.EMPLOYEE,
    "dispatched": EmploymentKind.DISPATCHED,
    "派遣": EmploymentKind.DISPATCHED,
    "劳务派遣": EmploymentKind.DISPATCHED,
    "派遣员工": EmploymentKind.DISPATCHED,
    "platform_worker": EmploymentKind.PLATFORM_WORKER,
    "平台": EmploymentKind.PLATFORM_WORKER,
    "平台从业人员": EmploymentKind.PLATFORM_WORKER,
    "平台就业人员": EmploymentKind.PLATFORM_WORKER,
}


def build_template() -> bytes:
    """The empty template: one header row with Chinese and English names (required ones
    starred), one example row to overwrite, and a notes sheet with the allowed values."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE
    sheet.append([c.header + (" *" if c.required else "") for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index in range(len(COLUMNS)):
        sheet.column_dimensions[chr(ord("A") + index)].width = 24
    notes = book.create_sheet("说明 Notes")
    notes.append(["人员类型 kind", "职工 employee / 派遣 dispatched / 平台 platform_worker"])
    notes.append(["开始日期 start_on", "YYYY-MM-DD"])
    notes.append(["派遣单位 dispatcher", "派遣人员必填：派遣单位名称或统一社会信用代码"])
    notes.append(["dispatcher", "Required for dispatched workers: name or credit code"])
    notes.append(["公民身份号码 id_number", "18位 / 18 characters"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- Upload -----------------------------------------------------------------------------------


def _file_ad(roster_import: RosterImport) -> bytes:
    return f"enterprises.rosterimport:{roster_import.pk}".encode()


def _row_ad(import_pk: int, row_number: int) -> bytes:
    return f"enterprises.rosterimportrow:{import_pk}:{row_number}".encode()


@transaction.atomic
def start_roster_import(enterprise: Enterprise, file: UploadedFile, *, by: User) -> RosterImport:
    """Accept a roster workbook and queue its check. The type is read from the content (an
    .xlsx workbook only); the bytes are kept encrypted until the check has read them.

    Raises NotAllowed, NotInScope, InvalidInput (field file: empty, too large, not a
    workbook, name not matching the content).
    """
    require_enterprise_admin(by, enterprise)
    content, detected, name = check_file(file)
    if detected != XLSX:
        raise InvalidInput(
            _("The file “%(name)s” is not an Excel .xlsx workbook. Use the template.")
            % {"name": name},
            field="file",
        )
    roster_import = RosterImport.objects.create(
        enterprise=enterprise,
        uploaded_by=by,
        original_name=name,
        sha256=hashlib.sha256(content).hexdigest(),
        size_bytes=len(content),
    )
    key_id, blob = encrypt(content, associated_data=_file_ad(roster_import))
    RosterImport.objects.filter(pk=roster_import.pk).update(
        file_ciphertext=blob, file_key_id=key_id
    )
    record(
        "enterprises.roster_import.uploaded",
        actor=by,
        obj=roster_import,
        region_code=enterprise.organisation.region.code,
        data={"name": name, "sha256": roster_import.sha256, "size_bytes": len(content)},
    )
    from zhipei.enterprises.tasks import parse_roster_import

    pk = roster_import.pk
    transaction.on_commit(lambda: parse_roster_import.enqueue(pk))
    roster_import.refresh_from_db()
    return roster_import


# --- Parsing ----------------------------------------------------------------------------------


@dataclass
class _Parsed:
    """One row's values as read, before the database checks. `number` is the clear ID number
    and lives only in memory."""

    row_number: int
    name: str = ""
    number: str = ""
    id_masked: str = ""
    phone: str = ""
    kind: str = ""
    start_on: date | None = None
    dispatcher_name: str = ""
    dispatcher_uscc: str = ""
    person: Person | None = None

    def __post_init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append({"column": _LABELS.get(key, ""), "message": message})


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(values: tuple[Any, ...]) -> dict[str, int] | str:
    """Column positions by key, or the message naming the missing columns."""
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        words = str(value or "").replace("*", " ").split()
        for column in COLUMNS:
            if column.key in words or column.chinese in words:
                found.setdefault(column.key, index)
    missing = [c.header for c in COLUMNS if c.required and c.key not in found]
    if missing:
        return gettext("Missing columns: %(columns)s. Use the template.") % {
            "columns": ", ".join(missing)
        }
    return found


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        parts = text.split("-")
        if len(parts) == 3 and all(ascii_digits(p) for p in parts):
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                pass
        raise ValueError(gettext("Write the date as YYYY-MM-DD.")) from None


def _read_identity(row: _Parsed, cells: dict[str, Any]) -> None:
    row.name = _cell_text(cells.get("name"))[:NAME_MAX_LENGTH]
    if row.name and any(ch.isdigit() for ch in row.name):  # a digit of any script
        row.error("name", gettext("A name may not contain digits."))
    raw_id = _cell_text(cells.get("id_number"))
    if raw_id:
        try:
            # The address code is checked per batch in one query (_check_against_database).
            info = parse_id_number(raw_id, check_region=False)
        except InvalidIdNumber as exc:
            row.error("id_number", str(exc.message))
        else:
            row.number, row.id_masked = info.number, info.masked
    row.phone = _cell_text(cells.get("phone"))
    if row.phone and not MOBILE_RE.match(row.phone):
        row.error(
            "phone", gettext("Enter a mainland mobile number: 11 digits starting with 13 to 19.")
        )
        row.phone = ""


def _read_kind(row: _Parsed, cells: dict[str, Any]) -> None:
    raw_kind = _cell_text(cells.get("kind"))
    if raw_kind:
        kind = KIND_WORDS.get(raw_kind.lower()) or KIND_WORDS.get(raw_kind)
        if kind is None:
            row.error(
                "kind",
                gettext("Unknown kind “%(kind)s”: write 职工, 派遣 or 平台.")
                % {"kind": raw_kind[:40]},
            )
        else:
            row.kind = kind
    dispatcher = _cell_text(cells.get("dispatcher"))
    if row.kind:
        uscc = dispatcher if len(dispatcher) == 18 and dispatcher.isalnum() else ""
        try:
            row.dispatcher_name, row.dispatcher_uscc = clean_dispatcher(
                row.kind, "" if uscc else dispatcher, uscc
            )
        except InvalidInput as exc:
            row.error("dispatcher", str(exc.message))


def _read_start(row: _Parsed, cells: dict[str, Any], today: date) -> None:
    if not _cell_text(cells.get("start_on")):
        return
    try:
        start_on = _parse_date(cells.get("start_on"))
    except ValueError as exc:
        row.error("start_on", str(exc))
        return
    if start_on > today:
        row.error("start_on", gettext("The start date lies in the future."))
    elif start_on < EARLIEST_START:
        row.error("start_on", gettext("The start date is before 1950."))
    else:
        row.start_on = start_on


def _read_row(
    number: int, values: tuple[Any, ...], mapping: dict[str, int], today: date
) -> _Parsed:
    cells = {
        key: (values[index] if index < len(values) else None) for key, index in mapping.items()
    }
    row = _Parsed(row_number=number)
    for column in COLUMNS:
        if column.required and _cell_text(cells.get(column.key)) == "":
            row.error(column.key, gettext("This cell is required."))
    _read_identity(row, cells)
    _read_kind(row, cells)
    _read_start(row, cells, today)
    return row


def _check_address_codes(rows: list[_Parsed]) -> None:
    """An ID number's first six digits must be a GB/T 2260 code, current or retired."""
    codes = {r.number[:6] for r in rows if r.number}
    known_codes = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    for row in rows:
        if row.number and row.number[:6] not in known_codes:
            row.error("id_number", str(ID_MESSAGES[Reason.REGION_UNKNOWN]))
            row.number = ""


def _check_against_database(
    enterprise: Enterprise, rows: list[_Parsed], first_row_of: dict[str, int]
) -> None:
    """File-wide and database checks for one batch: repeated ID numbers, the registered name,
    overlapping periods on this roster, and the ID numbers' address codes. One query each for
    the codes, the people and their periods."""
    _check_address_codes(rows)
    for row in rows:
        if not row.number:
            continue
        first = first_row_of.setdefault(row.number, row.row_number)
        if first != row.row_number:
            row.error(
                "id_number",
                gettext("This ID number is also in row %(row)d.") % {"row": first},
            )
    indexes = {id_number_blind_index(r.number): r for r in rows if r.number and not r.errors}
    people = {p.id_blind_index: p for p in Person.objects.filter(id_blind_index__in=list(indexes))}
    for index, row in indexes.items():
        row.person = people.get(index)
        if row.person is not None and row.name and row.person.name != row.name:
            row.error(
                "name",
                gettext("The name does not match the name registered for this ID number."),
            )
    known = [r for r in rows if r.person is not None and not r.errors]
    periods: dict[int, list[Employment]] = {}
    for employment in Employment.objects.filter(
        enterprise=enterprise, person__in=[r.person for r in known]
    ).order_by("start_on"):
        periods.setdefault(employment.person_id, []).append(employment)
    for row in known:
        assert row.person is not None and row.start_on is not None
        for employment in periods.get(row.person.pk, []):
            if employment.end_on is None or employment.end_on >= row.start_on:
                if employment.end_on is None:
                    message = gettext("Already on the roster from %(start)s.") % {
                        "start": employment.start_on
                    }
                else:
                    message = gettext("Already on the roster from %(start)s to %(end)s.") % {
                        "start": employment.start_on,
                        "end": employment.end_on,
                    }
                row.error("start_on", message)
                break


def _staged(roster_import: RosterImport, row: _Parsed) -> RosterImportRow:
    key_id, blob = "", b""
    if row.number and not row.errors:
        key_id, blob = encrypt(
            row.number.encode("ascii"), associated_data=_row_ad(roster_import.pk, row.row_number)
        )
    return RosterImportRow(
        roster_import=roster_import,
        row_number=row.row_number,
        name=row.name,
        id_masked=row.id_masked,
        id_ciphertext=blob,
        id_key_id=key_id,
        phone=row.phone,
        kind=row.kind,
        start_on=row.start_on,
        dispatcher_name=row.dispatcher_name,
        dispatcher_uscc=row.dispatcher_uscc,
        person=row.person,
        errors=row.errors,
        is_good=not row.errors,
    )


def _fail(roster_import: RosterImport, message: str, *, status_from: str) -> RosterImport:
    with transaction.atomic():
        RosterImportRow.objects.filter(roster_import=roster_import).delete()
        RosterImport.objects.filter(pk=roster_import.pk, status=status_from).update(
            status=ST.FAILED,
            status_changed_at=timezone.now(),
            finished_at=timezone.now(),
            file_error=message,
            file_ciphertext=b"",
            file_key_id="",
            good_rows=0,
            error_rows=0,
        )
        record(
            "enterprises.roster_import.failed",
            obj=roster_import,
            region_code=roster_import.enterprise.organisation.region.code,
            data={"stage": "check"},
        )
    roster_import.refresh_from_db()
    return roster_import


def _open_sheet(roster_import: RosterImport) -> tuple[Any, Any] | str:
    try:
        content = decrypt(
            roster_import.file_key_id,
            bytes(roster_import.file_ciphertext),
            associated_data=_file_ad(roster_import),
        )
    except CryptoError:
        return gettext("The uploaded file can no longer be read. Upload it again.")
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        return gettext("The workbook cannot be read.")
    if not book.worksheets:
        return gettext("The workbook has no sheet.")
    return book, book.worksheets[0]


def parse_roster_import(roster_import_id: int) -> RosterImport | None:
    """Check every row of an uploaded roster without touching the roster (the background
    task's body). Progress counters are saved after each batch so the page can show them;
    the encrypted file is wiped at the end. Returns None for an unknown import and the import
    unchanged when it is not waiting for its check (a replayed task)."""
    roster_import = (
        RosterImport.objects.select_related("enterprise__organisation__region")
        .filter(pk=roster_import_id)
        .first()
    )
    if roster_import is None or roster_import.status != ST.PARSING:
        return roster_import
    opened = _open_sheet(roster_import)
    if isinstance(opened, str):
        return _fail(roster_import, opened, status_from=ST.PARSING)
    book, sheet = opened
    try:
        return _parse_sheet(roster_import, sheet)
    finally:
        book.close()


def _parse_sheet(roster_import: RosterImport, sheet: Any) -> RosterImport:
    enterprise = roster_import.enterprise
    rows = sheet.iter_rows(values_only=True)
    mapping = _header_map(next(rows, ()))
    if isinstance(mapping, str):
        return _fail(roster_import, mapping, status_from=ST.PARSING)
    estimate = max((sheet.max_row or 1) - 1, 0)
    RosterImport.objects.filter(pk=roster_import.pk).update(total_rows=min(estimate, MAX_ROWS))
    RosterImportRow.objects.filter(roster_import=roster_import).delete()  # a retried task
    today = timezone.localdate()
    first_row_of: dict[str, int] = {}
    batch: list[_Parsed] = []
    counts = {"parsed": 0, "good": 0, "errors": 0}

    def flush() -> None:
        _check_against_database(enterprise, batch, first_row_of)
        staged = [_staged(roster_import, row) for row in batch]
        RosterImportRow.objects.bulk_create(staged)
        counts["parsed"] += len(staged)
        counts["good"] += sum(1 for s in staged if s.is_good)
        counts["errors"] += sum(1 for s in staged if not s.is_good)
        RosterImport.objects.filter(pk=roster_import.pk).update(
            parsed_rows=counts["parsed"], good_rows=counts["good"], error_rows=counts["errors"]
        )
        batch.clear()

    for number, values in enumerate(rows, start=2):
        if all(_cell_text(v) == "" for v in values):
            continue
        if counts["parsed"] + len(batch) >= MAX_ROWS:
            return _fail(
                roster_import,
                gettext("At most %(n)d rows per file: split the roster into several files.")
                % {"n": MAX_ROWS},
                status_from=ST.PARSING,
            )
        batch.append(_read_row(number, values, mapping, today))
        if len(batch) >= PARSE_BATCH:
            flush()
    if batch:
        flush()
    if counts["parsed"] == 0:
        return _fail(roster_import, gettext("The file has no data rows."), status_from=ST.PARSING)
    with transaction.atomic():
        RosterImport.objects.filter(pk=roster_import.pk, status=ST.PARSING).update(
            status=ST.PARSED,
            status_changed_at=timezone.now(),
            total_rows=counts["parsed"],
            file_ciphertext=b"",
            file_key_id="",
        )
        record(
            "enterprises.roster_import.checked",
            obj=roster_import,
            region_code=enterprise.organisation.region.code,
            data={"rows": counts["parsed"], "good": counts["good"], "errors": counts["errors"]},
        )
    roster_import.refresh_from_db()
    return roster_import


# --- The administrator's choice ---------------------------------------------------------------


def _wipe_rows(roster_import: RosterImport, **extra: object) -> None:
    RosterImportRow.objects.filter(roster_import=roster_import).exclude(id_key_id="").update(
        id_ciphertext=b"", id_key_id="", **extra
    )


def _cas(roster_import: RosterImport, expected: str, to: str, **fields: object) -> None:
    changed = RosterImport.objects.filter(pk=roster_import.pk, status=expected).update(
        status=to, status_changed_at=timezone.now(), **fields
    )
    if changed != 1:
        raise StaleObject()


@transaction.atomic
def commit_roster_import(roster_import: RosterImport, *, by: User) -> RosterImport:
    """The administrator chooses to add the good rows of a checked import; the work is queued
    (tasks.commit_roster_import). A replay while it runs or after it finished returns the
    import unchanged.

    Raises NotAllowed, NotInScope, InvalidInput (no good row), TransitionNotAllowed or
    StaleObject.
    """
    require_enterprise_admin(by, roster_import.enterprise)
    if roster_import.status in {ST.COMMITTING, ST.COMMITTED}:
        return roster_import
    if roster_import.status != ST.PARSED:
        raise TransitionNotAllowed(roster_import.status, ST.COMMITTING)
    if roster_import.good_rows == 0:
        raise InvalidInput(_("No row of this file can be added."))
    _cas(roster_import, ST.PARSED, ST.COMMITTING, decided_by=by)
    record(
        "enterprises.roster_import.commit_started",
        actor=by,
        obj=roster_import,
        region_code=roster_import.enterprise.organisation.region.code,
        data={"good": roster_import.good_rows, "errors": roster_import.error_rows},
    )
    from zhipei.enterprises.tasks import commit_roster_import as commit_task

    pk = roster_import.pk
    transaction.on_commit(lambda: commit_task.enqueue(pk))
    roster_import.refresh_from_db()
    return roster_import


@transaction.atomic
def cancel_roster_import(roster_import: RosterImport, *, by: User) -> RosterImport:
    """The administrator chooses to import nothing: the staged ID numbers are wiped. A replay
    returns the import unchanged. Raises NotAllowed, NotInScope, TransitionNotAllowed or
    StaleObject."""
    require_enterprise_admin(by, roster_import.enterprise)
    if roster_import.status == ST.CANCELLED:
        return roster_import
    if roster_import.status != ST.PARSED:
        raise TransitionNotAllowed(roster_import.status, ST.CANCELLED)
    _cas(roster_import, ST.PARSED, ST.CANCELLED, decided_by=by, finished_at=timezone.now())
    _wipe_rows(roster_import)
    record(
        "enterprises.roster_import.cancelled",
        actor=by,
        obj=roster_import,
        region_code=roster_import.enterprise.organisation.region.code,
        data={},
    )
    roster_import.refresh_from_db()
    return roster_import


@transaction.atomic
def resume_roster_import(roster_import: RosterImport, *, by: User) -> RosterImport:
    """Carry on a commit that stopped on an unexpected failure: rows already added stay,
    the pending ones are tried again. Raises NotAllowed, NotInScope, TransitionNotAllowed
    (not a stopped commit) or StaleObject."""
    require_enterprise_admin(by, roster_import.enterprise)
    if roster_import.status == ST.COMMITTING:
        return roster_import
    if roster_import.status != ST.FAILED or roster_import.decided_by_id is None:
        raise TransitionNotAllowed(roster_import.status, ST.COMMITTING)
    _cas(roster_import, ST.FAILED, ST.COMMITTING, commit_error="", finished_at=None)
    record(
        "enterprises.roster_import.commit_resumed",
        actor=by,
        obj=roster_import,
        region_code=roster_import.enterprise.organisation.region.code,
        data={"done": roster_import.committed_rows, "skipped": roster_import.skipped_rows},
    )
    from zhipei.enterprises.tasks import commit_roster_import as commit_task

    pk = roster_import.pk
    transaction.on_commit(lambda: commit_task.enqueue(pk))
    roster_import.refresh_from_db()
    return roster_import


# --- Commit -----------------------------------------------------------------------------------


def _person_for(row: RosterImportRow, number: str, enterprise: Enterprise, by: User) -> Person:
    if row.person_id is not None:
        assert row.person is not None
        return row.person
    existing = find_person_by_id_number(number)
    if existing is not None:
        if existing.name != row.name:
            raise InvalidInput(
                _("The name does not match the name registered for this ID number."),
                field="name",
            )
        return existing
    # People first met on a roster are registered in the enterprise's region.
    return create_person(
        name=row.name,
        id_number=number,
        region=enterprise.organisation.region,
        phone=row.phone,
        by=by,
    )


def _commit_row(roster_import: RosterImport, row: RosterImportRow, by: User) -> bool:
    """Add one staged row inside the batch's transaction (its own savepoint). A row that can
    no longer be added — the person was put on the roster since the check — is skipped with
    its reason; returns whether it was added."""
    enterprise = roster_import.enterprise
    number = decrypt(
        row.id_key_id,
        bytes(row.id_ciphertext),
        associated_data=_row_ad(roster_import.pk, row.row_number),
    ).decode("ascii")
    try:
        with transaction.atomic():
            person = _person_for(row, number, enterprise, by)
            assert row.start_on is not None
            employment = insert_employment(
                enterprise,
                person,
                kind=row.kind,
                start_on=row.start_on,
                dispatcher_name=row.dispatcher_name,
                dispatcher_uscc=row.dispatcher_uscc,
                by=by,
                roster_import=roster_import,
            )
    except DomainError as exc:
        column = {"start_on": "start_on", "name": "name", "kind": "kind"}.get(exc.field or "", "")
        row.errors = [*row.errors, {"column": _LABELS.get(column, ""), "message": str(exc.message)}]
        RosterImportRow.objects.filter(pk=row.pk).update(
            outcome=RosterImportRow.Outcome.SKIPPED,
            errors=row.errors,
            id_ciphertext=b"",
            id_key_id="",
        )
        return False
    RosterImportRow.objects.filter(pk=row.pk).update(
        outcome=RosterImportRow.Outcome.ADDED,
        person=person,
        employment=employment,
        id_ciphertext=b"",
        id_key_id="",
    )
    return True


def run_roster_commit(roster_import_id: int) -> RosterImport | None:
    """Add the pending good rows of a committing import in batches (the background task's
    body). Each batch is one transaction: its rows, their audit events and the counters commit
    together. On an unexpected error the import stops as failed with the batch rolled back;
    `resume_roster_import` continues it. Returns None for an unknown import and the import
    unchanged when it is not committing (a replayed task)."""
    roster_import = (
        RosterImport.objects.select_related("enterprise__organisation__region", "decided_by")
        .filter(pk=roster_import_id)
        .first()
    )
    if roster_import is None or roster_import.status != ST.COMMITTING:
        return roster_import
    by = roster_import.decided_by
    assert by is not None
    while True:
        pending = list(
            RosterImportRow.objects.select_related("person")
            .filter(
                roster_import=roster_import,
                is_good=True,
                outcome=RosterImportRow.Outcome.PENDING,
            )
            .order_by("row_number")[:COMMIT_BATCH]
        )
        if not pending:
            break
        try:
            with transaction.atomic():
                added = sum(1 for row in pending if _commit_row(roster_import, row, by))
                skipped = len(pending) - added
                RosterImport.objects.filter(pk=roster_import.pk).update(
                    committed_rows=roster_import.committed_rows + added,
                    skipped_rows=roster_import.skipped_rows + skipped,
                )
        except Exception as exc:
            logger.exception(
                "roster import %s stopped at row %s", roster_import.pk, pending[0].row_number
            )
            with transaction.atomic():
                RosterImport.objects.filter(pk=roster_import.pk, status=ST.COMMITTING).update(
                    status=ST.FAILED,
                    status_changed_at=timezone.now(),
                    commit_error=json.dumps(
                        {"row": pending[0].row_number, "error": type(exc).__name__}
                    ),
                )
                record(
                    "enterprises.roster_import.failed",
                    obj=roster_import,
                    region_code=roster_import.enterprise.organisation.region.code,
                    data={"stage": "commit", "row": pending[0].row_number},
                )
            roster_import.refresh_from_db()
            return roster_import
        roster_import.refresh_from_db()
    with transaction.atomic():
        RosterImport.objects.filter(pk=roster_import.pk, status=ST.COMMITTING).update(
            status=ST.COMMITTED, status_changed_at=timezone.now(), finished_at=timezone.now()
        )
        _wipe_rows(roster_import)
        record(
            "enterprises.roster_import.committed",
            actor=by,
            obj=roster_import,
            region_code=roster_import.enterprise.organisation.region.code,
            data={"added": roster_import.committed_rows, "skipped": roster_import.skipped_rows},
        )
    roster_import.refresh_from_db()
    return roster_import


def commit_failure_row(roster_import: RosterImport) -> int | None:
    """The row a stopped commit failed at (for the page)."""
    if not roster_import.commit_error:
        return None
    try:
        row = json.loads(roster_import.commit_error).get("row")
    except (ValueError, AttributeError):
        return None
    return row if isinstance(row, int) else None
