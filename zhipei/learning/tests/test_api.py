"""POST /api/v1/enrolments: signed platform requests, the occupation fixed at enrolment,
idempotent repeats and Idempotency-Key, and a clear problem for every refusal."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from zhipei.audit.models import AuditEvent
from zhipei.catalog.models import Course
from zhipei.learning.models import Enrolment
from zhipei.learning.tests.helpers import LearningWorld, make_course
from zhipei.lrs.tests.helpers import make_platform
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.services import issue_credential
from zhipei.orgs.signing import signed_headers
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person

URL = "/api/v1/enrolments"


def post(
    client: Client,
    key_id: str,
    secret: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Any:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    signed = signed_headers(key_id, secret, method="POST", path=URL, body=body)
    signed.update(headers or {})
    return client.post(URL, data=body, content_type="application/json", headers=signed)


class EnrolmentApiTests(LearningWorld):
    api_credential: PlatformCredential
    secret: str

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.api_credential, cls.secret = issue_credential(cls.platform, by=None)

    def post(self, payload: Any, **kwargs: Any) -> Any:
        return post(self.client, self.api_credential.key_id, self.secret, payload, **kwargs)

    def body(self, **changes: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"learner": self.pseudonym, "course": "weld", "occupation": "6-18"}
        data.update(changes)
        return {k: v for k, v in data.items() if v is not None}

    def assert_problem(self, response: Any, status: int, code: str, field: str | None) -> None:
        self.assertEqual(response.status_code, status, response.content)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        problem = response.json()
        self.assertEqual((problem["status"], problem["code"]), (status, code))
        self.assertEqual(problem.get("field"), field)
        self.assertTrue(problem["title"])

    # --- happy paths ----------------------------------------------------------------------

    def test_a_registered_learner_is_enrolled_with_the_occupation_fixed(self) -> None:
        response = self.post(self.body())
        self.assertEqual(response.status_code, 201, response.content)
        data = response.json()
        enrolment = Enrolment.objects.get()
        self.assertEqual(data["id"], enrolment.pk)
        self.assertEqual(data["learner"], self.pseudonym)
        self.assertEqual(
            data["course"],
            {
                "external_id": "weld",
                "activity_iri": self.course.activity_iri,
                "title": self.course.title,
            },
        )
        self.assertEqual(data["occupation"], {"code": "6-18", "name": "焊工"})
        self.assertEqual((data["status"], data["created"]), ("active", True))
        self.assertEqual(
            (enrolment.person_id, enrolment.course_id, enrolment.platform_id),
            (self.person.pk, self.course.pk, self.platform.pk),
        )
        self.assertEqual(enrolment.occupation_id, self.welder.pk)
        event = AuditEvent.objects.get(action="learning.enrolment.created")
        self.assertEqual(event.object_id, str(enrolment.pk))
        self.assertIsNone(event.actor_id)
        self.assertEqual(event.data["channel"], "api")
        self.assertEqual(event.data["platform"], self.platform.pk)
        self.assertNotIn(self.person.name, json.dumps(data, ensure_ascii=False))

    def test_the_course_may_be_named_by_its_activity_iri(self) -> None:
        response = self.post(self.body(course=self.course.activity_iri, occupation="6-19"))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Enrolment.objects.get().occupation_id, self.fitter.pk)

    def test_a_course_with_one_occupation_needs_none(self) -> None:
        response = self.post(self.body(course="safety", occupation=None))
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["occupation"]["code"], "6-18")

    def test_enrolling_again_returns_the_live_enrolment(self) -> None:
        first = self.post(self.body())
        again = self.post(self.body())
        self.assertEqual(again.status_code, 200, again.content)
        self.assertEqual(again.json()["id"], first.json()["id"])
        self.assertFalse(again.json()["created"])
        self.assertEqual(Enrolment.objects.count(), 1)
        self.assertEqual(AuditEvent.objects.filter(action="learning.enrolment.created").count(), 1)

    # --- refusals -------------------------------------------------------------------------

    def test_the_occupation_is_required_when_the_course_serves_several(self) -> None:
        self.assert_problem(
            self.post(self.body(occupation=None)), 422, "occupation_required", "occupation"
        )
        self.assert_problem(
            self.post(self.body(occupation=" ")), 422, "occupation_required", "occupation"
        )
        self.assertFalse(Enrolment.objects.exists())

    def test_an_occupation_the_course_does_not_serve_is_refused(self) -> None:
        response = self.post(self.body(course="safety", occupation="6-19"))
        self.assert_problem(response, 422, "occupation_not_served", "occupation")
        response = self.post(self.body(occupation="9-99-99-99"))
        self.assert_problem(response, 422, "occupation_not_served", "occupation")
        self.assertFalse(Enrolment.objects.exists())

    def test_another_occupation_after_enrolling_is_a_conflict_naming_the_enrolment(self) -> None:
        first = self.post(self.body()).json()
        response = self.post(self.body(occupation="6-19"))
        self.assert_problem(response, 409, "enrolled_for_another_occupation", "occupation")
        problem = response.json()
        self.assertEqual(problem["enrolment"]["id"], first["id"])
        self.assertEqual(problem["enrolment"]["occupation"]["code"], "6-18")
        self.assertEqual(Enrolment.objects.get().occupation_id, self.welder.pk)

    def test_an_unknown_pseudonym_is_refused(self) -> None:
        response = self.post(self.body(learner="nobody-of-ours"))
        self.assert_problem(response, 422, "learner_unknown", "learner")
        # The pseudonym another platform has for the same person is unknown here.
        other_platform, _c, _s = make_platform(self.region, serial=2)
        elsewhere, _created = pseudonym_for(self.person, platform=other_platform)
        self.assert_problem(
            self.post(self.body(learner=elsewhere)), 422, "learner_unknown", "learner"
        )
        self.assertFalse(Enrolment.objects.exists())

    def test_a_course_not_of_this_platform_is_unknown(self) -> None:
        other_platform, _c, _s = make_platform(self.region, serial=2)
        theirs = make_course(other_platform, self.region, "theirs", [self.welder])
        for reference in ("theirs", theirs.activity_iri, "no-such-course", "https://x.example/c"):
            response = self.post(self.body(course=reference, occupation=None))
            self.assert_problem(response, 422, "course_unknown", "course")
        self.assertFalse(Enrolment.objects.exists())

    def test_a_course_not_approved_is_not_selectable(self) -> None:
        for status in (Course.Status.SUBMITTED, Course.Status.WITHDRAWN):
            Course.objects.filter(pk=self.course.pk).update(status=status)
            response = self.post(self.body())
            self.assert_problem(response, 422, "course_not_selectable", "course")
        self.assertFalse(Enrolment.objects.exists())

    def test_a_body_that_is_not_valid_gets_422_with_the_locations(self) -> None:
        response = self.post({"learner": self.pseudonym})
        self.assert_problem(response, 422, "invalid_input", None)
        locations = {e["location"] for e in response.json()["errors"]}
        self.assertIn("body.data.course", locations)
        response = self.post(self.body(learner=""))
        self.assert_problem(response, 422, "invalid_input", None)
        response = self.post(None, raw=b"{not json")
        self.assert_problem(response, 400, "unreadable_body", None)
        self.assertFalse(Enrolment.objects.exists())

    def test_input_problems_are_told_in_the_readers_language(self) -> None:
        response = self.post({"learner": self.pseudonym}, headers={"Accept-Language": "zh-hans"})
        problem = response.json()
        self.assertEqual(problem["title"], "请求体或参数无效。")
        missing = next(e for e in problem["errors"] if e["location"] == "body.data.course")
        self.assertEqual(missing["message"], "此项为必填项。")
        response = self.post(None, raw=b"{not json", headers={"Accept-Language": "en"})
        self.assertEqual(response.json()["title"], "The request body is not valid JSON.")
        response = self.post({"learner": self.pseudonym}, headers={"Accept-Language": "en"})
        self.assertEqual(response.json()["title"], "The request body or parameters are not valid.")

    def test_a_method_the_address_does_not_take_gets_a_problem_document(self) -> None:
        response = self.client.put(URL, data=b"{}", content_type="application/json")
        self.assert_problem(response, 405, "method_not_allowed", None)
        self.assertEqual(response["Allow"], "POST")
        self.assertIn("PUT", response.json()["title"])

    # --- authentication -------------------------------------------------------------------

    def test_unsigned_and_badly_signed_requests_are_refused(self) -> None:
        body = json.dumps(self.body()).encode()
        response = self.client.post(URL, data=body, content_type="application/json")
        self.assert_problem(response, 401, "signature_header_missing", None)
        response = post(self.client, self.api_credential.key_id, "wrong-secret", self.body())
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response["Content-Type"], "application/problem+json")
        # A signature over another body does not carry this one.
        signed = signed_headers(
            self.api_credential.key_id, self.secret, method="POST", path=URL, body=b"{}"
        )
        response = self.client.post(URL, data=body, content_type="application/json", headers=signed)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(Enrolment.objects.exists())

    def test_a_platform_no_longer_selected_is_refused(self) -> None:
        Platform.objects.filter(pk=self.platform.pk).update(status=Platform.Status.SUSPENDED)
        response = self.post(self.body())
        self.assertEqual(response.status_code, 403, response.content)
        self.assertFalse(Enrolment.objects.exists())

    # --- Idempotency-Key ------------------------------------------------------------------

    def test_the_same_key_and_body_replay_the_first_answer(self) -> None:
        first = self.post(self.body(), headers={"Idempotency-Key": "enrol-1"})
        again = self.post(self.body(), headers={"Idempotency-Key": "enrol-1"})
        self.assertEqual((first.status_code, again.status_code), (201, 201))
        self.assertEqual(again.json(), first.json())
        self.assertEqual(again["Idempotent-Replayed"], "true")
        self.assertEqual(Enrolment.objects.count(), 1)

    def test_the_same_key_with_another_body_is_refused(self) -> None:
        self.post(self.body(), headers={"Idempotency-Key": "enrol-2"})
        other = make_person(self.region, name="李雷")
        pseudonym, _created = pseudonym_for(other, platform=self.platform)
        response = self.post(self.body(learner=pseudonym), headers={"Idempotency-Key": "enrol-2"})
        self.assert_problem(response, 422, "idempotency_key_reused", "Idempotency-Key")
        self.assertEqual(Enrolment.objects.count(), 1)

    def test_a_key_that_is_not_visible_ascii_is_refused(self) -> None:
        response = self.post(self.body(), headers={"Idempotency-Key": "x" * 101})
        self.assert_problem(response, 400, "idempotency_key_invalid", "Idempotency-Key")
        self.assertFalse(Enrolment.objects.exists())

    def test_a_refused_request_does_not_use_up_its_key(self) -> None:
        refused = self.post(self.body(occupation=None), headers={"Idempotency-Key": "enrol-3"})
        self.assertEqual(refused.status_code, 422)
        # The same key, corrected body: the first answer was a refusal, nothing was kept.
        response = self.post(self.body(), headers={"Idempotency-Key": "enrol-3"})
        self.assertEqual(response.status_code, 201, response.content)

    def test_the_route_is_in_the_openapi_document(self) -> None:
        schema = self.client.get("/api/v1/openapi.json").json()
        operation = schema["paths"][URL]["post"]
        self.assertIn("201", operation["responses"])
        self.assertIn("enrolments", operation["tags"])
