"""The hand-typed demo occupations, loaded through the importers."""

from __future__ import annotations

from collections import Counter

from django.test import TestCase

from zhipei.occupations.demo import load_demo_occupations
from zhipei.occupations.models import Occupation, Trade


class DemoOccupationsTests(TestCase):
    def test_demo_loads_once_and_then_changes_nothing(self) -> None:
        first = load_demo_occupations()
        second = load_demo_occupations()

        self.assertEqual([(r.created, r.updated) for r in first], [(84, 0), (6, 0)])
        self.assertEqual([r.changed for r in second], [0, 0])
        self.assertEqual([r.unchanged for r in second], [84, 6])

    def test_all_eight_major_groups_and_about_thirty_occupations(self) -> None:
        load_demo_occupations()

        levels = Counter(Occupation.objects.values_list("level", flat=True))
        self.assertEqual(levels[1], 8)
        self.assertEqual(levels[4], 32)
        majors_with_occupations = {
            code[0] for code in Occupation.objects.filter(level=4).values_list("code", flat=True)
        }
        self.assertEqual(majors_with_occupations, set("12345678"))
        self.assertFalse(Occupation.objects.filter(level__gt=1, parent__isnull=True).exists())
        self.assertEqual(Trade.objects.filter(occupation__code="4-10-01-05").count(), 2)
