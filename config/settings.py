"""The one settings file. Everything that differs between machines comes from the environment.

A `.env` file in the project root (written by `make run` with freshly generated dev keys) is read
first; real environment variables win over it. Misconfiguration is reported by system checks
(zhipei/core/checks.py), not by exceptions at import time.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def _read_env_file(path: Path) -> None:
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        os.environ.setdefault(key.strip(), value.strip())


# Under pytest the suite runs with its own fixed settings; the dev .env is not read.
_UNDER_PYTEST = "pytest" in sys.modules
if not _UNDER_PYTEST and os.environ.get("ZHIPEI_SKIP_ENV_FILE") != "1":
    _read_env_file(BASE_DIR / ".env")


def env(name: str, default: str = "") -> str:
    """A string setting; `<NAME>_FILE` names a file holding the value (for container secrets)."""
    file_path = os.environ.get(name + "_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    value = env(name, "")
    if value == "":
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name, "")
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", default=False)
TESTING = env_bool("ZHIPEI_TESTING", default=_UNDER_PYTEST)

# Insecure development keys: used only when DEBUG or TESTING is on and nothing else is given.
# zhipei.E001/E002 refuse them when DEBUG is off.
DEV_SECRET_KEY = "dev-insecure-zhipei-secret-key-do-not-use-in-production-0123456789"
SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY if (DEBUG or TESTING) else "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "zhipei.core",
    "zhipei.audit",
    "zhipei.regions",
    "zhipei.occupations",
    "zhipei.people",
    "zhipei.accounts",
    "zhipei.orgs",
    "zhipei.catalog",
    "zhipei.lrs",
    "zhipei.lrs_documents",
    "zhipei.learning",
    "zhipei.enterprises",
    "zhipei.subsidies",
    "zhipei.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "zhipei.core.middleware.ClientIPMiddleware",
    "zhipei.core.middleware.NulCharacterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "zhipei.portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite file by default; DATABASE_URL=postgres://… switches to PostgreSQL.
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'zhipei.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so a read-check-write transaction never fails
    # half-way with "database is locked" (ARCHITECTURE invariant 4); WAL lets readers go on.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file database (STYLE §11: threaded tests on the in-memory one answer "table is
    # locked"), one per process so parallel runs never share it; xdist adds a worker suffix.
    _test_file = Path(tempfile.gettempdir()) / f"zhipei-test-{os.getpid()}.sqlite3"
    _db["TEST"] = {"NAME": env("SQLITE_TEST_NAME", "") or (str(_test_file) if TESTING else None)}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Session settings (libpq `options`, kept through DISCARD ALL and rolled-back
    # transactions). plan_cache_mode: the LRS's two prepared statements (lrs.services; Django
    # itself prepares nothing) run on their generic plans — left to choose, PostgreSQL
    # planned the first afresh at every execution, most of its time for a one-statement
    # request. jit off: on a partition not yet analysed the generic plan's estimate passed
    # jit_above_cost and compiling took 230 ms of a 0.3 ms statement; the site's queries are
    # short, where JIT only ever costs (bench/README.md, 2026-11-27).
    _session = "-c plan_cache_mode=force_generic_plan -c jit=off"
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = f"{_options['options']} {_session}" if "options" in _options else _session
DATABASES = {"default": _db}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Background work ------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# --- Cache (rate limits, lockouts): shared by all processes through the database ---------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "zhipei_cache",
    }
    if not TESTING
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Authentication ---------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Fast hashing in tests only; argon2 is still exercised by a dedicated test.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:home"

# Lockout and rate limits (accounts): failures per username / per IP inside the window.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 15 * 60)
LOGIN_MAX_FAILURES_PER_IP = env_int("LOGIN_MAX_FAILURES_PER_IP", 50)
OTP_TTL_SECONDS = env_int("OTP_TTL_SECONDS", 5 * 60)
OTP_SEND_LIMIT_PER_HOUR = env_int("OTP_SEND_LIMIT_PER_HOUR", 5)
SMS_SENDER = env("SMS_SENDER", "zhipei.accounts.sms.ConsoleSender")

# Client IP: X-Forwarded-For is believed only when the direct peer is one of these proxies.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# --- Personal data and keys (ARCHITECTURE invariant 2) -----------------------------------------
# PII_KEYS: "kid:base64key,kid2:base64key"; PII_ACTIVE_KEY names the key new data is sealed with.
DEV_PII_KEYS = "dev1:ZGV2LWluc2VjdXJlLXBpaS1rZXktMzItYnl0ZXMhISE="  # 32 bytes
DEV_BLIND_INDEX_KEY = "ZGV2LWluc2VjdXJlLWJsaW5kLWluZGV4LWtleS0hISE="
DEV_AUDIT_KEY = "ZGV2LWluc2VjdXJlLWF1ZGl0LWNoYWluLWtleS0hISE="
_dev_ok = DEBUG or TESTING
PII_KEYS = env("PII_KEYS", DEV_PII_KEYS if _dev_ok else "")
PII_ACTIVE_KEY = env("PII_ACTIVE_KEY", "")
PII_CIPHER = env("PII_CIPHER", "aes-gcm")  # or "sm4-gcm" for GM/T compliance
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY", DEV_BLIND_INDEX_KEY if _dev_ok else "")
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", DEV_AUDIT_KEY if _dev_ok else "")
AUDIT_ANCHOR_PATH = Path(env("AUDIT_ANCHOR_PATH", str(BASE_DIR / "var" / "audit-anchor.log")))
IDENTITY_PROVIDER = env("IDENTITY_PROVIDER", "zhipei.people.identity.ChecksumOnlyProvider")

# --- Platform API ---------------------------------------------------------------------------
API_SIGNATURE_MAX_SKEW_SECONDS = 300

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
# Pages hand the CSRF token over in the markup (hx-headers, forms); no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Load-balancer health probes speak plain HTTP to the app; everything else is redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if (DEBUG or TESTING) else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = False
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = ["security.W021"]  # HSTS preload is a deployment decision

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_AUTOREFRESH = DEBUG or TESTING  # serve from finders without collectstatic
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# --- Logging: one line per event, never an ID number (people.crypto masks before logging) ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task and per scheduler slot is too much for a console; raise to see it.
        "django_tasks": {"level": env("TASK_LOG_LEVEL", "WARNING")},
        "zhipei.scheduler": {"level": env("TASK_LOG_LEVEL", "WARNING")},
    },
}

# --- Reference data -------------------------------------------------------------------------
SHARED_DATA_DIR = Path(env("SHARED_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))
