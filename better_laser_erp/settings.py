"""Settings for better_laser_erp, read from the environment and `.env` (12-factor).

The defaults give the embedded mode: SQLite under var/, local-memory cache, synchronous
assistant, rule brain, no Redis. See .env.example for every setting.
"""

import base64
import os
import secrets
from pathlib import Path

import dj_database_url
from decouple import Csv, config
from django.core.exceptions import ImproperlyConfigured

from better_laser_erp import log_safety

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(config("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
# Prometheus multiprocess mode: every web and worker process writes its counts here and
# /metrics adds them up (deploy/ empties it when the services start).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

ENVIRONMENT = config("ENVIRONMENT", default="development")
DEBUG = config("DEBUG", default=False, cast=bool)


def _secret_key() -> str:
    key = config("SECRET_KEY", default="")
    if key:
        return key
    if ENVIRONMENT != "development":
        raise ImproperlyConfigured("SECRET_KEY must be set when ENVIRONMENT is not development")
    # Development only: one random key per checkout, kept across restarts.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _secrets_encryption_keys() -> list[str]:
    keys = config("SECRETS_ENCRYPTION_KEYS", default="", cast=Csv())
    if keys:
        return keys
    if ENVIRONMENT != "development":
        raise ImproperlyConfigured(
            "SECRETS_ENCRYPTION_KEYS must be set when ENVIRONMENT is not development"
        )
    # Development only: one Fernet key per checkout, kept across restarts.
    key_file = VAR_DIR / "secrets_encryption_key"
    if not key_file.exists():
        key_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]


# Keys that encrypt chat apps' secrets and access tokens at rest (apps/ai_assistant/encrypted.py):
# comma-separated Fernet keys, the first encrypts, all decrypt (README: rotating the key).
SECRETS_ENCRYPTION_KEYS = _secrets_encryption_keys()
ALLOWED_HOSTS = config("ALLOWED_HOSTS", default="localhost,127.0.0.1,[::1],testserver", cast=Csv())
CSRF_TRUSTED_ORIGINS = config("CSRF_TRUSTED_ORIGINS", default="", cast=Csv())

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "apps.reporting",
    "apps.inventory",
    "apps.sales",
    "apps.purchasing",
    "apps.production",
    "apps.service",
    "apps.demo",
    "apps.ai_assistant",
    "apps.operations",
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
]

ROOT_URLCONF = "better_laser_erp.urls"
WSGI_APPLICATION = "better_laser_erp.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        config("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=config("DATABASE_CONN_MAX_AGE", default=60, cast=int),
        # A kept connection is checked once before its first query in each request or task,
        # so one PostgreSQL dropped (a restart) is replaced instead of failing that query.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Waiting on the write lock beats failing with "database is locked" under concurrent posts.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file, not memory, so a Celery worker process in the tests sees the test database;
    # one per test process, so parallel test runs never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_db_{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = config("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": config("CACHE_KEY_PREFIX", default="ble"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Django's ModelBackend, with each user's permissions kept in the shared cache between chat
# turns (apps/ai_assistant/permission_cache.py).
AUTHENTICATION_BACKENDS = ["apps.ai_assistant.permission_cache.CachedModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The site's own login (any ERP user: the web chat); the admin keeps its staff-only one.
LOGIN_URL = "operations:login"
LOGIN_REDIRECT_URL = "operations:home"
LOGOUT_REDIRECT_URL = "operations:home"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Files the ERP makes (report spreadsheets); served only through signed, expiring links.
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOG_LEVEL = config("LOG_LEVEL", default="INFO")
# Untrusted input in log records has its control characters escaped (log_safety.py).
log_safety.install()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "better_laser_erp.log_safety.SafeFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # httpx logs request URLs at INFO, and platform URLs carry access tokens.
        "httpx": {"level": "WARNING"},
    },
}

