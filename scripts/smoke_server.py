"""Smoke test of the production server (CI, `.ci/run`): granian serving config.wsgi with
production settings on a scratch SQLite database, exercised over real HTTP — the xAPI
(about, a statement stored and read back, an attachment in multipart/mixed, bad credentials,
malformed JSON), a page with its CSRF cookie, a static file and a 404. The test suite runs
the same code in-process; this shows the server the deployment runs passes it through
unchanged.

    .venv/bin/python scripts/smoke_server.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from make_dev_env import key  # scripts/ is on the path when this runs

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GRANIAN = str(Path(PYTHON).with_name("granian"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(
    url: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names in lower case) and body."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"not the local server: {url}")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - checked above
            headers = {name.lower(): value for name, value in response.headers.items()}
            return response.status, headers, response.read()
    except urllib.error.HTTPError as error:
        headers = {name.lower(): value for name, value in error.headers.items()}
        return error.code, headers, error.read()


def _check(label: str, condition: bool, detail: object = "") -> None:
    print(f"{'ok  ' if condition else 'FAIL'} {label}")
    if not condition:
        raise SystemExit(f"smoke test failed: {label}: {detail!r}")


def _statement() -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://platform.example.cn", "name": "smoke-1"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "https://platform.example.cn/courses/smoke"},
        "timestamp": "2026-05-01T09:00:00+08:00",
    }


def _exercise(base: str, key_id: str, secret: str) -> None:
    token = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    xapi = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "1.0.3"}

    status, headers, body = _request(f"{base}/xapi/about", headers={})
    _check("GET /xapi/about", status == 200 and "1.0.3" in json.loads(body)["version"], body)

    statement = _statement()
    status, _headers, body = _request(
        f"{base}/xapi/statements",
        method="POST",
        body=json.dumps(statement).encode(),
        headers={**xapi, "Content-Type": "application/json"},
    )
    _check("POST a statement", status == 200 and json.loads(body) == [statement["id"]], body)
    status, headers, body = _request(
        f"{base}/xapi/statements?statementId={statement['id']}", headers=xapi
    )
    _check(
        "GET it back",
        status == 200 and json.loads(body)["id"] == statement["id"],
        (status, body[:200]),
    )
    _check("consistent-through header", "x-experience-api-consistent-through" in headers)

    content = b"certificate of attendance"
    with_attachment = _statement()
    with_attachment["attachments"] = [
        {
            "usageType": "http://id.tincanapi.com/attachment/supporting_media",
            "display": {"en-US": "note"},
            "contentType": "text/plain",
            "length": len(content),
            "sha2": hashlib.sha256(content).hexdigest(),
        }
    ]
    boundary = "smoke-boundary"
    multipart = (
        (
            f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{json.dumps(with_attachment)}\r\n"
            f"--{boundary}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {hashlib.sha256(content).hexdigest()}\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    status, _headers, body = _request(
        f"{base}/xapi/statements",
        method="POST",
        body=multipart,
        headers={**xapi, "Content-Type": f"multipart/mixed; boundary={boundary}"},
    )
    _check("POST a statement with an attachment (multipart/mixed)", status == 200, body)

    wrong = {**xapi, "Authorization": "Basic " + base64.b64encode(b"nobody:wrong").decode()}
    status, headers, _body = _request(f"{base}/xapi/statements", headers=wrong)
    _check("wrong credentials: 401", status == 401 and "www-authenticate" in headers, status)
    status, _headers, body = _request(
        f"{base}/xapi/statements",
        method="POST",
        body=b'{"id": ',
        headers={**xapi, "Content-Type": "application/json"},
    )
    _check("malformed JSON: 400 with a message", status == 400 and len(body) > 10, body)

    status, headers, body = _request(f"{base}/accounts/login/", headers={})
    _check(
        "login page with a CSRF cookie",
        status == 200 and "csrftoken" in headers.get("set-cookie", ""),
        status,
    )
    status, _headers, body = _request(f"{base}/static/vendor/pico-2.1.1/pico.min.css", headers={})
    _check("a static file", status == 200 and len(body) > 1000, status)
    status, _headers, _body = _request(f"{base}/no-such-page/", headers={})
    _check("an unknown page: 404", status == 404, status)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        environ = {
            **os.environ,
            "ZHIPEI_SKIP_ENV_FILE": "1",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "PII_KEYS": f"smoke:{key()}",
            "BLIND_INDEX_KEY": key(),
            "AUDIT_HMAC_KEY": key(),
            "AUDIT_ANCHOR_PATH": str(Path(tmp) / "anchor"),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'smoke.sqlite3'}",
        }

        def manage(*args: str) -> str:
            return subprocess.run(
                [PYTHON, *args], cwd=ROOT, env=environ, check=True, capture_output=True, text=True
            ).stdout

        manage("manage.py", "migrate", "--noinput")
        manage("manage.py", "createcachetable")
        manage("manage.py", "collectstatic", "--noinput")
        key_id, secret = manage("bench/xapi_fixture.py").split()
        port = _free_port()
        server = subprocess.Popen(
            [
                GRANIAN,
                "--interface",
                "wsgi",
                "--workers",
                "1",
                "--blocking-threads",
                "1",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "config.wsgi:application",
            ],
            cwd=ROOT,
            env=environ,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _request(f"{base}/xapi/about", headers={})
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            _exercise(base, key_id, secret)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
