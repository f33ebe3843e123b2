"""Bad region files: every problem is reported with its line and reason, and nothing is
half-saved."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from zhipei.audit.models import AuditEvent
from zhipei.core.csvimport import ImportFileError, ImportRejected, import_transaction
from zhipei.core.errors import Conflict
from zhipei.regions.importer import import_regions
from zhipei.regions.models import Region
from zhipei.regions.tests.helpers import (
    CODES_HEADER,
    CODES_ROWS,
    HISTORY_HEADER,
    TempDirMixin,
    write_csv,
)


class FileLevelProblemsTests(TempDirMixin, TestCase):
    def test_gbk_file_is_refused_naming_the_file_and_utf8(self) -> None:
        path = write_csv(self.tmp, "gbk.csv", [CODES_HEADER, *CODES_ROWS], encoding="gbk")

        with self.assertRaises(ImportFileError) as caught:
            import_regions(path)

        message = str(caught.exception)
        self.assertIn("gbk.csv is not UTF-8", message)
        self.assertIn("GBK", message)
        self.assertIn("Save it as UTF-8", message)
        self.assertFalse(Region.objects.exists())

    def test_utf8_bom_is_accepted(self) -> None:
        path = write_csv(self.tmp, "bom.csv", [CODES_HEADER, *CODES_ROWS], bom=True)

        result = import_regions(path)

        self.assertEqual(result.created, 4)
        self.assertEqual(result.file_format, "codes")

    def test_missing_columns_are_named(self) -> None:
        path = write_csv(self.tmp, "cols.csv", ["code,name", "420000,湖北省"])

        with self.assertRaisesMessage(
            ImportFileError, "cols.csv lacks the columns level, parent_code."
        ):
            import_regions(path)

    def test_missing_history_column_is_named(self) -> None:
        header = HISTORY_HEADER.replace(",新代码", "")
        path = write_csv(self.tmp, "hist.csv", [header, "420000,湖北省,,湖北省,省级,在用,1981,"])

        with self.assertRaisesMessage(ImportFileError, "hist.csv lacks the column 新代码."):
            import_regions(path)

    def test_unknown_header_names_both_formats(self) -> None:
        path = write_csv(self.tmp, "other.csv", ["id,title", "1,x"])

        with self.assertRaisesMessage(
            ImportFileError, "other.csv matches neither region file format"
        ):
            import_regions(path)

    def test_empty_file(self) -> None:
        path = write_csv(self.tmp, "empty.csv", [])
        path.write_bytes(b"")

        with self.assertRaisesMessage(ImportFileError, "empty.csv is empty"):
            import_regions(path)

    def test_missing_file(self) -> None:
        with self.assertRaisesMessage(ImportFileError, "Cannot read"):
            import_regions(self.tmp / "nowhere.csv")

    def test_command_turns_file_problems_into_command_error(self) -> None:
        path = write_csv(self.tmp, "gbk.csv", [CODES_HEADER, *CODES_ROWS], encoding="gbk")

        with self.assertRaisesMessage(CommandError, "gbk.csv is not UTF-8"):
            call_command("import_regions", str(path), stdout=StringIO(), stderr=StringIO())


class CodesFormatRowTests(TempDirMixin, TestCase):
    def reject(self, *rows: str) -> list[tuple[int, str, str]]:
        path = write_csv(self.tmp, "codes.csv", [CODES_HEADER, *rows])
        with self.assertRaises(ImportRejected) as caught:
            import_regions(path)
        self.assertFalse(Region.objects.exists(), "nothing may be saved")
        self.assertFalse(AuditEvent.objects.exists())
        return [(e.line, e.code, e.reason) for e in caught.exception.result.errors]

    def test_bad_code_format(self) -> None:
        errors = self.reject(CODES_ROWS[0], "42010,武汉市,prefecture,420000,,,,")
        self.assertEqual(errors[0][:2], (3, "bad_code"))
        self.assertIn("bad code '42010'", errors[0][2])

    def test_unknown_level(self) -> None:
        errors = self.reject(CODES_ROWS[0], "420100,武汉市,city,420000,,,,")
        self.assertEqual(errors[0][:2], (3, "unknown_level"))
        self.assertIn("unknown level 'city'", errors[0][2])

    def test_level_that_does_not_fit_the_code(self) -> None:
        errors = self.reject(CODES_ROWS[0], "420100,武汉市,county,420000,,,,")
        self.assertEqual(errors[0][:2], (3, "level_mismatch"))

    def test_unknown_parent(self) -> None:
        errors = self.reject("420102,江岸区,county,420100,,,,")
        self.assertEqual(errors, [(2, "unknown_parent", errors[0][2])])
        self.assertIn("unknown parent 420100", errors[0][2])

    def test_county_without_parent_code_and_no_region_above(self) -> None:
        errors = self.reject("420102,江岸区,county,,,,,")
        self.assertEqual(errors[0][:2], (2, "unknown_parent"))
        self.assertIn("420100 or 420000", errors[0][2])

    def test_parent_code_that_skips_the_existing_prefecture(self) -> None:
        errors = self.reject(*CODES_ROWS[:2], "420102,江岸区,county,420000,,,,")
        self.assertEqual(errors[0][:2], (4, "bad_parent"))
        self.assertIn("region 420100 exists", errors[0][2])

    def test_parent_code_from_another_province(self) -> None:
        errors = self.reject(CODES_ROWS[0], "420100,武汉市,prefecture,110000,,,,")
        self.assertEqual(errors[0][:2], (3, "bad_parent"))

    def test_duplicate_code(self) -> None:
        errors = self.reject(*CODES_ROWS, "420102,江岸区,county,420100,,,,")
        self.assertEqual(errors[0][:2], (6, "duplicate_code"))
        self.assertIn("first on line 4", errors[0][2])

    def test_empty_name(self) -> None:
        errors = self.reject(CODES_ROWS[0], "420100,,prefecture,420000,,,,")
        self.assertEqual(errors[0][:2], (3, "bad_name"))

    def test_row_with_wrong_field_count(self) -> None:
        errors = self.reject(CODES_ROWS[0], "420100,武汉市,prefecture")
        self.assertEqual(errors[0][:2], (3, "field_count"))

    def test_children_of_a_bad_row_are_bad_too(self) -> None:
        errors = self.reject(
            CODES_ROWS[0], "420100,武汉市,prefecture,420099,,,,", "420102,江岸区,county,420100,,,,"
        )
        self.assertEqual(
            [(line, code) for line, code, _ in errors], [(3, "bad_parent"), (4, "unknown_parent")]
        )

    def test_all_bad_rows_are_reported_in_line_order(self) -> None:
        errors = self.reject(
            CODES_ROWS[0],
            "4201000,武汉市,prefecture,420000,,,,",
            "420500,宜昌市,town,420000,,,,",
            "420502,西陵区,county,420500,,,,",
        )
        self.assertEqual([line for line, _, _ in errors], [3, 4, 5])


class HistoryFormatRowTests(TempDirMixin, TestCase):
    PROVINCE = "420000,湖北省,,湖北省,省级,在用,1981,,"

    def reject(self, *rows: str) -> list[tuple[int, str, str]]:
        path = write_csv(self.tmp, "history.csv", [HISTORY_HEADER, *rows])
        with self.assertRaises(ImportRejected) as caught:
            import_regions(path)
        self.assertFalse(Region.objects.exists(), "nothing may be saved")
        return [(e.line, e.code, e.reason) for e in caught.exception.result.errors]

    def test_unknown_level(self) -> None:
        errors = self.reject(self.PROVINCE, "420100,湖北省,武汉市,武汉市,市级,在用,1981,,")
        self.assertEqual(errors[0][:2], (3, "unknown_level"))
        self.assertIn("'市级'", errors[0][2])

    def test_unknown_status(self) -> None:
        errors = self.reject(self.PROVINCE, "420100,湖北省,武汉市,武汉市,地级,废止,1981,1990,")
        self.assertEqual(errors[0][:2], (3, "unknown_status"))

    def test_year_that_is_not_a_year(self) -> None:
        errors = self.reject(self.PROVINCE, "420100,湖北省,武汉市,武汉市,地级,在用,198x,,")
        self.assertEqual(errors[0][:2], (3, "bad_year"))
        self.assertIn("start year", errors[0][2])

    def test_year_out_of_range(self) -> None:
        errors = self.reject(self.PROVINCE, "420100,湖北省,武汉市,武汉市,地级,弃用,1981,2999,")
        self.assertEqual(errors[0][:2], (3, "bad_year"))
        self.assertIn("end year", errors[0][2])

    def test_end_before_start(self) -> None:
        errors = self.reject(self.PROVINCE, "420121,湖北省,武汉市,汉阳县,县级,弃用,1992,1981,")
        self.assertEqual(errors[0][:2], (3, "bad_year"))
        self.assertIn("not after the start year", errors[0][2])

    def test_in_use_with_end_year(self) -> None:
        errors = self.reject(self.PROVINCE, "420121,湖北省,武汉市,汉阳县,县级,在用,1981,1992,")
        self.assertEqual(errors[0][:2], (3, "bad_year"))

    def test_abolished_without_end_year(self) -> None:
        errors = self.reject(self.PROVINCE, "420121,湖北省,武汉市,汉阳县,县级,弃用,1981,,")
        self.assertEqual(errors[0][:2], (3, "bad_year"))
        self.assertIn("needs an end year", errors[0][2])

    def test_overlapping_periods_of_one_code(self) -> None:
        errors = self.reject(
            self.PROVINCE,
            "429001,湖北省,直辖,随州市,县级,变更,1986,1995,420681",
            "429001,湖北省,直辖,随州市,县级,弃用,1994,2000,421302",
        )
        self.assertEqual(errors[0][:2], (4, "duplicate_code"))
        self.assertIn("overlaps the one on line 3", errors[0][2])

    def test_bad_successor_codes(self) -> None:
        errors = self.reject(self.PROVINCE, "420121,湖北省,武汉市,汉阳县,县级,弃用,1981,1992,4201")
        self.assertEqual(errors[0][:2], (3, "bad_successor"))

    def test_no_parent_in_the_period(self) -> None:
        # The province exists only from 1990: a county of 1981–1985 has no parent.
        errors = self.reject(
            "420000,湖北省,,湖北省,省级,在用,1990,,",
            "420121,湖北省,武汉市,汉阳县,县级,弃用,1981,1985,",
        )
        self.assertEqual(errors[0][:2], (3, "unknown_parent"))


class SkipBadRowsTests(TempDirMixin, TestCase):
    def test_good_rows_are_imported_and_bad_ones_listed(self) -> None:
        path = write_csv(
            self.tmp, "codes.csv", [CODES_HEADER, *CODES_ROWS, "4201xx,坏行,county,420100,,,,"]
        )

        result = import_regions(path, skip_bad_rows=True)

        self.assertEqual((result.created, result.updated, result.unchanged), (4, 0, 0))
        self.assertEqual([(e.line, e.code) for e in result.errors], [(6, "bad_code")])
        self.assertEqual(Region.objects.count(), 4)
        event = AuditEvent.objects.get(action="regions.region.imported")
        self.assertEqual(event.data["bad_rows"], 1)
        self.assertEqual(event.data["bad_lines"], [6])

    def test_command_without_the_flag_fails_listing_every_bad_row(self) -> None:
        path = write_csv(
            self.tmp,
            "codes.csv",
            [
                CODES_HEADER,
                *CODES_ROWS,
                "4201xx,坏行,county,420100,,,,",
                "420103,江汉区,district,420100,,,,",
            ],
        )

        with self.assertRaises(CommandError) as caught:
            call_command("import_regions", str(path), stdout=StringIO(), stderr=StringIO())

        message = str(caught.exception)
        self.assertIn("codes.csv has 2 bad rows; nothing was imported.", message)
        self.assertIn("line 6: bad code '4201xx'", message)
        self.assertIn("line 7: unknown level 'district'", message)
        self.assertIn("--skip-bad-rows", message)
        self.assertFalse(Region.objects.exists())

    def test_command_with_the_flag_imports_and_lists(self) -> None:
        path = write_csv(
            self.tmp, "codes.csv", [CODES_HEADER, *CODES_ROWS, "4201xx,坏行,county,420100,,,,"]
        )
        out, err = StringIO(), StringIO()

        call_command("import_regions", str(path), "--skip-bad-rows", stdout=out, stderr=err)

        self.assertIn("4 created, 0 updated, 0 unchanged. 1 bad row skipped.", out.getvalue())
        self.assertIn("line 6: bad code '4201xx'", err.getvalue())


class ConcurrentImportTests(TestCase):
    def test_a_unique_clash_during_the_write_is_a_conflict_and_saves_nothing(self) -> None:
        # What a concurrent import of the same rows looks like at commit time.
        with self.assertRaises(Conflict) as caught, import_transaction("codes.csv"):
            Region.objects.create(code="420000", name="湖北省", level="province", scope_prefix="42")
            Region.objects.create(code="420000", name="湖北省", level="province", scope_prefix="42")

        self.assertIn("codes.csv: the data changed while importing", str(caught.exception))
        self.assertFalse(Region.objects.exists())
