"""The hand-typed demo subset, loaded through the same importers as the full files."""

from __future__ import annotations

from django.test import TestCase

from zhipei.occupations.models import Occupation, Trade
from zhipei.regions.demo import load_demo_reference_data, load_demo_regions
from zhipei.regions.models import Region
from zhipei.regions.queries import current, is_known_code, was_in_use
from zhipei.regions.tests.helpers import parent_of, region


class DemoRegionsTests(TestCase):
    def test_demo_regions_load_once_and_then_change_nothing(self) -> None:
        first = load_demo_regions()
        second = load_demo_regions()

        self.assertEqual([(r.created, r.updated) for r in first], [(14, 0), (6, 0)])
        self.assertEqual(
            [(r.created, r.updated, r.unchanged) for r in second], [(0, 0, 14), (0, 0, 6)]
        )
        self.assertEqual(Region.objects.filter(valid_to_year__isnull=True).count(), 14)

    def test_demo_tree(self) -> None:
        load_demo_regions()

        self.assertEqual(region("429004").parent, region("420000"))
        self.assertEqual(region("429005").parent, region("420000"))
        self.assertEqual(region("420111").parent, region("420100"))
        self.assertEqual(parent_of(region("420525")).name, "宜昌市")
        self.assertEqual(parent_of(region("420602")).name, "襄阳市")
        # 汉阳县 420121 was abolished in 1992: an ID issued there in 1985 still resolves.
        self.assertTrue(is_known_code("420121"))
        self.assertTrue(was_in_use("420121", 1985))
        self.assertFalse(was_in_use("420121", 1992))
        self.assertIsNone(current("420121"))
        self.assertEqual(Region.objects.get(code="420121").parent, region("420100"))
        self.assertEqual(Region.objects.filter(code="429001").count(), 2)

    def test_all_demo_reference_data(self) -> None:
        results = load_demo_reference_data()

        self.assertEqual(len(results), 4)
        self.assertEqual(Occupation.objects.count(), 84)
        self.assertEqual(Trade.objects.count(), 6)
        self.assertTrue(all(r.changed == 0 for r in load_demo_reference_data()))
