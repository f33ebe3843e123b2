"""How a second file changes what a first one stored: renames, corrected start years, retired
codes, partial files, and re-imports that change nothing."""

from __future__ import annotations

from django.test import TestCase

from zhipei.regions.importer import import_regions
from zhipei.regions.models import Region
from zhipei.regions.queries import current, history, was_in_use
from zhipei.regions.tests.helpers import (
    CODES_HEADER,
    CODES_ROWS,
    HISTORY_HEADER,
    TempDirMixin,
    region,
    write_csv,
)


class CodesFileUpdatesTests(TempDirMixin, TestCase):
    def test_rename_is_an_update_and_the_rest_unchanged(self) -> None:
        import_regions(write_csv(self.tmp, "a.csv", [CODES_HEADER, *CODES_ROWS]))
        renamed = [*CODES_ROWS[:2], "420102,江岸新区,county,420100,,,,", CODES_ROWS[3]]

        result = import_regions(write_csv(self.tmp, "b.csv", [CODES_HEADER, *renamed]))

        self.assertEqual((result.created, result.updated, result.unchanged), (0, 1, 3))
        self.assertEqual(region("420102").name, "江岸新区")
        self.assertEqual(Region.objects.filter(code="420102").count(), 1)

    def test_partial_file_never_retires_other_codes(self) -> None:
        import_regions(write_csv(self.tmp, "a.csv", [CODES_HEADER, *CODES_ROWS]))

        result = import_regions(write_csv(self.tmp, "b.csv", [CODES_HEADER, CODES_ROWS[0]]))

        self.assertEqual((result.created, result.updated, result.unchanged), (0, 0, 1))
        self.assertEqual(Region.objects.filter(valid_to_year__isnull=True).count(), 4)

    def test_parent_code_may_be_left_empty(self) -> None:
        rows = [CODES_ROWS[0], "420100,武汉市,prefecture,,,,,", "420102,江岸区,county,,,,,"]

        import_regions(write_csv(self.tmp, "a.csv", [CODES_HEADER, *rows]))

        self.assertEqual(region("420102").parent, region("420100"))
        self.assertEqual(region("420100").parent, region("420000"))


class HistoryAfterCodesTests(TempDirMixin, TestCase):
    def setUp(self) -> None:
        super().setUp()
        import_regions(write_csv(self.tmp, "codes.csv", [CODES_HEADER, *CODES_ROWS]))

    def import_history(self, *rows: str):
        return import_regions(write_csv(self.tmp, "history.csv", [HISTORY_HEADER, *rows]))

    def test_history_corrects_start_years_and_adds_old_periods(self) -> None:
        result = self.import_history(
            "429004,湖北省,直辖,仙桃市,县级,在用,1994,,",
            "429004,湖北省,直辖,仙桃市（旧）,县级,变更,1986,1994,429004",
        )

        self.assertEqual((result.created, result.updated, result.unchanged), (1, 1, 0))
        periods = list(history("429004").values_list("name", "valid_from_year", "valid_to_year"))
        self.assertEqual(periods, [("仙桃市（旧）", 1986, 1994), ("仙桃市", 1994, None)])
        self.assertTrue(was_in_use("429004", 1990))

    def test_history_that_ends_a_current_code_retires_it(self) -> None:
        result = self.import_history("420102,湖北省,武汉市,江岸区,县级,弃用,1983,2020,420103")

        self.assertEqual(result.updated, 1)
        self.assertIsNone(current("420102"))
        row = Region.objects.get(code="420102")
        self.assertEqual(
            (row.valid_from_year, row.valid_to_year, row.successor_codes), (1983, 2020, "420103")
        )

    def test_codes_file_after_history_starts_a_new_period_after_the_last(self) -> None:
        self.import_history("420102,湖北省,武汉市,江岸区,县级,弃用,1983,2020,420103")

        result = import_regions(write_csv(self.tmp, "again.csv", [CODES_HEADER, *CODES_ROWS]))

        self.assertEqual((result.created, result.unchanged), (1, 3))
        self.assertEqual(region("420102").valid_from_year, 2020)
        self.assertEqual(history("420102").count(), 2)

    def test_same_history_twice_changes_nothing(self) -> None:
        rows = (
            "420000,湖北省,,湖北省,省级,在用,1981,,",
            "420121,湖北省,武汉市,汉阳县,县级,弃用,1981,1992,420114",
        )
        self.import_history(*rows)
        before = list(Region.objects.order_by("pk").values())

        result = self.import_history(*rows)

        self.assertEqual((result.created, result.updated, result.unchanged), (0, 0, 2))
        self.assertEqual(list(Region.objects.order_by("pk").values()), before)
