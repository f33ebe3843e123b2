"""ETags and preconditions, from xAPI 1.0.3 Communication §3.1 (one test per rule)."""

from __future__ import annotations

import hashlib
import json

from zhipei.lrs_documents.tests.base import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    STATE,
    XapiDocumentsTestCase,
)

BODY = {"score": 1}
RAW = json.dumps(BODY).encode()
SHA1 = hashlib.sha1(RAW).hexdigest()  # noqa: S324 - the spec names SHA-1


class ETagTests(XapiDocumentsTestCase):
    def test_get_adds_an_etag_header(self):
        # §3.1.s4.b1: an LRS responding to a GET request MUST add an ETag header.
        self.call("PUT", STATE, self.state_params(), BODY)
        self.assertIn("ETag", self.call("GET", STATE, self.state_params()))
        self.assertIn("ETag", self.call("GET", STATE, self.state_params(None)))

    def test_etag_is_the_sha1_of_the_contents_in_lower_case_hex(self):
        # §3.1.s4.b2: hexadecimal SHA-1 digest of the contents, lower case.
        self.call("PUT", STATE, self.state_params(), RAW)
        got = self.call("GET", STATE, self.state_params())
        self.assertEqual(got["ETag"].strip('"'), SHA1)

    def test_etag_is_enclosed_in_quotes(self):
        # §3.1.s4.b4: the LRS MUST enclose the header in quotes.
        self.call("PUT", STATE, self.state_params(), RAW)
        self.assertEqual(self.call("GET", STATE, self.state_params())["ETag"], f'"{SHA1}"')

    def test_multiple_document_get_etag_is_the_sha1_of_the_id_array(self):
        self.call("PUT", STATE, self.state_params("a"), RAW)
        got = self.call("GET", STATE, self.state_params(None))
        digest = hashlib.sha1(got.content).hexdigest()  # noqa: S324 - the spec names SHA-1
        self.assertEqual(got["ETag"], f'"{digest}"')

    def test_get_single_document_has_last_modified(self):
        # §2.2.s6.b1 (SHOULD*) and xAPI 2.0: Last-Modified on documents.
        self.call("PUT", STATE, self.state_params(), RAW)
        self.assertTrue(self.call("GET", STATE, self.state_params())["Last-Modified"])
        self.assertTrue(self.call("GET", STATE, self.state_params(None))["Last-Modified"])


