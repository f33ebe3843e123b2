import base64
import json

from django.core.management import CommandError, call_command
from django.test import override_settings

from zhipei.audit.models import AuditEvent
from zhipei.audit.sealer import CONTENT_FIELDS, GENESIS_HASH, link_hash
from zhipei.audit.verify import ProblemKind, verify_chain

from .base import AuditTestCase, raw_execute

OTHER_KEY = base64.b64encode(b"an attacker's guess at the key!!").decode()


class AuditVerifyTests(AuditTestCase):
    def setUp(self):
        super().setUp()
        self.events = self.write_events(6)
        self.seal()

    def verify(self, *args):
        with self.captureOnCommitCallbacks(execute=True):
            call_command(
                "audit_verify", *args, stdout=(out := _Buffer()), stderr=(err := _Buffer())
            )
        return out.text, err.text

    def assert_broken(self, *, kind, seq, event_id, fragment, args=()):
        result = verify_chain()
        self.assertFalse(result.ok)
        assert result.problem is not None
        self.assertEqual(result.problem.kind, kind)
        self.assertEqual(result.problem.seq, seq)
        self.assertEqual(result.problem.event_id, event_id)
        with self.assertRaises(CommandError) as raised:
            self.verify(*args)
        message = str(raised.exception)
        self.assertIn(f"seq {seq}", message)
        if event_id is not None:
            self.assertIn(f"id {event_id}", message)
        self.assertIn(fragment, message)
        return message

    def event(self, seq):
        return AuditEvent.objects.get(seq=seq)

    # --- clean chains -----------------------------------------------------------------------

    def test_a_clean_chain_passes_with_a_one_line_summary(self):
        out, err = self.verify()
        self.assertEqual(out.strip().count("\n"), 0)
        self.assertIn("Audit chain OK: 6 events, head seq 6", out)
        self.assertIn("anchored through seq 6", out)
        self.assertEqual(err, "")

    def test_pending_events_are_sealed_before_verifying(self):
        self.write_events(2, prefix="test.late")
        out, _err = self.verify()
        self.assertIn("Sealed 2 pending audit events.", out)
        self.assertIn("Audit chain OK: 8 events, head seq 8", out)
        self.assertEqual(self.anchor_lines()[-1].split(" ")[0], "8")

    def test_no_seal_leaves_pending_events_and_warns_about_old_ones(self):
        late = self.write_events(1, prefix="test.late")[0]
        raw_execute("UPDATE {table} SET at = %s WHERE id = %s", ["2020-01-01 00:00:00", late.id])

        out, err = self.verify("--no-seal", "--unsealed-warn-after", "60")

        self.assertIn("Audit chain OK: 6 events", out)
        self.assertIn("1 unsealed", out)
        self.assertIn("1 audit events are older than 60 s and still unsealed", err)
        late.refresh_from_db()
        self.assertIsNone(late.seq)

    def test_an_empty_log_verifies(self):
        raw_execute("DELETE FROM {table}")
        self.anchor_path.unlink()
        out, _err = self.verify()
        self.assertIn("Audit chain OK: 0 events", out)

    # --- tampering --------------------------------------------------------------------------

    def test_an_edited_event_is_named(self):
        victim = self.event(3)
        raw_execute(
            "UPDATE {table} SET data = %s WHERE id = %s", [json.dumps({"i": 999}), victim.id]
        )
        self.assert_broken(
            kind=ProblemKind.HASH_MISMATCH,
            seq=3,
            event_id=victim.id,
            fragment="fails its chain hash",
        )

    def test_an_edited_actor_is_named(self):
        victim = self.event(5)
        raw_execute("UPDATE {table} SET actor_label = 'someone else' WHERE id = %s", [victim.id])
        self.assert_broken(
            kind=ProblemKind.HASH_MISMATCH, seq=5, event_id=victim.id, fragment="content"
        )

    def test_an_event_deleted_from_the_middle_is_named(self):
        raw_execute("DELETE FROM {table} WHERE seq = 4")
        message = self.assert_broken(
            kind=ProblemKind.MISSING, seq=4, event_id=None, fragment="is missing"
        )
        self.assertIn(f"seq 5 (id {self.event(5).id})", message)

    def test_the_newest_events_deleted_are_caught_by_the_anchor(self):
        raw_execute("DELETE FROM {table} WHERE seq >= 5")
        message = self.assert_broken(
            kind=ProblemKind.TRUNCATED, seq=5, event_id=None, fragment="newest events were deleted"
        )
        self.assertIn("the chain ends at seq 4", message)

    def test_the_newest_event_deleted_and_new_ones_sealed_in_its_place_is_caught(self):
        raw_execute("DELETE FROM {table} WHERE seq = 6")
        self.write_events(1, prefix="test.replacement")
        self.seal()  # the replacement becomes seq 6 with a valid link
        self.assert_broken(
            kind=ProblemKind.ANCHOR_MISMATCH,
            seq=6,
            event_id=AuditEvent.objects.latest("id").id,
            fragment="does not match the hash anchored",
        )

    def test_a_chain_recomputed_from_scratch_with_another_key_fails_at_seq_1(self):
        prev = GENESIS_HASH
        other_key = base64.b64decode(OTHER_KEY)
        for row in AuditEvent.objects.order_by("seq").values(*CONTENT_FIELDS):
            row["data"] = {"i": -1}  # the reason for rewriting
            prev = link_hash(other_key, prev, row)
            raw_execute(
                "UPDATE {table} SET data = %s, chain_hash = %s WHERE id = %s",
                [json.dumps(row["data"]), prev, row["id"]],
            )
        self.assert_broken(
            kind=ProblemKind.HASH_MISMATCH,
            seq=1,
            event_id=self.events[0].id,
            fragment="recomputed without the key",
        )

    def test_verifying_with_another_key_fails_at_seq_1(self):
        with override_settings(AUDIT_HMAC_KEY=OTHER_KEY):
            self.assert_broken(
                kind=ProblemKind.HASH_MISMATCH,
                seq=1,
                event_id=self.events[0].id,
                fragment="fails its chain hash",
                args=("--no-seal",),
            )

    def test_a_renumbered_chain_after_a_deletion_is_caught(self):
        raw_execute("DELETE FROM {table} WHERE seq = 2")
        raw_execute("UPDATE {table} SET seq = seq - 1 WHERE seq > 2")
        self.assert_broken(
            kind=ProblemKind.HASH_MISMATCH,
            seq=2,
            event_id=self.events[2].id,
            fragment="fails its chain hash",
        )

    def test_a_missing_anchor_file_is_an_error_once_events_are_sealed(self):
        self.anchor_path.unlink()
        with self.assertRaisesMessage(CommandError, "is missing or empty but 6 events are sealed"):
            self.verify("--no-seal")

    def test_a_malformed_anchor_file_names_the_line(self):
        with self.anchor_path.open("a", encoding="utf-8") as handle:
            handle.write("seven deadbeef yesterday\n")
        with self.assertRaisesMessage(CommandError, "line 2 is not 'seq hash timestamp'"):
            self.verify()

    def test_a_negative_warning_age_is_refused(self):
        with self.assertRaisesMessage(CommandError, "--unsealed-warn-after"):
            self.verify("--unsealed-warn-after", "-1")


class _Buffer:
    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    @property
    def text(self):
        return "".join(self.parts)
