"""The skill-standard and teaching-material register (R17): province labour officers write,
everything is validated and audited."""

from __future__ import annotations

from typing import Any

from zhipei.audit.models import AuditEvent
from zhipei.catalog import standards
from zhipei.catalog.tests.filings.helpers import FilingTestCase
from zhipei.core.errors import Conflict, InvalidInput, NotAllowed


class StandardServiceTests(FilingTestCase):
    def make(self, **overrides: Any):
        values: dict[str, Any] = {
            "occupation": self.occ["6-18-01-01"],
            "title": "车工国家职业技能标准",
            "edition": "2018",
            "issued_by": "人力资源社会保障部",
            "url": "https://www.osta.org.cn/standard/6-18-01-01",
            "levels": "5-1",
            "by": self.province,
        }
        values.update(overrides)
        return standards.create_standard(**values)

    def test_province_officer_registers_a_standard(self) -> None:
        standard = self.make()
        self.assertEqual(standard.levels, "5-1")
        event = AuditEvent.objects.get(action="catalog.skill_standard.created")
        self.assertEqual(event.actor_id, self.province.pk)
        self.assertEqual(event.data["occupation"], "6-18-01-01")

    def test_only_province_labour_officers_write(self) -> None:
        for user in (self.city, self.county, self.finance, self.school, self.plain):
            with self.subTest(user=user.username), self.assertRaises(NotAllowed):
                self.make(by=user)

    def test_bad_input_names_the_field(self) -> None:
        cases: dict[str, dict[str, Any]] = {
            "occupation": {"occupation": self.occ["6-18-01"]},
            "title": {"title": "  "},
            "edition": {"edition": ""},
            "levels": {"levels": "1-5"},
            "url": {"url": "ftp://example.cn/x"},
        }
        for field, overrides in cases.items():
            with self.subTest(field=field), self.assertRaises(InvalidInput) as caught:
                self.make(**overrides)
            self.assertEqual(caught.exception.field, field)

    def test_same_edition_twice_is_a_conflict(self) -> None:
        self.make()
        with self.assertRaises(Conflict) as caught:
            self.make(title="again")
        self.assertEqual(caught.exception.field, "edition")

    def test_update(self) -> None:
        standard = self.make()
        standard = standards.update_standard(
            standard, title="车工（2018年版）", edition="2018", levels="5-2", by=self.province
        )
        self.assertEqual(standard.levels, "5-2")
        self.assertEqual(standard.url, "")
        with self.assertRaises(NotAllowed):
            standards.update_standard(standard, title="x", edition="2018", by=self.city)

    def test_search_by_code_prefix_name_or_title(self) -> None:
        standard = self.make()
        self.assertEqual(list(standards.search_standards("6-18")), [standard])
        self.assertEqual(list(standards.search_standards("车工")), [standard])
        self.assertEqual(list(standards.search_standards("4-04")), [])


class MaterialServiceTests(FilingTestCase):
    def test_material_with_occupations_and_a_standard(self) -> None:
        standard = standards.create_standard(
            occupation=self.occ["6-18-01-01"], title="车工标准", edition="2018", by=self.province
        )
        material = standards.create_material(
            title="车工（初级）",
            occupations=[self.occ["6-18-01-01"]],
            publisher="中国劳动社会保障出版社",
            isbn="978-7-5167-0000-6",
            year=2019,
            standard=standard,
            by=self.province,
        )
        self.assertEqual(list(material.occupations.all()), [self.occ["6-18-01-01"]])
        self.assertEqual(material.standard, standard)
        self.assertEqual(list(standards.search_materials("6-18-01")), [material])
        self.assertEqual(list(standards.search_materials("劳动社会")), [material])

    def test_material_checks(self) -> None:
        standard = standards.create_standard(
            occupation=self.occ["6-18-01-01"], title="车工标准", edition="2018", by=self.province
        )
        base: dict[str, Any] = {
            "title": "教材",
            "occupations": [self.occ["4-04-05-05"]],
            "by": self.province,
        }
        cases: dict[str, dict[str, Any]] = {
            "occupations": {"occupations": []},
            "standard": {"standard": standard},
            "isbn": {"isbn": "978-7-5167-0000-7"},
            "year": {"year": 1800},
            "title": {"title": ""},
        }
        for field, overrides in cases.items():
            with self.subTest(field=field), self.assertRaises(InvalidInput) as caught:
                standards.create_material(**{**base, **overrides})
            self.assertEqual(caught.exception.field, field)
        with self.assertRaises(NotAllowed):
            standards.create_material(**{**base, "by": self.county})

    def test_isbn_10_and_13(self) -> None:
        self.assertEqual(standards.clean_isbn("0-306-40615-2"), "0-306-40615-2")
        self.assertEqual(standards.clean_isbn("9780306406157"), "9780306406157")
        with self.assertRaises(InvalidInput):
            standards.clean_isbn("0-306-40615-3")

    def test_update_material(self) -> None:
        material = standards.create_material(
            title="教材", occupations=[self.occ["4-04-05-05"]], by=self.province
        )
        material = standards.update_material(
            material,
            title="教材（第二版）",
            occupations=[self.occ["4-04-05-05"], self.occ["4-04-05-06"]],
            by=self.province,
        )
        self.assertEqual(material.occupations.count(), 2)
