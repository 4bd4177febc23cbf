"""The one settings module.

Everything that differs between a laptop demo, CI and a production hall is read from
the environment through the small typed helpers below. Development defaults are safe
to run as they are (SQLite, in-memory channel layer); production turns DEBUG off,
which makes the secrets mandatory. A bad value stops the start with a message that
names the variable.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """A string from `NAME`, or from the file named by `NAME_FILE` (Docker secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path!r} ({exc})") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(name: str, url: str) -> dict[str, Any]:
    """Turn `postgres://user:pass@host:port/db` or `sqlite:///path` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as dj-database-url reads them
        path = unquote(parts.path)[1:]
        if not path:
            raise ImproperlyConfigured(f"{name}: sqlite URL needs a file path, got {url!r}")
        return _sqlite(path)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        db_name = unquote(parts.path.lstrip("/"))
        if not db_name:
            raise ImproperlyConfigured(f"{name}: PostgreSQL URL needs a database name: {url!r}")
        options = dict(parse_qsl(parts.query))
        try:
            port = str(parts.port or "")
        except ValueError:
            raise ImproperlyConfigured(f"{name}: bad port in {url!r}") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": unquote(parts.hostname or ""),
            "PORT": port,
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
            "OPTIONS": options,
            "TEST": {"NAME": f"test_{db_name}"},
        }
    raise ImproperlyConfigured(
        f"{name}: unsupported scheme {parts.scheme!r} (use postgres:// or sqlite:///)"
    )


def _sqlite(path: str) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead
        # of failing with "database is locked" when a read lock upgrades.
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET = "dev-only-secret-key-not-for-production"  # noqa: S105
_DEV_VISITOR_KEY = "dev-only-visitor-id-key"
SECRET_KEY = env_str("SECRET_KEY") or (_DEV_SECRET if DEBUG else "")
VISITOR_ID_KEY = env_str("VISITOR_ID_KEY") or (_DEV_VISITOR_KEY if DEBUG else "")
if not DEBUG:
    for _name, _value, _dev in (
        ("SECRET_KEY", SECRET_KEY, _DEV_SECRET),
        ("VISITOR_ID_KEY", VISITOR_ID_KEY, _DEV_VISITOR_KEY),
    ):
        if not _value or _value == _dev:
            raise ImproperlyConfigured(f"{_name}: must be set to a secret value when DEBUG is off")
if len(VISITOR_ID_KEY) < 16 and not DEBUG:
    raise ImproperlyConfigured("VISITOR_ID_KEY: use at least 16 characters")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "channels",
    "ninja",  # serves the API docs' assets locally instead of from a CDN
    "queueing",
    "vision",
    "hall_ops",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "hall_ops.security_headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # last, as django-axes asks: it turns a locked-out login into the lockout page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hall_ops.urls"
ASGI_APPLICATION = "hall_ops.asgi.application"
WSGI_APPLICATION = None

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_database_url = env_str("DATABASE_URL")
DATABASES = {
    "default": database_from_url("DATABASE_URL", _database_url)
    if _database_url
    else _sqlite(str(BASE_DIR / "var" / "hall_ops.sqlite3"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL: expected redis://host:port/db, got {REDIS_URL!r}")

CHANNEL_LAYERS: dict[str, Any] = (
    {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNELS_PREFIX", "hallops")},
        }
    }
    if REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)

# The cache holds short-lived things every web process must see (a camera's
# calibration snapshot): Redis when there is one, else this process's memory.
CACHES: dict[str, Any] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CHANNELS_PREFIX", "hallops"),
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: the Redis broker in production; without REDIS_URL the embedded default runs
# its periodic jobs in-process (hall_ops.scheduler) and never enqueues.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
EMBEDDED_SCHEDULER = env_bool("EMBEDDED_SCHEDULER", not REDIS_URL)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
# Mail. Only password reset sends any, and it is served only when EMAIL_HOST is set:
# without a mail server a reset form would accept addresses and send nothing (and tell
# a stranger which accounts exist by its timing); staff then ask their hall manager.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hall-ops@localhost")
PASSWORD_RESET_ENABLED = bool(EMAIL_HOST)

LOGIN_URL = "login"

# Login lockout (django-axes). After AXES_FAILURE_LIMIT wrong passwords for one
# username from one client address, that pair is refused (even with the right
# password) for AXES_COOLOFF_MIN minutes. Locking the pair, not the username alone,
# means a stranger cannot lock a clerk out of their own window by guessing from
# elsewhere; not the address alone, so one hall's shared NAT address does not lock
# every colleague. The API authenticates by bearer token and is not affected.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MIN", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "hall_ops.login_guard.lockout_response"
# The client address: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT reverse proxies (that each
# append to X-Forwarded-For) stand in front; then the address the outermost trusted proxy
# saw. Entries a client writes itself lie further left and are never read.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "hall_ops.login_guard.client_ip"

LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE: expected one of zh-hans, en; got {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE: unknown time zone {TIME_ZONE!r}") from None

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# HTTPS. With DEBUG off these default to what `manage.py check --deploy` asks for; a
# trial over plain http sets SECURE_SSL_REDIRECT=0 SECURE_HSTS_SECONDS=0 (docker/.env.example).
# Behind a TLS-terminating proxy, SECURE_PROXY_SSL_HEADER names the header it sets to
# "https" (e.g. X-Forwarded-Proto); the proxy must overwrite any value a client sent.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
    if _proxy_ssl_header
    else None
)

# Content-Security-Policy (django-csp): scripts from this site only, no inline script
# or handler, no eval. Inline styles stay allowed: plotly.js (board charts) injects a
# <style> element, the zone editor lays out with style attributes and the report has
# a print sheet; a style cannot run script. Were a nonce added to style-src, browsers
# would ignore 'unsafe-inline' and plotly's styles would break.
# The live sockets are same-origin ('self' covers ws:// and wss:// of this host).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page of this site uses, switched off for it and any frame.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "camera": [],
    "microphone": [],
    "geolocation": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "midi": [],
    "magnetometer": [],
    "gyroscope": [],
    "accelerometer": [],
    "display-capture": [],
    "browsing-topics": [],
}

# Queueing defaults (each hall may override its own).
HALL_RECALL_LIMIT = env_int("HALL_RECALL_LIMIT", 3, minimum=0)
HALL_PRIORITY_HEAD_START_MIN = env_int("HALL_PRIORITY_HEAD_START_MIN", 20, minimum=0)
HALL_ELDERLY_AGE = env_int("HALL_ELDERLY_AGE", 60, minimum=1)
# Halls within this distance (km) that offer a service count as its neighbours: a
# visitor facing a long wait is told when one of them is much quicker.
HALL_NEARBY_KM = env_int("HALL_NEARBY_KM", 15, minimum=0)

# How often a live socket (alerts, queue) re-checks that its user is still logged in
# and may still see the hall.
ALERT_SESSION_RECHECK_S = env_int("ALERT_SESSION_RECHECK_S", 30, minimum=1)
# How often the time rules (long wait, idle window, escalation) run, by beat or in-process.
ALERT_SCAN_INTERVAL_S = env_int("ALERT_SCAN_INTERVAL_S", 15, minimum=1)

# Debug pages and error reports blank ID numbers, with DEBUG on too (hall_ops/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "hall_ops.error_reports.IdNumberSafeFilter"
DEFAULT_EXCEPTION_REPORTER = "hall_ops.error_reports.IdNumberSafeReporter"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "daphne": {"level": "WARNING"}},
}
