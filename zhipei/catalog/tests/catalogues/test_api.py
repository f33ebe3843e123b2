"""/api/v1/courses: signed, idempotent, each platform on its own courses, problems not 500s."""

from __future__ import annotations

import hashlib
import json

from django.utils import timezone

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import Course, IdempotencyRecord
from zhipei.orgs.models import Platform
from zhipei.orgs.services import issue_credential
from zhipei.orgs.signing import signed_headers

from .helpers import CatalogueTestCase, course_data

URL = "/api/v1/courses"


def body_of(data, *, drop=()):
    payload = json.loads(data.model_dump_json())
    for name in drop:
        payload.pop(name, None)
    return payload


class CourseApiTests(CatalogueTestCase):
    def setUp(self):
        self.credential, self.secret = issue_credential(self.platform, by=None)
        self.other_credential, self.other_secret = issue_credential(self.other, by=None)

    def call(
        self, method, path=URL, payload=None, *, raw=None, query="", other=False, headers=None
    ):
        body = (
            raw
            if raw is not None
            else (json.dumps(payload).encode() if payload is not None else b"")
        )
        key, secret = (
            (self.other_credential.key_id, self.other_secret)
            if other
            else (self.credential.key_id, self.secret)
        )
        signed = signed_headers(key, secret, method=method, path=path, query=query, body=body)
        signed.update(headers or {})
        url = path + ("?" + query if query else "")
        return self.client.generic(
            method, url, data=body, content_type="application/json", headers=signed
        )

    def assert_problem(self, response, status, code=None):
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        problem = response.json()
        if code:
            self.assertEqual(problem["code"], code)
        return problem

    # --- create, repeat, update ---------------------------------------------------------------

    def test_put_creates_then_the_same_put_changes_nothing_then_an_update(self):
        payload = body_of(course_data(), drop=["external_id"])
        response = self.call("PUT", f"{URL}/C1", payload)
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()
        self.assertEqual(created["status"], "submitted")
        self.assertEqual(created["occupation_codes"], ["4-04-05-05"])
        self.assertEqual(created["class_hours"], "12.5")
        self.assertEqual([le["external_id"] for le in created["lessons"]], ["L1", "L2"])

        again = self.call("PUT", f"{URL}/C1", payload)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), created)
        self.assertEqual(AuditEvent.objects.filter(action__startswith="catalog.course.").count(), 1)

        payload["title"] = "新标题"
        updated = self.call("PUT", f"{URL}/C1", payload)
        self.assertEqual((updated.status_code, updated.json()["title"]), (200, "新标题"))
        self.assertEqual(Course.objects.count(), 1)

    def test_put_may_repeat_the_id_in_the_body_but_not_another_one(self):
        self.assertEqual(self.call("PUT", f"{URL}/C1", body_of(course_data())).status_code, 201)
        problem = self.assert_problem(
            self.call("PUT", f"{URL}/C9", body_of(course_data())), 422, "invalid_input"
        )
        self.assertEqual(problem["field"], "external_id")

    def test_post_is_idempotent_by_external_id(self):
        payload = body_of(course_data())
        self.assertEqual(self.call("POST", URL, payload).status_code, 201)
        self.assertEqual(self.call("POST", URL, payload).status_code, 200)
        self.assertEqual(Course.objects.count(), 1)

    def test_idempotency_key_replays_the_same_answer(self):
        payload = body_of(course_data())
        first = self.call("POST", URL, payload, headers={"Idempotency-Key": "req-0001"})
        self.assertEqual(first.status_code, 201)
        second = self.call("POST", URL, payload, headers={"Idempotency-Key": "req-0001"})
        self.assertEqual(second.status_code, 201)  # the same answer, not a 200
        self.assertEqual(second["Idempotent-Replayed"], "true")
        self.assertEqual(second.json(), first.json())
        self.assertEqual(IdempotencyRecord.objects.count(), 1)

    def test_idempotency_key_with_another_body_is_refused(self):
        payload = body_of(course_data())
        self.call("POST", URL, payload, headers={"Idempotency-Key": "req-0001"})
        payload["title"] = "别的内容"
        problem = self.assert_problem(
            self.call("POST", URL, payload, headers={"Idempotency-Key": "req-0001"}),
            422,
            "idempotency_key_reused",
        )
        self.assertEqual(problem["field"], "Idempotency-Key")
        self.assertEqual(Course.objects.get().title, "人工智能训练入门")

    def test_a_key_used_at_another_path_is_refused_even_with_the_same_body(self):
        # The store is shared with POST /api/v1/enrolments, whose schema ignores fields it
        # does not know as this one does: the same body could be sent to both.
        payload = body_of(course_data())
        body = json.dumps(payload).encode()
        IdempotencyRecord.objects.create(
            platform=self.platform,
            key="req-0002",
            method="POST",
            path="/api/v1/enrolments",
            request_sha256=hashlib.sha256(body).hexdigest(),
            response_status=201,
            response_body={"id": 1},
            created_at=timezone.now(),
        )
        response = self.call("POST", URL, raw=body, headers={"Idempotency-Key": "req-0002"})
        self.assert_problem(response, 422, "idempotency_key_reused")
        self.assertFalse(Course.objects.exists())

    def test_idempotency_keys_are_per_platform_and_must_be_well_formed(self):
        self.call("POST", URL, body_of(course_data()), headers={"Idempotency-Key": "k-1"})
        other = body_of(
            course_data(
                "O1",
                activity_iri="https://q.example/o1",
                lessons=[
                    {
                        "external_id": "a",
                        "title": "t",
                        "kind": "text",
                        "activity_iri": "https://q.example/o1/a",
                    }
                ],
            )
        )
        response = self.call("POST", URL, other, other=True, headers={"Idempotency-Key": "k-1"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assert_problem(
            self.call(
                "POST", URL, body_of(course_data()), headers={"Idempotency-Key": "has space"}
            ),
            400,
            "idempotency_key_invalid",
        )

    def test_failed_request_under_a_key_records_nothing(self):
        payload = body_of(course_data(occupation_codes=["9-99-99-99"]))
        self.assert_problem(self.call("POST", URL, payload, headers={"Idempotency-Key": "k"}), 422)
        self.assertFalse(IdempotencyRecord.objects.exists())

    # --- reads --------------------------------------------------------------------------------

    def test_list_and_get_show_only_the_platforms_own_courses(self):
        self.call("PUT", f"{URL}/C1", body_of(course_data()))
        listing = self.call("GET", URL)
        self.assertEqual(listing.status_code, 200)
        self.assertEqual([c["external_id"] for c in listing.json()["items"]], ["C1"])
        self.assertEqual(self.call("GET", URL, other=True).json()["count"], 0)
        self.assertEqual(self.call("GET", f"{URL}/C1").json()["external_id"], "C1")
        self.assert_problem(self.call("GET", f"{URL}/C1", other=True), 404)

    def test_list_is_paginated(self):
        for n in range(3):
            data = course_data(f"C{n}")
            self.call("PUT", f"{URL}/C{n}", body_of(data))
        page = self.call("GET", URL, query="page=2&page_size=2").json()
        self.assertEqual((page["count"], page["page"], len(page["items"])), (3, 2, 1))
        self.assert_problem(self.call("GET", URL, query="page=0"), 422, "invalid_input")

    def test_another_platforms_external_id_is_a_different_course(self):
        self.call("PUT", f"{URL}/C1", body_of(course_data()))
        payload = body_of(
            course_data(
                activity_iri="https://q.example/c1",
                lessons=[
                    {
                        "external_id": "a",
                        "title": "t",
                        "kind": "text",
                        "activity_iri": "https://q.example/c1/a",
                    }
                ],
            )
        )
        response = self.call("PUT", f"{URL}/C1", payload, other=True)
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Course.objects.filter(external_id="C1").count(), 2)
        mine = Course.objects.get(platform=self.platform)
        self.assertEqual(mine.activity_iri, "https://p.example/xapi/C1")

    # --- bad input ----------------------------------------------------------------------------

    def test_unknown_occupation_is_a_problem_naming_the_code(self):
        payload = body_of(course_data(occupation_codes=["9-99-99-99"]))
        problem = self.assert_problem(self.call("POST", URL, payload), 422, "course_invalid")
        self.assertEqual(problem["errors"][0]["location"], "body.occupation_codes")
        self.assertIn("9-99-99-99", problem["errors"][0]["message"])
        self.assertFalse(Course.objects.exists())

    def test_duplicate_lesson_ids(self):
        payload = body_of(course_data())
        payload["lessons"][1]["external_id"] = "L1"
        problem = self.assert_problem(self.call("POST", URL, payload), 422, "course_invalid")
        self.assertEqual(problem["errors"][0]["location"], "body.lessons.1.external_id")

    def test_iri_taken_by_another_platform(self):
        self.call("PUT", f"{URL}/C1", body_of(course_data()))
        payload = body_of(course_data())
        payload["external_id"] = "X"  # another id, the IRIs of C1 of the first platform
        problem = self.assert_problem(self.call("POST", URL, payload, other=True), 422)
        self.assertEqual(
            [e["location"] for e in problem["errors"]],
            ["body.activity_iri", "body.lessons.0.activity_iri", "body.lessons.1.activity_iri"],
        )

    def test_schema_errors_have_field_locations(self):
        payload = body_of(course_data())
        payload["class_hours"] = "0"
        payload["lessons"][0].pop("media_duration_seconds")
        payload["categories"] = ["astrology"]
        problem = self.assert_problem(self.call("POST", URL, payload), 422, "invalid_input")
        locations = " ".join(e["location"] for e in problem["errors"])
        self.assertIn("class_hours", locations)
        self.assertIn("categories", locations)
        self.assertIn("lessons.0", locations)

    def test_bad_json_and_wrong_types_are_4xx(self):
        for raw in (b"{not json", b"[]", b'"text"', b"null", b'{"title": 1}'):
            with self.subTest(raw=raw):
                response = self.call("POST", URL, raw=raw)
                self.assertIn(response.status_code, (400, 422), response.content)
                self.assertEqual(response["Content-Type"], "application/problem+json")
        bad_path = self.call("PUT", f"{URL}/-bad", body_of(course_data(), drop=["external_id"]))
        self.assert_problem(bad_path, 422, "invalid_input")

    # --- authentication -----------------------------------------------------------------------

    def test_unsigned_and_forged_requests_are_refused(self):
        payload = json.dumps(body_of(course_data())).encode()
        unsigned = self.client.post(URL, data=payload, content_type="application/json")
        self.assert_problem(unsigned, 401, "signature_header_missing")
        forged = signed_headers(
            self.credential.key_id, "not-the-secret", method="POST", path=URL, body=payload
        )
        response = self.client.post(
            URL, data=payload, content_type="application/json", headers=forged
        )
        self.assert_problem(response, 401, "signature_mismatch")
        # a signature over another body
        signed = signed_headers(
            self.credential.key_id, self.secret, method="POST", path=URL, body=b"{}"
        )
        response = self.client.post(
            URL, data=payload, content_type="application/json", headers=signed
        )
        self.assert_problem(response, 401, "signature_mismatch")
        self.assertFalse(Course.objects.exists())

    def test_a_platform_that_is_not_selected_is_refused(self):
        Platform.objects.filter(pk=self.platform.pk).update(status="suspended")
        self.assert_problem(self.call("POST", URL, body_of(course_data())), 403)
        self.assertFalse(Course.objects.exists())

    def test_openapi_lists_the_course_endpoints(self):
        schema = self.client.get("/api/v1/openapi.json").json()
        self.assertIn("/api/v1/courses", schema["paths"])
        self.assertIn("/api/v1/courses/{external_id}", schema["paths"])
