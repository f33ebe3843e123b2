"""Excel import of a platform's course list (openpyxl).

The template has two sheets: courses (one row per course) and lessons (one row per lesson,
naming its course's id). `read_course_workbook` checks a file without saving anything and
returns the good courses and every problem with its sheet, row and column; the platform then
chooses to import the good ones (`import_courses`, all of them or none, through
`publish_course`) or to fix the file. Blended courses (with offline sessions) are published
through the form or the API, not from Excel.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from pydantic import ValidationError

from zhipei.accounts.models import User
from zhipei.catalog.catalogues.courses import CourseData, check_course_data, publish_course
from zhipei.catalog.models import ContentCategory, Course, Lesson
from zhipei.core.text import ascii_digits
from zhipei.orgs.models import Platform

MAX_ROWS = 2000
COURSES_SHEET = "课程 Courses"
LESSONS_SHEET = "课时 Lessons"


@dataclass(frozen=True)
class Column:
    key: str
    chinese: str
    required: bool = False

    @property
    def header(self) -> str:
        return f"{self.chinese} {self.key}"


COURSE_COLUMNS = (
    Column("external_id", "课程编号", required=True),
    Column("title", "课程名称", required=True),
    Column("description", "课程简介"),
    Column("kind", "课程类型"),
    Column("master_name", "技能大师"),
    Column("occupation_codes", "职业编码", required=True),
    Column("trade", "工种"),
    Column("skill_level", "技能等级"),
    Column("categories", "内容类别", required=True),
    Column("class_hours", "课时", required=True),
    Column("is_free", "是否免费"),
    Column("free_from", "免费开始日期"),
    Column("free_until", "免费结束日期"),
    Column("requires_test", "是否需要测试"),
    Column("activity_iri", "活动IRI", required=True),
    Column("url", "课程网址", required=True),
    Column("standard", "职业技能标准编号"),
)
LESSON_COLUMNS = (
    Column("course_external_id", "课程编号", required=True),
    Column("external_id", "课时编号", required=True),
    Column("title", "课时名称", required=True),
    Column("kind", "课时类型", required=True),
    Column("activity_iri", "活动IRI", required=True),
    Column("media_duration_seconds", "媒体时长(秒)"),
)
_LIST_SPLIT = re.compile(r"[,，;；、\s]+")
_TRUE = {"是", "y", "yes", "true", "1", "免费"}
_FALSE = {"否", "n", "no", "false", "0", "收费"}


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int | None
    column: str
    message: str


@dataclass
class ReadResult:
    """What a workbook holds: good courses by their row, and every problem found."""

    courses: list[tuple[int, CourseData, bool]] = field(default_factory=list)  # row, data, new
    errors: list[RowError] = field(default_factory=list)

    @property
    def file_error(self) -> bool:
        return any(e.row is None for e in self.errors)


def build_template() -> bytes:
    """The empty template: a header row per sheet, Chinese and English column names, and the
    allowed values in a third sheet."""
    book = Workbook()
    courses = book.active
    assert courses is not None
    courses.title = COURSES_SHEET
    lessons = book.create_sheet(LESSONS_SHEET)
    for sheet, columns in ((courses, COURSE_COLUMNS), (lessons, LESSON_COLUMNS)):
        sheet.append([c.header + (" *" if c.required else "") for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for index in range(len(columns)):
            sheet.column_dimensions[chr(ord("A") + index)].width = 22
    help_sheet = book.create_sheet("说明 Notes")
    help_sheet.append(["内容类别 categories", ", ".join(ContentCategory.values)])
    help_sheet.append(["课程类型 kind", ", ".join(Course.Kind.values)])
    help_sheet.append(["课时类型 lesson kind", ", ".join(Lesson.Kind.values)])
    help_sheet.append(["技能等级 skill_level", "5, 4, 3, 2, 1"])
    help_sheet.append(["是否 yes/no", "是 / 否"])
    help_sheet.append(["日期 dates", "YYYY-MM-DD"])
    help_sheet.append(["职业编码 occupation codes", "4-04-05-05, 6-01-02-01 (逗号分隔)"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _looks_like_xlsx(content: bytes) -> bool:
    if not content.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _header_map(
    values: tuple[Any, ...], columns: tuple[Column, ...], sheet: str, errors: list[RowError]
) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        text = str(value or "").replace("*", " ").split()
        for column in columns:
            if column.key in text or column.chinese in text:
                found.setdefault(column.key, index)
    missing = [c.header for c in columns if c.required and c.key not in found]
    if missing:
        errors.append(
            RowError(
                sheet,
                None,
                "",
                _("Missing columns: %(columns)s. Use the template.")
                % {"columns": ", ".join(missing)},
            )
        )
        return None
    return found


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse_cell(key: str, value: Any) -> Any:  # noqa: PLR0911 - one branch per kind of cell
    """Turn one cell into what CourseData expects; raises ValueError with a message."""
    if isinstance(value, datetime):
        value = value.date()
    if key in {"free_from", "free_until"}:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(_cell_text(value))
        except ValueError:
            raise ValueError(_("Write the date as YYYY-MM-DD.")) from None
    text = _cell_text(value)
    if key in {"occupation_codes", "categories"}:
        return [part for part in _LIST_SPLIT.split(text) if part]
    if key in {"is_free", "requires_test"}:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(_("Write 是 or 否 (yes or no)."))
    if key == "class_hours":
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError(_("Class hours must be a number such as 12 or 12.5.")) from None
    if key in {"skill_level", "standard", "media_duration_seconds"}:
        try:
            return int(Decimal(text))
        except (InvalidOperation, ValueError):
            raise ValueError(_("This must be a whole number.")) from None
    return text


def _read_rows(
    sheet: Any, columns: tuple[Column, ...], name: str, errors: list[RowError]
) -> list[tuple[int, dict[str, Any]]]:
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    mapping = _header_map(header or (), columns, name, errors)
    if mapping is None:
        return []
    labels = {c.key: c.header for c in columns}
    read: list[tuple[int, dict[str, Any]]] = []
    for number, values in enumerate(rows, start=2):
        if all(_cell_text(v) == "" for v in values):
            continue
        if len(read) >= MAX_ROWS:
            errors.append(
                RowError(name, None, "", _("At most %(n)d rows per sheet.") % {"n": MAX_ROWS})
            )
            break
        record: dict[str, Any] = {}
        for key, index in mapping.items():
            value = values[index] if index < len(values) else None
            if _cell_text(value) == "":
                continue
            try:
                record[key] = _parse_cell(key, value)
            except ValueError as exc:
                errors.append(RowError(name, number, labels[key], str(exc)))
        read.append((number, record))
    return read


def _pydantic_errors(
    exc: ValidationError,
    *,
    row: int,
    lesson_rows: list[int],
) -> list[RowError]:
    found: list[RowError] = []
    course_labels = {c.key: c.header for c in COURSE_COLUMNS}
    lesson_labels = {c.key: c.header for c in LESSON_COLUMNS}
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        message = str(error["msg"])
        if error["type"] == "missing":
            message = _("This cell is required.")
        if loc and loc[0] == "lessons" and len(loc) > 1 and ascii_digits(loc[1]):
            position = int(loc[1])
            sheet_row = lesson_rows[position] if position < len(lesson_rows) else row
            column = lesson_labels.get(loc[2], "") if len(loc) > 2 else ""
            found.append(RowError(LESSONS_SHEET, sheet_row, column, message))
        elif loc and loc[0] == "lessons":
            found.append(
                RowError(COURSES_SHEET, row, "", _("The course needs at least one lesson."))
            )
        else:
            column = course_labels.get(loc[0], "") if loc else ""
            found.append(RowError(COURSES_SHEET, row, column, message))
    return found


def _domain_errors(
    problems: list[dict[str, str]], *, row: int, lesson_rows: list[int]
) -> list[RowError]:
    course_labels = {c.key: c.header for c in COURSE_COLUMNS}
    lesson_labels = {c.key: c.header for c in LESSON_COLUMNS}
    found: list[RowError] = []
    for problem in problems:
        parts = problem["location"].split(".")
        if parts[0] == "lessons" and len(parts) == 3:
            found.append(
                RowError(
                    LESSONS_SHEET,
                    lesson_rows[int(parts[1])],
                    lesson_labels.get(parts[2], ""),
                    problem["message"],
                )
            )
        else:
            found.append(
                RowError(COURSES_SHEET, row, course_labels.get(parts[0], ""), problem["message"])
            )
    return found


def _group_rows(
    course_rows: list[tuple[int, dict[str, Any]]],
    lesson_rows: list[tuple[int, dict[str, Any]]],
    errors: list[RowError],
    bad_rows: set[tuple[str, int | None]],
) -> tuple[dict[str, int], dict[str, list[tuple[int, dict[str, Any]]]]]:
    """The first row of each course id (a repeated id is an error on the later row) and each
    course's lessons."""
    first_row: dict[str, int] = {}
    for number, record in course_rows:
        external_id = str(record.get("external_id", ""))
        if external_id and external_id in first_row:
            errors.append(
                RowError(
                    COURSES_SHEET,
                    number,
                    COURSE_COLUMNS[0].header,
                    _("Course id %(id)s is also in row %(row)d.")
                    % {"id": external_id, "row": first_row[external_id]},
                )
            )
            bad_rows.add((COURSES_SHEET, number))
        elif external_id:
            first_row[external_id] = number
    lessons_of: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, record in lesson_rows:
        course_id = str(record.pop("course_external_id", ""))
        if course_id not in first_row:
            errors.append(
                RowError(
                    LESSONS_SHEET,
                    number,
                    LESSON_COLUMNS[0].header,
                    _("No course with id %(id)s in the courses sheet.") % {"id": course_id},
                )
            )
            continue
        lessons_of.setdefault(course_id, []).append((number, record))
    return first_row, lessons_of


