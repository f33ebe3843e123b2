"""Excel import: real .xlsx files built with openpyxl; every bad row reported, nothing saved
until the platform chooses to import the good ones."""

from __future__ import annotations

import io
from datetime import datetime

from django.utils import translation
from openpyxl import Workbook, load_workbook

from zhipei.catalog.catalogues.excel import (
    COURSE_COLUMNS,
    COURSES_SHEET,
    LESSON_COLUMNS,
    LESSONS_SHEET,
    build_template,
    import_courses,
    read_course_workbook,
)
from zhipei.catalog.models import Course

from .helpers import CatalogueTestCase

COURSE_HEADERS = [c.header for c in COURSE_COLUMNS]
LESSON_HEADERS = [c.header for c in LESSON_COLUMNS]


def course_row(external_id="C1", **overrides):
    values = {
        "external_id": external_id,
        "title": f"课程{external_id}",
        "description": "",
        "kind": "standard",
        "master_name": None,
        "occupation_codes": "4-04-05-05，4-04-05-06",
        "trade": None,
        "skill_level": 5,
        "categories": "skills、safety",
        "class_hours": 8.5,
        "is_free": "是",
        "free_from": datetime(2020, 3, 1),  # noqa: DTZ001 - Excel cells carry no time zone
        "free_until": "2020-06-30",
        "requires_test": "否",
        "activity_iri": f"https://p.example/x/{external_id}",
        "url": f"https://p.example/c/{external_id}",
        "standard": None,
    }
    values.update(overrides)
    return [values[c.key] for c in COURSE_COLUMNS]


def lesson_row(course="C1", n=1, **overrides):
    values = {
        "course_external_id": course,
        "external_id": f"L{n}",
        "title": f"第{n}课",
        "kind": "video",
        "activity_iri": f"https://p.example/x/{course}/l{n}",
        "media_duration_seconds": 300,
    }
    values.update(overrides)
    return [values[c.key] for c in LESSON_COLUMNS]


