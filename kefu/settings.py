"""kefu settings, read from the environment with safe embedded defaults.

Environment:
- ``KEFU_VAR_DIR``: where the embedded database, the generated secret and uploads live
  (default ``./var``).
- ``DATABASE_URL``: e.g. ``postgres://user@127.0.0.1:5432/kefu``; default SQLite (WAL) in
  ``KEFU_VAR_DIR``.
- ``SECRET_KEY``: required when ``KEFU_PRODUCTION=1``; otherwise generated once and stored.
- ``ALLOWED_HOSTS``: comma separated; default ``127.0.0.1,localhost``.
- ``KEFU_PRODUCTION``: ``1`` turns on production mode (no debug, secure cookies, real secret).
- ``KEFU_TIME_ZONE``: default ``Asia/Shanghai``.
- ``REDIS_URL``: e.g. ``redis://127.0.0.1:6379/0``; live page events go through Redis, so
  several server processes share them (default: in memory, one process);
  ``KEFU_REDIS_PREFIX`` (default ``kefu``) keeps installations sharing one Redis apart.
- ``KEFU_SESSION_HOURS``: how long a login lasts (default 8). ``KEFU_MAX_ATTACHMENT_BYTES``:
  per-file upload limit (default 20 MB). In production, behind TLS: ``KEFU_HSTS_SECONDS``,
  ``KEFU_HSTS_INCLUDE_SUBDOMAINS``, ``KEFU_HSTS_PRELOAD``, ``KEFU_SSL_REDIRECT``,
  ``KEFU_TLS_PROXY`` (trust ``X-Forwarded-Proto``). ``KEFU_HSTS_SECONDS`` defaults to a year
  in production.
- ``KEFU_TRUSTED_PROXIES``: reverse proxies whose ``X-Forwarded-For`` names the client
  (comma-separated addresses or networks; default none, kefu/core/net.py).
- ``KEFU_FIELD_KEYS``: field encryption keys, comma-separated ``id:base64key`` (the first
  encrypts, all decrypt; ``kefu encryption generate-key`` prints one). ``KEFU_INDEX_KEY``:
  the blind-index key (base64 of 32 bytes). Both required when ``KEFU_PRODUCTION=1``;
  otherwise generated once and stored in ``KEFU_VAR_DIR`` (``field_keys``, ``index_key``).
- ``KEFU_LOG_FORMAT``: ``text`` (default) or ``json`` (one object per line; production);
  ``KEFU_LOG_LEVEL`` (default ``INFO``).
- ``KEFU_METRICS_TOKEN``: bearer token for ``/metrics``; ``KEFU_METRICS_ALLOW``: addresses or
  networks that may read it without one (default ``127.0.0.1,::1``).
- ``KEFU_BACKUP_DIR``, ``KEFU_BACKUP_KEEP``, ``KEFU_BACKUP_EVERY``: the scheduled backup
  (default on the embedded database: daily into ``KEFU_VAR_DIR/backups``, 7 kept).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from kefu.core.net import trusted_proxies
from kefu.core.varfiles import PRIVATE_UMASK, var_dir_make_private
from kefu.privacy.crypto import KeyConfigError, KeyRing, generate_index_key, generate_key_line

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(os.environ.get("KEFU_VAR_DIR", PROJECT_DIR / "var")).resolve()
# Whatever kefu creates is its own: 0600 files, 0700 directories (kefu/core/varfiles.py).
os.umask(PRIVATE_UMASK)
var_dir_make_private(VAR_DIR)


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {"1", "true", "yes"}


PRODUCTION = _env_bool("KEFU_PRODUCTION")
DEBUG = _env_bool("KEFU_DEBUG", default=False)

_INSECURE_SECRETS = {"", "changeme", "secret", "django-insecure"}


def _secret_key() -> str:
    from_env = os.environ.get("SECRET_KEY", "")
    if PRODUCTION:
        if from_env.strip() in _INSECURE_SECRETS or len(from_env) < 32:
            raise ImproperlyConfigured(
                "KEFU_PRODUCTION=1 需要一个真实的 SECRET_KEY (at least 32 characters) "
                "in the environment."
            )
        return from_env
    if from_env:
        return from_env
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _field_key_setting(name: str, filename: str, generate: Callable[[], str]) -> str:
    """Like the secret key: from the environment, else generated once under VAR_DIR."""
    from_env = os.environ.get(name, "").strip()
    if from_env or PRODUCTION:
        return from_env
    path = VAR_DIR / filename
    if not path.exists():
        # Written aside and linked into place: two processes starting at once (test
        # workers, serve + worker) must end up with the same key, never a half-written one.
        draft = path.with_name(f".{filename}.{os.getpid()}")
        draft.write_text(generate())
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


KEFU_FIELD_KEYS = _field_key_setting("KEFU_FIELD_KEYS", "field_keys", generate_key_line)
KEFU_INDEX_KEY = _field_key_setting("KEFU_INDEX_KEY", "index_key", generate_index_key)
try:
    KeyRing.parse(KEFU_FIELD_KEYS, KEFU_INDEX_KEY)
except KeyConfigError as exc:
    raise ImproperlyConfigured(
        f"字段加密密钥无效 / field encryption keys (KEFU_FIELD_KEYS, KEFU_INDEX_KEY): {exc}"
    ) from exc

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
if not PRODUCTION:
    ALLOWED_HOSTS.append("testserver")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "kefu.core.vendor_apps.TaskQueueConfig",  # django_tasks_db under a Chinese name
    "ninja",
    "kefu.core.vendor_apps.LoginProtectionConfig",  # axes under a Chinese name
    "kefu.core",
    "kefu.accounts",
    "kefu.contracts",
    "kefu.tickets",
    "kefu.calendars",
    "kefu.sla",
    "kefu.phone",
    "kefu.chat",
    "kefu.surveys",
    "kefu.reports",
    "kefu.privacy",
    "kefu.mail",
    "kefu.sms",
    "kefu.portal",
    "kefu.demo",
    "kefu.kb",
    "django_prometheus",
]

MIDDLEWARE = [
    # First: one log line per request with the status and time the client gets (kefu/core/log.py).
    "kefu.core.log.RequestLogMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A client's own host name serves its portal (kefu/portal/middleware.py).
    "kefu.portal.middleware.PortalHostMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kefu.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kefu.core.middleware.ContentSecurityPolicyMiddleware",
    "kefu.core.middleware.BadRequestMiddleware",
    "kefu.core.middleware.NoStoreMiddleware",
    # Latency by view for /metrics; inside axes, which django-axes wants last.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kefu.urls"
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
                "kefu.core.context_processors.kefu",
                "kefu.calendars.context_processors.holiday_year",
                "kefu.portal.context_processors.portal_frame",
            ],
        },
    },
]
ASGI_APPLICATION = "kefu.asgi.application"
WSGI_APPLICATION = "kefu.wsgi.application"

EMBEDDED_DATABASE = "DATABASE_URL" not in os.environ
DATABASES: dict[str, Any]
if EMBEDDED_DATABASE:
    DATABASES = {
        "default": {
            # Django's SQLite backend with a queue in front of the write lock.
            "ENGINE": "kefu.core.sqlite",
            "NAME": VAR_DIR / "kefu.sqlite3",
            "OPTIONS": {
                # WAL lets readers work while one writer commits; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue instead of failing with "locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
            # Web requests run on reused threads (kefu/asgi.py): each keeps its connection
            # instead of opening one (and checkpointing the WAL on closing it) per request.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        options = DATABASES["default"].setdefault("OPTIONS", {})
        # A pool per process: web requests, the task worker and commands borrow from it.
        options["pool"] = {
            "min_size": int(os.environ.get("KEFU_DB_POOL_MIN", "1")),
            "max_size": int(os.environ.get("KEFU_DB_POOL_MAX", "10")),
        }
        # Parameters travel apart from the SQL text, so the same statement (a ticket's
        # INSERT, the token look-up) is the same text every time, and psycopg prepares it
        # on its connection after its fifth run: PostgreSQL then skips parsing and planning
        # it (about a third less database CPU per API ticket create, bench/README.md).
        # Safe with kefu's own pool; behind a transaction-mode pooler such as PgBouncer
        # set KEFU_DB_PREPARE=0.
        options["server_side_binding"] = True
        if os.environ.get("KEFU_DB_PREPARE", "1") != "0":
            options["prepare_threshold"] = 5

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    # Login throttling: after AXES_FAILURE_LIMIT failed attempts for a username from an
    # address, logins are refused for AXES_COOLOFF_TIME, even with the right password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("KEFU_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KEFU_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "locked_out.html"
AXES_VERBOSE = False
# The address logins are throttled by is the one the audit log records (kefu/core/net.py):
# the peer, or X-Forwarded-For only from KEFU_TRUSTED_PROXIES, never the header as sent.
AXES_CLIENT_IP_CALLABLE = "kefu.core.net.client_ip"
try:
    KEFU_TRUSTED_PROXIES = trusted_proxies(os.environ.get("KEFU_TRUSTED_PROXIES", ""))
except ValueError as exc:
    raise ImproperlyConfigured(
        f"KEFU_TRUSTED_PROXIES 应为逗号分隔的地址或网段 / addresses or networks: {exc}"
    ) from exc

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("KEFU_TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "/static/"
# `kefu collectstatic` writes here. Static files are public (CSS, scripts, the chat widget):
# a proxy serving them (deploy/nginx/kefu.conf) reads them as its own user, so behind one
# set KEFU_STATIC_ROOT outside the private var directory; they are written world-readable.
STATIC_ROOT = Path(os.environ.get("KEFU_STATIC_ROOT", VAR_DIR / "static")).resolve()
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages come from npm (package.json), never pasted into the repo.
    ("vendor/htmx", PROJECT_DIR / "node_modules" / "htmx.org" / "dist"),
]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = not PRODUCTION

# Where a mailbox whose SMTP server is "file" writes its mail (kefu.mail.outbound).
KEFU_MAIL_OUTBOX = Path(os.environ.get("KEFU_MAIL_OUTBOX", VAR_DIR / "mail" / "outbox"))

# SMS (kefu/sms, README "SMS"): KEFU_SMS_BACKEND=console (the default: each SMS is a line of
# KEFU_SMS_OUTBOX) or aliyun (Alibaba Cloud Dysms, with KEFU_SMS_ALIYUN_KEY_ID and
# KEFU_SMS_ALIYUN_KEY_SECRET). KEFU_SMS_PER_NUMBER: at most count/seconds SMS to one number.
KEFU_SMS_BACKEND = os.environ.get("KEFU_SMS_BACKEND", "console").strip() or "console"
KEFU_SMS_OUTBOX = Path(os.environ.get("KEFU_SMS_OUTBOX", VAR_DIR / "sms" / "outbox.txt"))
KEFU_SMS_ALIYUN_ENDPOINT = os.environ.get(
    "KEFU_SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/"
)
KEFU_SMS_ALIYUN_KEY_ID = os.environ.get("KEFU_SMS_ALIYUN_KEY_ID", "")
KEFU_SMS_ALIYUN_KEY_SECRET = os.environ.get("KEFU_SMS_ALIYUN_KEY_SECRET", "")
KEFU_SMS_TIMEOUT = float(os.environ.get("KEFU_SMS_TIMEOUT", "10"))
KEFU_SMS_PER_NUMBER = os.environ.get("KEFU_SMS_PER_NUMBER", "1/60,5/3600,10/86400")

# The customer portal (kefu/portal, README "Customer portal"): sign-in codes and links.
KEFU_PORTAL_CODE_MINUTES = int(os.environ.get("KEFU_PORTAL_CODE_MINUTES", "10"))
KEFU_PORTAL_LINK_MINUTES = int(os.environ.get("KEFU_PORTAL_LINK_MINUTES", "30"))
KEFU_PORTAL_MAX_GUESSES = int(os.environ.get("KEFU_PORTAL_MAX_GUESSES", "5"))
KEFU_PORTAL_LOCKOUT_MINUTES = int(os.environ.get("KEFU_PORTAL_LOCKOUT_MINUTES", "15"))
KEFU_PORTAL_PER_ADDRESS_HOUR = int(os.environ.get("KEFU_PORTAL_PER_ADDRESS_HOUR", "5"))
KEFU_PORTAL_PER_IP_HOUR = int(os.environ.get("KEFU_PORTAL_PER_IP_HOUR", "20"))

# Scheduled backups (kefu/core/backup/, README "Backups"): one every KEFU_BACKUP_EVERY
# (hourly, daily, weekly or like 6h) into KEFU_BACKUP_DIR, the newest KEFU_BACKUP_KEEP kept.
# On by default on the embedded database; KEFU_BACKUP_DIR set empty turns them off, and on
# PostgreSQL they run only where it is set.
KEFU_BACKUP_DIR = os.environ.get(
    "KEFU_BACKUP_DIR", str(VAR_DIR / "backups") if EMBEDDED_DATABASE else ""
).strip()
KEFU_BACKUP_KEEP = int(os.environ.get("KEFU_BACKUP_KEEP", "7"))
KEFU_BACKUP_EVERY = os.environ.get("KEFU_BACKUP_EVERY", "daily")

# Live pages (kefu/core/realtime.py): events between the server processes. One process (the
# embedded default) keeps them in memory; with REDIS_URL every process shares them.
REDIS_URL = os.environ.get("REDIS_URL", "")
CHANNEL_LAYERS: dict[str, Any] = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Several kefu installations may share one Redis, each with its own prefix.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": os.environ.get("KEFU_REDIS_PREFIX", "kefu"),
            },
        }
        if REDIS_URL
        else {"BACKEND": "kefu.core.channel_layer.InMemoryChannelLayer"}
    )
}

# /readyz reports unready when a task has waited longer than this many seconds to run.
KEFU_READY_MAX_TASK_AGE = int(os.environ.get("KEFU_READY_MAX_TASK_AGE", "300"))

TASKS = {
    "default": {
        # The task row is written in the caller's transaction: it commits or rolls back
        # with the work that enqueued it.
        "BACKEND": "django_tasks_db.DatabaseBackend",
    }
}

KEFU_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # The API docs page (Swagger UI, served locally) sets styles inline.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A login lasts a working day (KEFU_SESSION_HOURS), then the user signs in again.
SESSION_COOKIE_AGE = int(float(os.environ.get("KEFU_SESSION_HOURS", "8")) * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
# Pages hand the CSRF token to forms and HTMX in the template (base.html hx-headers), so no
# script ever needs to read the cookie.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    # Production runs behind TLS: cookies only over HTTPS, and browsers told to use HTTPS
    # only for a year (KEFU_HSTS_SECONDS; 0 turns HSTS off). Subdomains and preloading only
    # when asked (KEFU_HSTS_INCLUDE_SUBDOMAINS=1, KEFU_HSTS_PRELOAD=1): they bind hosts kefu
    # does not serve. The HTTP->HTTPS redirect is the operator's choice (the TLS proxy may
    # already do it): KEFU_SSL_REDIRECT=1. KEFU_TLS_PROXY=1 believes X-Forwarded-Proto from
    # any peer; under kefu serve, KEFU_TRUSTED_PROXIES takes the scheme from the proxy alone.
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("KEFU_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("KEFU_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_HSTS_PRELOAD = _env_bool("KEFU_HSTS_PRELOAD")
    SECURE_SSL_REDIRECT = _env_bool("KEFU_SSL_REDIRECT")
    if _env_bool("KEFU_TLS_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Request bodies: form/JSON fields up to 2.5 MB in memory; uploaded files above 2.5 MB
# spill to a temporary file; at most 20 files per request. Each attachment is limited by
# KEFU_MAX_ATTACHMENT_BYTES and its type checked from its content (kefu/tickets/uploads.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_NUMBER_FILES = 20
KEFU_MAX_ATTACHMENTS = 10
KEFU_MAX_ATTACHMENT_BYTES = int(os.environ.get("KEFU_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024))
KEFU_PAGE_SIZE = 50

# Logs (README "Logs"): KEFU_LOG_FORMAT=text (default) or json, one object per line. Every
# line goes through the privacy app's filter, which masks personal data as pages do, and
# carries the request's or task's id (kefu/core/log.py).
KEFU_LOG_FORMAT = os.environ.get("KEFU_LOG_FORMAT", "text").strip().lower() or "text"
if KEFU_LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(
        f"KEFU_LOG_FORMAT 只能是 text 或 json / must be text or json, not {KEFU_LOG_FORMAT!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "kefu.core.log.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            "json_ensure_ascii": False,
        },
    },
    "filters": {
        "sender_mistake": {"()": "kefu.core.log.SenderMistakeFilter"},
        "context": {"()": "kefu.core.log.LogContextFilter"},
        "personal_data": {"()": "kefu.privacy.logfilter.PersonalDataFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": KEFU_LOG_FORMAT,
            "filters": ["context", "personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "INFO")},
    "loggers": {
        # Bodies over the limit, too many fields or files: 400, a warning line, no trace.
        **{
            f"django.security.{name}": {"filters": ["sender_mistake"]}
            for name in ("RequestDataTooBig", "TooManyFieldsSent", "TooManyFilesSent")
        },
        # One line per request and per task run, written by kefu itself (kefu/core/log.py).
        "kefu.request": {"level": "INFO"},
        "kefu.task": {"level": "INFO"},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# /metrics (README "Metrics"): answered to a bearer token or from the allowed addresses only.
KEFU_METRICS_TOKEN = os.environ.get("KEFU_METRICS_TOKEN", "").strip()
try:
    KEFU_METRICS_ALLOW = trusted_proxies(os.environ.get("KEFU_METRICS_ALLOW", "127.0.0.1,::1"))
except ValueError as exc:
    raise ImproperlyConfigured(
        f"KEFU_METRICS_ALLOW 应为逗号分隔的地址或网段 / addresses or networks: {exc}"
    ) from exc

KEFU_BASE_URL = os.environ.get("KEFU_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kefu@localhost")
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
else:
    # Embedded default: notification mails are written as files under var/mail.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
