import datetime
from decimal import Decimal

from django.db import transaction
from django.test import TestCase

from zhipei.audit.models import AuditEvent
from zhipei.audit.queries import events_for
from zhipei.audit.services import record
from zhipei.regions.testing import make_region_tree


class RecordTests(TestCase):
    def test_record_stores_an_unsealed_event_with_object_and_actor(self):
        region = make_region_tree()["420102"]

        event = record("regions.region.renamed", obj=region, region_code="110101", ip="10.0.0.9")

        event.refresh_from_db()
        self.assertIsNone(event.seq)
        self.assertEqual(event.chain_hash, "")
        self.assertEqual(event.actor_label, "system")
        self.assertEqual(event.object_type, "regions.region")
        self.assertEqual(event.object_id, str(region.pk))
        self.assertEqual(event.ip, "10.0.0.9")
        self.assertEqual(list(events_for(region)), [event])

    def test_sensitive_keys_are_masked_at_any_depth(self):
        event = record(
            "accounts.user.password_changed",
            object_type="accounts.user",
            object_id=1,
            data={
                "password": "hunter22",
                "New_Password": "x",
                "client_secret": "s",
                "nested": {"otp": "123456", "api_token": "t", "keep": "visible"},
                "items": [{"bank_account": "6222020200112233445"}, "plain"],
            },
        )
        event.refresh_from_db()
        self.assertEqual(
            event.data,
            {
                "password": "***",
                "New_Password": "***",
                "client_secret": "***",
                "nested": {"otp": "***", "api_token": "***", "keep": "visible"},
                "items": [{"bank_account": "***"}, "plain"],
            },
        )

    def test_an_id_number_under_an_innocent_key_is_masked(self):
        event = record(
            "people.person.note_added",
            data={"note": "checked 11010519491231002X and 110105194912310021.", "n": 1},
        )
        event.refresh_from_db()
        self.assertEqual(event.data["note"], "checked 110***********002X and 110***********0021.")
        self.assertNotIn("19491231", str(event.data))

    def test_other_long_codes_are_not_mistaken_for_id_numbers(self):
        uscc = "91110108551385082Q"  # a unified social credit code
        event = record("orgs.org.registered", data={"uscc": uscc, "phone": "13800138000"})
        event.refresh_from_db()
        self.assertEqual(event.data, {"uscc": uscc, "phone": "13800138000"})

    def test_dates_and_decimals_are_stored_as_plain_json(self):
        event = record(
            "subsidies.policy.changed",
            data={"from": datetime.date(2026, 1, 1), "rate": Decimal("0.50")},
        )
        event.refresh_from_db()
        self.assertEqual(event.data, {"from": "2026-01-01", "rate": "0.50"})

    def test_record_rolls_back_with_its_transaction(self):
        before = AuditEvent.objects.count()
        with self.assertRaises(RuntimeError), transaction.atomic():
            record("core.test.rolled_back")
            raise RuntimeError("boom")
        self.assertEqual(AuditEvent.objects.count(), before)
