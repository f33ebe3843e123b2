"""The HTTP edge as the document resources use it: authentication, the version header, HEAD
(Communication §1.1), the alternate request syntax (§1.3) and xAPI 2.0."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from zhipei.lrs_documents.tests.base import ACTIVITY, AGENT_JSON, STATE, XapiDocumentsTestCase


class EdgeTests(XapiDocumentsTestCase):
    def test_request_without_credentials_is_401(self):
        response = self.client.get(
            STATE + "?" + urlencode(self.state_params()),
            headers={"X-Experience-API-Version": "1.0.3"},
        )
        self.assertEqual(response.status_code, 401)
        self.assertIn("Basic", response["WWW-Authenticate"])

    def test_wrong_secret_is_401(self):
        import base64

        key_id = base64.b64decode(self.auth.split()[1]).decode().split(":")[0]
        forged = "Basic " + base64.b64encode(f"{key_id}:wrong-secret".encode()).decode()
        response = self.call("GET", STATE, self.state_params(), auth=forged)
        self.assertEqual(response.status_code, 401)

    def test_missing_version_header_is_400(self):
        response = self.client.get(
            STATE + "?" + urlencode(self.state_params()), headers={"Authorization": self.auth}
        )
        self.assertEqual(response.status_code, 400)

    def test_head_answers_like_get_without_a_body(self):
        # §1.1.s3.b1: respond to HEAD as to GET, with the message-body omitted.
        self.call("PUT", STATE, self.state_params(), {"x": 1})
        get = self.call("GET", STATE, self.state_params())
        head = self.call("HEAD", STATE, self.state_params())
        self.assertEqual(head.status_code, 200)
        self.assertEqual(head.content, b"")
        self.assertEqual(head["ETag"], get["ETag"])
        # RFC 9110 §8.6: a HEAD answer's Content-Length, when sent, is the GET's
        self.assertEqual(head["Content-Length"], str(len(get.content)))

    def test_alternate_request_syntax_puts_and_gets_a_state_document(self):
        # §1.3: POST with method=PUT; headers, parameters and content as form parameters.
        form = {
            "Authorization": self.auth,
            "X-Experience-API-Version": "1.0.3",
            "Content-Type": "application/json",
            "content": json.dumps({"via": "alternate"}),
            "activityId": ACTIVITY,
            "agent": AGENT_JSON,
            "stateId": "alt",
        }
        response = self.client.post(
            STATE + "?method=PUT",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
        self.assertEqual(response.status_code, 204, response.content)
        got = self.call("GET", STATE, self.state_params("alt"))
        self.assertEqual(got.json(), {"via": "alternate"})

    def test_xapi_2_answers_with_last_modified_and_version_header(self):
        self.version = "2.0.0"
        self.call("PUT", STATE, self.state_params(), {"x": 1})
        got = self.call("GET", STATE, self.state_params())
        self.assertEqual(got.status_code, 200)
        self.assertTrue(got["Last-Modified"].endswith("GMT"))
        self.assertEqual(got["X-Experience-API-Version"], "2.0.0")

    def test_no_slash_redirect_and_no_csrf_for_a_trailing_slash(self):
        response = self.call("PUT", STATE + "/", self.state_params(), {"x": 1})
        self.assertEqual(response.status_code, 204)

    def test_json_nested_past_the_parser_is_a_400_not_a_crash(self):
        # Valid JSON that Python's parser cannot follow (RecursionError was a 500): as a
        # document, as the document a POST merges into, and as the agent parameter.
        deep_array = ("[" * 100_000 + "]" * 100_000).encode()
        deep_object = ('{"a":' * 50_000 + "1" + "}" * 50_000).encode()
        for body in (deep_array, deep_object):
            for method in ("PUT", "POST"):
                message = self.assert_error(
                    self.call(method, STATE, self.state_params(), body), 400
                )
                self.assertIn("nested too deeply", message)
        response = self.call("GET", STATE, self.state_params(agent=deep_array.decode()))
        self.assertIn("agent", self.assert_error(response, 400))

    def test_a_merge_with_a_lone_surrogate_is_a_400_not_a_crash(self):
        # "\ud800" is valid JSON text but no character: the merged document cannot be written.
        self.call("POST", STATE, self.state_params(), {"a": 1})
        response = self.call("POST", STATE, self.state_params(), b'{"b": "\\ud800"}')
        self.assertIn("lone surrogate", self.assert_error(response, 400))
        self.assertEqual(self.call("GET", STATE, self.state_params()).json(), {"a": 1})

    def test_nul_in_a_document_id_or_agent_is_400_not_a_crash(self):
        # PostgreSQL text cannot hold U+0000: refused at the edge, on every database.
        query = urlencode({**self.state_params(), "stateId": "s\x00"})
        response = self.client.put(
            STATE + "?" + query,
            data=b'{"a": 1}',
            content_type="application/json",
            headers={"Authorization": self.auth, "X-Experience-API-Version": "1.0.3"},
        )
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("U+0000", response.json()["error"]["message"])
        agent = json.dumps({"account": {"homePage": "https://x.cn", "name": "a\u0000"}})
        response = self.call("GET", STATE, {**self.state_params(), "agent": agent})
        self.assertEqual(response.status_code, 400, response.content)
        self.assertIn("U+0000", response.json()["error"]["message"])
