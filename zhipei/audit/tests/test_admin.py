from typing import Any

from django.test import TestCase
from django.urls import reverse

from zhipei.audit.models import AuditEvent
from zhipei.audit.services import record
from zhipei.core.tests.operators import make_operator


class ReadOnlyAdminTests(TestCase):
    event: AuditEvent
    operator: Any

    @classmethod
    def setUpTestData(cls):
        cls.operator = make_operator()
        cls.event = record("test.admin.viewed", object_type="test.thing", object_id=1)

    def setUp(self):
        self.client.force_login(self.operator)

    def test_the_log_can_be_listed_and_viewed(self):
        listing = self.client.get(reverse("admin:audit_auditevent_changelist"))
        self.assertContains(listing, "test.admin.viewed")
        page = self.client.get(reverse("admin:audit_auditevent_change", args=[self.event.pk]))
        self.assertContains(page, "test.admin.viewed")
        self.assertNotContains(page, 'name="_save"')

    def test_nothing_can_be_added_changed_or_deleted(self):
        add = self.client.get(reverse("admin:audit_auditevent_add"))
        change = self.client.post(
            reverse("admin:audit_auditevent_change", args=[self.event.pk]),
            {"action": "test.admin.forged"},
        )
        delete = self.client.post(
            reverse("admin:audit_auditevent_delete", args=[self.event.pk]), {"post": "yes"}
        )
        self.assertEqual((add.status_code, change.status_code, delete.status_code), (403, 403, 403))
        self.event.refresh_from_db()
        self.assertEqual(self.event.action, "test.admin.viewed")
        self.assertTrue(AuditEvent.objects.filter(pk=self.event.pk).exists())
