"""Checkout tracking (checkouts/): when a checkout counts as inactive, and as abandoned."""

from .environment import env

# A checkout with no update for this long is `inactive` (on read at once; the sweep writes it
# and emits `checkout.inactive`).
CHECKOUT_INACTIVE_SECONDS = env.int("CHECKOUT_INACTIVE_SECONDS", default=300)
# An inactive checkout untouched for this long counts as abandoned in insights.
CHECKOUT_ABANDONED_SECONDS = env.int("CHECKOUT_ABANDONED_SECONDS", default=24 * 3600)
# The inactivity sweep runs this often (seconds) and writes at most this many rows a batch.
CHECKOUT_SWEEP_SECONDS = env.float("CHECKOUT_SWEEP_SECONDS", default=30)
CHECKOUT_SWEEP_BATCH = env.int("CHECKOUT_SWEEP_BATCH", default=500)
# PostgreSQL: insights read the figures of checkouts that can no longer change (complete, or
# abandoned) from an hourly rollup, written by a sweep this often, this many rows a batch;
# after a change to CHECKOUT_INACTIVE_SECONDS or CHECKOUT_ABANDONED_SECONDS rebuild it
# (`manage.py checkouts_rollup --rebuild`). Off: every figure is aggregated from the rows.
CHECKOUT_INSIGHTS_ROLLUP = env.bool("CHECKOUT_INSIGHTS_ROLLUP", default=True)
CHECKOUT_ROLLUP_SECONDS = env.float("CHECKOUT_ROLLUP_SECONDS", default=60)
CHECKOUT_ROLLUP_BATCH = env.int("CHECKOUT_ROLLUP_BATCH", default=5000)
