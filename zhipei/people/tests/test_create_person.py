from __future__ import annotations

from datetime import date
from typing import Any

from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.audit.queries import events_for
from zhipei.core.crypto import cipher_of, decrypt
from zhipei.core.errors import Conflict, InvalidInput
from zhipei.people.identity import VerificationResult
from zhipei.people.models import Person, Sex
from zhipei.people.queries import find_person_by_id_number, id_number_blind_index
from zhipei.people.services import create_person
from zhipei.people.testing import make_id_number
from zhipei.people.tests.base import PeopleTestCase
from zhipei.regions.models import Region

NUMBER = make_id_number("420102", "19850317", seq=123)  # male


class FakeAuthority:
    """Stands in for an authority's identity service (which would leave the process)."""

    calls: list[tuple[str, str]] = []
    answer = Person.Verification.VERIFIED

    def verify(self, name: str, id_number: str) -> VerificationResult:
        FakeAuthority.calls.append((name, id_number))
        return VerificationResult(FakeAuthority.answer, "fake_authority", detail="")


FAKE = "zhipei.people.tests.test_create_person.FakeAuthority"


class CreatePersonTests(PeopleTestCase):
    def create(self, **overrides):
        fields: dict[str, Any] = {
            "name": "王芳",
            "id_number": NUMBER,
            "region": self.wuchang,
            "phone": "13912345678",
            "by": self.county_officer,
        }
        fields.update(overrides)
        return create_person(**fields)

    def test_person_is_created_with_derived_fields_and_encrypted_number(self):
        person = self.create()

        person.refresh_from_db()
        self.assertEqual(person.name, "王芳")
        self.assertEqual(person.birth_date, date(1985, 3, 17))
        self.assertEqual(person.sex, Sex.MALE)
        self.assertEqual(person.birth_region_code, "420102")
        self.assertEqual(person.region, self.wuchang)
        self.assertEqual(person.phone, "13912345678")
        self.assertEqual(person.id_masked, NUMBER[:3] + "*" * 11 + NUMBER[-4:])
        self.assertEqual(person.id_blind_index, id_number_blind_index(NUMBER))
        self.assertEqual(cipher_of(bytes(person.id_ciphertext)), "aes-gcm")
        self.assertEqual(
            decrypt(
                person.id_key_id,
                bytes(person.id_ciphertext),
                associated_data=person.id_blind_index.encode(),
            ),
            NUMBER.encode(),
        )

    def test_default_provider_records_format_only(self):
        person = self.create()
        self.assertEqual(person.verification, Person.Verification.FORMAT_ONLY)
        self.assertEqual(person.verification_provider, "checksum_only")
        self.assertIsNotNone(person.verified_at)

    def test_audit_event_carries_masked_number_only(self):
        person = self.create()
        event = events_for(person).get()
        self.assertEqual(event.action, "people.person.created")
        self.assertEqual(event.actor_id, self.county_officer.pk)
        self.assertEqual(event.region_code, "420106")
        self.assertEqual(event.data["id_masked"], person.id_masked)
        self.assertNotIn(NUMBER, str(event.data))

    def test_number_is_normalised_before_storing(self):
        with_x = next(
            number
            for seq in range(1, 999)
            if (number := make_id_number("420102", "19900101", seq=seq)).endswith("X")
        )
        person = self.create(id_number=f"  {with_x.lower()} ")
        self.assertEqual(find_person_by_id_number(with_x), person)
        self.assertTrue(person.id_masked.endswith("X"))

    def test_find_person_by_id_number(self):
        person = self.create()
        self.assertEqual(find_person_by_id_number(NUMBER), person)
        self.assertEqual(find_person_by_id_number(f" {NUMBER} "), person)
        self.assertIsNone(find_person_by_id_number(make_id_number("420102", "19850317", seq=125)))
        self.assertIsNone(find_person_by_id_number("123"))

    def test_system_may_create_without_actor(self):
        person = self.create(by=None, phone="")
        self.assertEqual(events_for(person).get().actor_label, "system")
        self.assertEqual(person.phone, "")

    def test_duplicate_number_is_a_conflict_that_names_nobody(self):
        first = self.create(name="王芳")
        with self.assertRaises(Conflict) as exc:
            self.create(name="李雷", id_number=NUMBER.lower() + " ")
        message = str(exc.exception.message)
        self.assertEqual(exc.exception.field, "id_number")
        self.assertNotIn("王芳", message)
        self.assertNotIn(str(first.pk), message)
        self.assertNotIn(first.id_masked, message)
        self.assertEqual(Person.objects.count(), 1)

    def test_duplicate_inserted_concurrently_is_a_conflict(self):
        # The pre-check passed but another transaction inserted the same index first: the unique
        # index catches it and the service reports a conflict instead of a 500.
        from zhipei.people import services

        info = services._parse_for_input(NUMBER)
        index = id_number_blind_index(info.number)
        self.create()
        with self.assertRaises(Conflict):
            services._insert_person(
                info=info,
                index=index,
                name="李雷",
                phone="",
                region=self.wuchang,
                verification="format_only",
                provider="checksum_only",
                by=None,
            )
        self.assertEqual(Person.objects.count(), 1)

    def test_each_invalid_number_reason_gives_a_clear_message_on_the_field(self):
        future = make_id_number(
            "420102",
            timezone.localdate()
            .replace(month=1, day=1, year=timezone.localdate().year + 1)
            .strftime("%Y%m%d"),
            seq=1,
        )
        cases = {
            "11010519500101120": "18 characters",
            "440305850101123": "15-digit first-generation",
            "42010219850317A23X": "only digits",
            NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1"): "check character",
            make_id_number("420102", "19990230", seq=1): "not a real calendar date",
            future: "in the future",
            make_id_number("420102", "18991231", seq=1): "before 1900",
            make_id_number("990101", "19850317", seq=1): "not an administrative division code",
        }
        for value, fragment in cases.items():
            with self.subTest(fragment=fragment), self.assertRaises(InvalidInput) as exc:
                self.create(id_number=value)
            self.assertEqual(exc.exception.field, "id_number")
            self.assertIn(fragment, str(exc.exception.message))
            self.assertNotIn(value, str(exc.exception))
        self.assertEqual(Person.objects.count(), 0)
        self.assertEqual(AuditEvent.objects.count(), 0)

    def test_historical_region_code_is_accepted(self):
        Region.objects.create(
            code="420103",
            name="江汉区(old)",
            level="county",
            scope_prefix="420103",
            valid_from_year=1981,
            valid_to_year=1990,
        )
        person = self.create(id_number=make_id_number("420103", "19700101", seq=5))
        self.assertEqual(person.birth_region_code, "420103")

    def test_bad_phone(self):
        for phone in ("12912345678", "1391234567", "139123456789", "+8613912345678", "1391234567x"):
            with self.subTest(phone=phone), self.assertRaises(InvalidInput) as exc:
                self.create(phone=phone)
            self.assertEqual(exc.exception.field, "phone")
            self.assertIn("mainland mobile number", str(exc.exception.message))
        self.assertEqual(Person.objects.count(), 0)

    def test_bad_name(self):
        for name, fragment in (
            ("", "Enter"),
            ("   ", "Enter"),
            ("王2芳", "digits"),
            ("王" * 101, "100"),
            ("王\u202e芳", "only letters"),  # a right-to-left override
            ("王\u200b芳", "only letters"),  # a zero-width space
            ("王\x07芳", "only letters"),
            ("王芳😀", "only letters"),
            ("王芳<script>", "only letters"),
        ):
            with self.subTest(name=name), self.assertRaises(InvalidInput) as exc:
                self.create(name=name)
            self.assertEqual(exc.exception.field, "name")
            self.assertIn(fragment, str(exc.exception.message))
        self.assertEqual(self.create(name=" 阿依古丽·买买提 ").name, "阿依古丽·买买提")

    def test_names_as_people_write_them_are_taken(self):
        for serial, name in enumerate(
            ("买买提•艾力", "Anna-Lena O'Brien", "Zoë D’Arcy", "阿卜杜拉．买买提", "J. R. 史密斯"),
            1,
        ):
            number = make_id_number("420102", "19850317", seq=serial * 10)
            with self.subTest(name=name):
                self.assertEqual(self.create(name=name, id_number=number).name, name)

    def test_retired_region_cannot_be_the_residence(self):
        old = Region.objects.create(
            code="420199", name="old", level="county", scope_prefix="420199", valid_to_year=2000
        )
        with self.assertRaises(InvalidInput) as exc:
            self.create(region=old)
        self.assertEqual(exc.exception.field, "region")

    @override_settings(IDENTITY_PROVIDER=FAKE)
    def test_authority_confirms(self):
        FakeAuthority.calls, FakeAuthority.answer = [], Person.Verification.VERIFIED
        person = self.create()
        self.assertEqual(FakeAuthority.calls, [("王芳", NUMBER)])
        self.assertEqual(person.verification, Person.Verification.VERIFIED)
        self.assertEqual(person.verification_provider, "fake_authority")

    @override_settings(IDENTITY_PROVIDER=FAKE)
    def test_authority_mismatch_saves_nothing(self):
        FakeAuthority.calls, FakeAuthority.answer = [], Person.Verification.FAILED
        with self.assertRaises(InvalidInput) as exc:
            self.create()
        self.assertEqual(exc.exception.field, "id_number")
        self.assertEqual(Person.objects.count(), 0)
        self.assertEqual(AuditEvent.objects.count(), 0)

    @override_settings(IDENTITY_PROVIDER=FAKE)
    def test_authority_unreachable_marks_unverified(self):
        FakeAuthority.calls, FakeAuthority.answer = [], Person.Verification.UNVERIFIED
        person = self.create()
        self.assertEqual(person.verification, Person.Verification.UNVERIFIED)
        self.assertIsNone(person.verified_at)

    def test_duplicate_is_refused_before_asking_the_authority(self):
        self.create()
        FakeAuthority.calls = []
        with override_settings(IDENTITY_PROVIDER=FAKE), self.assertRaises(Conflict):
            self.create()
        self.assertEqual(FakeAuthority.calls, [])

    def test_str_and_repr_show_the_masked_number_only(self):
        person = self.create()
        for text in (str(person), repr(person)):
            self.assertNotIn(NUMBER, text)
            self.assertIn(person.id_masked, text)

    def test_clear_number_never_reaches_the_database_in_any_query(self):
        with CaptureQueriesContext(connection) as queries:
            self.create()
            find_person_by_id_number(NUMBER)
            with self.assertRaises(Conflict):
                self.create()
        self.assertGreater(len(queries.captured_queries), 3)
        for query in queries.captured_queries:
            self.assertNotIn(NUMBER, query["sql"])
            self.assertNotIn(NUMBER[6:17], query["sql"])
