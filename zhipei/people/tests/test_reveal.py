from __future__ import annotations

from zhipei.audit.queries import events_for
from zhipei.core.crypto import DecryptionFailed
from zhipei.core.errors import InvalidInput, NotAllowed
from zhipei.people.models import Person
from zhipei.people.services import reveal_id_number
from zhipei.people.testing import make_id_number, make_person
from zhipei.people.tests.base import PeopleTestCase


class RevealIdNumberTests(PeopleTestCase):
    def setUp(self):
        self.number = make_id_number("420106", "19921005", seq=44)
        self.person = make_person(self.wuchang, id_number=self.number)

    def test_reveal_returns_the_number_and_audits_the_purpose(self):
        revealed = reveal_id_number(
            self.person, by=self.county_officer, purpose="  subsidy review 2025-17 "
        )

        self.assertEqual(revealed, self.number)
        event = events_for(self.person).get(action="people.person.id_revealed")
        self.assertEqual(event.actor_id, self.county_officer.pk)
        self.assertEqual(
            event.data, {"purpose": "subsidy review 2025-17", "id_masked": self.person.id_masked}
        )
        self.assertEqual(event.region_code, "420106")

    def test_purpose_is_required(self):
        for purpose in ("", "   "):
            with self.subTest(purpose=purpose), self.assertRaises(InvalidInput) as exc:
                reveal_id_number(self.person, by=self.county_officer, purpose=purpose)
            self.assertEqual(exc.exception.field, "purpose")
        self.assertFalse(
            events_for(self.person).filter(action="people.person.id_revealed").exists()
        )

    def test_inactive_user_may_not_reveal(self):
        self.county_officer.is_active = False
        self.county_officer.save()
        with self.assertRaises(NotAllowed):
            reveal_id_number(self.person, by=self.county_officer, purpose="check")

    def test_ciphertext_moved_to_another_person_does_not_open(self):
        other = make_person(
            self.wuchang, name="李雷", id_number=make_id_number("420106", "19921005", seq=46)
        )
        Person.objects.filter(pk=other.pk).update(id_ciphertext=bytes(self.person.id_ciphertext))
        other.refresh_from_db()

        with self.assertRaises(DecryptionFailed) as exc:
            reveal_id_number(other, by=self.county_officer, purpose="check")
        self.assertNotIn(self.number, str(exc.exception))
        self.assertFalse(events_for(other).filter(action="people.person.id_revealed").exists())
