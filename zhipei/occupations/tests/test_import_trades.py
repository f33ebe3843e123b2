"""import_trades: 工种 attach to stored occupations; bad rows are reported by line."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from zhipei.core.csvimport import ImportFileError, ImportRejected
from zhipei.occupations.importer import import_occupations, import_trades
from zhipei.occupations.models import Trade
from zhipei.occupations.tests.helpers import (
    HEADER,
    ROWS,
    TRADES_HEADER,
    TempDirMixin,
    node,
    write_csv,
)


class ImportTradesTests(TempDirMixin, TestCase):
    def setUp(self) -> None:
        super().setUp()
        import_occupations(write_csv(self.tmp, "occ.csv", [HEADER, *ROWS]))

    def trades_file(self, *rows: str, header: str = TRADES_HEADER):
        return write_csv(self.tmp, "trades.csv", [header, *rows])

    def test_trades_are_created_once(self) -> None:
        path = self.trades_file(
            "4-04-05-05,人工智能训练师,人工智能数字人训练师", "4-04-05-05,,数据标注员"
        )

        first = import_trades(path)
        second = import_trades(path)

        self.assertEqual((first.created, first.unchanged), (2, 0))
        self.assertEqual((second.created, second.unchanged), (0, 2))
        self.assertEqual(
            list(node("4-04-05-05").trades.values_list("name", flat=True)),
            ["人工智能数字人训练师", "数据标注员"],
        )

    def test_occupation_name_column_is_optional(self) -> None:
        path = self.trades_file("4-04-05-05,数据标注员", header="occupation_code,work_type_name")
        self.assertEqual(import_trades(path).created, 1)

    def test_bad_rows(self) -> None:
        path = self.trades_file(
            "4-04-05-05,人工智能训练师,人工智能数字人训练师",
            "4-04-05-13,生成式人工智能系统应用员,生成式人工智能系统测试员",
            "4-04-05,软件和信息技术服务人员,程序员",
            "4-04-05-05,招聘师,直播招聘师",
            "4-04-05-05,人工智能训练师,人工智能数字人训练师",
            "4-04-05-05,人工智能训练师,",
        )

        with self.assertRaises(ImportRejected) as caught:
            import_trades(path)

        errors = [(e.line, e.code) for e in caught.exception.result.errors]
        self.assertEqual(
            errors,
            [
                (3, "unknown_occupation"),
                (4, "not_an_occupation"),
                (5, "name_mismatch"),
                (6, "duplicate_trade"),
                (7, "bad_name"),
            ],
        )
        reasons = [e.reason for e in caught.exception.result.errors]
        self.assertIn("unknown occupation code '4-04-05-13'", reasons[0])
        self.assertIn(
            "occupation 4-04-05-05 is 人工智能训练师, but the row names 招聘师", reasons[2]
        )
        self.assertIn("first on line 2", reasons[3])
        self.assertFalse(Trade.objects.exists())

    def test_skip_bad_rows(self) -> None:
        path = self.trades_file("4-04-05-05,人工智能训练师,数据标注员", "9-99-99-99,,无")
        result = import_trades(path, skip_bad_rows=True)
        self.assertEqual((result.created, len(result.errors)), (1, 1))

    def test_missing_column_and_gbk(self) -> None:
        with self.assertRaisesMessage(ImportFileError, "lacks the column work_type_name."):
            import_trades(self.trades_file("4-04-05-05", header="occupation_code"))
        gbk = write_csv(
            self.tmp,
            "gbk.csv",
            [TRADES_HEADER, "4-04-05-05,人工智能训练师,数据标注员"],
            encoding="gbk",
        )
        with self.assertRaisesMessage(ImportFileError, "gbk.csv is not UTF-8"):
            import_trades(gbk)

    def test_command(self) -> None:
        bad = self.trades_file("4-04-05-13,,测试员")
        with self.assertRaisesMessage(CommandError, "line 2: unknown occupation code"):
            call_command("import_trades", str(bad), stdout=StringIO(), stderr=StringIO())
