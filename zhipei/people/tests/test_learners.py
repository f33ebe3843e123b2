"""Learner registration for platforms: register_learner, pseudonym_for, person_for_pseudonym
and POST /api/v1/learners (signed, idempotent, never echoing the ID number)."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.test import override_settings

from zhipei.audit.models import AuditEvent
from zhipei.core.errors import InvalidInput, NotAllowed
from zhipei.orgs.models import Platform
from zhipei.orgs.services import issue_credential
from zhipei.orgs.signing import signed_headers
from zhipei.orgs.tests.helpers import make_organisation
from zhipei.people.api import _fingerprint
from zhipei.people.models import LearnerRegistrationKey, Person, PlatformPseudonym
from zhipei.people.queries import person_for_pseudonym
from zhipei.people.services import (
    pseudonym_for,
    register_learner,
    remember_learner_registration,
)
from zhipei.people.testing import make_id_number, make_person
from zhipei.people.tests.base import PeopleTestCase
from zhipei.regions.models import Region

URL = "/api/v1/learners"
NUMBER = make_id_number("420106", "19920611", seq=246)  # a Wuchang (current) address code


class LearnerTestCase(PeopleTestCase):
    platform: Platform
    other_platform: Platform

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.platform = make_organisation(
            region=cls.jiangan, serial=1, capacities={"platform"}, platform_status="selected"
        ).platform
        cls.other_platform = make_organisation(
            region=cls.regions["420502"],
            serial=2,
            capacities={"platform"},
            platform_status="selected",
        ).platform


class RegisterLearnerServiceTests(LearnerTestCase):
    def test_new_learner_is_created_in_the_region_of_the_id_number(self):
        person, pseudonym, created = register_learner(
            platform=self.platform, name="李雷", id_number=NUMBER, phone="13912345678"
        )
        self.assertTrue(created)
        self.assertEqual(person.region.code, "420106")
        self.assertEqual(person.phone, "13912345678")
        self.assertEqual(person_for_pseudonym(self.platform.pk, pseudonym), person.pk)

    def test_unknown_address_code_is_refused_as_a_bad_id_number(self):
        number = make_id_number("990101", "19800101", seq=11)  # never a division code
        with self.assertRaises(InvalidInput) as caught:
            register_learner(platform=self.platform, name="韩梅梅", id_number=number)
        self.assertEqual(caught.exception.field, "id_number")
        self.assertFalse(Person.objects.exists())

    def test_retired_address_code_falls_back_to_the_platform_region(self):
        # 420199 stands for a district code retired in a reorganisation: valid in ID numbers
        # issued before, but no current region to scope the learner to.
        Region.objects.create(
            code="420199",
            name="已撤销区",
            level=Region.Level.COUNTY,
            parent=self.regions["420100"],
            scope_prefix="420199",
            valid_from_year=1981,
            valid_to_year=2001,
        )
        number = make_id_number("420199", "19700101", seq=21)
        person, _p, created = register_learner(
            platform=self.platform, name="韩梅梅", id_number=number
        )
        self.assertTrue(created)
        self.assertEqual(person.region, self.platform.organisation.region)

    def test_existing_person_is_found_not_created_again(self):
        existing = make_person(self.wuchang, name="王芳", id_number=NUMBER)
        person, _pseudonym, created = register_learner(
            platform=self.platform, name=" 王芳 ", id_number=NUMBER.lower()
        )
        self.assertEqual(person.pk, existing.pk)
        self.assertTrue(created)  # the pseudonym is new, the person is not
        self.assertEqual(Person.objects.count(), 1)

    def test_repeat_gives_the_same_pseudonym(self):
        _p, first, created1 = register_learner(
            platform=self.platform, name="李雷", id_number=NUMBER
        )
        _p, second, created2 = register_learner(
            platform=self.platform, name="李雷", id_number=NUMBER
        )
        self.assertEqual(first, second)
        self.assertEqual((created1, created2), (True, False))
        self.assertEqual(PlatformPseudonym.objects.count(), 1)
        self.assertEqual(AuditEvent.objects.filter(action="people.pseudonym.issued").count(), 1)

    def test_other_platform_gets_another_pseudonym_for_the_same_person(self):
        person1, first, _ = register_learner(platform=self.platform, name="李雷", id_number=NUMBER)
        person2, second, created = register_learner(
            platform=self.other_platform, name="李雷", id_number=NUMBER
        )
        self.assertEqual(person1.pk, person2.pk)
        self.assertTrue(created)
        self.assertNotEqual(first, second)
        self.assertIsNone(person_for_pseudonym(self.other_platform.pk, first))
        self.assertIsNone(person_for_pseudonym(self.platform.pk, second))
        self.assertEqual(person_for_pseudonym(self.other_platform.pk, second), person1.pk)

    def test_pseudonym_is_random_url_safe_and_not_derived_from_the_number(self):
        _p, pseudonym, _ = register_learner(platform=self.platform, name="李雷", id_number=NUMBER)
        self.assertRegex(pseudonym, r"^[A-Za-z0-9_-]{22}$")
        for part in (NUMBER, NUMBER[:6], NUMBER[6:14], NUMBER[-4:]):
            self.assertNotIn(part, pseudonym)

    def test_name_mismatch_is_refused_without_saying_the_registered_name(self):
        make_person(self.wuchang, name="王芳", id_number=NUMBER)
        with self.assertRaises(InvalidInput) as caught:
            register_learner(platform=self.platform, name="李雷", id_number=NUMBER)
        self.assertEqual(caught.exception.field, "name")
        message = str(caught.exception.message)
        self.assertNotIn("王芳", message)
        self.assertNotIn(NUMBER[-4:], message)
        self.assertFalse(PlatformPseudonym.objects.exists())

    def test_name_variants_of_the_middle_dot_and_spaces_match(self):
        make_person(self.wuchang, name="买买提·艾力", id_number=NUMBER)
        _p, _ps, created = register_learner(
            platform=self.platform, name="买买提 • 艾力", id_number=NUMBER
        )
        self.assertTrue(created)

    def test_bad_id_number_names_the_field_and_stores_nothing(self):
        bad = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
        with self.assertRaises(InvalidInput) as caught:
            register_learner(platform=self.platform, name="李雷", id_number=bad)
        self.assertEqual(caught.exception.field, "id_number")
        self.assertFalse(Person.objects.exists())
        self.assertFalse(PlatformPseudonym.objects.exists())

    def test_platform_not_selected_may_not_register(self):
        self.platform.status = "suspended"
        with self.assertRaises(NotAllowed):
            register_learner(platform=self.platform, name="李雷", id_number=NUMBER)

    def test_pseudonym_for_issues_once(self):
        person = make_person(self.wuchang, name="王芳", id_number=NUMBER)
        first = pseudonym_for(person, platform=self.platform)
        again = pseudonym_for(person, platform=self.platform)
        self.assertEqual((first[0], first[1], again[1]), (again[0], True, False))

    def test_audit_data_holds_no_id_number(self):
        register_learner(platform=self.platform, name="李雷", id_number=NUMBER)
        for event in AuditEvent.objects.all():
            self.assertNotIn(NUMBER, json.dumps(event.data, ensure_ascii=False))
            self.assertNotIn(NUMBER[6:14], json.dumps(event.data, ensure_ascii=False))


class LearnersApiTests(LearnerTestCase):
    def setUp(self):
        self.credential, self.secret = issue_credential(self.platform, by=None)
        self.other_credential, self.other_secret = issue_credential(self.other_platform, by=None)

    def post(self, payload, *, credential=None, secret=None, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
        credential = credential or self.credential
        signed = signed_headers(
            credential.key_id, secret or self.secret, method="POST", path=URL, body=body
        )
        signed.update(headers or {})
        return self.client.post(URL, data=body, content_type="application/json", headers=signed)

    def assert_no_number(self, response):
        self.assertNotIn(NUMBER.encode(), response.content)
        self.assertNotIn(NUMBER[6:14].encode(), response.content)

    def test_new_learner_gets_201_with_pseudonym_and_actor(self):
        response = self.post({"name": "李雷", "id_number": NUMBER, "phone": "13912345678"})
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual(set(body), {"pseudonym", "actor", "created"})
        self.assertTrue(body["created"])
        self.assertEqual(
            body["actor"],
            {
                "objectType": "Agent",
                "account": {"homePage": f"{settings.SITE_URL}/learners", "name": body["pseudonym"]},
            },
        )
        self.assert_no_number(response)

    @override_settings(SITE_URL="https://zhipei.example.gov.cn")
    def test_actor_home_page_follows_site_url(self):
        body = self.post({"name": "李雷", "id_number": NUMBER}).json()
        self.assertEqual(
            body["actor"]["account"]["homePage"], "https://zhipei.example.gov.cn/learners"
        )

    def test_nul_in_a_name_is_400_naming_the_field_and_stores_nothing(self):
        # PostgreSQL text cannot hold U+0000 (it failed there with a 500).
        response = self.post({"name": "李\u0000雷", "id_number": NUMBER})
        self.assertEqual(response.status_code, 400, response.content)
        self.assertEqual(response.json()["field"], "name")
        self.assertEqual(Person.objects.count(), 0)

    def test_repeat_gives_200_and_the_same_pseudonym(self):
        first = self.post({"name": "李雷", "id_number": NUMBER})
        second = self.post({"name": "李雷", "id_number": NUMBER})
        self.assertEqual((first.status_code, second.status_code), (201, 200))
        self.assertEqual(first.json()["pseudonym"], second.json()["pseudonym"])
        self.assertFalse(second.json()["created"])

    def test_other_platform_gets_another_pseudonym(self):
        first = self.post({"name": "李雷", "id_number": NUMBER}).json()
        other = self.post(
            {"name": "李雷", "id_number": NUMBER},
            credential=self.other_credential,
            secret=self.other_secret,
        )
        self.assertEqual(other.status_code, 201, other.content)
        self.assertNotEqual(first["pseudonym"], other.json()["pseudonym"])

    def test_bad_id_number_is_a_problem_naming_the_field(self):
        bad = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
        response = self.post({"name": "李雷", "id_number": bad})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        problem = response.json()
        self.assertEqual((problem["code"], problem["field"]), ("invalid_input", "id_number"))
        self.assertIn("check character", problem["title"])
        self.assertNotIn(bad.encode(), response.content)
        self.assertFalse(Person.objects.exists())

    def test_missing_id_number_is_a_problem_naming_the_location(self):
        response = self.post({"name": "李雷"})
        self.assertEqual(response.status_code, 422)
        problem = response.json()
        self.assertEqual(problem["code"], "invalid_input")
        self.assertIn("body.data.id_number", [e["location"] for e in problem["errors"]])

    def test_malformed_json_is_a_problem(self):
        response = self.post(None, raw=b'{"name": "\xe6\x9d\x8e", "id_number": ')
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response["Content-Type"], "application/problem+json")

    def test_name_mismatch_is_a_problem_that_leaks_nothing(self):
        make_person(self.wuchang, name="王芳", id_number=NUMBER)
        response = self.post({"name": "李雷", "id_number": NUMBER})
        self.assertEqual(response.status_code, 422)
        problem = response.json()
        self.assertEqual(problem["field"], "name")
        self.assertNotIn("王芳".encode(), response.content)
        self.assert_no_number(response)
        self.assertNotIn(b"420", response.content)

    def test_unsigned_request_is_401(self):
        body = json.dumps({"name": "李雷", "id_number": NUMBER}).encode()
        response = self.client.post(URL, data=body, content_type="application/json")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        self.assertFalse(Person.objects.exists())

    def test_forged_signature_is_401(self):
        response = self.post(
            {"name": "李雷", "id_number": NUMBER}, secret="not-the-secret-" + "x" * 30
        )
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()["code"], "signature_mismatch")
        self.assertFalse(Person.objects.exists())

    def test_body_changed_after_signing_is_401(self):
        body = json.dumps({"name": "李雷", "id_number": NUMBER}).encode()
        signed = signed_headers(
            self.credential.key_id, self.secret, method="POST", path=URL, body=body
        )
        other = json.dumps({"name": "韩梅梅", "id_number": NUMBER}).encode()
        response = self.client.post(
            URL, data=other, content_type="application/json", headers=signed
        )
        self.assertEqual(response.status_code, 401)

    def test_idempotency_key_same_body_replays_the_same_response(self):
        payload = {"name": "李雷", "id_number": NUMBER}
        first = self.post(payload, headers={"Idempotency-Key": "reg-1"})
        again = self.post(payload, headers={"Idempotency-Key": "reg-1"})
        self.assertEqual((first.status_code, again.status_code), (201, 201))
        self.assertEqual(first.json(), again.json())
        self.assertEqual(again["Idempotent-Replayed"], "true")
        fresh = self.post(payload, headers={"Idempotency-Key": "reg-2"})
        self.assertEqual(fresh.status_code, 200)
        self.assertEqual(fresh.json()["pseudonym"], first.json()["pseudonym"])

    def test_idempotency_key_tries_in_a_race_keep_the_creating_answer(self):
        # Two tries of one registration under one key, at once: the second finds the
        # pseudonym made by the first and records "not created" before the first records.
        # The first still answers 201, and so does every replay after.
        body = json.dumps({"name": "李雷", "id_number": NUMBER}).encode()
        _person, pseudonym, created = register_learner(
            platform=self.platform, name="李雷", id_number=NUMBER
        )
        self.assertTrue(created)

        def remember(created: bool) -> LearnerRegistrationKey:
            return remember_learner_registration(
                self.platform,
                key="reg-r",
                request_fingerprint=_fingerprint(body),
                pseudonym=pseudonym,
                created=created,
            )

        self.assertFalse(remember(created=False).created_pseudonym)  # the other try, first
        self.assertTrue(remember(created=True).created_pseudonym)
        replay = self.post(None, raw=body, headers={"Idempotency-Key": "reg-r"})
        self.assertEqual(replay.status_code, 201)
        self.assertEqual(replay["Idempotent-Replayed"], "true")

    def test_idempotency_key_with_another_body_is_422(self):
        self.post({"name": "李雷", "id_number": NUMBER}, headers={"Idempotency-Key": "reg-1"})
        other_number = make_id_number("420106", "19920611", seq=248)
        response = self.post(
            {"name": "韩梅梅", "id_number": other_number}, headers={"Idempotency-Key": "reg-1"}
        )
        self.assertEqual(response.status_code, 422)
        problem = response.json()
        self.assertEqual(
            (problem["code"], problem["field"]), ("idempotency_key_reused", "Idempotency-Key")
        )
        self.assertEqual(Person.objects.count(), 1)

    def test_idempotency_key_fingerprint_is_not_a_plain_hash_of_the_body(self):
        import hashlib

        body = json.dumps({"name": "李雷", "id_number": NUMBER}).encode()
        self.post(None, raw=body, headers={"Idempotency-Key": "reg-1"})
        kept = LearnerRegistrationKey.objects.get()
        self.assertNotEqual(kept.request_fingerprint, hashlib.sha256(body).hexdigest())

    def test_id_number_is_not_logged(self):
        bad = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
        with self.assertLogs(level=logging.DEBUG) as logs:
            logging.getLogger("zhipei.test").debug("start")
            self.post({"name": "李雷", "id_number": bad})
            self.post({"name": "李雷", "id_number": NUMBER})
            self.post({"name": "李雷", "id_number": NUMBER})
        text = "\n".join(logs.output)
        self.assertNotIn(NUMBER, text)
        self.assertNotIn(bad, text)
