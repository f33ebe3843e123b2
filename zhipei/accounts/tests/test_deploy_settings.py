"""`manage.py check --deploy` with production-like settings (as .ci/run does), run in a child
process because settings are read once at start-up."""

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]


def _key():
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _production_env(**overrides):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST", "ZHIPEI_", "SECURE_", "DEBUG"))
    }
    env.update(
        ZHIPEI_SKIP_ENV_FILE="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        PII_KEYS=f"prod1:{_key()}",
        BLIND_INDEX_KEY=_key(),
        AUDIT_HMAC_KEY=_key(),
        ALLOWED_HOSTS="zhipei.example.cn",
        SITE_URL="https://zhipei.example.cn",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(overrides)
    return env


def _run(code_or_args, env):
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_with_production_settings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr


def _assert_refused(env, check_id, *options):
    """`check --deploy` (with `options`) fails, naming `check_id`."""
    result = _run(["manage.py", "check", "--deploy", *options], env)
    assert result.returncode != 0, check_id
    assert check_id in result.stderr, result.stderr


def test_deploy_check_refuses_missing_keys():
    env = _production_env()
    del env["PII_KEYS"]
    _assert_refused(env, "zhipei.E002")


def test_deploy_check_refuses_a_site_url_that_leads_nowhere():
    # Certificates print SITE_URL in their QR codes: the development default is refused.
    env = _production_env()
    del env["SITE_URL"]
    _assert_refused(env, "zhipei.E006")
    for bad in ("http://localhost:8000", "http://[::1]", "zhipei.example.cn", "ftp://x.cn"):
        _assert_refused(_production_env(SITE_URL=bad), "zhipei.E006")


def test_deploy_check_warns_of_a_site_url_without_tls():
    env = _production_env(SITE_URL="http://zhipei.example.cn")
    _assert_refused(env, "zhipei.W002", "--fail-level", "WARNING")


def test_production_security_settings():
    expected = {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "LANGUAGE_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "FIRST_HASHER": "django.contrib.auth.hashers.Argon2PasswordHasher",
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"names = {sorted(set(expected) - {'FIRST_HASHER'})!r}; "
        "out = {n: getattr(s, n) for n in names}; out['FIRST_HASHER'] = s.PASSWORD_HASHERS[0]; "
        "print(json.dumps(out))"
    )
    result = _run(["-c", code], _production_env())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected
