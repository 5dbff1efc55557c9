"""Celery: the broker, how tasks are acknowledged and retried on worker loss, and the queues.

The broker is CELERY_BROKER_URL, else REDIS_URL, else kombu's file-system broker under .broker/
(what `make run` uses on a machine with no Redis)."""

from pathlib import Path

from .environment import BASE_DIR, env, under_pytest, url_setting

REDIS_URL = url_setting("REDIS_URL", ("redis", "rediss", "unix"))
# An API request's after-commit publish (core.enqueue): one connection attempt bounded by this,
# no retry; after a failure the process skips publishing for the backoff (the sweeps catch up).
BROKER_PUBLISH_TIMEOUT_SECONDS = env.float("BROKER_PUBLISH_TIMEOUT_SECONDS", default=1.0)
BROKER_PUBLISH_BACKOFF_SECONDS = env.float("BROKER_PUBLISH_BACKOFF_SECONDS", default=5.0)
# The file-system broker's folder (a test or a benchmark running its own stack sets its own).
BROKER_DIR = Path(env.str("BROKER_DIR", default="") or BASE_DIR / ".broker")
CELERY_BROKER_URL = url_setting(
    "CELERY_BROKER_URL",
    ("redis", "rediss", "unix", "amqp", "amqps", "filesystem", "memory"),
    default=REDIS_URL or "filesystem://localhost//",
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Every folder of the file-system transport lives under .broker/, `control` (its exchange
    # tables) included: without that option kombu writes a `control/` folder into the cwd.
    for sub in ("in", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # How often an idle worker looks for new messages (kombu's default is 1 s).
        "polling_interval": env.float("BROKER_POLLING_INTERVAL", default=0.1),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        # An API request whose after-commit enqueue meets a dead Redis must fail fast (and be
        # logged), not hang: the beat sweeps relay what the enqueue missed.
        "socket_connect_timeout": BROKER_PUBLISH_TIMEOUT_SECONDS,
    }

# With no broker server, webhook relays and deliveries run in a thread pool of the process whose
# transaction wrote the event (core.enqueue): a delivery within a second instead of the file-system
# transport's seconds-long hand-over. The worker's sweeps still send whatever that missed.
WEBHOOKS_IN_PROCESS = env.bool(
    "WEBHOOKS_IN_PROCESS",
    default=CELERY_BROKER_URL.startswith("filesystem://") and not under_pytest,
)
IN_PROCESS_TASK_PREFIXES = ("events.tasks.",) if WEBHOOKS_IN_PROCESS else ()

CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Every task is idempotent: acknowledged after it ran, redelivered if its worker died.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Webhook deliveries have a queue of their own (workers may serve it alone: `-Q webhooks`);
# everything else goes to the default `celery` queue. config.celery.QUEUES lists both.
CELERY_TASK_ROUTES = {"events.tasks.*": {"queue": "webhooks"}}