class PreconditionTests(XapiDocumentsTestCase):
    def every_resource(self):
        return [
            (STATE, self.state_params()),
            (ACTIVITY_PROFILE, self.activity_profile_params()),
            (AGENT_PROFILE, self.agent_profile_params()),
        ]

    def stored(self, path, params):
        return self.call("GET", path, params).json()

    def test_put_with_matching_if_match_replaces(self):
        # §3.1.s4.b5: handle If-Match on PUT as RFC 2616 says.
        for path, params in self.every_resource():
            with self.subTest(path=path):
                self.call("PUT", path, params, BODY, **{"If-None-Match": "*"})
                response = self.call("PUT", path, params, {"v": 2}, **{"If-Match": f'"{SHA1}"'})
                self.assertEqual(response.status_code, 204, response.content)
                self.assertEqual(self.stored(path, params), {"v": 2})

    def test_put_with_an_upper_case_etag_still_matches(self):
        self.call("PUT", STATE, self.state_params(), RAW)
        response = self.call(
            "PUT", STATE, self.state_params(), {"v": 2}, **{"If-Match": f'"{SHA1.upper()}"'}
        )
        self.assertEqual(response.status_code, 204)

    def test_put_with_stale_if_match_is_412_and_changes_nothing(self):
        # §3.1.s4.b9-b10: precondition failed → 412, no modification.
        for path, params in self.every_resource():
            with self.subTest(path=path):
                self.call("PUT", path, params, RAW, **{"If-None-Match": "*"})
                stale = '"' + "0" * 40 + '"'
                response = self.call("PUT", path, params, {"v": 2}, **{"If-Match": stale})
                self.assert_error(response, 412)
                self.assertEqual(self.stored(path, params), BODY)

    def test_put_with_if_match_for_a_missing_document_is_412(self):
        response = self.call("PUT", STATE, self.state_params(), RAW, **{"If-Match": f'"{SHA1}"'})
        self.assert_error(response, 412)
        self.assertEqual(self.call("GET", STATE, self.state_params()).status_code, 404)

    def test_put_with_if_none_match_star_on_an_existing_document_is_412(self):
        # §3.1.s4.b6, b9-b10: If-None-Match: * and the resource exists → 412, no change.
        for path, params in self.every_resource():
            with self.subTest(path=path):
                self.call("PUT", path, params, RAW, **{"If-None-Match": "*"})
                response = self.call("PUT", path, params, {"v": 2}, **{"If-None-Match": "*"})
                self.assert_error(response, 412)
                self.assertEqual(self.stored(path, params), BODY)

    def test_put_with_if_none_match_star_creates_a_missing_document(self):
        response = self.call(
            "PUT", ACTIVITY_PROFILE, self.activity_profile_params(), RAW, **{"If-None-Match": "*"}
        )
        self.assertEqual(response.status_code, 204)

    def test_put_to_an_existing_profile_without_precondition_is_409_with_advice(self):
        # §3.1.s4.b13-b15: 409, a message to check the state and set If-Match, no change.
        for path, params in self.every_resource()[1:]:
            with self.subTest(path=path):
                self.assertEqual(self.call("PUT", path, params, RAW).status_code, 204)
                message = self.assert_error(self.call("PUT", path, params, {"v": 2}), 409)
                self.assertIn("If-Match", message)
                self.assertIn("GET", message)
                self.assertEqual(self.stored(path, params), BODY)

    def test_put_to_existing_state_without_precondition_replaces(self):
        # §3.1.s3: the State resource permits PUT, POST and DELETE without concurrency headers.
        self.call("PUT", STATE, self.state_params(), RAW)
        self.assertEqual(self.call("PUT", STATE, self.state_params(), {"v": 2}).status_code, 204)
        self.assertEqual(self.stored(STATE, self.state_params()), {"v": 2})

    def test_post_with_stale_if_match_is_412_and_changes_nothing(self):
        # §3.1.s4.b7, b11-b12.
        for path, params in self.every_resource():
            with self.subTest(path=path):
                self.call("PUT", path, params, RAW, **{"If-None-Match": "*"})
                stale = '"' + "1" * 40 + '"'
                response = self.call("POST", path, params, {"v": 2}, **{"If-Match": stale})
                self.assert_error(response, 412)
                self.assertEqual(self.stored(path, params), BODY)

    def test_post_with_if_none_match_star_on_an_existing_document_is_412(self):
        # §3.1.s4.b8.
        self.call("PUT", STATE, self.state_params(), RAW)
        response = self.call("POST", STATE, self.state_params(), {"v": 2}, **{"If-None-Match": "*"})
        self.assert_error(response, 412)

    def test_post_with_matching_if_match_merges(self):
        self.call("PUT", STATE, self.state_params(), RAW)
        response = self.call(
            "POST", STATE, self.state_params(), {"v": 2}, **{"If-Match": f'"{SHA1}"'}
        )
        self.assertEqual(response.status_code, 204)
        self.assertEqual(self.stored(STATE, self.state_params()), {"score": 1, "v": 2})

    def test_delete_with_stale_if_match_is_412_and_keeps_the_document(self):
        # §3.1.s4.b7, b11-b12.
        for path, params in self.every_resource():
            with self.subTest(path=path):
                self.call("PUT", path, params, RAW, **{"If-None-Match": "*"})
                response = self.call("DELETE", path, params, **{"If-Match": '"' + "2" * 40 + '"'})
                self.assert_error(response, 412)
                self.assertEqual(self.stored(path, params), BODY)

    def test_delete_with_matching_if_match_deletes(self):
        for path, params in self.every_resource():
            with self.subTest(path=path):
                self.call("PUT", path, params, RAW, **{"If-None-Match": "*"})
                response = self.call("DELETE", path, params, **{"If-Match": f'"{SHA1}"'})
                self.assertEqual(response.status_code, 204)
                self.assertEqual(self.call("GET", path, params).status_code, 404)
