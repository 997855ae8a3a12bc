"""Settings for the django-helpdesk baseline of bench/ticket_intake.py.

Configured from the environment by the benchmark:
- ``HD_DB``: ``sqlite`` or ``postgres``.
- ``HD_DB_NAME``: the SQLite file, or the PostgreSQL database name.
- ``HD_PG_HOST`` / ``HD_PG_PORT`` / ``HD_PG_USER``: the PostgreSQL server (default
  127.0.0.1:5432, user postgres).
- ``HD_CONN_MAX_AGE``: PostgreSQL ``CONN_MAX_AGE`` (default 0, Django's default).

SQLite is tuned exactly like kefu's, so the comparison is between the applications and not
between database settings: WAL mode with ``synchronous=NORMAL``, writers taking the lock at
BEGIN (``IMMEDIATE``) and waiting up to 30 s. On PostgreSQL the baseline keeps Django's default
of one connection per request: under ASGI every request runs in a fresh thread, so a
persistent connection (kefu's ``conn_max_age=60``) is never reused and only piles up idle
connections; measured, it made the baseline slower, not faster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent
# Run by hand (without the benchmark's environment), data goes where kefu keeps its own.
SCRATCH_DIR = BASE_DIR.parents[1] / "var" / "bench"

# A throw-away project on the loopback interface: the key signs nothing that outlives a run.
SECRET_KEY = os.environ.get("HD_SECRET_KEY", "bench-only-helpdesk-baseline-not-a-real-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk_project.urls"
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
            ],
        },
    },
]
ASGI_APPLICATION = "helpdesk_project.asgi.application"


def _database() -> dict[str, Any]:
    engine = os.environ.get("HD_DB", "sqlite")
    name = os.environ.get("HD_DB_NAME", str(SCRATCH_DIR / "helpdesk-manual.sqlite3"))
    if engine == "sqlite":
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    if engine == "postgres":
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": os.environ.get("HD_PG_USER", "postgres"),
            "HOST": os.environ.get("HD_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("HD_PG_PORT", "5432"),
            "CONN_MAX_AGE": int(os.environ.get("HD_CONN_MAX_AGE", "0")),
        }
    raise ValueError(f"HD_DB must be sqlite or postgres, not {engine!r}")


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

LANGUAGE_CODE = "zh-hans"
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "/static/"
MEDIA_ROOT = os.environ.get("HD_MEDIA_ROOT", str(SCRATCH_DIR / "helpdesk-manual-media"))
MEDIA_URL = "/media/"

# helpdesk e-mails the submitter on every new ticket. The messages are rendered as in
# production but handed to a backend that drops them: no mail server is involved, and the
# baseline is not charged for writing files.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@localhost"

# django-helpdesk: its REST API on, the optional pinax-teams integration off.
HELPDESK_API_ENABLED = True
HELPDESK_TEAMS_MODE_ENABLED = False

# Token authentication, like kefu's API tokens: a password hash per request (basic auth)
# would make the baseline pay for PBKDF2 on every call.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