def workbook(courses, lessons, *, headers=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = COURSES_SHEET
    sheet.append(headers or COURSE_HEADERS)
    for row in courses:
        sheet.append(row)
    lesson_sheet = book.create_sheet(LESSONS_SHEET)
    lesson_sheet.append(LESSON_HEADERS)
    for row in lessons:
        lesson_sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class ExcelImportTests(CatalogueTestCase):
    def setUp(self):
        super().setUp()
        self.enterContext(translation.override("en"))  # messages are asserted in English

    def read(self, content):
        return read_course_workbook(content, platform=self.platform)

    def test_template_has_both_sheets_with_bilingual_headers(self):
        book = load_workbook(io.BytesIO(build_template()))
        self.assertEqual(book.sheetnames[:2], [COURSES_SHEET, LESSONS_SHEET])
        header = [c.value for c in book[COURSES_SHEET][1]]
        self.assertEqual(header[0], "课程编号 external_id *")
        # the empty template reads back as no courses and no errors
        result = self.read(build_template())
        self.assertEqual((result.courses, result.errors), ([], []))

    def test_good_file_reads_without_saving_then_imports(self):
        content = workbook(
            [
                course_row("C1"),
                course_row(
                    "C2",
                    occupation_codes="6-01-02-01",
                    is_free="否",
                    free_from=None,
                    free_until=None,
                ),
            ],
            [
                lesson_row("C1", 1),
                lesson_row("C1", 2, kind="text", media_duration_seconds=None),
                lesson_row("C2", 1),
            ],
        )
        result = self.read(content)
        self.assertEqual(result.errors, [])
        self.assertEqual(
            [(n, d.external_id, new) for n, d, new in result.courses],
            [(2, "C1", True), (3, "C2", True)],
        )
        self.assertFalse(Course.objects.exists())
        first = result.courses[0][1]
        self.assertEqual(first.occupation_codes, ["4-04-05-05", "4-04-05-06"])
        self.assertEqual([str(c) for c in first.categories], ["skills", "safety"])
        self.assertEqual(str(first.class_hours), "8.5")
        self.assertEqual((first.is_free, first.requires_test), (True, False))
        self.assertEqual(len(first.lessons), 2)
        done = import_courses(
            self.platform, [d for _n, d, _new in result.courses], by=self.operator
        )
        self.assertEqual([created for _c, created in done], [True, True])
        self.assertEqual(Course.objects.filter(platform=self.platform).count(), 2)
        # reading the same file again: the courses exist now
        self.assertEqual([new for _n, _d, new in self.read(content).courses], [False, False])

    def test_bad_rows_are_reported_with_sheet_row_and_column_and_good_rows_kept(self):
        content = workbook(
            [
                course_row("C1"),
                course_row("C2", occupation_codes="9-99-99-99"),
                course_row("C3", class_hours="很多"),
                course_row("C4", title=None),
                course_row("C1"),  # duplicate id in the file
                course_row("C6", class_hours=0),
            ],
            [
                lesson_row("C1"),
                lesson_row("C2"),
                lesson_row("C3"),
                lesson_row("C4"),
                lesson_row("C6"),
                lesson_row("NOPE"),
            ],
        )
        result = self.read(content)
        self.assertEqual([d.external_id for _n, d, _new in result.courses], ["C1"])
        found = {(e.sheet, e.row, e.column) for e in result.errors}
        self.assertIn((COURSES_SHEET, 3, "职业编码 occupation_codes"), found)
        self.assertIn((COURSES_SHEET, 4, "课时 class_hours"), found)
        self.assertIn((COURSES_SHEET, 5, "课程名称 title"), found)
        self.assertIn((COURSES_SHEET, 6, "课程编号 external_id"), found)
        self.assertIn((COURSES_SHEET, 7, "课时 class_hours"), found)
        self.assertIn((LESSONS_SHEET, 7, "课程编号 course_external_id"), found)
        messages = {(e.row, e.sheet): e.message for e in result.errors}
        self.assertIn("9-99-99-99", messages[(3, COURSES_SHEET)])
        self.assertIn("row 2", messages[(6, COURSES_SHEET)])
        self.assertEqual(messages[(5, COURSES_SHEET)], "This cell is required.")
        self.assertFalse(Course.objects.exists())

    def test_lesson_errors_point_at_the_lesson_row(self):
        content = workbook(
            [course_row("C1")],
            [
                lesson_row("C1", 1),
                lesson_row("C1", 2, media_duration_seconds=None),
                lesson_row("C1", 3, external_id="L1"),
            ],
        )
        result = self.read(content)
        self.assertEqual(result.courses, [])
        self.assertEqual([(e.sheet, e.row) for e in result.errors], [(LESSONS_SHEET, 3)])
        content = workbook(
            [course_row("C1")],
            [lesson_row("C1", 1), lesson_row("C1", 3, external_id="L1")],
        )
        error = self.read(content).errors[0]
        self.assertEqual(
            (error.sheet, error.row, error.column), (LESSONS_SHEET, 3, "课时编号 external_id")
        )

    def test_a_course_without_lessons_and_iri_clashes_between_rows(self):
        content = workbook(
            [
                course_row("C1"),
                course_row("C2"),
                course_row("C3", activity_iri="https://p.example/x/C2"),
            ],
            [lesson_row("C2", 1), lesson_row("C3", 1)],
        )
        result = self.read(content)
        self.assertEqual([d.external_id for _n, d, _new in result.courses], ["C2"])
        messages = {e.row: e.message for e in result.errors}
        self.assertEqual(set(messages), {2, 4})
        self.assertIn("at least one lesson", messages[2])
        self.assertIn("row 3", messages[4])

    def test_wrong_file_types_are_refused_by_content(self):
        for content in (b"%PDF-1.7 not excel", b"PK\x03\x04broken zip", "课程".encode(), b""):
            with self.subTest(content=content[:8]):
                result = self.read(content)
                self.assertTrue(result.file_error)
                self.assertEqual(result.courses, [])

    def test_a_workbook_without_the_template_columns(self):
        content = workbook([["x"]], [], headers=["名称", "别的"])
        result = self.read(content)
        self.assertTrue(result.file_error)
        self.assertIn("Missing columns", result.errors[0].message)
