"""Each platform sees and writes only its own documents (issue 4: documents are scoped by the
authenticating credential's platform)."""

from __future__ import annotations

from zhipei.lrs_documents.models import Document
from zhipei.lrs_documents.tests.base import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    STATE,
    XapiDocumentsTestCase,
)


class PlatformScopeTests(XapiDocumentsTestCase):
    def resources(self):
        return [
            (STATE, self.state_params()),
            (ACTIVITY_PROFILE, self.activity_profile_params()),
            (AGENT_PROFILE, self.agent_profile_params()),
        ]

    def test_another_platform_cannot_read_a_document(self):
        for path, params in self.resources():
            with self.subTest(path=path):
                self.call("PUT", path, params, {"secret": 1})
                response = self.call("GET", path, params, auth=self.other_auth)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn(b"secret", response.content)
                id_params = {k: v for k, v in params.items() if k not in {"stateId", "profileId"}}
                listed = self.call("GET", path, id_params, auth=self.other_auth)
                self.assertEqual(listed.json(), [])

    def test_another_platform_writing_the_same_key_gets_its_own_document(self):
        for path, params in self.resources():
            with self.subTest(path=path):
                self.call("PUT", path, params, {"owner": "first"})
                response = self.call("PUT", path, params, {"owner": "second"}, auth=self.other_auth)
                self.assertEqual(response.status_code, 204)
                self.assertEqual(self.call("GET", path, params).json(), {"owner": "first"})
                theirs = self.call("GET", path, params, auth=self.other_auth)
                self.assertEqual(theirs.json(), {"owner": "second"})

    def test_another_platform_cannot_delete_or_merge_into_a_document(self):
        for path, params in self.resources():
            with self.subTest(path=path):
                self.call("PUT", path, params, {"owner": "first"})
                self.call("DELETE", path, params, auth=self.other_auth)
                self.call("POST", path, params, {"owner": "second"}, auth=self.other_auth)
                self.assertEqual(self.call("GET", path, params).json(), {"owner": "first"})

    def test_deleting_all_state_leaves_other_platforms_state(self):
        self.call("PUT", STATE, self.state_params(), {"x": 1})
        self.call("DELETE", STATE, self.state_params(None), auth=self.other_auth)
        self.assertEqual(self.call("GET", STATE, self.state_params()).json(), {"x": 1})
        self.assertEqual(Document.objects.filter(platform=self.platform).count(), 1)
