"""Events and webhook delivery (events/; docs/webhooks.md explains the retry schedule)."""

from .environment import env, networks_setting

EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)

WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=15)
WEBHOOK_USER_AGENT = "payintents-webhooks/1 (+https://stripe.com/docs/webhooks)"
# Retries: exponential backoff from BASE, doubling, capped at MAX, each delay stretched by up to
# JITTER (a fraction), for WINDOW seconds after the first attempt; then the delivery is failed.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=60)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=8 * 3600)
WEBHOOK_RETRY_JITTER = env.float("WEBHOOK_RETRY_JITTER", default=0.2)
WEBHOOK_RETRY_WINDOW_SECONDS = env.float("WEBHOOK_RETRY_WINDOW_SECONDS", default=3 * 24 * 3600)
# An endpoint whose every attempt failed for this long is disabled (the reason is recorded).
WEBHOOK_DISABLE_AFTER_SECONDS = env.float("WEBHOOK_DISABLE_AFTER_SECONDS", default=5 * 24 * 3600)
# After roll_secret the old secret keeps signing (a second signature) for this long.
WEBHOOK_SECRET_ROLL_OVERLAP_SECONDS = env.int(
    "WEBHOOK_SECRET_ROLL_OVERLAP_SECONDS", default=24 * 3600
)
# An attempt in flight holds its delivery this long; a crashed worker's lease just expires.
WEBHOOK_LEASE_SECONDS = env.float("WEBHOOK_LEASE_SECONDS", default=WEBHOOK_TIMEOUT_SECONDS + 45)
# The sweep relays missed events and sends due deliveries this often (see schedule.py).
WEBHOOK_SWEEP_INTERVAL_SECONDS = env.float("WEBHOOK_SWEEP_INTERVAL_SECONDS", default=5)
WEBHOOK_SWEEP_BATCH = env.int("WEBHOOK_SWEEP_BATCH", default=500)
# Networks webhook URLs may resolve into although they are not public (comma-separated CIDRs).
WEBHOOK_ALLOWED_NETWORKS = networks_setting("WEBHOOK_ALLOWED_NETWORKS")
# How long a web process remembers whether an account has an enabled endpoint: without one,
# an event asks the broker for nothing and the sweep relays it (WEBHOOK_SWEEP_INTERVAL_SECONDS).
WEBHOOK_ENDPOINT_CACHE_SECONDS = env.float("WEBHOOK_ENDPOINT_CACHE_SECONDS", default=5)
# A web process publishes at most one relay hint this often: the events of transactions that
# commit sooner after the last hint go in one deferred hint (at most this much later).
WEBHOOK_RELAY_HINT_SECONDS = env.float("WEBHOOK_RELAY_HINT_SECONDS", default=0.05)
# Deliveries are sent in batches of one endpoint's deliveries over one kept-alive connection:
# at most this many per batch, and a batch stops starting sends after this many seconds (the
# rest go back to the queue), so a slow endpoint shares the workers with the others.
WEBHOOK_DELIVERY_BATCH = env.int("WEBHOOK_DELIVERY_BATCH", default=100)
WEBHOOK_BATCH_SECONDS = env.float("WEBHOOK_BATCH_SECONDS", default=5)
# At most this many workers send to one endpoint at once: an endpoint that hangs until the
# timeout holds that many, and the others keep the rest.
WEBHOOK_SENDERS_PER_ENDPOINT = env.int("WEBHOOK_SENDERS_PER_ENDPOINT", default=2)
# An endpoint whose attempts failed this many times in a row (500s, say) is paused like one
# that does not answer, so its deliveries wait in the database; 0: never.
WEBHOOK_CIRCUIT_FAILURES = env.int("WEBHOOK_CIRCUIT_FAILURES", default=20)
# A worker process sends in this many threads of its own; a sending task waits this long for
# its send, then leaves a slow one to its thread and serves the queue (events.services.senders).
WEBHOOK_SENDER_THREADS = env.int("WEBHOOK_SENDER_THREADS", default=8)
WEBHOOK_SEND_PATIENCE_SECONDS = env.float("WEBHOOK_SEND_PATIENCE_SECONDS", default=0.5)
# Webhooks in a face's dialect (events.dialects): which events it sends, their body and their
# signature, by the dialect an endpoint was created in.
WEBHOOK_DIALECTS = {"paymongo": "faces.paymongo.webhooks.DIALECT"}
WEBHOOK_DIALECTS["payload"] = "faces.payload.webhooks.DIALECT"
