"""Activity Profile and Agent Profile resources, from xAPI 1.0.3 Communication §2.6-2.7."""

from __future__ import annotations

import json
import time

from zhipei.lrs_documents.models import Document
from zhipei.lrs_documents.tests.base import (
    ACTIVITY,
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    XapiDocumentsTestCase,
)


class ActivityProfileTests(XapiDocumentsTestCase):
    def test_put_get_delete_single_profile(self):
        # §2.7.s3: PUT | DELETE return 204; GET returns 200 and the profile document.
        params = self.activity_profile_params()
        self.assertEqual(self.call("PUT", ACTIVITY_PROFILE, params, {"a": 1}).status_code, 204)
        self.assertEqual(self.call("GET", ACTIVITY_PROFILE, params).json(), {"a": 1})
        self.assertEqual(self.call("DELETE", ACTIVITY_PROFILE, params).status_code, 204)
        self.assertEqual(self.call("GET", ACTIVITY_PROFILE, params).status_code, 404)

    def test_get_without_profile_id_returns_the_ids_for_the_activity(self):
        # §2.7.s4: Multiple Document GET: array of profile ids of the Activity.
        for profile_id in ("z", "m"):
            self.call("PUT", ACTIVITY_PROFILE, self.activity_profile_params(profile_id), {})
        other = {"activityId": ACTIVITY + "/2", "profileId": "other"}
        self.call("PUT", ACTIVITY_PROFILE, other, {})
        got = self.call("GET", ACTIVITY_PROFILE, self.activity_profile_params(None))
        self.assertEqual(got.json(), ["m", "z"])

    def test_ids_since_is_exclusive(self):
        # §2.7.s4: since (exclusive).
        self.call("PUT", ACTIVITY_PROFILE, self.activity_profile_params("first"), {})
        first = Document.objects.get(document_id="first").updated_at
        time.sleep(0.01)
        self.call("PUT", ACTIVITY_PROFILE, self.activity_profile_params("second"), {})
        params = {**self.activity_profile_params(None), "since": first.isoformat()}
        self.assertEqual(self.call("GET", ACTIVITY_PROFILE, params).json(), ["second"])

    def test_profile_id_is_required_to_write_or_delete(self):
        # §2.7.s3 table: profileId Required (no multiple-document DELETE for profiles).
        params = self.activity_profile_params(None)
        for method in ("PUT", "POST", "DELETE"):
            with self.subTest(method=method):
                response = self.call(method, ACTIVITY_PROFILE, params, {"a": 1})
                self.assertIn("profileId", self.assert_error(response, 400))

    def test_agent_parameter_is_not_recognised_here(self):
        # §3.2.s3.b7.
        params = {**self.activity_profile_params(), "agent": '{"mbox":"mailto:a@b.c"}'}
        self.assert_error(self.call("GET", ACTIVITY_PROFILE, params), 400)


class AgentProfileTests(XapiDocumentsTestCase):
    def test_put_get_delete_single_profile(self):
        # §2.6.s3.
        params = self.agent_profile_params()
        self.assertEqual(self.call("PUT", AGENT_PROFILE, params, {"lang": "zh"}).status_code, 204)
        self.assertEqual(self.call("GET", AGENT_PROFILE, params).json(), {"lang": "zh"})
        self.assertEqual(self.call("DELETE", AGENT_PROFILE, params).status_code, 204)
        self.assertEqual(self.call("GET", AGENT_PROFILE, params).status_code, 404)

    def test_get_without_profile_id_returns_the_ids_for_the_agent(self):
        # §2.6.s4.
        self.call("PUT", AGENT_PROFILE, self.agent_profile_params("p2"), {})
        self.call("PUT", AGENT_PROFILE, self.agent_profile_params("p1"), {})
        someone_else = {"agent": json.dumps({"mbox": "mailto:other@example.cn"}), "profileId": "x"}
        self.call("PUT", AGENT_PROFILE, someone_else, {})
        got = self.call("GET", AGENT_PROFILE, self.agent_profile_params(None))
        self.assertEqual(got.json(), ["p1", "p2"])

    def test_the_same_agent_by_account_finds_the_same_profile(self):
        agent = {"account": {"homePage": "https://zhipei.example.cn/learners", "name": "abc"}}
        params = {"agent": json.dumps(agent), "profileId": "p"}
        self.call("PUT", AGENT_PROFILE, params, {"v": 1})
        named = {"agent": json.dumps({**agent, "name": "Any Name"}), "profileId": "p"}
        self.assertEqual(self.call("GET", AGENT_PROFILE, named).json(), {"v": 1})

    def test_agent_parameter_must_be_an_agent_not_a_group(self):
        # §2.6.s3 note: the agent parameter is an Agent Object and not a Group.
        group = {"objectType": "Group", "mbox": "mailto:team@example.cn"}
        params = {"agent": json.dumps(group), "profileId": "p"}
        self.assert_error(self.call("GET", AGENT_PROFILE, params), 400)

    def test_agent_with_two_identifiers_is_400(self):
        agent = {"mbox": "mailto:a@example.cn", "openid": "https://openid.example.cn/a"}
        params = {"agent": json.dumps(agent), "profileId": "p"}
        self.assert_error(self.call("PUT", AGENT_PROFILE, params, {}), 400)