# --- AI assistant -------------------------------------------------------------------------
AI_ASSISTANT_BINDING_CODE_TTL_MINUTES = config(
    "AI_ASSISTANT_BINDING_CODE_TTL_MINUTES", default=30, cast=int
)
AI_ASSISTANT_CONFIRMATION_TTL_MINUTES = config(
    "AI_ASSISTANT_CONFIRMATION_TTL_MINUTES", default=10, cast=int
)
# Conversations idle this long are closed and deleted by the hourly cleanup.
AI_ASSISTANT_CONVERSATION_TTL_DAYS = config(
    "AI_ASSISTANT_CONVERSATION_TTL_DAYS", default=30, cast=int
)
# Tool execution logs older than this are deleted by the daily cleanup.
AI_ASSISTANT_TOOL_LOG_RETENTION_DAYS = config(
    "AI_ASSISTANT_TOOL_LOG_RETENTION_DAYS", default=90, cast=int
)
# A conversation idle this long starts fresh context (follow-up questions forget the last item).
AI_ASSISTANT_CONTEXT_IDLE_MINUTES = config(
    "AI_ASSISTANT_CONTEXT_IDLE_MINUTES", default=60, cast=int
)
# Longest message the assistant reads, in characters; a longer one is answered with a request
# to shorten it (staff questions are a line or two; this bounds a hostile message's cost).
AI_ASSISTANT_MAX_MESSAGE_CHARS = config("AI_ASSISTANT_MAX_MESSAGE_CHARS", default=1000, cast=int)
# Messages one chat account may send per minute; 0 turns the limit off (rate_limit.py).
AI_ASSISTANT_RATE_LIMIT_PER_MINUTE = config(
    "AI_ASSISTANT_RATE_LIMIT_PER_MINUTE", default=20, cast=int
)
# Rows a list tool returns at most (totals still cover everything).
AI_ASSISTANT_MAX_ROWS = config("AI_ASSISTANT_MAX_ROWS", default=20, cast=int)

# The LLM brain is used when a base URL and model are set (any OpenAI-compatible endpoint).
AI_ASSISTANT_LLM_BASE_URL = config("AI_ASSISTANT_LLM_BASE_URL", default="")
AI_ASSISTANT_LLM_API_KEY = config("AI_ASSISTANT_LLM_API_KEY", default="")
AI_ASSISTANT_LLM_MODEL = config("AI_ASSISTANT_LLM_MODEL", default="")
AI_ASSISTANT_LLM_TIMEOUT_SECONDS = config(
    "AI_ASSISTANT_LLM_TIMEOUT_SECONDS", default=20, cast=float
)
AI_ASSISTANT_LLM_MAX_TOOL_ROUNDS = config("AI_ASSISTANT_LLM_MAX_TOOL_ROUNDS", default=4, cast=int)

# Chat platforms' API base URLs come from each channel (AI_ASSISTANT_<CHANNEL>_API_BASE, the
# real host by default). Development only: one URL for every platform's API, the stand-in of
# devtools/platforms.py that tests and the demo run.
AI_ASSISTANT_PLATFORMS_STAND_IN = config("AI_ASSISTANT_PLATFORMS_STAND_IN", default="")
if AI_ASSISTANT_PLATFORMS_STAND_IN and ENVIRONMENT != "development":
    raise ImproperlyConfigured("AI_ASSISTANT_PLATFORMS_STAND_IN is for development only")
# Connect/read timeout of every call to a platform API, in seconds.
AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS = config(
    "AI_ASSISTANT_PLATFORM_TIMEOUT_SECONDS", default=10, cast=float
)
# Largest webhook body accepted, in bytes (platform messages are a few KB).
AI_ASSISTANT_MAX_WEBHOOK_BYTES = config(
    "AI_ASSISTANT_MAX_WEBHOOK_BYTES", default=256 * 1024, cast=int
)
# How far a signed webhook timestamp may lie from now, in seconds. WeChat and WeCom retry a
# message three times within about 15 s, DingTalk sends at once; five minutes covers those
# retries and clock skew, and is how long a captured signature could be replayed at most.
AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS = config(
    "AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS", default=300, cast=int
)
# Each web process keeps a webhook's ChannelApp this many seconds (a failed signature check
# always reads it again, so a rotated secret works at once; disabling takes this long).
AI_ASSISTANT_CHANNEL_APP_CACHE_SECONDS = config(
    "AI_ASSISTANT_CHANNEL_APP_CACHE_SECONDS", default=10, cast=float
)
# Platform access tokens are refreshed this many seconds before they expire.
AI_ASSISTANT_TOKEN_REFRESH_MARGIN_SECONDS = config(
    "AI_ASSISTANT_TOKEN_REFRESH_MARGIN_SECONDS", default=300, cast=int
)

