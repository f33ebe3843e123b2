"""State resource, written from xAPI 1.0.3 Communication §2.2-2.3 (one test per rule)."""

from __future__ import annotations

import json
import time

from zhipei.lrs_documents.tests.base import (
    ACTIVITY,
    AGENT_JSON,
    REGISTRATION,
    STATE,
    XapiDocumentsTestCase,
)


class StateResourceTests(XapiDocumentsTestCase):
    def test_put_single_document_returns_204_and_get_returns_it(self):
        # §2.3.s3: Returns (PUT) 204 No Content; Returns (GET) 200 OK, the State document.
        put = self.call("PUT", STATE, self.state_params(), {"position": 42})
        self.assertEqual(put.status_code, 204, put.content)
        self.assertEqual(put.content, b"")
        got = self.call("GET", STATE, self.state_params())
        self.assertEqual(got.status_code, 200)
        self.assertEqual(got.json(), {"position": 42})
        self.assertEqual(got["Content-Type"], "application/json")

    def test_binary_document_is_stored_as_bytes_with_its_content_type(self):
        # §1.5.b1: documents can have any content type; §2.2.s2: contents are arbitrary bytes.
        blob = bytes(range(256))
        put = self.call("PUT", STATE, self.state_params(), blob, content_type="image/png")
        self.assertEqual(put.status_code, 204, put.content)
        got = self.call("GET", STATE, self.state_params())
        self.assertEqual(got.content, blob)
        self.assertEqual(got["Content-Type"], "image/png")

    def test_get_single_document_that_does_not_exist_is_404(self):
        # §3.2.s2.b4: 404 for a request targeting a specific document that is not there.
        self.assert_error(self.call("GET", STATE, self.state_params("nothing")), 404)

    def test_documents_for_unknown_activity_and_agent_are_not_rejected(self):
        # §2.2.s4.b2: MUST NOT reject documents for lack of prior knowledge of Activity/Agent.
        params = self.state_params(
            activityId="https://never.seen.example/activity/1",
            agent=json.dumps({"account": {"homePage": "https://x.example", "name": "n1"}}),
        )
        self.assertEqual(self.call("PUT", STATE, params, {"a": 1}).status_code, 204)

    def test_registration_separates_state_documents(self):
        # §2.3.s3: the document exists in the context of Activity, Agent and registration.
        self.call("PUT", STATE, self.state_params(), {"where": "none"})
        with_reg = self.state_params(registration=REGISTRATION)
        self.call("PUT", STATE, with_reg, {"where": "registration"})
        self.assertEqual(self.call("GET", STATE, self.state_params()).json(), {"where": "none"})
        self.assertEqual(self.call("GET", STATE, with_reg).json(), {"where": "registration"})

    def test_get_without_state_id_returns_the_array_of_ids(self):
        # §2.3.s4: Multiple Document GET returns 200 OK, Array of State id(s).
        for state_id in ("b", "a"):
            self.call("PUT", STATE, self.state_params(state_id), {"x": state_id})
        self.call(
            "PUT",
            STATE,
            {"activityId": ACTIVITY + "/other", "agent": AGENT_JSON, "stateId": "c"},
            {"x": 1},
        )
        got = self.call("GET", STATE, self.state_params(None))
        self.assertEqual(got.status_code, 200)
        self.assertEqual(got.json(), ["a", "b"])

    def test_ids_since_returns_only_documents_stored_after_it_exclusive(self):
        # §2.3.s4: since limits to entries stored or updated since the timestamp (exclusive).
        self.call("PUT", STATE, self.state_params("old"), {"x": 1})
        time.sleep(0.01)
        from zhipei.lrs_documents.models import Document

        cut = Document.objects.get(document_id="old").updated_at
        time.sleep(0.01)
        self.call("PUT", STATE, self.state_params("new"), {"x": 2})
        since = cut.isoformat().replace("+00:00", "Z")
        got = self.call("GET", STATE, self.state_params(None, since=since))
        self.assertEqual(got.json(), ["new"])

    def test_ids_with_registration_are_limited_to_it(self):
        # §2.3.s4: the context is Activity + Agent [+ registration if specified].
        self.call("PUT", STATE, self.state_params("plain"), {"x": 1})
        self.call("PUT", STATE, self.state_params("reg", registration=REGISTRATION), {"x": 1})
        with_reg = self.call("GET", STATE, self.state_params(None, registration=REGISTRATION))
        self.assertEqual(with_reg.json(), ["reg"])
        self.assertEqual(self.call("GET", STATE, self.state_params(None)).json(), ["plain", "reg"])

    def test_delete_single_document_returns_204_and_removes_it(self):
        # §2.3.s3: Returns (DELETE) 204 No Content.
        self.call("PUT", STATE, self.state_params(), {"x": 1})
        deleted = self.call("DELETE", STATE, self.state_params())
        self.assertEqual(deleted.status_code, 204)
        self.assertEqual(self.call("GET", STATE, self.state_params()).status_code, 404)

    def test_delete_without_state_id_deletes_all_state_in_the_context(self):
        # §2.3.s5: deletes all state data for Activity + Agent (every registration).
        self.call("PUT", STATE, self.state_params("a"), {"x": 1})
        self.call("PUT", STATE, self.state_params("b", registration=REGISTRATION), {"x": 1})
        elsewhere = {"activityId": ACTIVITY + "/other", "agent": AGENT_JSON, "stateId": "keep"}
        self.call("PUT", STATE, elsewhere, {"x": 1})
        self.assertEqual(self.call("DELETE", STATE, self.state_params(None)).status_code, 204)
        self.assertEqual(self.call("GET", STATE, self.state_params(None)).json(), [])
        self.assertEqual(self.call("GET", STATE, elsewhere).status_code, 200)

    def test_delete_without_state_id_but_with_registration_keeps_other_registrations(self):
        # §2.3.s5: [+ registration if specified].
        self.call("PUT", STATE, self.state_params("a"), {"x": 1})
        self.call("PUT", STATE, self.state_params("b", registration=REGISTRATION), {"x": 1})
        self.call("DELETE", STATE, self.state_params(None, registration=REGISTRATION))
        self.assertEqual(self.call("GET", STATE, self.state_params(None)).json(), ["a"])

    def test_activity_id_is_required(self):
        # §2.3.s3 table: activityId Required; §3.2.s2.b1: 400 for a missing argument.
        params = self.state_params()
        del params["activityId"]
        self.assertIn("activityId", self.assert_error(self.call("GET", STATE, params), 400))

    def test_activity_id_must_be_an_iri(self):
        params = self.state_params(activityId="not an iri")
        self.assertIn("activityId", self.assert_error(self.call("PUT", STATE, params, {}), 400))

    def test_agent_is_required_and_must_be_an_agent(self):
        # §2.3.s3 table: agent Required, an Agent Object (JSON).
        params = self.state_params()
        del params["agent"]
        self.assert_error(self.call("GET", STATE, params), 400)
        bad = self.state_params(agent='{"mbox": "learner@example.cn"}')
        self.assertIn("agent.mbox", self.assert_error(self.call("GET", STATE, bad), 400))
        not_json = self.state_params(agent="{mbox")
        self.assert_error(self.call("GET", STATE, not_json), 400)

    def test_state_id_is_required_to_put_or_post(self):
        # §2.3.s3 table: stateId Required for a single document.
        for method in ("PUT", "POST"):
            response = self.call(method, STATE, self.state_params(None), {"x": 1})
            self.assertIn("stateId", self.assert_error(response, 400))

    def test_registration_must_be_a_uuid(self):
        response = self.call("GET", STATE, self.state_params(registration="not-a-uuid"))
        self.assertIn("registration", self.assert_error(response, 400))

    def test_since_must_be_a_timestamp(self):
        response = self.call("GET", STATE, self.state_params(None, since="yesterday"))
        self.assertIn("since", self.assert_error(response, 400))

    def test_unrecognised_parameter_is_rejected_with_400(self):
        # §3.2.s3.b7: MUST reject with 400 any parameter not recognised in its context.
        response = self.call("GET", STATE, self.state_params(profileId="x"))
        self.assertIn("profileId", self.assert_error(response, 400))
        put_since = self.call("PUT", STATE, self.state_params(since="2026-01-01T00:00:00Z"), {})
        self.assert_error(put_since, 400)

    def test_json_content_type_with_content_that_is_not_json_is_400(self):
        # §3.2.s3.b6: reject where the content type does not match the content.
        response = self.call("PUT", STATE, self.state_params(), b"{not json")
        self.assert_error(response, 400)
        self.assertEqual(self.call("GET", STATE, self.state_params()).status_code, 404)

    def test_agent_identified_by_mbox_matches_whatever_the_domain_case(self):
        # Data §2.4.2.3: the domain of an e-mail address is case-insensitive.
        self.call("PUT", STATE, self.state_params(), {"x": 1})
        upper = self.state_params(agent=json.dumps({"mbox": "mailto:learner@EXAMPLE.cn"}))
        self.assertEqual(self.call("GET", STATE, upper).json(), {"x": 1})
