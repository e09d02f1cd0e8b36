"""Settings, read from the environment (12-factor). See README.md, "Environment"."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_rate(name: str, default: str) -> str:
    raw = os.environ.get(name) or default
    if not re.match(r"^[1-9][0-9]*/([1-9][0-9]*)?[smhd]$", raw):
        raise ImproperlyConfigured(f"{name} must be a rate like 10/m or 5/5s, not {raw!r}")
    return raw


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
# bin/serve keeps a generated key here, so manage.py works in any shell locally.
SECRET_KEY_FILE = DATA_DIR / "secret_key"
if not SECRET_KEY and SECRET_KEY_FILE.exists():
    SECRET_KEY = SECRET_KEY_FILE.read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY is required (or a key in {SECRET_KEY_FILE}) unless DJANGO_DEBUG=1"
        )
    SECRET_KEY = "insecure-debug-only-key"  # noqa: S105 (debug only, never served publicly)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "telemetry.apps.AdminConfig",  # django.contrib.admin on our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "accounts",
    "devices",
    "events",
]

MIDDLEWARE = [
    # First: load balancers' probes name the target's address as Host, not an allowed host.
    "telemetry.health.HealthzFirstMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so that its answer passes every other middleware (security headers).
    "telemetry.handlers.DependencyDownPageMiddleware",
]

ROOT_URLCONF = "telemetry.urls"
WSGI_APPLICATION = "telemetry.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "devices:list"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on
        # the busy timeout instead of failing mid-transaction; FULL keeps
        # "acknowledged means stored" across a power loss in WAL mode.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }
    _db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: on the partitioned events table every statement's estimated cost is
    # high enough to trigger it, and compiling a plan that spans every daily child
    # costs seconds (the hourly rollup: 7.5 s with JIT, 0.3 s without, 10M rows).
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
    # Django turns psycopg's prepared statements off (for transaction-mode poolers).
    # Only the ingest statement asks for one (events/services/ingest.py); Django's own
    # cursors bind client-side and never prepare. Behind PgBouncer it needs 1.21+ with
    # max_prepared_statements set.
    _options.setdefault("prepare_threshold", 5)
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    # In-process only: correct while the web server is a single process.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Security -----------------------------------------------------------------
HTTPS = env_bool("DJANGO_HTTPS", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Whether every subdomain is HTTPS-only, and preloading, are the operator's call
# (they bind the whole domain, hard to undo): off unless set above, and then the
# deploy check's reminders are silenced on purpose.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("DJANGO_BEHIND_PROXY", False) else None
)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Browsers on other origins (e.g. the old dashboard, a static site) may call the
# API from these origins only; none by default. Devices send their key in a header.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (*default_cors_headers, "x-api-key")
CORS_EXPOSE_HEADERS = ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18N / time ----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Our own CSS/JS, and uPlot straight from its npm package (`npm ci`): no copy of
# third-party code in the repository, no CDN, so pages work offline.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/uplot", BASE_DIR / "node_modules" / "uplot" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "devices.auth.DeviceKeyAuthentication",
        "accounts.auth.TenantJWTAuthentication",
        # The pages' own calls; DRF enforces CSRF on its unsafe methods.
        "accounts.auth.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "telemetry.negotiation.JsonWhateverAccepted",
    "EXCEPTION_HANDLER": "telemetry.handlers.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # `format` is history's own parameter (json or csv), not DRF's renderer switch.
    "URL_FORMAT_OVERRIDE": None,
}

# The schema at /api/schema/, browsable at /api/docs/ (assets from the sidecar
# package, so the docs work offline); the endpoints' schemas: telemetry/openapi.py.
SPECTACULAR_SETTINGS = {
    "TITLE": "Pool telemetry API",
    "DESCRIPTION": "Devices post events with their key (`x-api-key`); users read history with "
    'a JWT (`Authorization: Bearer`). Every error is `{"ok": false, "error": "..."}`.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "telemetry.openapi.components_add",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "UPDATE_LAST_LOGIN": False,
    # Each refresh hands out a new refresh token and blacklists the old one.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a hash of the password hash: a password change ends them.
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_OBTAIN_SERIALIZER": "accounts.serializers.TenantTokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.serializers.CheckedTokenRefreshSerializer",
    "USER_AUTHENTICATION_RULE": "accounts.auth.user_may_authenticate",
}

# --- Rate limits (django-ratelimit counters in the default cache) ---------------
# Behind a reverse proxy, the META key of the header carrying the client's
# address (e.g. HTTP_X_FORWARDED_FOR); unset, REMOTE_ADDR. Only set it when the
# proxy overwrites or appends that header, or clients can forge it.
RATELIMIT_IP_META_KEY = os.environ.get("RATELIMIT_IP_META_KEY") or None
# Failed credentials allowed per client address, in django-ratelimit syntax.
KEY_FAILURE_RATE = env_rate("KEY_FAILURE_RATE", "60/m")
# Device key lookups cached this long in Redis (0: off). Revoking a key, or
# changing its device or tenant, deletes the entry, so the next request already
# sees it. Without Redis each process would keep its own copy that another
# process (e.g. `manage.py revoke_key`) cannot delete: off, and refused.
KEY_CACHE_SECONDS = env_int("KEY_CACHE_SECONDS", 60 if REDIS_URL else 0)
if KEY_CACHE_SECONDS and not REDIS_URL:
    raise ImproperlyConfigured("KEY_CACHE_SECONDS needs REDIS_URL (a cache every process shares)")
LOGIN_FAILURE_RATE = env_rate("LOGIN_FAILURE_RATE", "10/m")

# Body cap for the JSON endpoints; larger bodies answer 413 before parsing.
EVENT_MAX_BODY_BYTES = 64 * 1024
BATCH_MAX_BODY_BYTES = 1024 * 1024
AUTH_MAX_BODY_BYTES = 64 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Background jobs -------------------------------------------------------------
# The purge waits this long after raising the ingest floor, so requests that
# read the old floor have committed before it rolls up and deletes.
PURGE_GRACE_SECONDS = env_int("PURGE_GRACE_SECONDS", 30)
ROLLUP_INTERVAL_SECONDS = env_int("ROLLUP_INTERVAL_SECONDS", 300)

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    # No service needed: worker and beat pass messages through these folders.
    CELERY_BROKER_URL = "filesystem://"
    _queue, _control = DATA_DIR / "celery" / "queue", DATA_DIR / "celery" / "control"
    for _folder in (_queue, _control):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "control_folder": str(_control),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = 15 * 60
CELERY_TASK_TIME_LIMIT = 20 * 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # Every five minutes (ROLLUP_INTERVAL_SECONDS): summarise what arrived since
    # the last run. A message older than one interval is dropped: the next run
    # covers it anyway.
    "rollup": {
        "task": "events.tasks.rollup",
        "schedule": ROLLUP_INTERVAL_SECONDS,
        "options": {"expires": ROLLUP_INTERVAL_SECONDS},
    },
    # Once a day at 03:17 UTC: delete raw events past each tenant's retention
    # (on PostgreSQL dropping the daily partitions past every tenant's).
    "purge": {
        "task": "events.tasks.purge",
        "schedule": crontab(hour=3, minute=17),
        "options": {"expires": 12 * 3600},
    },
    # Every hour at minute 41: keep two weeks of daily event partitions made ahead
    # and move stragglers out of the default one (PostgreSQL; nothing on SQLite).
    # A missed run is caught up by the next, so an old message is dropped.
    "maintain-partitions": {
        "task": "events.tasks.maintain_partitions",
        "schedule": crontab(minute=41),
        "options": {"expires": 3600},
    },
}
