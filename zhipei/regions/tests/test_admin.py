from __future__ import annotations

from typing import Any

from django.test import TestCase
from django.urls import reverse

from zhipei.core.tests.operators import make_operator
from zhipei.regions.demo import load_demo_regions
from zhipei.regions.models import Region
from zhipei.regions.tests.helpers import region


class ReadOnlyRegionAdminTests(TestCase):
    operator: Any

    @classmethod
    def setUpTestData(cls):
        load_demo_regions()
        cls.operator = make_operator()

    def setUp(self):
        self.client.force_login(self.operator)

    def test_regions_can_be_listed_searched_and_viewed(self):
        listing = self.client.get(reverse("admin:regions_region_changelist"), {"q": "仙桃"})
        self.assertContains(listing, "429004")
        self.assertNotContains(listing, "420102")
        page = self.client.get(reverse("admin:regions_region_change", args=[region("429004").pk]))
        self.assertContains(page, "仙桃市")
        self.assertNotContains(page, 'name="_save"')

    def test_nothing_can_be_added_changed_or_deleted(self):
        target = region("420102")
        add = self.client.get(reverse("admin:regions_region_add"))
        change = self.client.post(
            reverse("admin:regions_region_change", args=[target.pk]), {"name": "伪造"}
        )
        delete = self.client.post(
            reverse("admin:regions_region_delete", args=[target.pk]), {"post": "yes"}
        )
        self.assertEqual(add.status_code, 403)
        self.assertEqual(change.status_code, 403)
        self.assertEqual(delete.status_code, 403)
        self.assertEqual(Region.objects.get(pk=target.pk).name, "江岸区")
