"""Frontline settings: every value comes from the environment, with embedded defaults.

Embedded mode (no env vars): SQLite in WAL mode, in-memory channel layer, Celery on a local
SQLite broker. `DATABASE_URL` switches to PostgreSQL, `REDIS_URL` to Redis for Celery and
Channels. See README.md "Configuration" for the full list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("FRONTLINE_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "")
if not SECRET_KEY:
    # Embedded mode: a random key kept in the data directory so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()

# Fernet keys for secrets at rest (newest first); derived from SECRET_KEY when empty.
FRONTLINE_ENCRYPTION_KEYS = env_list("FRONTLINE_ENCRYPTION_KEYS")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "frontline.core",
    "frontline.accounts",
    "frontline.customers",
    "frontline.tickets",
    "frontline.channels",
    "frontline.realtime",
    "frontline.api",
    "frontline.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin CSS, ...) served by the app itself, so one process is enough.
    "frontline.core.middleware.StaticFilesMiddleware",  # WhiteNoise, async-capable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

# Provider webhooks run in a thread pool (see frontline.channels.webhooks.pooled).
WEBHOOK_VIEWS_IN_POOL = env_bool("WEBHOOK_VIEWS_IN_POOL", True)

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    DATABASES: dict[str, Any] = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DB_POOL", True
    ):
        # A per-process connection pool: under ASGI every request runs on a fresh thread, so
        # persistent per-thread connections would pile up; the pool hands them back instead.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2),
            "max_size": env_int("DB_POOL_MAX", 20),
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(DATA_DIR / "frontline.sqlite3")),
            "OPTIONS": {
                # WAL lets readers run while one writer commits; IMMEDIATE avoids the
                # "database is locked" upgrade deadlock between concurrent writers.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
            "TEST": {"NAME": env("SQLITE_TEST_PATH") or None},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/tickets/"
LOGOUT_REDIRECT_URL = "/login/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- realtime and background jobs -----------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # No read timeout: a websocket waits on Redis for as long as it is idle (with
                # redis-py's 5 s default every idle socket was dropped after 5-10 s), and a
                # pool big enough for every socket of a busy process.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": None,
                        "max_connections": env_int("REDIS_MAX_CONNECTIONS", 1000),
                    }
                ],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    # Shared by every process: rate limits and short-lived realtime state.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
    # Every process pushes to the shared layer itself, so nothing needs to tail the outbox.
    REALTIME_TAIL_EVENTS = env_bool("REALTIME_TAIL_EVENTS", False)
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }
    # The in-memory layer only reaches this process's websockets: the web process tails the
    # event outbox to push what the worker or the SMTP receiver committed.
    REALTIME_TAIL_EVENTS = env_bool("REALTIME_TAIL_EVENTS", True)
    CELERY_BROKER_URL = env(
        "CELERY_BROKER_URL", f"sqla+sqlite:///{DATA_DIR / 'celery-broker.sqlite3'}"
    )
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, Any] = {
    # Payloads accepted but left unprocessed by a crashed worker are retried.
    "raw-payloads-sweep": {"task": "frontline.channels.tasks.raw_payloads_sweep", "schedule": 60.0},
    "delivery-receipts-sweep": {
        "task": "frontline.channels.tasks.delivery_receipts_sweep",
        "schedule": 60.0,
    },
    # IMAP mailboxes are polled when due (backoff after errors is kept per mailbox).
    "imap-poll-due": {"task": "frontline.channels.tasks.imap_poll_due", "schedule": 60.0},
    # Replies whose send task was lost (a process died after the commit) are sent after all.
    "outbound-stuck-sweep": {
        "task": "frontline.channels.tasks.outbound_stuck_sweep",
        "schedule": 300.0,
    },
}

# --- Frontline domain settings --------------------------------------------------------------
# Agents see their teams' tickets (plus unassigned-team ones) unless this is on.
AGENTS_SEE_ALL_TICKETS = env_bool("AGENTS_SEE_ALL_TICKETS", False)
# Region used to read phone numbers written without a country code.
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", "US")
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
ATTACHMENTS_MAX_PER_MESSAGE = env_int("ATTACHMENTS_MAX_PER_MESSAGE", 20)
ATTACHMENT_BLOCKED_EXTENSIONS = env_list(
    "ATTACHMENT_BLOCKED_EXTENSIONS",
    "exe,com,bat,cmd,scr,pif,msi,msp,vbs,vbe,js,jse,wsf,wsh,ps1,psm1,jar,hta,cpl,reg,lnk,dll,iso",
)
API_PAGE_SIZE_MAX = env_int("API_PAGE_SIZE_MAX", 100)

# --- email -----------------------------------------------------------------------------------
# Outbound mail goes to EMAIL_HOST over SMTP; without one (embedded mode) replies are written
# to <data dir>/outbox (one .log file per batch of messages) so they can be inspected.
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "frontline.channels.email.backend.EmailBackend"  # SMTP + optional DKIM
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "outbox")
EMAIL_FROM_ADDRESS = env("EMAIL_FROM_ADDRESS", "support@example.com")
# DKIM signing of outgoing mail (off unless a selector and a key are given).
DKIM_SELECTOR = env("DKIM_SELECTOR")
DKIM_DOMAIN = env("DKIM_DOMAIN")
DKIM_PRIVATE_KEY = env("DKIM_PRIVATE_KEY")
DKIM_PRIVATE_KEY_FILE = env("DKIM_PRIVATE_KEY_FILE")
DEFAULT_FROM_EMAIL = EMAIL_FROM_ADDRESS
# Built-in SMTP receiver: `frontline smtpd`, or started by `frontline run` when this is set.
SMTP_LISTEN = env("SMTP_LISTEN")
SMTP_MAX_MESSAGE_BYTES = env_int("SMTP_MAX_MESSAGE_BYTES", 40 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
