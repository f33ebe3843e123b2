"""POST / PUT / GET /xapi/statements (xAPI 1.0.3 Communication §2.1), one test per rule."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.conf import settings
from django.test import Client, TestCase, override_settings

from zhipei.lrs.http import clear_auth_cache
from zhipei.lrs.models import Statement
from zhipei.lrs.services import clear_course_cache
from zhipei.lrs.tests.helpers import XapiClient, make_platform, statement
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.regions.testing import make_region_tree


class StatementsApiTestCase(TestCase):
    platform: Platform
    credential: PlatformCredential
    secret: str
    other_platform: Platform
    other_credential: PlatformCredential
    other_secret: str

    @classmethod
    def setUpTestData(cls):
        regions = make_region_tree()
        cls.platform, cls.credential, cls.secret = make_platform(regions["420102"], 1)
        cls.other_platform, cls.other_credential, cls.other_secret = make_platform(
            regions["420106"], 2
        )

    def setUp(self):
        clear_auth_cache()
        clear_course_cache()
        self.x = XapiClient(self.client, self.credential.key_id, self.secret)
        self.other = XapiClient(self.client, self.other_credential.key_id, self.other_secret)

    def assert_400(self, response, path_fragment=""):
        self.assertEqual(response.status_code, 400, response.content)
        message = response.json()["error"]["message"]
        if path_fragment:
            self.assertIn(path_fragment, message)
        return message


class PostTests(StatementsApiTestCase):
    def test_post_single_statement_returns_its_id(self):
        data = statement()
        response = self.x.post(data)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), [data["id"]])
        self.assertEqual(response["X-Experience-API-Version"], "1.0.3")
        self.assertIn("X-Experience-API-Consistent-Through", response)
        row = Statement.objects.get(statement_id=data["id"])
        self.assertEqual(row.platform_id, self.platform.pk)
        self.assertEqual(row.verb_id, data["verb"]["id"])
        self.assertEqual(row.activity_id, data["object"]["id"])
        self.assertEqual(row.duration_seconds, 300)
        self.assertEqual(str(row.registration), data["context"]["registration"])

    def test_post_batch_returns_ids_in_order(self):
        batch = [statement() for _ in range(3)]
        response = self.x.post(batch)
        self.assertEqual(response.json(), [item["id"] for item in batch])
        self.assertEqual(Statement.objects.count(), 3)

    def test_lrs_generates_an_id_when_none_is_given(self):
        response = self.x.post(statement(id=None))
        (generated,) = response.json()
        self.assertEqual(str(uuid.UUID(generated)), generated)

    def test_batch_is_all_or_nothing(self):
        bad = statement()
        bad["verb"] = {"id": "not an iri"}
        response = self.x.post([statement(), bad])
        self.assert_400(response, "statements[1].verb.id")
        self.assertEqual(Statement.objects.count(), 0)

    def test_duplicate_ids_within_a_batch_are_400(self):
        first = statement()
        second = statement(id=first["id"])
        self.assert_400(self.x.post([first, second]), "statements[1].id")
        self.assertEqual(Statement.objects.count(), 0)

    def test_json_deeper_than_64_levels_is_400_and_stores_nothing(self):
        # statement → result → extensions → deep(n): n + 4 levels; a batch's array adds one.
        def deep(levels):
            value: list[object] = []
            for _level in range(levels - 1):
                value = [value]
            return statement(result={"extensions": {"https://x.cn/deep": value}})

        self.assertEqual(self.x.post(deep(61)).status_code, 200)  # 64 levels
        self.assertEqual(self.x.post([statement(), deep(60)]).status_code, 200)
        message = self.assert_400(self.x.post(deep(62)))
        self.assertIn("nested more than 64 levels", message)
        self.assert_400(self.x.post([statement(), deep(61)]), "statements[1]")
        too_deep = deep(62)
        self.assertIn("nested more than", self.assert_400(self.x.put(too_deep, too_deep["id"])))
        self.assertEqual(Statement.objects.count(), 3)
        # Deeper than orjson writes, and than Python's parser reads: still a clear 400.
        self.assert_400(self.x.post(deep(500)))
        text = json.dumps(deep(1)).replace("[]", "[" * 100_000 + "]" * 100_000)
        response = self.client.post(
            "/xapi/statements", text, content_type="application/json", headers=self.x.headers
        )
        self.assertIn("nested more than", self.assert_400(response))
        self.assertEqual(Statement.objects.count(), 3)

    def test_same_id_and_equivalent_body_is_a_no_op(self):
        data = statement()
        self.x.post(data)
        again = json.loads(json.dumps(data))
        again["verb"]["display"] = {"en-US": "went on"}  # display is not part of the statement
        response = self.x.post(again)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(Statement.objects.count(), 1)

    def test_same_id_and_different_body_is_409(self):
        data = statement()
        self.x.post(data)
        changed = dict(data, result={"duration": "PT6M"})
        response = self.x.post(changed)
        self.assertEqual(response.status_code, 409)
        self.assertIn("X-Experience-API-Consistent-Through", response)

    def test_another_platforms_id_is_409_and_its_row_is_untouched(self):
        data = statement()
        self.x.post(data)
        self.assertEqual(self.other.post(data).status_code, 409)
        self.assertEqual(Statement.objects.get().platform_id, self.platform.pk)

    def test_stored_and_authority_are_overwritten_by_the_lrs(self):
        data = statement(
            stored="2001-01-01T00:00:00Z",
            authority={"objectType": "Agent", "mbox": "mailto:someone@else.cn"},
        )
        self.x.post(data)
        payload = json.loads(Statement.objects.get().payload)
        self.assertNotEqual(payload["stored"], "2001-01-01T00:00:00Z")
        self.assertEqual(payload["authority"]["account"]["name"], self.credential.key_id)

    def test_a_missing_timestamp_is_stored_to_the_millisecond_in_column_and_payload(self):
        for batch in ([statement(timestamp=None)], [statement(timestamp=None) for _ in range(3)]):
            self.x.post(batch if len(batch) > 1 else batch[0])
            for row in Statement.objects.filter(statement_id__in=[s["id"] for s in batch]):
                payload = json.loads(row.payload)
                self.assertEqual(row.timestamp, row.stored)
                self.assertEqual(row.stored.microsecond % 1000, 0)
                self.assertEqual(payload["timestamp"], payload["stored"])
                self.assertEqual(row.timestamp, datetime.fromisoformat(payload["timestamp"]))

    def test_version_is_set_to_1_0_0_when_missing(self):
        self.x.post(statement())
        self.assertEqual(json.loads(Statement.objects.get().payload)["version"], "1.0.0")

    def test_unknown_learner_and_course_are_stored_without_credit(self):
        self.x.post(statement())
        row = Statement.objects.get()
        self.assertIsNone(row.person_id)
        self.assertIsNone(row.course_id)

    def test_malformed_json_is_400(self):
        response = self.client.post(
            "/xapi/statements",
            data="{not json",
            content_type="application/json",
            headers=self.x.headers,
        )
        self.assert_400(response)

    def test_deeply_nested_json_is_400_not_a_crash(self):
        # 100,000 levels overflow Python's parser (RecursionError); 65 pass it but are refused.
        for depth in (100_000, 65):
            extension = "[" * depth + "]" * depth
            base = json.dumps(statement(result=None))
            body = '{"result": {"extensions": {"https://x.cn/e": ' + extension + "}}, " + base[1:]
            response = self.client.post(
                "/xapi/statements",
                data=body,
                content_type="application/json",
                headers=self.x.headers,
            )
            self.assert_400(response)
            self.assertIn("nested more than 64 levels", response.content.decode())
        self.assertFalse(Statement.objects.exists())

    def test_lone_surrogate_is_400_not_a_crash(self):
        # JSON escapes can spell half of a surrogate pair, which is not text.
        body = json.dumps(statement(result={"response": "x"})).replace('"x"', '"\\ud800"')
        response = self.client.post(
            "/xapi/statements", data=body, content_type="application/json", headers=self.x.headers
        )
        self.assert_400(response, "not valid Unicode")
        self.assertEqual(Statement.objects.count(), 0)

    def test_nul_in_an_account_name_is_400_not_a_crash(self):
        # PostgreSQL text cannot hold U+0000; the account name is a key column (actor_ifi).
        data = statement(actor={"account": {"homePage": "https://x.cn", "name": "a\u0000b"}})
        self.assert_400(self.x.post(data), "actor.account.name")
        batch = [statement(), statement(context={"instructor": data["actor"]})]
        self.assert_400(self.x.post(batch), "statements[1].context.instructor.account.name")
        self.assertEqual(Statement.objects.count(), 0)

    def test_control_characters_in_an_iri_are_400(self):
        for iri in ("https://x.cn/a\u0000", "https://x.cn/a\u001f", "https://x.cn/a\u0085"):
            self.assert_400(self.x.post(statement(object={"id": iri})), "object.id")
        self.assertEqual(Statement.objects.count(), 0)

    def test_nul_elsewhere_in_a_statement_is_stored_as_sent(self):
        # Only in the stored JSON, where it is escaped: nothing keys on it.
        data = statement(result={"response": "a\u0000b"})
        self.assertEqual(self.x.post(data).status_code, 200)
        got = self.x.get(params={"statementId": data["id"]}).json()
        self.assertEqual(got["result"]["response"], "a\u0000b")

    def test_nul_in_a_filter_is_400_not_a_crash(self):
        agent = json.dumps({"account": {"homePage": "https://x.cn", "name": "a\u0000b"}})
        self.assert_400(self.x.get(params={"agent": agent}), "account.name")
        self.assert_400(self.x.get(params={"activity": "https://x.cn/\u0000"}))
        self.assert_400(self.x.get(params={"verb": "https://x.cn/\u0000"}))
        response = self.client.get("/xapi/statements?registration=%00", headers=self.x.headers)
        self.assert_400(response, "U+0000")

    def test_numbers_beyond_64_bits_are_stored_as_sent(self):
        data = statement(result={"extensions": {"https://x.cn/e": 2**70}})
        self.assertEqual(self.x.post(data).status_code, 200)
        payload = Statement.objects.get(statement_id=data["id"]).payload
        self.assertIn(str(2**70), payload)

    def test_wrong_content_type_is_400(self):
        response = self.client.post(
            "/xapi/statements",
            data=json.dumps(statement()),
            content_type="text/plain",
            headers=self.x.headers,
        )
        self.assert_400(response)

    def test_without_version_header_is_400(self):
        response = self.client.post(
            "/xapi/statements",
            data=json.dumps(statement()),
            content_type="application/json",
            headers={"Authorization": self.x.headers["Authorization"]},
        )
        self.assert_400(response)

    def test_without_auth_is_401_and_csrf_is_not_enforced(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post(
            "/xapi/statements",
            data="[]",
            content_type="application/json",
            headers={"X-Experience-API-Version": "1.0.3"},
        )
        self.assertEqual(response.status_code, 401)
        self.assertIn("WWW-Authenticate", response)

    def test_trailing_slash_is_served_not_redirected(self):
        response = self.x.post(statement(), path="/xapi/statements/")
        self.assertEqual(response.status_code, 200)

    def test_empty_batch_is_400(self):
        self.assert_400(self.x.post([]))

    def test_numbers_beyond_a_float_are_stored_not_a_crash(self):
        # 10**400 is valid JSON and a valid score; float() of it raises OverflowError, which
        # the score check and the evidence extraction once let through as a 500.
        huge = 10**400
        segment_iri = f"{settings.SITE_URL}/xapi/extensions/media-segment"
        sent = [
            statement(result={"score": {"raw": huge, "min": 0, "max": huge + 1}}),
            statement(
                verb={"id": "http://adlnet.gov/expapi/verbs/progressed"},
                result={"duration": "PT1M", "extensions": {segment_iri: {"from": huge, "to": 5}}},
            ),
        ]
        response = self.x.post(sent)
        self.assertEqual(response.status_code, 200, response.content)
        stored = self.x.get(params={"statementId": sent[0]["id"]}).json()
        self.assertEqual(stored["result"]["score"]["raw"], huge)  # exact, as sent
        self.assert_400(
            self.x.post(statement(result={"score": {"raw": huge, "max": 1}})), "score.raw"
        )

    def test_delete_is_405(self):
        response = self.client.delete("/xapi/statements", headers=self.x.headers)
        self.assertEqual(response.status_code, 405)


class PutTests(StatementsApiTestCase):
    def test_put_stores_under_statement_id(self):
        data = statement(id=None)
        statement_id = str(uuid.uuid4())
        response = self.x.put(data, statement_id)
        self.assertEqual(response.status_code, 204, response.content)
        self.assertTrue(Statement.objects.filter(statement_id=statement_id).exists())

    def test_put_without_statement_id_is_400(self):
        response = self.client.put(
            "/xapi/statements",
            data=json.dumps(statement()),
            content_type="application/json",
            headers=self.x.headers,
        )
        self.assert_400(response)

    def test_put_with_a_different_id_in_the_body_is_400(self):
        self.assert_400(self.x.put(statement(), str(uuid.uuid4())), "id")

    def test_put_same_statement_twice_is_a_no_op(self):
        data = statement()
        self.assertEqual(self.x.put(data, data["id"]).status_code, 204)
        self.assertEqual(self.x.put(data, data["id"]).status_code, 204)
        self.assertEqual(Statement.objects.count(), 1)

    def test_put_conflicting_body_is_409(self):
        data = statement()
        self.x.put(data, data["id"])
        self.assertEqual(
            self.x.put(dict(data, verb={"id": "https://x.cn/v"}), data["id"]).status_code, 409
        )

    def test_put_batch_is_400(self):
        self.assert_400(self.x.put([statement()], str(uuid.uuid4())))


class LimitsTests(StatementsApiTestCase):
    @override_settings(XAPI_MAX_BATCH=2)
    def test_oversize_batch_is_413_and_nothing_is_stored(self):
        response = self.x.post([statement() for _ in range(3)])
        self.assertEqual(response.status_code, 413)
        self.assertEqual(Statement.objects.count(), 0)

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
    def test_oversize_body_is_413(self):
        response = self.x.post([statement() for _ in range(5)])
        self.assertEqual(response.status_code, 413)

    def test_voiding_a_voiding_statement_names_its_place_in_the_batch(self):
        target = statement()
        void = statement(
            verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
            object={"objectType": "StatementRef", "id": target["id"]},
            context=None,
        )
        void_void = dict(
            void, id=str(uuid.uuid4()), object={"objectType": "StatementRef", "id": void["id"]}
        )
        response = self.x.post([target, void, void_void])
        self.assert_400(response, "statements[2].object.id")
        self.assertEqual(Statement.objects.count(), 0)


class IdNumberTests(StatementsApiTestCase):
    """ARCHITECTURE invariant 2: no ID number in xAPI statements."""

    def test_statement_holding_an_id_number_is_refused_without_echoing_it(self):
        from zhipei.people.testing import make_id_number

        number = make_id_number("420102", "19900101", 7)
        data = statement(actor={"account": {"homePage": "https://lms.x.cn", "name": number}})
        response = self.x.post([statement(), data])
        message = self.assert_400(response, "statements[1].actor.account.name")
        self.assertNotIn(number, response.content.decode())
        self.assertIn("ID number", message)
        self.assertEqual(Statement.objects.count(), 0)

    def test_id_number_inside_an_extension_is_refused(self):
        from zhipei.people.testing import make_id_number

        number = make_id_number("420102", "20010203", 8)
        data = statement(result={"extensions": {"https://x.cn/ext/learner": f"身份证 {number}"}})
        self.assert_400(self.x.post(data), "result.extensions.https://x.cn/ext/learner")

    def test_id_number_with_x_check_character_or_as_a_json_number_is_refused(self):
        from zhipei.people.idnumber import check_character

        body = next(
            f"42010219850607{n:03d}"
            for n in range(1000)
            if check_character(f"42010219850607{n:03d}") == "X"
        )
        data = statement(result={"response": f"ID:{body}x."})
        self.assert_400(self.x.post(data), "result.response")
        number = next(
            int(f"42010219850607{n:03d}{check_character(f'42010219850607{n:03d}')}")
            for n in range(1000)
            if check_character(f"42010219850607{n:03d}") != "X"
        )
        data = statement(result={"extensions": {"https://x.cn/e": {"n": number}}})
        self.assert_400(self.x.post(data), "result.extensions.https://x.cn/e.n")
        self.assertEqual(Statement.objects.count(), 0)

    def test_other_long_numbers_are_not_mistaken_for_id_numbers(self):
        data = statement(result={"response": "order 420102199001010070 ref 123456789012345678"})
        # the first has a wrong check character for its body, the second no valid birth date
        from zhipei.people.idnumber import check_character

        self.assertNotEqual(check_character("42010219900101007"), "0")
        self.assertEqual(self.x.post(data).status_code, 200)
