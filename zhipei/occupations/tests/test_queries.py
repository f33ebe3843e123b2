"""Reads over the demo occupation tree."""

from __future__ import annotations

from django.test import TestCase

from zhipei.occupations.demo import load_demo_occupations
from zhipei.occupations.queries import (
    ancestors,
    children,
    get_node,
    get_occupation,
    major_groups,
    occupations_under,
    search,
    trades,
)
from zhipei.occupations.tests.helpers import node


def codes(nodes) -> list[str]:
    return [n.code for n in nodes]


class OccupationQueriesTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_demo_occupations()

    def test_get_occupation_only_finds_level_four(self) -> None:
        trainer = get_occupation("4-04-05-05")
        assert trainer is not None
        self.assertEqual(trainer.name, "人工智能训练师")
        self.assertEqual(get_occupation(" 4-04-05-05 "), trainer)
        self.assertIsNone(get_occupation("4-04-05"))
        self.assertIsNone(get_occupation("4-04-05-99"))
        self.assertEqual(node("4-04-05").name, "软件和信息技术服务人员")
        self.assertIsNone(get_node("9"))

    def test_children(self) -> None:
        self.assertEqual(codes(children(None)), list("12345678"))
        self.assertEqual(codes(major_groups()), list("12345678"))
        self.assertEqual(codes(children(node("4-04"))), ["4-04-04", "4-04-05"])
        self.assertEqual(codes(children(node("4-04-05"))), ["4-04-05-01", "4-04-05-05"])
        self.assertEqual(codes(children(node("4-04-05-05"))), [])

    def test_occupations_under(self) -> None:
        self.assertEqual(
            codes(occupations_under(node("4-04"))), ["4-04-04-02", "4-04-05-01", "4-04-05-05"]
        )
        self.assertEqual(codes(occupations_under(node("7"))), ["7-04-00-00"])
        self.assertEqual(codes(occupations_under(node("6-31-01-03"))), ["6-31-01-03"])
        self.assertEqual(len(occupations_under(None)), 32)
        # 4-1 must not leak into 4-10… : prefixes are taken at group boundaries.
        self.assertTrue(all(c.startswith("4-10-") for c in codes(occupations_under(node("4-10")))))

    def test_ancestors(self) -> None:
        trainer = node("4-04-05-05")
        with self.assertNumQueries(1):
            self.assertEqual(codes(ancestors(trainer)), ["4", "4-04", "4-04-05"])
        self.assertEqual(ancestors(node("4")), [])

    def test_search_by_code_prefix_or_name(self) -> None:
        self.assertEqual(codes(search("4-04-05")), ["4-04-05", "4-04-05-01", "4-04-05-05"])
        self.assertEqual(
            codes(search("4-04-0", level=4)), ["4-04-04-02", "4-04-05-01", "4-04-05-05"]
        )
        self.assertEqual(codes(search("训练师")), ["4-04-05-05"])
        self.assertEqual(codes(search("护理", level=4)), ["4-10-01-05"])
        self.assertEqual(len(search("人员", limit=5)), 5)
        self.assertEqual(codes(search("  ")), [])

    def test_trades(self) -> None:
        self.assertEqual([t.name for t in trades(node("4-10-01-05"))], ["社区助老员", "老年助浴员"])
