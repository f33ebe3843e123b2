"""POST /api/v1/profile/validate: signed like every platform request, checks statements
against the profile and the platform's catalogue, refuses what it cannot read with a
problem document, and never stores anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client, override_settings

from zhipei.lrs.models import Statement
from zhipei.lrs.tests.helpers import make_platform
from zhipei.lrs.tests.test_profile_check import conforming_session, make_welding_course
from zhipei.lrs_documents import profile as xp
from zhipei.orgs.models import Platform
from zhipei.orgs.services import issue_credential
from zhipei.orgs.signing import signed_headers
from zhipei.orgs.tests.helpers import make_organisation
from zhipei.people.services import pseudonym_for
from zhipei.people.testing import make_person
from zhipei.regions.models import Region
from zhipei.regions.testing import make_region_tree

URL = "/api/v1/profile/validate"
pytestmark = pytest.mark.django_db


@dataclass
class World:
    platform: Platform
    key_id: str
    secret: str
    pseudonym: str
    regions: dict[str, Region]


@pytest.fixture
def world() -> World:
    regions = make_region_tree()
    platform, credential, secret = make_platform(regions["420102"], 1)
    person = make_person(regions["420102"])
    pseudonym, _created = pseudonym_for(person, platform=platform)
    make_welding_course(platform, regions["420102"])
    return World(platform, credential.key_id, secret, pseudonym, regions)


def post(
    client: Client,
    world: World | None,
    body: bytes | Any,
    *,
    headers: dict[str, str] | None = None,
    key: tuple[str, str] | None = None,
) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    signed: dict[str, str] = {}
    if key is not None or world is not None:
        key_id, secret = key or (world.key_id, world.secret)  # type: ignore[union-attr]
        signed = signed_headers(key_id, secret, method="POST", path=URL, body=raw)
    return client.generic(
        "POST",
        URL,
        raw,
        content_type="application/json",
        headers={**signed, **(headers or {})},
    )


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["title"]
    return body


def test_conforming_statements_are_valid_and_nothing_is_stored(client, world):
    response = post(client, world, conforming_session(world.pseudonym))
    assert response.status_code == 200, response.content
    assert response.json() == {
        "valid": True,
        "statements": 11,
        "errors": 0,
        "warnings": 0,
        "problems": [],
    }
    assert Statement.objects.count() == 0


def test_each_problem_names_statement_id_path_code_severity_and_message(client, world):
    statements = conforming_session(world.pseudonym)
    del statements[2]["context"]["extensions"][xp.SESSION_ID]
    statements[7]["result"]["duration"] = "PT2M"
    response = post(client, world, statements)
    assert response.status_code == 200
    body = response.json()
    assert (body["valid"], body["statements"], body["errors"], body["warnings"]) == (
        False,
        11,
        1,
        1,
    )
    assert body["problems"][0] == {
        "index": 2,
        "id": statements[2]["id"],
        "path": f'statements[2].context.extensions["{xp.SESSION_ID}"]',
        "code": "missing_session_id",
        "severity": "error",
        "message": (
            "The session id is missing: send it in the context extension "
            f"{xp.SESSION_ID}, the same in every statement of the session."
        ),
        "params": {"iri": xp.SESSION_ID},
    }
    assert body["problems"][1]["code"] == "heartbeat_too_long"
    assert body["problems"][1]["severity"] == "warning"
    assert Statement.objects.count() == 0


def test_one_statement_object_is_accepted(client, world):
    response = post(client, world, conforming_session(world.pseudonym)[9])
    assert response.status_code == 200
    assert response.json()["statements"] == 1
    assert response.json()["valid"] is True


def test_unknown_learner_and_course_of_this_platform_are_warnings(client, world):
    statements = conforming_session("never-registered")
    statements[9]["object"]["id"] = "https://platform.example.cn/xapi/courses/unpublished"
    response = post(client, world, statements)
    body = response.json()
    assert body["valid"] is True
    assert body["errors"] == 0
    codes = {(p["index"], p["code"]) for p in body["problems"]}
    assert (0, "unknown_learner") in codes
    assert (9, "unknown_course") in codes


def test_another_platforms_learner_is_unknown_here(client, world):
    other, credential, secret = make_platform(world.regions["420106"], 2)
    response = post(
        client,
        None,
        conforming_session(world.pseudonym),
        key=(credential.key_id, secret),
    )
    codes = {p["code"] for p in response.json()["problems"]}
    assert codes == {"unknown_learner", "unknown_lesson", "unknown_course"}
    assert other.pk != world.platform.pk


def test_unsigned_request_is_refused_with_401(client, world):
    response = post(client, None, conforming_session(world.pseudonym))
    body = assert_problem(response, 401, "signature_header_missing")
    assert "X-Zhipei-Key" in body["title"]
    assert response["WWW-Authenticate"] == "Zhipei-HMAC-SHA256"


def test_wrongly_signed_request_is_refused_with_401(client, world):
    response = post(
        client, None, conforming_session(world.pseudonym), key=(world.key_id, "not-the-secret")
    )
    assert_problem(response, 401, "signature_mismatch")


def test_a_platform_applying_for_selection_may_check_its_statements(client):
    regions = make_region_tree()
    organisation = make_organisation(
        region=regions["420102"],
        serial=3,
        capacities={"platform"},
        platform_status="registered",
    )
    credential, secret = issue_credential(organisation.platform, by=None)
    response = post(client, None, conforming_session(), key=(credential.key_id, secret))
    assert response.status_code == 200, response.content
    assert response.json()["errors"] == 0


def test_a_suspended_platform_is_refused(client, world):
    Platform.objects.filter(pk=world.platform.pk).update(status=Platform.Status.SUSPENDED)
    response = post(client, world, conforming_session(world.pseudonym))
    assert_problem(response, 403, "not_allowed")


def test_malformed_json_is_a_400_problem_naming_line_and_column(client, world):
    response = post(client, world, b'[\n  {"actor": }\n]')
    body = assert_problem(response, 400, "invalid_json")
    assert body["title"] == "The request body is not valid JSON."
    assert body["detail"].startswith("Line 2, column 13: ")
    assert (body["line"], body["column"]) == (2, 13)


def test_a_body_that_is_not_utf8_is_a_400_problem(client, world):
    response = post(client, world, b'{"actor": "\xff"}')
    body = assert_problem(response, 400, "invalid_json")
    assert "UTF-8" in body["detail"]


def test_json_that_is_not_a_statement_or_an_array_is_a_400_problem(client, world):
    assert_problem(post(client, world, b'"statement"'), 400, "not_statements")


def test_an_empty_array_is_a_400_problem(client, world):
    assert_problem(post(client, world, b"[]"), 400, "no_statements")


def test_a_bad_xapi_version_header_is_a_400_problem(client, world):
    response = post(
        client,
        world,
        conforming_session(world.pseudonym),
        headers={"X-Experience-API-Version": "0.95"},
    )
    body = assert_problem(response, 400, "xapi_version_invalid")
    assert body["field"] == "X-Experience-API-Version"


def test_the_xapi_version_header_decides_the_version_checked(client, world):
    statement = conforming_session(world.pseudonym)[9]
    statement["version"] = "2.0.0"
    as_103 = post(client, world, statement).json()
    assert as_103["problems"][0]["code"] == "xapi_invalid"
    as_200 = post(client, world, statement, headers={"X-Experience-API-Version": "2.0.0"})
    assert as_200.json()["valid"] is True


@override_settings(XAPI_MAX_BATCH=3)
def test_more_statements_than_the_lrs_takes_at_once_is_a_413_problem(client, world):
    response = post(client, world, conforming_session(world.pseudonym)[:4])
    body = assert_problem(response, 413, "too_many_statements")
    assert body["limit"] == 3
    assert "at most 3" in body["title"]
    assert post(client, world, conforming_session(world.pseudonym)[:3]).status_code == 200


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_a_body_larger_than_the_lrs_takes_is_a_413_problem_before_it_is_read(client, world):
    statements = conforming_session(world.pseudonym)
    assert len(json.dumps(statements)) > 2000
    assert_problem(post(client, world, statements), 413, "body_too_large")
    # Refused on its declared size, signed or not: the body is never read.
    assert_problem(post(client, None, statements), 413, "body_too_large")
    assert post(client, world, statements[9]).status_code == 200


def test_the_route_is_in_the_openapi_document(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"][URL]["post"]
    assert "requestBody" in operation
    assert operation["responses"]["200"]


def test_json_nested_too_deeply_is_a_400_problem(client, world):
    response = post(client, world, b"[" * 50_000 + b"]" * 50_000)
    body = assert_problem(response, 400, "invalid_json")
    assert body["detail"] == "The JSON is nested too deeply."


def test_nan_in_a_statement_is_reported_not_a_server_error(client, world):
    body = json.dumps(conforming_session(world.pseudonym)[10]).replace('"raw": 90', '"raw": NaN')
    response = post(client, world, body.encode())
    assert response.status_code == 200, response.content
    (problem,) = response.json()["problems"]
    assert (problem["code"], problem["path"]) == ("xapi_invalid", "statements[0].result.score.raw")


def test_an_integer_longer_than_python_reads_is_a_400_problem_naming_where(client, world):
    # json refuses to convert it (sys.get_int_max_str_digits); the LRS refuses such a body
    # as not JSON, and so does the validator, instead of failing (a 500).
    body = b'[{"x": 1' + b"0" * 4300 + b"}]"
    problem = assert_problem(post(client, world, body), 400, "invalid_json")
    assert (problem["line"], problem["column"]) == (1, 8)
    assert "4300 digits" in problem["detail"]
