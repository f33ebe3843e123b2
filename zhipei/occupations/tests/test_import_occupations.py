"""import_occupations on small files: the good path, updates, and every kind of bad input."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import TestCase

from zhipei.audit.models import AuditEvent
from zhipei.core.csvimport import ImportFileError, ImportRejected
from zhipei.occupations.importer import import_occupations
from zhipei.occupations.models import Occupation
from zhipei.occupations.tests.helpers import HEADER, ROWS, TempDirMixin, node, write_csv


class ImportOccupationsTests(TempDirMixin, TestCase):
    def test_tree_is_built_with_parents_and_flags(self) -> None:
        result = import_occupations(write_csv(self.tmp, "occ.csv", [HEADER, *ROWS]))

        self.assertEqual((result.created, result.updated, result.unchanged), (4, 0, 0))
        trainer = node("4-04-05-05")
        self.assertEqual(trainer.parent, node("4-04-05"))
        self.assertEqual(node("4-04").parent, node("4"))
        self.assertIsNone(node("4").parent)
        self.assertEqual((trainer.level, trainer.is_digital, trainer.is_green), (4, True, False))
        self.assertEqual(trainer.definition, "训练人工智能产品的人员。")
        self.assertEqual(node("4-04-05").gbm, "40405")
        event = AuditEvent.objects.get(action="occupations.occupation.imported")
        self.assertEqual((event.data["created"], event.actor_label), (4, "system"))

    def test_second_import_changes_nothing_and_an_edit_is_one_update(self) -> None:
        import_occupations(write_csv(self.tmp, "a.csv", [HEADER, *ROWS]))
        again = import_occupations(write_csv(self.tmp, "a.csv", [HEADER, *ROWS]))
        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 4))

        edited = [*ROWS[:3], "4-04-05-05,4,4-04-05,,人工智能训练师,true,true,新定义。"]
        result = import_occupations(write_csv(self.tmp, "b.csv", [HEADER, *edited]))

        self.assertEqual((result.created, result.updated, result.unchanged), (0, 1, 3))
        self.assertTrue(node("4-04-05-05").is_green)

    def test_columns_the_file_lacks_are_left_alone(self) -> None:
        import_occupations(write_csv(self.tmp, "a.csv", [HEADER, *ROWS]))
        short = ["code,level,parent_code,name", "4-04-05-05,4,4-04-05,人工智能训练师"]

        result = import_occupations(write_csv(self.tmp, "b.csv", short))

        self.assertEqual(result.unchanged, 1)
        self.assertEqual(node("4-04-05-05").definition, "训练人工智能产品的人员。")
        self.assertTrue(node("4-04-05-05").is_digital)

    def test_children_may_come_in_a_later_file(self) -> None:
        import_occupations(write_csv(self.tmp, "a.csv", [HEADER, *ROWS[:3]]))

        import_occupations(write_csv(self.tmp, "b.csv", [HEADER, ROWS[3]]))

        self.assertEqual(node("4-04-05-05").parent, node("4-04-05"))

    def test_bom_is_accepted(self) -> None:
        result = import_occupations(write_csv(self.tmp, "bom.csv", [HEADER, *ROWS], bom=True))
        self.assertEqual(result.created, 4)


class BadOccupationFilesTests(TempDirMixin, TestCase):
    def reject(self, *rows: str) -> list[tuple[int, str, str]]:
        path = write_csv(self.tmp, "occ.csv", [HEADER, *rows])
        with self.assertRaises(ImportRejected) as caught:
            import_occupations(path)
        self.assertFalse(Occupation.objects.exists(), "nothing may be saved")
        return [(e.line, e.code, e.reason) for e in caught.exception.result.errors]

    def test_gbk_file(self) -> None:
        path = write_csv(self.tmp, "gbk.csv", [HEADER, *ROWS], encoding="gbk")
        with self.assertRaisesMessage(ImportFileError, "gbk.csv is not UTF-8"):
            import_occupations(path)

    def test_missing_columns_are_named(self) -> None:
        path = write_csv(
            self.tmp, "cols.csv", ["code,name,definition", "4,社会生产服务和生活服务人员,"]
        )
        with self.assertRaisesMessage(
            ImportFileError, "cols.csv lacks the columns level, parent_code."
        ):
            import_occupations(path)

    def test_bad_code(self) -> None:
        errors = self.reject(ROWS[0], "4-4,2,4,40400,信息传输,,,")
        self.assertEqual(errors[0][:2], (3, "bad_code"))
        self.assertIn("bad code '4-4'", errors[0][2])

    def test_major_group_nine_does_not_exist(self) -> None:
        errors = self.reject("9,1,,90000,不存在,,,")
        self.assertEqual(errors[0][:2], (2, "bad_code"))

    def test_unknown_level(self) -> None:
        errors = self.reject(ROWS[0], "4-04,5,4,40400,信息传输,,,")
        self.assertEqual(errors[0][:2], (3, "unknown_level"))

    def test_level_that_does_not_fit_the_code(self) -> None:
        errors = self.reject(ROWS[0], "4-04,3,4,40400,信息传输,,,")
        self.assertEqual(errors[0][:2], (3, "level_mismatch"))

    def test_wrong_parent_code(self) -> None:
        errors = self.reject(ROWS[0], "4-04,2,5,40400,信息传输,,,")
        self.assertEqual(errors[0][:2], (3, "bad_parent"))
        self.assertIn("the parent of 4-04 is 4", errors[0][2])

    def test_unknown_parent(self) -> None:
        errors = self.reject(ROWS[0], ROWS[3])
        self.assertEqual(errors[0][:2], (3, "unknown_parent"))
        self.assertIn("unknown parent 4-04-05", errors[0][2])

    def test_child_of_a_bad_row(self) -> None:
        errors = self.reject(ROWS[0], "4-04,2,4,40400,,,,", ROWS[2])
        self.assertEqual(
            [(line, code) for line, code, _ in errors], [(3, "bad_name"), (4, "unknown_parent")]
        )
        self.assertIn("its parent 4-04 (line 3) is a bad row", errors[1][2])

    def test_duplicate_code(self) -> None:
        errors = self.reject(*ROWS, "4-04,2,4,40400,重复,,,")
        self.assertEqual(errors[0][:2], (6, "duplicate_code"))
        self.assertIn("first on line 3", errors[0][2])

    def test_bad_flag_and_gbm(self) -> None:
        errors = self.reject(
            ROWS[0], "4-04,2,4,4040,信息传输,,,", "4-04-05-05,4,4-04-05,,人工智能训练师,yes,false,"
        )
        self.assertEqual(
            [(line, code) for line, code, _ in errors], [(3, "bad_gbm"), (4, "bad_flag")]
        )
        self.assertIn("bad is_green 'yes'", errors[1][2])

    def test_skip_bad_rows_imports_the_rest(self) -> None:
        path = write_csv(
            self.tmp, "occ.csv", [HEADER, *ROWS, "4-04-05-06,4,4-04-05,,,false,false,"]
        )

        result = import_occupations(path, skip_bad_rows=True)

        self.assertEqual(result.created, 4)
        self.assertEqual([(e.line, e.code) for e in result.errors], [(6, "bad_name")])

    def test_command_lists_every_bad_row_and_imports_nothing(self) -> None:
        path = write_csv(
            self.tmp, "occ.csv", [HEADER, ROWS[0], "4-04,2,4,40400,,,,", "x,1,,,坏,,,"]
        )

        with self.assertRaises(CommandError) as caught:
            call_command("import_occupations", str(path), stdout=StringIO(), stderr=StringIO())

        message = str(caught.exception)
        self.assertIn("occ.csv has 2 bad rows; nothing was imported.", message)
        self.assertIn("line 3: the name is empty.", message)
        self.assertIn("line 4: bad code 'x'", message)
        self.assertFalse(Occupation.objects.exists())

    def test_command_with_skip_flag(self) -> None:
        path = write_csv(self.tmp, "occ.csv", [HEADER, *ROWS, "x,1,,,坏,,,"])
        out, err = StringIO(), StringIO()

        call_command("import_occupations", str(path), "--skip-bad-rows", stdout=out, stderr=err)

        self.assertIn("4 created, 0 updated, 0 unchanged. 1 bad row skipped.", out.getvalue())
        self.assertIn("line 6: bad code 'x'", err.getvalue())
