"""GET /xapi/statements, voiding, attachments, signed statements and the alternate syntax
(xAPI 1.0.3 Communication §1.3, §1.5.2, §2.1.3; Data §2.3.2, §2.4.11, §2.6)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from django.utils.http import http_date

from zhipei.lrs.models import Statement
from zhipei.lrs.services import COPY_FROM_ROWS, clear_course_cache
from zhipei.lrs.tests.helpers import restamp, statement
from zhipei.lrs.tests.test_statements_api import StatementsApiTestCase
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def voiding(target: str) -> dict[str, Any]:
    return statement(
        verb={"id": VOIDED, "display": {"en-US": "voided"}},
        object={"objectType": "StatementRef", "id": target},
        context=None,
        result=None,
    )


class GetTests(StatementsApiTestCase):
    def get_json(self, params=None, client=None):
        response = (client or self.x).get(params=params)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_get_by_statement_id(self):
        data = statement()
        self.x.post(data)
        response = self.x.get(params={"statementId": data["id"]})
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["id"], data["id"])
        self.assertEqual(body["verb"], data["verb"])
        self.assertIn("stored", body)
        self.assertIn("X-Experience-API-Consistent-Through", response)
        self.assertIn("Last-Modified", response)

    def test_unknown_statement_id_is_404(self):
        self.assertEqual(self.x.get(params={"statementId": str(uuid.uuid4())}).status_code, 404)

    def test_statement_id_with_other_filters_is_400(self):
        params = {"statementId": str(uuid.uuid4()), "verb": "https://x.cn/v"}
        self.assertEqual(self.x.get(params=params).status_code, 400)

    def test_each_platform_sees_only_its_own_statements(self):
        data = statement()
        self.x.post(data)
        self.assertEqual(self.other.get(params={"statementId": data["id"]}).status_code, 404)
        self.assertEqual(self.get_json(client=self.other)["statements"], [])

    def test_list_newest_first_and_ascending(self):
        first, second = statement(), statement()
        self.x.post([first])
        self.x.post([second])
        ids = [s["id"] for s in self.get_json()["statements"]]
        self.assertEqual(ids, [second["id"], first["id"]])
        ids = [s["id"] for s in self.get_json({"ascending": "true"})["statements"]]
        self.assertEqual(ids, [first["id"], second["id"]])

    def test_filters_agent_verb_activity_registration(self):
        match = statement()
        other = statement(
            actor={"mbox": "mailto:someone@x.cn"},
            verb={"id": "https://x.cn/verbs/other"},
            object={"id": "https://x.cn/other"},
            context={"registration": str(uuid.uuid4())},
        )
        self.x.post([match, other])
        for params in (
            {"agent": json.dumps(match["actor"])},
            {"verb": match["verb"]["id"]},
            {"activity": match["object"]["id"]},
            {"registration": match["context"]["registration"]},
        ):
            ids = [s["id"] for s in self.get_json(params)["statements"]]
            self.assertEqual(ids, [match["id"]], params)

    def test_related_activities_finds_context_activities(self):
        parent = "https://x.cn/courses/c1"
        data = statement(context={"contextActivities": {"parent": [{"id": parent}]}})
        self.x.post(data)
        self.assertEqual(self.get_json({"activity": parent})["statements"], [])
        found = self.get_json({"activity": parent, "related_activities": "true"})["statements"]
        self.assertEqual([s["id"] for s in found], [data["id"]])
        # returned as an array even when sent as one Activity (Data §2.4.6.2.s4.b3)
        self.assertIsInstance(found[0]["context"]["contextActivities"]["parent"], list)

    def test_related_agents_finds_the_instructor(self):
        instructor = {"objectType": "Agent", "mbox": "mailto:teacher@x.cn"}
        data = statement(context={"instructor": instructor})
        self.x.post(data)
        self.assertEqual(self.get_json({"agent": json.dumps(instructor)})["statements"], [])
        found = self.get_json({"agent": json.dumps(instructor), "related_agents": "true"})
        self.assertEqual([s["id"] for s in found["statements"]], [data["id"]])

    def test_since_and_until_filter_on_stored(self):
        self.x.post(statement())
        stored = self.get_json()["statements"][0]["stored"]
        self.assertEqual(len(self.get_json({"since": stored})["statements"]), 0)
        self.assertEqual(len(self.get_json({"until": stored})["statements"]), 1)

    def test_bad_filter_values_are_400(self):
        for params in (
            {"agent": "mailto:a@b.cn"},
            {"verb": "not-an-iri"},
            {"registration": "r"},
            {"since": "yesterday"},
            {"until": "2026-12-01T00:00:00+99:00"},
            {"limit": "-1"},
            {"format": "full"},
            {"ascending": "yes"},
            {"colour": "red"},
        ):
            self.assertEqual(self.x.get(params=params).status_code, 400, params)

    def test_since_and_until_are_rfc_3339_in_xapi_2(self):
        local = {"since": "2026-05-01T08:30:00"}  # no offset: which instant?
        self.assertEqual(self.x.get(params=local).status_code, 200)
        v2 = {"X-Experience-API-Version": "2.0.0"}
        response = self.x.get(params=local, **v2)
        self.assertEqual(response.status_code, 400, response.content)
        self.assertEqual(response.json()["error"]["path"], "since")
        ok = {"since": "2026-05-01t08:30:00z", "until": "2026-05-02T08:30:00+08:00"}
        self.assertEqual(self.x.get(params=ok, **v2).status_code, 200)

    def test_more_pages_through_everything_once(self):
        batch = [statement() for _ in range(5)]
        self.x.post(batch)
        seen = []
        body = self.get_json({"limit": "2"})
        while True:
            seen += [s["id"] for s in body["statements"]]
            if not body["more"]:
                break
            response = self.client.get(body["more"], headers=self.x.headers)
            self.assertEqual(response.status_code, 200, response.content)
            body = response.json()
        self.assertEqual(sorted(seen), sorted(s["id"] for s in batch))
        self.assertEqual(len(seen), 5)

    def test_more_link_of_another_platform_is_refused(self):
        self.x.post([statement() for _ in range(3)])
        more = self.get_json({"limit": "1"})["more"]
        response = self.client.get(more, headers=self.other.headers)
        self.assertEqual(response.status_code, 400)

    def test_json_nested_past_the_parser_is_a_400_not_a_crash(self):
        deep = "[" * 100_000 + "]" * 100_000  # valid JSON; RecursionError was a 500
        response = self.x.get(params={"agent": deep})
        self.assertEqual(response.status_code, 400, response.content)
        self.assertEqual(response.json()["error"]["path"], "agent")
        token = base64.urlsafe_b64encode(deep.encode()).decode()
        response = self.client.get("/xapi/statements", {"more": token}, headers=self.x.headers)
        self.assertEqual(response.status_code, 400, response.content)

    def test_format_ids_keeps_only_identifiers(self):
        self.x.post(statement())
        result = self.get_json({"format": "ids"})["statements"][0]
        self.assertEqual(set(result["verb"]), {"id"})
        self.assertNotIn("definition", result["object"])
        self.assertNotIn("name", result["authority"])

    def test_format_ids_reduces_context_agents_and_groups_in_2_0(self):
        v2 = {"X-Experience-API-Version": "2.0.0"}
        member = {"mbox": "mailto:m@x.cn", "name": "组员"}
        context = {
            "contextAgents": [
                {"objectType": "contextAgent", "agent": {"mbox": "mailto:a@x.cn", "name": "甲"}}
            ],
            "contextGroups": [
                {
                    "objectType": "contextGroup",
                    "group": {"objectType": "Group", "name": "一组", "member": [member]},
                }
            ],
        }
        posted = self.x.post(statement(context=context), **v2)
        self.assertEqual(posted.status_code, 200, posted.content)
        response = self.x.get(params={"format": "ids"}, **v2)
        got = response.json()["statements"][0]["context"]
        self.assertEqual(
            got["contextAgents"][0]["agent"], {"objectType": "Agent", "mbox": "mailto:a@x.cn"}
        )
        group = got["contextGroups"][0]["group"]
        self.assertEqual(
            group,
            {"objectType": "Group", "member": [{"objectType": "Agent", "mbox": "mailto:m@x.cn"}]},
        )

    def test_a_list_says_when_its_newest_statement_was_stored(self):
        self.x.post([statement(), statement()])
        response = self.x.get()
        newest = max(s["stored"] for s in response.json()["statements"])
        expected = http_date(datetime.fromisoformat(newest).timestamp())
        self.assertEqual(response["Last-Modified"], expected)
        self.assertNotIn("Last-Modified", self.x.get(params={"verb": "https://x.cn/none"}))

    def test_head_has_no_body(self):
        self.x.post(statement())
        response = self.client.head("/xapi/statements", headers=self.x.headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"")


class VoidingTests(StatementsApiTestCase):
    def test_voided_statement_is_only_returned_by_voided_statement_id(self):
        target = statement()
        self.x.post(target)
        self.assertEqual(self.x.post(voiding(target["id"])).status_code, 200)
        self.assertTrue(Statement.objects.get(statement_id=target["id"]).voided)
        self.assertEqual(self.x.get(params={"statementId": target["id"]}).status_code, 404)
        response = self.x.get(params={"voidedStatementId": target["id"]})
        self.assertEqual(response.status_code, 200)
        listed = [s["id"] for s in self.x.get().json()["statements"]]
        self.assertNotIn(target["id"], listed)

    def test_voiding_statement_itself_is_returned(self):
        target = statement()
        void = voiding(target["id"])
        self.x.post([target, void])
        self.assertEqual(self.x.get(params={"statementId": void["id"]}).status_code, 200)

    def test_voiding_a_voiding_statement_is_400(self):
        target = statement()
        void = voiding(target["id"])
        self.x.post([target, void])
        response = self.x.post(voiding(void["id"]))
        self.assertEqual(response.status_code, 400, response.content)
        self.assertFalse(Statement.objects.get(statement_id=void["id"]).voided)

    def test_voiding_an_unknown_statement_is_accepted(self):
        self.assertEqual(self.x.post(voiding(str(uuid.uuid4()))).status_code, 200)

    def test_target_arriving_after_its_voiding_statement_is_voided(self):
        target = statement()
        self.x.post(voiding(target["id"]))
        self.x.post(target)
        self.assertTrue(Statement.objects.get(statement_id=target["id"]).voided)

    def test_target_put_without_an_id_in_its_body_after_its_voiding_statement_is_voided(self):
        # Data §2.3.2.s2.b3: voided iff a voiding statement refers to it, whichever came
        # first and however the target's id was given (PUT's statementId alone)
        target = statement()
        target_id = target.pop("id")
        self.x.post(voiding(target_id))
        self.assertEqual(self.x.put(target, target_id).status_code, 204)
        self.assertTrue(Statement.objects.get(statement_id=target_id).voided)
        self.assertEqual(self.x.get(params={"statementId": target_id}).status_code, 404)
        self.assertEqual(self.x.get(params={"voidedStatementId": target_id}).status_code, 200)

    def test_the_same_put_without_an_id_in_its_body_is_a_no_op(self):
        target = statement()
        target_id = target.pop("id")
        self.assertEqual(self.x.put(target, target_id).status_code, 204)
        self.assertEqual(self.x.put(target, target_id).status_code, 204)
        self.assertEqual(
            self.x.put({**target, "verb": {"id": "https://x.cn/v"}}, target_id).status_code, 409
        )
        self.assertEqual(Statement.objects.filter(statement_id=target_id).count(), 1)

    def test_another_platform_cannot_void_my_statement(self):
        target = statement()
        self.x.post(target)
        self.assertEqual(self.other.post(voiding(target["id"])).status_code, 200)
        self.assertFalse(Statement.objects.get(statement_id=target["id"]).voided)


def multipart(parts: list[tuple[dict[str, str], bytes]], boundary: str = "xapi-boundary") -> bytes:
    out = b""
    for headers, content in parts:
        out += f"--{boundary}\r\n".encode()
        out += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        out += b"\r\n" + content + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


class AttachmentTests(StatementsApiTestCase):
    content = b"certificate scan\r\n\x00\xff binary"

    def attachment(
        self,
        content: bytes,
        usage="https://zhipei.example.cn/attachments/scan",
        content_type="application/pdf",
    ):
        return {
            "usageType": usage,
            "display": {"en-US": "scan"},
            "contentType": content_type,
            "length": len(content),
            "sha2": hashlib.sha256(content).hexdigest(),
        }

    def post_multipart(self, statements, parts):
        body = multipart(
            [({"Content-Type": "application/json"}, json.dumps(statements).encode()), *parts]
        )
        return self.client.post(
            "/xapi/statements",
            data=body,
            content_type="multipart/mixed; boundary=xapi-boundary",
            headers=self.x.headers,
        )

    def part(self, content: bytes, sha2: str | None = None):
        return (
            {
                "Content-Type": "application/pdf",
                "Content-Transfer-Encoding": "binary",
                "X-Experience-API-Hash": sha2 or hashlib.sha256(content).hexdigest(),
            },
            content,
        )

    def test_multipart_statement_with_attachment_round_trips(self):
        data = statement(attachments=[self.attachment(self.content)])
        response = self.post_multipart([data], [self.part(self.content)])
        self.assertEqual(response.status_code, 200, response.content)
        got = self.x.get(params={"statementId": data["id"], "attachments": "true"})
        self.assertTrue(got["Content-Type"].startswith("multipart/mixed"))
        self.assertIn(self.content, got.content)

    def test_attachment_without_file_url_or_part_is_400(self):
        data = statement(attachments=[self.attachment(self.content)])
        self.assertEqual(self.x.post(data).status_code, 400)
        self.assertEqual(Statement.objects.count(), 0)

    def test_attachment_with_file_url_is_accepted_as_json(self):
        attachment = dict(self.attachment(self.content), fileUrl="https://files.x.cn/scan.pdf")
        self.assertEqual(self.x.post(statement(attachments=[attachment])).status_code, 200)

    def test_part_whose_hash_does_not_match_is_400(self):
        data = statement(attachments=[self.attachment(self.content)])
        wrong = self.part(b"other bytes", sha2=hashlib.sha256(self.content).hexdigest())
        self.assertEqual(self.post_multipart([data], [wrong]).status_code, 400)

    def test_part_without_binary_transfer_encoding_is_400(self):
        data = statement(attachments=[self.attachment(self.content)])
        headers, content = self.part(self.content)
        del headers["Content-Transfer-Encoding"]
        self.assertEqual(self.post_multipart([data], [(headers, content)]).status_code, 400)

    def jws(self, payload: dict[str, Any], alg="RS256") -> bytes:
        def b64(raw: bytes) -> str:
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        header = b64(json.dumps({"alg": alg}).encode())
        return f"{header}.{b64(json.dumps(payload).encode())}.{b64(b'signature-bytes')}".encode()

    def signed(self, payload_changes=None, alg="RS256"):
        data = statement()
        payload = dict(data, **(payload_changes or {}))
        token = self.jws(payload, alg)
        signature = self.attachment(
            token,
            usage="http://adlnet.gov/expapi/attachments/signature",
            content_type="application/octet-stream",
        )
        signed = dict(data, attachments=[signature])
        part = self.part(token)
        part[0]["Content-Type"] = "application/octet-stream"
        return self.post_multipart([signed], [part])

    def test_signed_statement_with_matching_jws_is_accepted(self):
        self.assertEqual(self.signed().status_code, 200)

    def test_signed_statement_whose_payload_differs_is_400(self):
        response = self.signed({"verb": {"id": "https://x.cn/other"}})
        self.assertEqual(response.status_code, 400)

    def test_signed_statement_with_a_non_rsa_algorithm_is_400(self):
        self.assertEqual(self.signed(alg="none").status_code, 400)


class AlternateSyntaxTests(StatementsApiTestCase):
    def form(self, method: str, **fields: str):
        fields.setdefault("Authorization", self.x.headers["Authorization"])
        fields.setdefault("X-Experience-API-Version", "1.0.3")
        return self.client.post(
            f"/xapi/statements?method={method}",
            data=urlencode(fields, quote_via=quote),
            content_type="application/x-www-form-urlencoded",
        )

    def test_put_through_the_alternate_syntax(self):
        data = statement()
        response = self.form(
            "PUT",
            statementId=data["id"],
            content=json.dumps(data),
            **{"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 204, response.content)
        self.assertTrue(Statement.objects.filter(statement_id=data["id"]).exists())

    def test_get_through_the_alternate_syntax(self):
        data = statement()
        self.x.post(data)
        response = self.form("GET", statementId=data["id"])
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["id"], data["id"])

    def test_extra_query_parameters_are_400(self):
        response = self.client.post(
            "/xapi/statements?method=GET&limit=1",
            data="",
            content_type="application/x-www-form-urlencoded",
        )
        self.assertEqual(response.status_code, 400)

    def test_alternate_syntax_is_refused_with_xapi_2_0(self):
        response = self.form("GET", **{"X-Experience-API-Version": "2.0.0"})
        self.assertEqual(response.status_code, 400)


class LearnerAndCourseTests(StatementsApiTestCase):
    def test_pseudonym_of_this_platform_fills_the_person_column(self):
        person = make_person(self.platform.organisation.region)
        pseudonym, _created = pseudonym_for(person, platform=self.platform)
        from django.conf import settings

        actor = {
            "objectType": "Agent",
            "account": {"homePage": f"{settings.SITE_URL}/learners", "name": pseudonym},
        }
        self.x.post(statement(actor=actor))
        self.assertEqual(Statement.objects.get().person_id, person.pk)
        # the same pseudonym sent by another platform names nobody there
        self.other.post(statement(actor=actor))
        self.assertIsNone(Statement.objects.get(platform=self.other_platform).person_id)

    def test_a_batch_names_several_learners_beside_names_with_array_syntax(self):
        from django.conf import settings

        people = [make_person(self.platform.organisation.region) for _n in range(2)]
        names = [pseudonym_for(person, platform=self.platform)[0] for person in people]
        odd = 'a,"b"{c}\\d NULL'  # commas, quotes, braces, a backslash: no array literal
        home = f"{settings.SITE_URL}/learners"
        # One statement per request takes the one-query path, a small batch the row insert,
        # one of COPY_FROM_ROWS or more the binary COPY.
        for padding in (None, 0, COPY_FROM_ROWS):
            batch = [
                statement(
                    actor={"objectType": "Agent", "account": {"homePage": page, "name": name}}
                )
                for page, name in [
                    (home, names[0]),
                    (home, odd),
                    (home, names[1]),
                    ("https://elsewhere.example.cn", names[0]),  # not our learner account
                ]
            ]
            if padding is None:
                for item in batch:
                    response = self.x.post(item)
                    self.assertEqual(response.status_code, 200, response.content)
            else:
                response = self.x.post(batch + [statement() for _n in range(padding)])
                self.assertEqual(response.status_code, 200, response.content)
            stored = dict(Statement.objects.values_list("statement_id", "person_id"))
            self.assertEqual(
                [stored[uuid.UUID(item["id"])] for item in batch],
                [people[0].pk, None, people[1].pk, None],
            )

    def test_course_and_lesson_iris_fill_the_course_column(self):
        from django.utils import timezone

        from zhipei.catalog.models import Course, Lesson

        now = timezone.now()
        course = Course.objects.create(
            platform=self.platform,
            external_id="c1",
            title="焊工",
            class_hours=8,
            activity_iri="https://platform.example.cn/courses/welding-101",
            url="https://p.cn/c1",
            region=self.platform.organisation.region,
            status_changed_at=now,
            created_at=now,
            updated_at=now,
        )
        Lesson.objects.create(
            course=course,
            position=1,
            external_id="l3",
            title="L3",
            kind="text",
            activity_iri="https://platform.example.cn/courses/welding-101/lessons/3",
        )
        # One statement per request (looked up, then from the cache), the row insert, the
        # binary COPY; each path with the cache empty first.
        for padding, cached in [(None, False), (None, True), (0, False), (COPY_FROM_ROWS, False)]:
            if not cached:
                clear_course_cache()
            on_lesson = statement()  # its object is lesson 3
            on_course = statement(object={"id": course.activity_iri})
            elsewhere = statement(object={"id": "https://elsewhere.example.cn/a"})
            if padding is None:
                for item in (on_lesson, on_course, elsewhere):
                    self.assertEqual(self.x.post(item).status_code, 200)
            else:
                rest = [statement(object=elsewhere["object"]) for _n in range(padding)]
                self.x.post([on_lesson, on_course, elsewhere, *rest])
            got = dict(Statement.objects.values_list("statement_id", "course_id"))
            self.assertEqual(got[uuid.UUID(on_lesson["id"])], course.pk)
            self.assertEqual(got[uuid.UUID(on_course["id"])], course.pk)
            self.assertIsNone(got[uuid.UUID(elsewhere["id"])])
        self.other.post(statement())  # another platform's statement names nobody's course
        self.assertIsNone(Statement.objects.get(platform=self.other_platform).course_id)

    def test_statement_with_xapi_2_0_header_answers_2_0(self):
        from zhipei.lrs.tests.helpers import XapiClient

        v2 = XapiClient(self.client, self.credential.key_id, self.secret, version="2.0.0")
        response = v2.post(statement(timestamp="2026-05-01T08:30:00+08:00"))
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response["X-Experience-API-Version"], "2.0.0")
        payload = json.loads(Statement.objects.get().payload)
        self.assertEqual(payload["timestamp"], "2026-05-01T00:30:00.000Z")
        self.assertEqual(payload["version"], "2.0.0")


class StatementRefFilterTests(StatementsApiTestCase):
    """Communication §2.1.3 "Filter Conditions for StatementRefs" and §2.1.4."""

    def ref(self, target: str, verb: str = "https://x.cn/verbs/confirmed") -> dict[str, Any]:
        return statement(
            actor={"mbox": "mailto:andrew@x.cn"},
            verb={"id": verb},
            object={"objectType": "StatementRef", "id": target},
            context=None,
            result=None,
        )

    def ids(self, params):
        return {s["id"] for s in self.x.get(params=params).json()["statements"]}

    def test_statement_targeting_a_match_matches_recursively(self):
        original = statement()
        confirms = self.ref(original["id"])
        comment = self.ref(confirms["id"], verb="https://x.cn/verbs/commented")
        unrelated = self.ref(str(uuid.uuid4()))
        self.x.post([original, confirms, comment, unrelated])
        found = self.ids({"activity": original["object"]["id"]})
        self.assertEqual(found, {original["id"], confirms["id"], comment["id"]})
        found = self.ids({"agent": json.dumps(original["actor"])})
        self.assertEqual(found, {original["id"], confirms["id"], comment["id"]})

    def test_voiding_statement_is_returned_for_its_voided_target_but_the_target_is_not(self):
        original = statement()
        void = voiding(original["id"])
        self.x.post([original, void])
        self.assertEqual(self.ids({"activity": original["object"]["id"]}), {void["id"]})

    def test_time_filters_still_apply_to_the_targeting_statement(self):
        from datetime import timedelta

        original = statement()
        confirms = self.ref(original["id"])
        self.x.post([original, confirms])
        row = Statement.objects.get(statement_id=original["id"])
        earlier = row.stored - timedelta(hours=1)
        restamp(original["id"], earlier)  # stored an hour before
        found = self.ids({"activity": original["object"]["id"], "until": earlier.isoformat()})
        self.assertEqual(found, {original["id"]})
        found = self.ids({"activity": original["object"]["id"], "since": earlier.isoformat()})
        self.assertEqual(found, {confirms["id"]})

    def test_agent_filter_matches_groups_with_that_member(self):
        member = {"mbox": "mailto:member@x.cn"}
        group = {"objectType": "Group", "name": "team", "member": [member]}
        data = statement(actor=group)
        self.x.post(data)
        self.assertEqual(self.ids({"agent": json.dumps(member)}), {data["id"]})


class CanonicalFormatTests(StatementsApiTestCase):
    def test_canonical_returns_one_language_per_map_chosen_by_accept_language(self):
        data = statement()
        data["object"]["definition"] = {"name": {"en-US": "Welding 3", "zh-CN": "焊接 3"}}
        self.x.post(data)
        response = self.x.get(
            params={"statementId": data["id"], "format": "canonical"},
            **{"Accept-Language": "zh;q=0.9, en;q=0.5"},
        )
        body = response.json()
        self.assertEqual(body["object"]["definition"]["name"], {"zh-CN": "焊接 3"})
        self.assertEqual(body["verb"]["display"], {"zh-CN": "进行中"})
        response = self.x.get(params={"format": "canonical"}, **{"Accept-Language": "en-US"})
        self.assertEqual(
            response.json()["statements"][0]["object"]["definition"]["name"], {"en-US": "Welding 3"}
        )

    def test_exact_keeps_every_language(self):
        data = statement()
        self.x.post(data)
        body = self.x.get(params={"statementId": data["id"], "format": "exact"}).json()
        self.assertEqual(body["verb"]["display"], data["verb"]["display"])
