"""The one settings module. Everything that differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = BASE_DIR / ".run"  # local state of `make run` and the tests (git-ignored)
RUN_DIR.mkdir(exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEBUG = env_bool("DEBUG", False)
# `make run` and the test suite set PAYINTENTS_DEV=1; anywhere else a SECRET_KEY must be given.
DEV = env_bool("PAYINTENTS_DEV", False) or "PYTEST_VERSION" in os.environ
SECRET_KEY = os.environ.get("SECRET_KEY") or ("dev-insecure-secret-key-change-me" if DEV else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set (only `make run` and tests have a default).")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "accounts",
    "events",
    "payments",
    "intents",
    "checkout_pages",
]

MIDDLEWARE = [
    "api.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
APPEND_SLASH = False

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
            ]
        },
    }
]

WSGI_APPLICATION = "config.wsgi.application"

# --- database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers on SQLite, which stands in for the row locks
    # that select_for_update() takes on PostgreSQL.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(RUN_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- broker -------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
BROKER_DIR = BASE_DIR / ".broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".run" / "celerybeat-schedule")
# Each app adds its periodic tasks here; the values are seconds between runs.
CELERY_BEAT_SCHEDULE: dict = {}

# --- the API ------------------------------------------------------------------------------
API_VERSION = "2024-06-20"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", 256 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
API_KEY_LAST_USED_RESOLUTION_SECONDS = 60

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.auth.KeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.auth.SecretKeyRequired"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StripeFormParser", "api.parsers.StripeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["api.renderers.StripeJSONRenderer"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.renderers.AlwaysJSONNegotiation",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "payintents",
    "DESCRIPTION": "A self-hosted payment-intents API in the Stripe v1 dialect.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enums stay inline: many objects share a one-value `object` enum, which would otherwise
    # collide into generated names like ObjectF31Enum.
    "POSTPROCESSING_HOOKS": ["api.schema.add_error_responses"],
    "ENUM_NAME_OVERRIDES": {},
    "SORT_OPERATIONS": False,
}

# --- security defaults (safe unless asked otherwise) ----------------------------------------
SECURE_HTTPS = env_bool("SECURE_HTTPS", False)
if SECURE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
CARD_FINGERPRINT_KEY = os.environ.get("CARD_FINGERPRINT_KEY") or SECRET_KEY

# --- security: idempotency and rate limits (issue 4, api/idempotency.py, api/ratelimit.py) ---
# A request holding an Idempotency-Key longer than this is presumed dead; its key can be taken over.
IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = env_int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", 60)
# Keys are kept at least this long (spec §5: 24 h), then purged by api.tasks.
IDEMPOTENCY_KEY_TTL_SECONDS = env_int("IDEMPOTENCY_KEY_TTL_SECONDS", 24 * 3600)
CELERY_BEAT_SCHEDULE["api.idempotency_keys_purge"] = {
    "task": "api.tasks.idempotency_keys_purge",
    "schedule": env_int("IDEMPOTENCY_PURGE_EVERY_SECONDS", 3600),
}
# Per-key limits, counted separately for reads and writes. Off by default under pytest (tests
# that create many objects in a loop); tests of the limiter turn it on.
RATE_LIMIT_ENABLED = env_bool("RATE_LIMIT_ENABLED", "PYTEST_VERSION" not in os.environ)
RATE_LIMIT_WINDOW_SECONDS = env_int("RATE_LIMIT_WINDOW_SECONDS", 1)
RATE_LIMIT_SECRET_PER_WINDOW = env_int("RATE_LIMIT_SECRET_PER_WINDOW", 100)
RATE_LIMIT_PUBLISHABLE_PER_WINDOW = env_int("RATE_LIMIT_PUBLISHABLE_PER_WINDOW", 100)
# Redis for the shared counters; empty → an in-process counter (one process of `make run`).
RATE_LIMIT_REDIS_URL = os.environ.get("RATE_LIMIT_REDIS_URL", REDIS_URL)
# --- end of the security block ----------------------------------------------------------

# --- the rest -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".run" / "static"
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "api.logging.ScrubSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["scrub"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- processors and the payment lifecycle ----------------------------------------------------
TEST_PROCESSOR = os.environ.get(
    "TEST_PROCESSOR", "payments.processors.simulated.SimulatedProcessor"
)
LIVE_PROCESSOR = os.environ.get(
    "LIVE_PROCESSOR", "payments.processors.simulated.SimulatedProcessor"
)
# Uncaptured authorisations are canceled (reason `expired`) after this many seconds.
AUTHORIZATION_EXPIRY_SECONDS = env_int("AUTHORIZATION_EXPIRY_SECONDS", 7 * 24 * 3600)
# Non-terminal intents untouched this long are canceled (reason `abandoned`).
ABANDONMENT_SECONDS = env_int("ABANDONMENT_SECONDS", 24 * 3600)
# How long the simulated processor keeps an attempt `processing` before a worker resolves it.
SIMULATED_PROCESSING_DELAY_SECONDS = env_int("SIMULATED_PROCESSING_DELAY_SECONDS", 3)

# --- events and webhooks (H4: events/) --------------------------------------------------------


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 30)
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 15)
WEBHOOK_USER_AGENT = "payintents-webhooks/1 (+https://stripe.com/docs/webhooks)"
# Retries: exponential backoff from BASE, doubling, capped at MAX, each delay stretched by up to
# JITTER (a fraction), for WINDOW seconds after the first attempt; then the delivery is failed.
WEBHOOK_RETRY_BASE_SECONDS = env_float("WEBHOOK_RETRY_BASE_SECONDS", 60)
WEBHOOK_RETRY_MAX_SECONDS = env_float("WEBHOOK_RETRY_MAX_SECONDS", 8 * 3600)
WEBHOOK_RETRY_JITTER = env_float("WEBHOOK_RETRY_JITTER", 0.2)
WEBHOOK_RETRY_WINDOW_SECONDS = env_float("WEBHOOK_RETRY_WINDOW_SECONDS", 3 * 24 * 3600)
# An endpoint whose every attempt failed for this long is disabled (the reason is recorded).
WEBHOOK_DISABLE_AFTER_SECONDS = env_float("WEBHOOK_DISABLE_AFTER_SECONDS", 5 * 24 * 3600)
# After roll_secret the old secret keeps signing (a second signature) for this long.
WEBHOOK_SECRET_ROLL_OVERLAP_SECONDS = env_int("WEBHOOK_SECRET_ROLL_OVERLAP_SECONDS", 24 * 3600)
# An attempt in flight holds its delivery this long; a crashed worker's lease just expires.
WEBHOOK_LEASE_SECONDS = env_float("WEBHOOK_LEASE_SECONDS", WEBHOOK_TIMEOUT_SECONDS + 45)
# The sweep relays missed events and sends due deliveries this often (beat).
WEBHOOK_SWEEP_INTERVAL_SECONDS = env_float("WEBHOOK_SWEEP_INTERVAL_SECONDS", 5)
WEBHOOK_SWEEP_BATCH = env_int("WEBHOOK_SWEEP_BATCH", 500)
# Networks webhook URLs may resolve into although they are not public (comma-separated CIDRs).
WEBHOOK_ALLOWED_NETWORKS = [
    cidr.strip()
    for cidr in os.environ.get("WEBHOOK_ALLOWED_NETWORKS", "").split(",")
    if cidr.strip()
]
CELERY_TASK_ROUTES = {"events.tasks.*": {"queue": "webhooks"}}
CELERY_BEAT_SCHEDULE["events-sweep"] = {
    "task": "events.tasks.webhooks_sweep",
    "schedule": WEBHOOK_SWEEP_INTERVAL_SECONDS,
    "options": {"queue": "webhooks", "expires": max(WEBHOOK_SWEEP_INTERVAL_SECONDS * 2, 1)},
}
CELERY_BEAT_SCHEDULE["events-purge"] = {
    "task": "events.tasks.events_purge",
    "schedule": 3600,
    "options": {"queue": "webhooks", "expires": 1800},
}
if not CELERY_BROKER_URL.startswith("filesystem://"):
    # An API request whose after-commit enqueue meets a dead Redis must fail fast (and be
    # logged), not hang: the sweep relays what the enqueue missed.
    CELERY_BROKER_TRANSPORT_OPTIONS.setdefault("socket_connect_timeout", 2)
# --- end events and webhooks (H4) -------------------------------------------------------------

# --- intents: periodic sweeps (owned by intents/; H2) ---------------------------------------
INTENTS_SWEEP_SECONDS = env_int("INTENTS_SWEEP_SECONDS", 2)
CELERY_BEAT_SCHEDULE.update(
    {
        "intents-capture-pending": {
            "task": "intents.tasks.capture_pending_charges",
            "schedule": float(INTENTS_SWEEP_SECONDS),
        },
        "intents-resolve-processing": {
            "task": "intents.tasks.resolve_processing_intents",
            "schedule": float(INTENTS_SWEEP_SECONDS),
        },
        "intents-expire-authorizations": {
            "task": "intents.tasks.expire_authorizations",
            "schedule": float(env_int("INTENTS_EXPIRY_SWEEP_SECONDS", 60)),
        },
        "intents-abandon-stale": {
            "task": "intents.tasks.abandon_stale_intents",
            "schedule": float(env_int("INTENTS_EXPIRY_SWEEP_SECONDS", 60)),
        },
    }
)
# --- end intents ----------------------------------------------------------------------------
