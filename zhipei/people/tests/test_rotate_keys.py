from __future__ import annotations

import base64
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from zhipei.audit.models import AuditEvent
from zhipei.core.crypto import cipher_of
from zhipei.people.models import Person
from zhipei.people.services import reveal_id_number
from zhipei.people.testing import make_id_number, make_person
from zhipei.people.tests.base import PeopleTestCase

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


class RotateKeysTests(PeopleTestCase):
    def setUp(self):
        with override_settings(PII_KEYS=KEY_A):
            self.numbers = [make_id_number("420106", "19800101", seq=seq) for seq in range(1, 6)]
            self.people = [make_person(self.wuchang, id_number=number) for number in self.numbers]

    def reveal_all(self) -> list[str]:
        return [
            reveal_id_number(Person.objects.get(pk=p.pk), by=self.county_officer, purpose="test")
            for p in self.people
        ]

    @override_settings(PII_KEYS=f"{KEY_A},{KEY_B}")
    def test_rotate_from_a_to_b_then_remove_a(self):
        output = rotate("--batch-size", "2")

        self.assertIn("re-encrypted 5 value(s)", output)
        self.assertIn("in 3 batch(es)", output)
        self.assertIn("(from a: 5)", output)
        self.assertIn("0 remaining", output)
        self.assertEqual(set(Person.objects.values_list("id_key_id", flat=True)), {"b"})
        self.assertEqual(self.reveal_all(), self.numbers)
        events = AuditEvent.objects.filter(action="core.keys.rotated").order_by("id")
        self.assertEqual([e.data["rows"] for e in events], [2, 2, 1])
        self.assertEqual(events[0].data["from_key_ids"], ["a"])
        self.assertEqual(events[0].data["to_key_id"], "b")
        self.assertEqual(events[0].object_type, "people.person")

        with override_settings(PII_KEYS=KEY_B):
            self.assertEqual(self.reveal_all(), self.numbers)
            self.assertIn("0 remaining", rotate())

    @override_settings(PII_KEYS=f"{KEY_A},{KEY_B}")
    def test_dry_run_changes_nothing(self):
        output = rotate("--dry-run")

        self.assertIn("5 value(s)", output)
        self.assertIn("would be re-encrypted to key 'b' (from a: 5)", output)
        self.assertEqual(set(Person.objects.values_list("id_key_id", flat=True)), {"a"})
        self.assertFalse(AuditEvent.objects.filter(action="core.keys.rotated").exists())

    @override_settings(PII_KEYS=KEY_B)
    def test_dry_run_warns_about_missing_keys_and_run_refuses(self):
        self.assertIn("Key ids not in PII_KEYS, which would stop the run: a", rotate("--dry-run"))
        with self.assertRaisesMessage(CommandError, "PII_KEYS has no key with id 'a'"):
            rotate()

    @override_settings(PII_KEYS=f"{KEY_A},{KEY_B}")
    def test_interrupted_run_keeps_finished_batches_and_resumes(self):
        # The fourth row is damaged: the run stops there, after two committed batches.
        damaged = self.people[3]
        blob = bytearray(Person.objects.get(pk=damaged.pk).id_ciphertext)
        blob[-1] ^= 1
        Person.objects.filter(pk=damaged.pk).update(id_ciphertext=bytes(blob))

        with self.assertRaises(CommandError) as exc:
            rotate("--batch-size", "1")
        self.assertIn(f"people.Person pk={damaged.pk}", str(exc.exception))
        self.assertNotIn(self.numbers[3], str(exc.exception))
        keys = dict(Person.objects.values_list("pk", "id_key_id"))
        self.assertEqual([keys[p.pk] for p in self.people], ["b", "b", "b", "a", "a"])

        blob[-1] ^= 1  # repaired (e.g. restored from backup)
        Person.objects.filter(pk=damaged.pk).update(id_ciphertext=bytes(blob))
        output = rotate("--batch-size", "1")
        self.assertIn("re-encrypted 2 value(s)", output)
        self.assertEqual(self.reveal_all(), self.numbers)

    @override_settings(PII_KEYS=f"{KEY_A},{KEY_B}", PII_CIPHER="sm4-gcm")
    def test_rotation_moves_data_to_the_configured_cipher(self):
        rotate()
        for person in Person.objects.all():
            self.assertEqual(cipher_of(bytes(person.id_ciphertext)), "sm4-gcm")
        self.assertEqual(self.reveal_all(), self.numbers)

    @override_settings(PII_KEYS=KEY_A)
    def test_nothing_to_do(self):
        self.assertIn("re-encrypted 0 value(s)", rotate())

    def test_bad_arguments_and_configuration(self):
        with self.assertRaisesMessage(CommandError, "--batch-size must be at least 1"):
            rotate("--batch-size", "0")
        with (
            override_settings(PII_KEYS="a:short"),
            self.assertRaisesMessage(CommandError, "PII_KEYS"),
        ):
            rotate()

    @override_settings(PII_KEYS=f"{KEY_A},{KEY_B}")
    def test_value_rewritten_during_a_batch_is_not_overwritten(self):
        from zhipei.core.crypto import encrypt, registered_fields
        from zhipei.people.management.commands.rotate_keys import _rotate_batch, _Tally

        spec = next(f for f in registered_fields() if f.model_label == "people.Person")
        rows = list(Person.objects.order_by("pk"))  # read by the command ...
        person = self.people[0]
        # ... then the application rewrites one value under the old key (a process still
        # configured with key a) before the command reaches it.
        with override_settings(PII_ACTIVE_KEY="a"):
            key_id, blob = encrypt(
                self.numbers[0].encode(), associated_data=person.id_blind_index.encode()
            )
        Person.objects.filter(pk=person.pk).update(id_key_id=key_id, id_ciphertext=blob)

        tally = _Tally()
        _rotate_batch(Person, spec, rows, "b", tally)

        self.assertEqual((tally.rotated, tally.skipped), (4, 1))
        self.assertEqual(bytes(Person.objects.get(pk=person.pk).id_ciphertext), blob)
        self.assertIn("re-encrypted 1 value(s)", rotate())
        self.assertEqual(self.reveal_all(), self.numbers)
