from __future__ import annotations

from typing import Any

from django.test import TestCase
from django.urls import reverse

from zhipei.core.tests.operators import make_operator
from zhipei.occupations.demo import load_demo_occupations
from zhipei.occupations.models import Occupation, Trade
from zhipei.occupations.tests.helpers import node


class ReadOnlyOccupationAdminTests(TestCase):
    operator: Any

    @classmethod
    def setUpTestData(cls):
        load_demo_occupations()
        cls.operator = make_operator()

    def setUp(self):
        self.client.force_login(self.operator)

    def test_occupations_and_trades_can_be_listed_and_viewed(self):
        listing = self.client.get(
            reverse("admin:occupations_occupation_changelist"), {"q": "训练师"}
        )
        self.assertContains(listing, "4-04-05-05")
        trades = self.client.get(reverse("admin:occupations_trade_changelist"))
        self.assertContains(trades, "人工智能数字人训练师")
        page = self.client.get(
            reverse("admin:occupations_occupation_change", args=[node("4-04-05-05").pk])
        )
        self.assertContains(page, "人工智能训练师")
        self.assertNotContains(page, 'name="_save"')

    def test_nothing_can_be_added_changed_or_deleted(self):
        occupation = node("6-31-01-03")
        trade = Trade.objects.order_by("pk")[0]
        responses = [
            self.client.get(reverse("admin:occupations_occupation_add")),
            self.client.get(reverse("admin:occupations_trade_add")),
            self.client.post(
                reverse("admin:occupations_occupation_change", args=[occupation.pk]), {"name": "x"}
            ),
            self.client.post(
                reverse("admin:occupations_occupation_delete", args=[occupation.pk]),
                {"post": "yes"},
            ),
            self.client.post(
                reverse("admin:occupations_trade_delete", args=[trade.pk]), {"post": "yes"}
            ),
        ]
        self.assertEqual([r.status_code for r in responses], [403] * 5)
        self.assertEqual(Occupation.objects.get(pk=occupation.pk).name, "电工")
        self.assertTrue(Trade.objects.filter(pk=trade.pk).exists())