# --- Reports (long-running jobs) ------------------------------------------------------------
# Where the ERP is reached from outside: signed download links to report files start with it
# (WeChat Official Accounts have no file message; every platform gets the link when a file is
# too large for it). Empty: no links (in development: the local server).
AI_ASSISTANT_PUBLIC_BASE_URL = config(
    "AI_ASSISTANT_PUBLIC_BASE_URL",
    default="http://127.0.0.1:8000" if ENVIRONMENT == "development" else "",
)
# A download link works this long after the report was made.
AI_ASSISTANT_REPORT_LINK_HOURS = config("AI_ASSISTANT_REPORT_LINK_HOURS", default=72, cast=float)
# Sync mode (no worker): a report that takes longer than this to make while the platform
# waits is not made; the user is told it needs async mode.
AI_ASSISTANT_SYNC_REPORT_SECONDS = config(
    "AI_ASSISTANT_SYNC_REPORT_SECONDS", default=2.0, cast=float
)
# A job still running this long after it started tells the user how far it is (at most
# AI_ASSISTANT_REPORT_PROGRESS_NOTICES times; edited in place where the platform can).
AI_ASSISTANT_REPORT_PROGRESS_AFTER_SECONDS = config(
    "AI_ASSISTANT_REPORT_PROGRESS_AFTER_SECONDS", default=5.0, cast=float
)
AI_ASSISTANT_REPORT_PROGRESS_NOTICES = config(
    "AI_ASSISTANT_REPORT_PROGRESS_NOTICES", default=3, cast=int
)
# A report task (a whole report, or one part of it) may run this long (the soft limit; the
# hard one is 30 s more). Chat turns keep CELERY_TASK_*_TIME_LIMIT.
AI_ASSISTANT_REPORT_TIME_LIMIT_SECONDS = config(
    "AI_ASSISTANT_REPORT_TIME_LIMIT_SECONDS", default=900, cast=int
)
# A running job asked to cancel stops at its next step; after this long it is terminated.
AI_ASSISTANT_REPORT_CANCEL_GRACE_SECONDS = config(
    "AI_ASSISTANT_REPORT_CANCEL_GRACE_SECONDS", default=30, cast=int
)

# --- Celery (async mode) ------------------------------------------------------------------
# switch for the AI assistant's asynchronous processing
AI_ASSISTANT_USE_ASYNC = config("AI_ASSISTANT_USE_ASYNC", default=False, cast=bool)
# What the webhook answers at once in async mode; the real reply follows via the send API.
AI_ASSISTANT_ASYNC_ACK_TEXT = config(
    "AI_ASSISTANT_ASYNC_ACK_TEXT", default="收到消息，正在处理中喵～"
)
# A worker's claim on a message lapses this long after its last renewal (a running turn renews
# it every third of this), so a chat whose worker died is taken over within seconds.
AI_ASSISTANT_CLAIM_LEASE_SECONDS = config("AI_ASSISTANT_CLAIM_LEASE_SECONDS", default=10, cast=int)
# The sweeper re-enqueues messages not picked up after this long (e.g. broker was down).
AI_ASSISTANT_REQUEUE_AFTER_SECONDS = config(
    "AI_ASSISTANT_REQUEUE_AFTER_SECONDS", default=10, cast=int
)
# Times a message's turn may be started (a worker dying in it counts) before the user gets an
# apology instead of another try.
AI_ASSISTANT_MAX_DELIVERY_ATTEMPTS = config(
    "AI_ASSISTANT_MAX_DELIVERY_ATTEMPTS", default=5, cast=int
)
# Seconds between the seed task's own retries of a database error (the seed's 60).
AI_ASSISTANT_RETRY_DELAY_SECONDS = config("AI_ASSISTANT_RETRY_DELAY_SECONDS", default=60, cast=int)
# Delivery retries go by time: the first after about this many seconds, doubling up to the
# maximum (±20 % jitter; a platform's Retry-After wins), until the deadline after the message
# arrived. Six hours outlasts a platform's bad afternoon, stays well inside WeChat's 48-hour
# reply window, and a reply older than that is rarely still wanted.
AI_ASSISTANT_RETRY_BASE_SECONDS = config("AI_ASSISTANT_RETRY_BASE_SECONDS", default=2, cast=float)
AI_ASSISTANT_RETRY_MAX_SECONDS = config("AI_ASSISTANT_RETRY_MAX_SECONDS", default=300, cast=float)
AI_ASSISTANT_DELIVERY_DEADLINE_HOURS = config(
    "AI_ASSISTANT_DELIVERY_DEADLINE_HOURS", default=6, cast=float
)
# A chat app's sends pause after this many outage errors (timeouts, 5xx) in a row; one send
# probes after the cool-down, which doubles with each failed probe up to the maximum.
AI_ASSISTANT_CIRCUIT_FAILURES = config("AI_ASSISTANT_CIRCUIT_FAILURES", default=5, cast=int)
AI_ASSISTANT_CIRCUIT_COOLDOWN_SECONDS = config(
    "AI_ASSISTANT_CIRCUIT_COOLDOWN_SECONDS", default=15, cast=float
)
AI_ASSISTANT_CIRCUIT_MAX_COOLDOWN_SECONDS = config(
    "AI_ASSISTANT_CIRCUIT_MAX_COOLDOWN_SECONDS", default=300, cast=float
)

