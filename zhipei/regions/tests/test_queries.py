"""Tree reads over the demo region tree."""

from __future__ import annotations

from django.test import TestCase

from zhipei.regions.demo import load_demo_regions
from zhipei.regions.queries import ancestors, children, history, provinces, subtree
from zhipei.regions.tests.helpers import region


def codes(regions) -> list[str]:
    return [r.code for r in regions]


class RegionTreeQueriesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_demo_regions()

    def test_children_of_the_province_include_province_direct_counties(self) -> None:
        self.assertEqual(
            codes(children(region("420000"))), ["420100", "420500", "420600", "429004", "429005"]
        )

    def test_children_leave_out_retired_codes_unless_asked(self) -> None:
        wuhan = region("420100")
        self.assertEqual(codes(children(wuhan)), ["420102", "420103", "420106", "420111"])
        self.assertEqual(
            codes(children(wuhan, include_retired=True)),
            ["420102", "420103", "420106", "420111", "420121", "420122", "420124"],
        )

    def test_ancestors_province_first_in_one_query(self) -> None:
        county = region("420102")
        with self.assertNumQueries(1):
            self.assertEqual(codes(ancestors(county)), ["420000", "420100"])
        self.assertEqual(codes(ancestors(region("429004"))), ["420000"])
        self.assertEqual(ancestors(region("420000")), [])

    def test_subtree_includes_the_region_itself(self) -> None:
        self.assertEqual(codes(subtree(region("420500"))), ["420500", "420502", "420506", "420525"])
        self.assertEqual(len(subtree(region("420000"))), 14)
        self.assertEqual(len(subtree(region("420000"), include_retired=True)), 20)
        self.assertEqual(codes(subtree(region("429004"))), ["429004"])

    def test_history_and_provinces(self) -> None:
        self.assertEqual(
            list(history("429001").values_list("valid_from_year", "valid_to_year")),
            [(1986, 1990), (1994, 2000)],
        )
        self.assertEqual(codes(provinces()), ["420000"])
