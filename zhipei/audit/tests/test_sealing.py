from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from zhipei.audit.anchor import write_anchor
from zhipei.audit.models import AuditEvent
from zhipei.audit.sealer import GENESIS_HASH, audit_key, link_hash, seal_pending
from zhipei.audit.services import record
from zhipei.audit.tasks import seal_audit_events

from .base import AuditTestCase

ROW_FIELDS = (
    "id",
    "at",
    "action",
    "actor_id",
    "actor_label",
    "object_type",
    "object_id",
    "region_code",
    "ip",
    "data",
    "seq",
)


class SealingTests(AuditTestCase):
    def assert_valid_chain(self):
        key, prev = audit_key(), GENESIS_HASH
        rows = AuditEvent.objects.order_by("seq").values(*ROW_FIELDS, "chain_hash", "sealed_at")
        for expected_seq, row in enumerate(rows, start=1):
            self.assertEqual(row["seq"], expected_seq)
            self.assertIsNotNone(row["sealed_at"])
            prev = link_hash(key, prev, row)
            self.assertEqual(row["chain_hash"], prev)
        return prev

    def test_sealing_chains_events_in_id_order(self):
        events = self.write_events(5)

        self.assertEqual(self.seal(), 5)

        sealed = list(AuditEvent.objects.order_by("id").values_list("id", "seq"))
        self.assertEqual(sealed, [(e.id, i) for i, e in enumerate(events, start=1)])
        self.assert_valid_chain()

    def test_later_passes_continue_the_chain_from_the_head(self):
        self.write_events(3)
        self.seal()
        self.write_events(2, prefix="test.later")

        self.assertEqual(self.seal(), 2)

        self.assertEqual(
            list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)), [1, 2, 3, 4, 5]
        )
        self.assert_valid_chain()

    def test_each_pass_anchors_its_head_outside_the_database(self):
        self.write_events(3)
        self.seal()
        self.write_events(1, prefix="test.later")
        self.seal()

        lines = [line.split(" ") for line in self.anchor_lines()]
        head = AuditEvent.objects.get(seq=4)
        self.assertEqual([(seq, h) for seq, h, _at in lines][-1], ("4", head.chain_hash))
        self.assertEqual(lines[0][:2], ["3", AuditEvent.objects.get(seq=3).chain_hash])
        self.assertTrue(lines[-1][2].endswith("Z"))

    def test_nothing_pending_seals_nothing_and_writes_no_anchor(self):
        self.assertEqual(self.seal(), 0)
        self.assertEqual(self.anchor_lines(), [])

    def test_limit_seals_the_oldest_events_first(self):
        events = self.write_events(4)

        self.assertEqual(self.seal(limit=3), 3)

        unsealed = AuditEvent.objects.filter(seq__isnull=True).values_list("id", flat=True)
        self.assertEqual(list(unsealed), [events[3].id])
        self.assertEqual(self.anchor_lines()[-1].split(" ")[0], "3")
        self.assertEqual(self.seal(), 1)
        self.assert_valid_chain()

    def test_the_anchor_is_written_only_after_commit(self):
        self.write_events(2)
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            seal_pending()
        self.assertEqual(self.anchor_lines(), [])  # rolled back here: no anchor
        self.assertEqual(len(callbacks), 1)

    def test_an_older_head_never_follows_a_newer_one_in_the_anchor_file(self):
        self.assertTrue(write_anchor(5, "a" * 64))
        self.assertFalse(write_anchor(4, "b" * 64))  # a slower sealer's older head
        self.assertTrue(write_anchor(6, "c" * 64))
        self.assertEqual([line.split(" ")[0] for line in self.anchor_lines()], ["5", "6"])

    def test_the_seal_task_seals_pending_events(self):
        record("test.event.for_task")
        with self.captureOnCommitCallbacks(execute=True):
            result = seal_audit_events.enqueue()
        self.assertEqual(result.status, "SUCCESSFUL")
        self.assertEqual(result.return_value, 1)
        self.assertFalse(AuditEvent.objects.filter(seq__isnull=True).exists())

    @override_settings(AUDIT_HMAC_KEY="")
    def test_sealing_without_a_key_refuses_and_leaves_events_unsealed(self):
        record("test.event.keyless")
        with self.assertRaisesMessage(ImproperlyConfigured, "AUDIT_HMAC_KEY is not set"):
            self.seal()
        self.assertTrue(AuditEvent.objects.filter(seq__isnull=True).exists())
