"""docs/api-auth.md cannot drift: its test vectors are recomputed by the signing code, and its
Python and shell examples are run against them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from conftest import skip_or_fail
from zhipei.orgs.signing import body_sha256, canonical_string, signature

DOC = Path(settings.BASE_DIR) / "docs" / "api-auth.md"


def _block(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- {name}:start -->\n```[a-z]*\n(.*?)```\n<!-- {name}:end -->", text, re.DOTALL
    )
    assert match, f"block {name} not found in {DOC}"
    return match.group(1)


def _vectors() -> list[dict[str, str]]:
    vectors: list[dict[str, str]] = json.loads(_block("test-vectors"))
    return vectors


def test_doc_has_vectors_for_get_and_post():
    assert [v["method"] for v in _vectors()] == ["GET", "POST"]


@pytest.mark.parametrize("index", [0, 1])
def test_vector_is_what_the_server_computes(index):
    vector = _vectors()[index]
    body = vector["body"].encode()
    canonical = canonical_string(
        method=vector["method"],
        path=vector["path"],
        query=vector["query"],
        timestamp=vector["timestamp"],
        nonce=vector["nonce"],
        body=body,
    )
    assert body_sha256(body) == vector["body_sha256"]
    assert canonical == vector["canonical_string"]
    assert signature(vector["secret"], canonical) == vector["signature"]


@pytest.mark.parametrize("index", [0, 1])
def test_human_readable_copy_matches_the_machine_readable_vector(index):
    vector = _vectors()[index]
    text = DOC.read_text(encoding="utf-8")
    assert "```text\n" + vector["canonical_string"] + "\n```" in text
    assert f"Signature: `{vector['signature']}`" in text
    assert f"query      {vector['query'] or '(none)'}\n" in text
    assert f"nonce      {vector['nonce']}\n" in text


@pytest.mark.parametrize("index", [0, 1])
def test_python_example_reproduces_the_vectors(index):
    vector = _vectors()[index]
    namespace: dict[str, object] = {}
    exec(_block("example-python"), namespace)  # noqa: S102 - our own documentation
    url = "https://zhipei.example.gov.cn" + vector["path"]
    if vector["query"]:
        url += "?" + vector["query"]
    headers = namespace["zhipei_headers"](  # type: ignore[operator]
        "pk_test0000000000000001",
        vector["secret"],
        vector["method"],
        url,
        body=vector["body"].encode(),
        timestamp=int(vector["timestamp"]),
        nonce=vector["nonce"],
    )
    assert headers["X-Zhipei-Signature"] == vector["signature"]
    assert headers["X-Zhipei-Timestamp"] == vector["timestamp"]


def test_shell_example_reproduces_the_first_vector():
    if not shutil.which("openssl") or not shutil.which("bash"):
        skip_or_fail("openssl and bash are needed to run the shell example")
    vector = _vectors()[0]
    script = _block("example-shell")
    before_curl = script.split("\ncurl ", 1)[0]
    result = subprocess.run(
        ["bash", "-euc", before_curl + '\nprintf "%s" "$SIG"'],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ZHIPEI_SECRET": vector["secret"],
            "ZHIPEI_KEY_ID": "pk_test0000000000000001",
            "TS": vector["timestamp"],
            "NONCE": vector["nonce"],
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == vector["signature"]
