"""A selected platform with an xAPI (HTTP Basic) credential, and a client for the document
resources that sends the credential and the version header on every request."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from django.test import TestCase

from zhipei.lrs.http import clear_auth_cache
from zhipei.orgs.models import Platform
from zhipei.orgs.services import issue_credential
from zhipei.orgs.tests.helpers import make_organisation
from zhipei.regions.testing import make_region_tree

ACTIVITY = "https://platform.example.cn/courses/welding-101"
AGENT = {"objectType": "Agent", "mbox": "mailto:learner@example.cn"}
AGENT_JSON = json.dumps(AGENT)
REGISTRATION = "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10"
STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"


def basic(key_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()


class XapiDocumentsTestCase(TestCase):
    platform: Platform
    other_platform: Platform

    @classmethod
    def setUpTestData(cls):
        regions = make_region_tree()
        cls.platform = make_organisation(
            region=regions["420102"], serial=1, capacities={"platform"}, platform_status="selected"
        ).platform
        cls.other_platform = make_organisation(
            region=regions["420106"], serial=2, capacities={"platform"}, platform_status="selected"
        ).platform

    def setUp(self):
        clear_auth_cache()
        credential, secret = issue_credential(self.platform, by=None)
        other, other_secret = issue_credential(self.other_platform, by=None)
        self.auth = basic(credential.key_id, secret)
        self.other_auth = basic(other.key_id, other_secret)
        self.version = "1.0.3"

    def headers(self, auth: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "Authorization": auth or self.auth,
            "X-Experience-API-Version": self.version,
            **extra,
        }

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: Any = None,
        *,
        content_type: str = "application/json",
        auth: str | None = None,
        **headers: str,
    ):
        url = path + "?" + urlencode(params)
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
        return self.client.generic(
            method, url, data=data, content_type=content_type, headers=self.headers(auth, **headers)
        )

    def state_params(self, state_id: str | None = "bookmark", **extra: str) -> dict[str, str]:
        params = {"activityId": ACTIVITY, "agent": AGENT_JSON}
        if state_id is not None:
            params["stateId"] = state_id
        params.update(extra)
        return params

    def activity_profile_params(self, profile_id: str | None = "settings") -> dict[str, str]:
        params = {"activityId": ACTIVITY}
        if profile_id is not None:
            params["profileId"] = profile_id
        return params

    def agent_profile_params(self, profile_id: str | None = "preferences") -> dict[str, str]:
        params = {"agent": AGENT_JSON}
        if profile_id is not None:
            params["profileId"] = profile_id
        return params

    def assert_error(self, response, status: int) -> str:
        self.assertEqual(response.status_code, status, response.content)
        message = response.json()["error"]["message"]
        self.assertTrue(message)
        return str(message)
