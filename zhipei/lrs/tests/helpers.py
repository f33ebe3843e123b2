"""Builders for the LRS tests: a selected platform with a Basic credential, statements."""

from __future__ import annotations

import base64
import copy
import json
import uuid
from datetime import datetime
from typing import Any

from django.db import connection
from django.test import Client

from zhipei.lrs.models import Statement
from zhipei.orgs.models import Platform, PlatformCredential
from zhipei.orgs.services import issue_credential
from zhipei.orgs.tests.helpers import make_organisation

V103 = {"X-Experience-API-Version": "1.0.3"}

BASE_STATEMENT: dict[str, Any] = {
    "actor": {
        "objectType": "Agent",
        "account": {"homePage": "https://zhipei.example.cn/learners", "name": "p-0001"},
    },
    "verb": {
        "id": "http://adlnet.gov/expapi/verbs/progressed",
        "display": {"en-US": "progressed", "zh-CN": "进行中"},
    },
    "object": {
        "objectType": "Activity",
        "id": "https://platform.example.cn/courses/welding-101/lessons/3",
        "definition": {"name": {"zh-CN": "焊接基础 第3课"}},
    },
    "result": {"duration": "PT5M"},
    "context": {"registration": "6f0e4b8e-3c1a-4f7e-9a3b-2d9c1e5f7a10", "platform": "Example"},
    "timestamp": "2026-05-01T08:30:00+08:00",
}

# How long a test waits for statements to pass the commit-safe horizon. On PostgreSQL it is
# the oldest transaction open in the test's database (queries._HORIZON_SQL): a test's other
# connections (read-ahead, threads) hold it back while their transactions run.
HORIZON_WAIT_SECONDS = 300


def statement(**changes: Any) -> dict[str, Any]:
    """A fresh valid statement with a new id; keyword arguments replace top-level properties
    (None removes one)."""
    data = copy.deepcopy(BASE_STATEMENT)
    data["id"] = str(uuid.uuid4())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_platform(region: Any, serial: int = 1) -> tuple[Platform, PlatformCredential, str]:
    organisation = make_organisation(
        region=region,
        serial=serial,
        name=f"Platform {serial}",
        capacities={"platform"},
        platform_status="selected",
    )
    credential, secret = issue_credential(organisation.platform, by=None)
    return organisation.platform, credential, secret


def basic(key_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()


class XapiClient:
    """A test client that sends Basic auth and the version header on every call."""

    def __init__(self, client: Client, key_id: str, secret: str, version: str = "1.0.3") -> None:
        self.client = client
        self.headers = {"Authorization": basic(key_id, secret), "X-Experience-API-Version": version}

    def post(self, data: Any, path: str = "/xapi/statements", **headers: str):
        return self.client.post(
            path,
            data=json.dumps(data),
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def put(self, data: Any, statement_id: str, **headers: str):
        return self.client.put(
            f"/xapi/statements?statementId={statement_id}",
            data=json.dumps(data),
            content_type="application/json",
            headers={**self.headers, **headers},
        )

    def get(
        self, path: str = "/xapi/statements", params: dict[str, str] | None = None, **headers: str
    ):
        return self.client.get(path, params or {}, headers={**self.headers, **headers})


def restamp(statement_id: str, stored: datetime) -> None:
    """Move a stored statement to another `stored` instant, as if it had been stored then
    (the store itself never changes `stored`). On PostgreSQL the id table, through which
    statements are read by id, is moved with it."""
    Statement.objects.filter(statement_id=statement_id).update(stored=stored)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE lrs_statement_id SET stored = %s WHERE statement_id = %s",
                [stored, statement_id],
            )


def plan_nodes(sql: str, params: Any = None) -> list[dict[str, Any]]:
    """Every node of PostgreSQL's plan for `sql` (EXPLAIN, not run), outermost first."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        nodes = [cursor.fetchone()[0][0]["Plan"]]
    for node in nodes:  # grows as it goes: each node's children join the end
        nodes.extend(node.get("Plans", []))
    return nodes
