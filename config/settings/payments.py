"""Payments: the processors, the payment lifecycle's timings, currencies and minimum amounts."""

from .environment import env, expect, url_setting

# Processor connections (routing.ProcessorConnection): the drivers behind them live in
# payments.processors. A connection's processor errors in a row that open its circuit, and how long
# it stays open before one trial call (half open).
PROCESSOR_CIRCUIT_ERRORS = env.int("PROCESSOR_CIRCUIT_ERRORS", default=5)
PROCESSOR_CIRCUIT_SECONDS = env.int("PROCESSOR_CIRCUIT_SECONDS", default=30)
# The time limit of one call to a processor (a `timeout` simulated connection waits this long,
# then fails as a processor error; a `stripe` connection's HTTP timeout).
PROCESSOR_CALL_TIMEOUT_SECONDS = env.float("PROCESSOR_CALL_TIMEOUT_SECONDS", default=10.0)
# The keys that encrypt processor credentials (a `stripe` connection's API key), newest first:
# each a url-safe base64 32-byte Fernet key. New credentials are encrypted with the first; any of
# them decrypts, so a key is rotated by putting a new one first and running
# `manage.py processors_rotate_credentials`. Unset, one key is derived from SECRET_KEY.
PROCESSOR_CREDENTIAL_KEYS = env.list("PROCESSOR_CREDENTIAL_KEYS", default=[])
# The simulator answers in-process: a money movement runs as one transaction (see
# payments.attempts.run). 0 runs it in two phases, as with a remote processor.
SIMULATED_PROCESSOR_IN_PROCESS = env.bool("SIMULATED_PROCESSOR_IN_PROCESS", default=True)
# The simulator moves no real money, so it declines every live-mode authorisation (a live account
# connects a real processor). 1 lets it take live payments too: only for an instance standing in
# for a real processor (the tests' Stripe upstream).
SIMULATED_LIVE_PAYMENTS = env.bool("SIMULATED_LIVE_PAYMENTS", default=False)
# Each kind of attempt (payments.models.AttemptKind) and the movement that makes and settles it:
# the reconciler rebuilds a movement from its attempt's row through this table.
ATTEMPT_MOVEMENTS = {
    "authorize": "intents.services.confirm.Authorize",
    "authenticate": "intents.services.three_d_secure.Authenticate",
    "capture": "intents.services.capture_cancel.Capture",
    "capture_async": "intents.services.sweeps.CaptureAsync",
    "void": "intents.services.capture_cancel.Cancel",
    "release": "payments.attempts.ReleaseAuthorization",
    "increment": "intents.services.capture_cancel.Increment",
    "resolve_async": "intents.services.sweeps.ResolveAsync",
    "refund": "payments.services.refunds.RefundCreate",
    "refund_resolve": "payments.services.refunds.RefundResolve",
    "refund_cancel": "payments.services.refunds.RefundCancel",
    "verify": "intents.services.setup_intents.Verify",
    "verify_3ds": "intents.services.setup_intents.VerifyAuthenticated",
}
# What the features built on payments register to learn each payment attempt's outcome, in the
# transaction that writes it (intents.services._common.announce): the checkout intent's failures
# and finish, the tracked checkout's attempts and completion. The order is the lock order:
# phase 2 holds the PaymentIntent (and its charge), then the checkout intent's listener locks
# the CheckoutIntent and the tracked checkout's the Checkout — the order a submit takes them in
# (checkout_pages' _open_payment_intent locks the CheckoutIntent, then the Checkout through
# checkout_intent_track, and takes no PaymentIntent lock while it holds them), so a payment's
# phase 2 and a submit of the same checkout never wait on each other in a cycle.
PAYMENT_OUTCOME_LISTENERS = [
    "checkout_pages.services.checkout_intent_learn_payment_outcome",
    "checkouts.services.checkout_learn_payment_outcome",
]
# The same for a SetupIntent's verification (intents.services.setup_intents.announce_setup):
# the checkout intent that saves a card learns its setup's outcome in the transaction that
# writes it. Lock order: the SetupIntent, then the checkout intent.
SETUP_OUTCOME_LISTENERS = [
    "checkout_pages.services.checkout_intent_learn_setup_outcome",
]
# How long the simulated processor keeps an attempt `processing` before a worker resolves it.
SIMULATED_PROCESSING_DELAY_SECONDS = env.int("SIMULATED_PROCESSING_DELAY_SECONDS", default=3)
# How long after a processor answers a refund `pending` a worker asks it for the outcome.
REFUND_RESOLVE_DELAY_SECONDS = env.int("REFUND_RESOLVE_DELAY_SECONDS", default=3)

# Uncaptured authorisations are canceled (reason `expired`) after this many seconds.
AUTHORIZATION_EXPIRY_SECONDS = env.int("AUTHORIZATION_EXPIRY_SECONDS", default=7 * 24 * 3600)
# Non-terminal intents untouched this long are canceled (reason `abandoned`).
ABANDONMENT_SECONDS = env.int("ABANDONMENT_SECONDS", default=24 * 3600)

# Currencies accepted besides core.money's ISO 4217 list (lowercase): `EXTRA_CURRENCIES=xts,xxx`.
EXTRA_CURRENCIES = env.list("EXTRA_CURRENCIES", cast=str.strip, default=[])
# Minimum amounts (smallest unit) replacing core.money's defaults: `MINIMUM_AMOUNTS=usd=100;gbp=80`.
MINIMUM_AMOUNTS = env.dict("MINIMUM_AMOUNTS", cast={"value": int}, default={})

# Base of the links to the hosted pages (3-D Secure) given out in `next_action`. Set, it is used
# as is. Unset, a link uses the host the API request came in on when that host is in
# ALLOWED_HOSTS (right behind a proxy that forwards Host), else the address `make run` serves on.
PUBLIC_BASE_URL_SET = bool(url_setting("PUBLIC_BASE_URL", ("http", "https")))
_port = env.int("PORT", default=8000)
expect("PORT", _port, 0 <= _port < 65536, "a TCP port (0-65535)")
_serve_host = env.str("HOST", default="") or "127.0.0.1"
if _serve_host in ("0.0.0.0", "::"):
    _serve_host = "127.0.0.1"
elif ":" in _serve_host:
    _serve_host = f"[{_serve_host}]"
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="") or (f"http://{_serve_host}:{_port}")
# PostgreSQL: the processor insights read the whole UTC days of a window from a rollup of the
# authorisation attempts (payments/rollup.py), which a sweep keeps this often, this many attempts
# a transaction. Off: every figure is aggregated from the attempts.
PROCESSOR_INSIGHTS_ROLLUP = env.bool("PROCESSOR_INSIGHTS_ROLLUP", default=True)
ATTEMPT_ROLLUP_SECONDS = env.float("ATTEMPT_ROLLUP_SECONDS", default=60)
ATTEMPT_ROLLUP_BATCH = env.int("ATTEMPT_ROLLUP_BATCH", default=20000)