# --- Operations ----------------------------------------------------------------------------
# /readyz: a worker must have answered a ping within 3 × this; beat's every-minute task must
# have run within the second.
AI_ASSISTANT_WORKER_PING_SECONDS = config("AI_ASSISTANT_WORKER_PING_SECONDS", default=15, cast=int)
AI_ASSISTANT_BEAT_STALE_SECONDS = config("AI_ASSISTANT_BEAT_STALE_SECONDS", default=180, cast=int)
# Alerts to the Operators group (apps/operations/alerts.py), read every minute by beat.
OPERATIONS_ALERT_BACKLOG_MESSAGES = config(
    "OPERATIONS_ALERT_BACKLOG_MESSAGES", default=200, cast=int
)
OPERATIONS_ALERT_OLDEST_WAITING_SECONDS = config(
    "OPERATIONS_ALERT_OLDEST_WAITING_SECONDS", default=300, cast=int
)
OPERATIONS_ALERT_WORKER_SILENT_SECONDS = config(
    "OPERATIONS_ALERT_WORKER_SILENT_SECONDS", default=120, cast=int
)
OPERATIONS_ALERT_FAILED_SENDS = config("OPERATIONS_ALERT_FAILED_SENDS", default=10, cast=int)
OPERATIONS_ALERT_CLEAR_SECONDS = config("OPERATIONS_ALERT_CLEAR_SECONDS", default=120, cast=int)
# A report job that failed within this window keeps its alert firing (10 minutes: the
# Prometheus rule's window in deploy/prometheus/alerts.yml).
OPERATIONS_ALERT_FAILED_JOBS_WINDOW_SECONDS = config(
    "OPERATIONS_ALERT_FAILED_JOBS_WINDOW_SECONDS", default=600, cast=int
)
# Alerts are also e-mailed to ADMINS (comma-separated addresses) when it is set.
ADMINS = [("", address) for address in config("ADMINS", default="", cast=Csv())]
EMAIL_HOST = config("EMAIL_HOST", default="localhost")
EMAIL_PORT = config("EMAIL_PORT", default=25, cast=int)
EMAIL_HOST_USER = config("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = config("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = config("EMAIL_USE_TLS", default=False, cast=bool)
SERVER_EMAIL = DEFAULT_FROM_EMAIL = config("SERVER_EMAIL", default="erp-assistant@localhost")
# Links in alerts and notices point here.
SITE_URL = config("SITE_URL", default="http://127.0.0.1:8000")
# /metrics: a scraper sends "Authorization: Bearer <METRICS_TOKEN>", or comes from one of these
# networks (default: this machine only).
METRICS_TOKEN = config("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = config(
    "METRICS_ALLOWED_NETWORKS", default="127.0.0.1/32,::1/128", cast=Csv()
)

CELERY_BROKER_URL = config("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = config("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_RESULT_EXPIRES = config("CELERY_RESULT_EXPIRES", default=24 * 3600, cast=int)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TRACK_STARTED = True
# At-least-once delivery; the tasks make the effect exactly once (see docs/design.md §5).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# soft < hard time limit < broker visibility timeout; a running turn renews its claim, so the
# claim lease can be shorter than the time limit.
CELERY_TASK_SOFT_TIME_LIMIT = config("CELERY_TASK_SOFT_TIME_LIMIT", default=120, cast=int)
CELERY_TASK_TIME_LIMIT = config("CELERY_TASK_TIME_LIMIT", default=150, cast=int)
CELERY_BROKER_VISIBILITY_TIMEOUT = config("CELERY_BROKER_VISIBILITY_TIMEOUT", default=600, cast=int)
# Bounded waits on the broker, so a webhook answers in time even when Redis is down.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_BROKER_VISIBILITY_TIMEOUT,
    "socket_timeout": 2,
    "socket_connect_timeout": 0.5,
    "max_retries": 1,
    # Poll queues in the listed order: chat turns before tools before maintenance.
    "queue_order_strategy": "priority",
}
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 0.5
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.02,
    "interval_max": 0.02,
}
CELERY_TASK_DEFAULT_QUEUE = "messages"
CELERY_TASK_ROUTES = {
    "apps.ai_assistant.tasks.process_message_async": {"queue": "messages"},
    "apps.ai_assistant.tasks.execute_tool_async": {"queue": "tools"},
    # Reports (seconds to minutes each) have their own queue and their own worker, so a chat
    # turn never waits behind one (README "Deployment": sizing workers per queue).
    "apps.ai_assistant.tasks.run_report_job": {"queue": "reports"},
    "apps.ai_assistant.tasks.report_part": {"queue": "reports"},
    "apps.ai_assistant.tasks.merge_report_parts": {"queue": "reports"},
    "apps.ai_assistant.tasks.*": {"queue": "maintenance"},
}
# Task events cost a broker publish each; off unless monitoring wants them (Flower turns
# them on at run time with `celery control enable_events`).
CELERY_WORKER_SEND_TASK_EVENTS = config("CELERY_WORKER_SEND_TASK_EVENTS", default=False, cast=bool)
CELERY_TASK_SEND_SENT_EVENT = config("CELERY_TASK_SEND_SENT_EVENT", default=False, cast=bool)
