"""POST merge of JSON documents, from xAPI 1.0.3 Communication §2.2.s7-s8, on all three
document resources."""

from __future__ import annotations

from zhipei.lrs_documents.tests.base import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    STATE,
    XapiDocumentsTestCase,
)


class MergeTests(XapiDocumentsTestCase):
    def resources(self):
        return [
            (STATE, self.state_params()),
            (ACTIVITY_PROFILE, self.activity_profile_params()),
            (AGENT_PROFILE, self.agent_profile_params()),
        ]

    def test_post_merges_top_level_properties_as_in_the_spec_example(self):
        # §2.2.s7: {"x":"foo","y":"bar"} + POST {"x":"bash","z":"faz"} → x, y, z.
        for path, params in self.resources():
            with self.subTest(path=path):
                self.call("POST", path, params, {"x": "foo", "y": "bar"})
                merged = self.call("POST", path, params, {"x": "bash", "z": "faz"})
                self.assertEqual(merged.status_code, 204, merged.content)  # §2.2.s8.b2
                got = self.call("GET", path, params)
                self.assertEqual(got.json(), {"x": "bash", "y": "bar", "z": "faz"})

    def test_merge_replaces_a_nested_object_entirely(self):
        # §2.2.s7: only top-level properties are merged, even when the property is an Object.
        params = self.state_params()
        self.call("PUT", STATE, params, {"a": {"keep": 1, "old": 2}, "b": 1})
        self.call("POST", STATE, params, {"a": {"new": 3}})
        self.assertEqual(self.call("GET", STATE, params).json(), {"a": {"new": 3}, "b": 1})

    def test_post_to_a_missing_document_creates_it(self):
        params = self.state_params()
        self.assertEqual(self.call("POST", STATE, params, {"x": 1}).status_code, 204)
        self.assertEqual(self.call("GET", STATE, params).json(), {"x": 1})

    def test_post_with_a_content_type_other_than_json_is_400_and_changes_nothing(self):
        # §2.2.s8.b1: posted document not application/json → 400, target not updated.
        for path, params in self.resources():
            with self.subTest(path=path):
                self.call("POST", path, params, {"x": 1})
                response = self.call("POST", path, params, b"x=2", content_type="text/plain")
                self.assert_error(response, 400)
                self.assertEqual(self.call("GET", path, params).json(), {"x": 1})

    def test_post_onto_a_stored_document_that_is_not_json_is_400_and_changes_nothing(self):
        # §2.2.s8.b1: existing document not application/json → 400, target not updated.
        params = self.state_params()
        self.call("PUT", STATE, params, b"plain words", content_type="text/plain")
        self.assert_error(self.call("POST", STATE, params, {"x": 1}), 400)
        got = self.call("GET", STATE, params)
        self.assertEqual((got.content, got["Content-Type"]), (b"plain words", "text/plain"))

    def test_post_of_json_that_is_not_an_object_is_400_and_changes_nothing(self):
        # §2.2.s8.b1: either document cannot be parsed as a JSON Object → 400.
        params = self.state_params()
        self.call("PUT", STATE, params, {"x": 1})
        self.assert_error(self.call("POST", STATE, params, [1, 2]), 400)
        self.assert_error(self.call("POST", STATE, params, b"{broken"), 400)
        self.assertEqual(self.call("GET", STATE, params).json(), {"x": 1})

    def test_post_onto_stored_json_that_is_not_an_object_is_400(self):
        params = self.state_params()
        self.call("PUT", STATE, params, [1, 2, 3])
        self.assert_error(self.call("POST", STATE, params, {"x": 1}), 400)
        self.assertEqual(self.call("GET", STATE, params).json(), [1, 2, 3])

    def test_nan_and_infinity_are_not_json(self):
        # Python's parser reads them; JSON has no such values (Communication §3.2.s3.b6: the
        # content must match its application/json type).
        params = self.state_params()
        for body in (b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}'):
            with self.subTest(body=body):
                self.assert_error(self.call("PUT", STATE, params, body), 400)
                self.assert_error(self.call("POST", STATE, params, body), 400)
        self.assertEqual(self.call("GET", STATE, params).status_code, 404)

    def test_a_number_beyond_a_float_is_kept_by_put_and_refused_by_a_merge(self):
        # 1e400 is valid JSON, but a merge writes values anew and would turn it into null.
        params = self.state_params()
        self.assertEqual(self.call("PUT", STATE, params, b'{"big": 1e400}').status_code, 204)
        self.assertEqual(self.call("GET", STATE, params).content, b'{"big": 1e400}')
        message = self.assert_error(self.call("POST", STATE, params, {"x": 1}), 400)
        self.assertIn("1e400", message)
        self.call("PUT", STATE, params, {"a": 1})
        message = self.assert_error(self.call("POST", STATE, params, b'{"b": -2e999}'), 400)
        self.assertIn("-2e999", message)
        self.assertEqual(self.call("GET", STATE, params).json(), {"a": 1})

    def test_a_merge_keeps_numbers_within_range_and_big_integers_exactly(self):
        params = self.state_params()
        self.call("PUT", STATE, params, {"a": 1})
        body = b'{"f": 1.5e300, "n": 123456789012345678901234567890, "g": 0.1}'
        self.assertEqual(self.call("POST", STATE, params, body).status_code, 204)
        got = self.call("GET", STATE, params).json()
        self.assertEqual(got, {"a": 1, "f": 1.5e300, "n": 123456789012345678901234567890, "g": 0.1})
