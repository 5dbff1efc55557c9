"""Every periodic task (Celery beat), in one place; schedules are seconds between runs."""

from .checkouts import CHECKOUT_ROLLUP_SECONDS, CHECKOUT_SWEEP_SECONDS
from .environment import RUN_DIR, env
from .payments import ATTEMPT_ROLLUP_SECONDS
from .webhooks import WEBHOOK_SWEEP_INTERVAL_SECONDS

CELERY_BEAT_SCHEDULE_FILENAME = str(RUN_DIR / "celerybeat-schedule")
# Any number of beats may run: the one holding the lease (a row in the database, cluster.beat)
# sends the periodic tasks, for BEAT_LEASE_SECONDS from its last renewal (every third of it).
# A leader that dies is replaced within the lease and a tenth; one that stops cleanly at once.
CELERY_BEAT_SCHEDULER = "cluster.beat:LeaderScheduler"
BEAT_LEASE_SECONDS = env.float("BEAT_LEASE_SECONDS", default=30)

# Capture pending charges, resolve `processing` attempts and pending refunds, and reconcile
# attempts left in flight past INFLIGHT_TIMEOUT_SECONDS, this often.
INTENTS_SWEEP_SECONDS = env.int("INTENTS_SWEEP_SECONDS", default=2)
# Look for expired authorisations and abandoned intents this often.
INTENTS_EXPIRY_SWEEP_SECONDS = env.int("INTENTS_EXPIRY_SWEEP_SECONDS", default=60)
# Expire checkout intents past their expires_at this often.
CHECKOUT_EXPIRY_SWEEP_SECONDS = env.int("CHECKOUT_EXPIRY_SWEEP_SECONDS", default=30)
# Purge idempotency keys older than IDEMPOTENCY_KEY_TTL_SECONDS this often.
IDEMPOTENCY_PURGE_EVERY_SECONDS = env.int("IDEMPOTENCY_PURGE_EVERY_SECONDS", default=3600)

CELERY_BEAT_SCHEDULE = {
    "api.idempotency_keys_purge": {
        "task": "api.tasks.idempotency_keys_purge",
        "schedule": IDEMPOTENCY_PURGE_EVERY_SECONDS,
    },
    "events-sweep": {
        "task": "events.tasks.webhooks_sweep",
        "schedule": WEBHOOK_SWEEP_INTERVAL_SECONDS,
        "options": {"queue": "webhooks", "expires": max(WEBHOOK_SWEEP_INTERVAL_SECONDS * 2, 1)},
    },
    "events-purge": {
        "task": "events.tasks.events_purge",
        "schedule": 3600,
        "options": {"queue": "webhooks", "expires": 1800},
    },
    "intents-capture-pending": {
        "task": "intents.tasks.capture_pending_charges",
        "schedule": float(INTENTS_SWEEP_SECONDS),
    },
    "intents-resolve-processing": {
        "task": "intents.tasks.resolve_processing_intents",
        "schedule": float(INTENTS_SWEEP_SECONDS),
    },
    "intents-reconcile-attempts": {
        "task": "intents.tasks.reconcile_attempts",
        "schedule": float(INTENTS_SWEEP_SECONDS),
    },
    "payments-resolve-refunds": {
        "task": "payments.tasks.refunds_resolve_due",
        "schedule": float(INTENTS_SWEEP_SECONDS),
    },
    "intents-expire-authorizations": {
        "task": "intents.tasks.expire_authorizations",
        "schedule": float(INTENTS_EXPIRY_SWEEP_SECONDS),
    },
    "intents-abandon-stale": {
        "task": "intents.tasks.abandon_stale_intents",
        "schedule": float(INTENTS_EXPIRY_SWEEP_SECONDS),
    },
    "checkout-expire": {
        "task": "checkout_pages.tasks.expire_checkout_intents",
        "schedule": float(CHECKOUT_EXPIRY_SWEEP_SECONDS),
    },
    "checkouts-mark-inactive": {
        "task": "checkouts.tasks.mark_inactive_checkouts",
        "schedule": float(CHECKOUT_SWEEP_SECONDS),
    },
    "checkouts-roll-up": {
        "task": "checkouts.tasks.roll_up_checkouts",
        "schedule": float(CHECKOUT_ROLLUP_SECONDS),
    },
    "attempts-roll-up": {
        "task": "payments.tasks.roll_up_attempts",
        "schedule": float(ATTEMPT_ROLLUP_SECONDS),
    },
}