def read_course_workbook(content: bytes, *, platform: Platform) -> ReadResult:
    """Check an uploaded workbook without saving anything (the file type is read from the
    content, not the name)."""
    result = ReadResult()
    if not _looks_like_xlsx(content):
        result.errors.append(
            RowError("", None, "", _("This is not an Excel .xlsx workbook. Use the template."))
        )
        return result
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file
        result.errors.append(RowError("", None, "", _("The workbook cannot be read.")))
        return result
    if len(book.worksheets) < 2:
        result.errors.append(
            RowError("", None, "", _("The workbook needs a courses sheet and a lessons sheet."))
        )
        return result
    errors = result.errors
    course_rows = _read_rows(book.worksheets[0], COURSE_COLUMNS, COURSES_SHEET, errors)
    lesson_rows = _read_rows(book.worksheets[1], LESSON_COLUMNS, LESSONS_SHEET, errors)
    book.close()
    if result.file_error:
        return result
    bad_rows = {(e.sheet, e.row) for e in errors}
    first_row, lessons_of = _group_rows(course_rows, lesson_rows, errors, bad_rows)
    existing = set(
        Course.objects.filter(platform=platform, external_id__in=list(first_row)).values_list(
            "external_id", flat=True
        )
    )
    for number, record in course_rows:
        external_id = str(record.get("external_id", ""))
        lessons = lessons_of.get(external_id, [])
        if (COURSES_SHEET, number) in bad_rows or any(
            (LESSONS_SHEET, n) in bad_rows for n, _record in lessons
        ):
            continue
        if first_row.get(external_id) != number:
            continue
        rows_of_lessons = [n for n, _record in lessons]
        try:
            data = CourseData.model_validate({**record, "lessons": [r for _n, r in lessons]})
        except ValidationError as exc:
            errors.extend(_pydantic_errors(exc, row=number, lesson_rows=rows_of_lessons))
            continue
        course = (
            Course.objects.filter(platform=platform, external_id=external_id).first()
            if external_id in existing
            else None
        )
        problems = check_course_data(platform, data, course=course)
        if problems:
            errors.extend(_domain_errors(problems, row=number, lesson_rows=rows_of_lessons))
            continue
        result.courses.append((number, data, external_id not in existing))
    _check_iris_across_rows(result)
    result.errors.sort(key=lambda e: (e.sheet != COURSES_SHEET, e.sheet, e.row or 0))
    return result


def _check_iris_across_rows(result: ReadResult) -> None:
    """Two rows of the file may not claim the same activity IRI (each row was checked against
    the database alone)."""
    seen: dict[str, int] = {}
    kept: list[tuple[int, CourseData, bool]] = []
    for number, data, new in result.courses:
        iris = [data.activity_iri, *(le.activity_iri for le in data.lessons)]
        clash = next((seen[i] for i in iris if i in seen), None)
        if clash is not None:
            result.errors.append(
                RowError(
                    COURSES_SHEET,
                    number,
                    "",
                    _("An activity IRI of this course is also used by the course in row %(row)d.")
                    % {"row": clash},
                )
            )
            continue
        for iri in iris:
            seen[iri] = number
        kept.append((number, data, new))
    result.courses = kept


@transaction.atomic
def import_courses(
    platform: Platform, courses: list[CourseData], *, by: User | None
) -> list[tuple[Course, bool]]:
    """Publish every course of a checked workbook, all or nothing (publish_course checks each
    again, so a file checked a while ago cannot slip anything past it)."""
    return [publish_course(platform, data=data, by=by) for data in courses]
