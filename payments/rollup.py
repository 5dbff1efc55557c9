"""The processor insights' rollup (PostgreSQL): the figures of the authorisation attempts whose
outcome is written, added up per account, mode, UTC day, connection, flow, currency and outcome
(`AttemptRollup`: how many, their amount), and the histogram of their latencies per account,
mode, UTC day, connection and flow (`AttemptLatencyRollup`: how many calls took each whole
number of milliseconds, from which the exact continuous percentiles are read). Insights over a
month then read a few thousand rollup rows, the attempts of the days the window cuts, and the
attempts not counted yet (`payments.insights`), instead of every attempt.

An attempt's figures never change once its outcome is written (the outcome is written once, in
the transaction that applies the processor's answer), and attempts are never deleted, so the
rollup only grows: the sweep (`roll_up`) claims attempts with an outcome not yet counted
(`FOR UPDATE SKIP LOCKED`, through the partial index `attempt_open_insights_idx`), adds their
figures and marks them `rolled_up`, in one statement; two sweeps at once count disjoint rows.
The payment's own path writes nothing more (the flag's default is the database's).
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction

KEY = "account_id, livemode, day, processor, payment_flow"
# The attempts a sweep counts, with the columns both rollups need; `%(pick)s` limits them.
_SWEEP = f"""
WITH picked AS (
  SELECT id FROM payments_attempt
  WHERE outcome <> '' AND NOT rolled_up
  %(pick)s
  FOR UPDATE SKIP LOCKED
), marked AS (
  UPDATE payments_attempt AS a SET rolled_up = true
  FROM picked WHERE a.id = picked.id
  RETURNING a.account_id, a.livemode, (a.created AT TIME ZONE 'UTC')::date AS day,
    a.processor, a.payment_flow, a.currency, a.outcome, a.amount, a.latency_ms
), counted AS (
  INSERT INTO payments_attemptrollup ({KEY}, currency, outcome, attempts, amount)
  SELECT {KEY}, currency, outcome, COUNT(*), COALESCE(SUM(amount), 0)
  FROM marked GROUP BY {KEY}, currency, outcome
  ORDER BY {KEY}, currency, outcome
  ON CONFLICT ({KEY}, currency, outcome) DO UPDATE
    SET attempts = payments_attemptrollup.attempts + EXCLUDED.attempts,
        amount = payments_attemptrollup.amount + EXCLUDED.amount
  RETURNING 1
), timed AS (
  INSERT INTO payments_attemptlatencyrollup ({KEY}, latency_ms, attempts)
  SELECT {KEY}, latency_ms, COUNT(*)
  FROM marked WHERE latency_ms IS NOT NULL GROUP BY {KEY}, latency_ms
  ORDER BY {KEY}, latency_ms
  ON CONFLICT ({KEY}, latency_ms) DO UPDATE
    SET attempts = payments_attemptlatencyrollup.attempts + EXCLUDED.attempts
  RETURNING 1
)
SELECT (SELECT COUNT(*) FROM marked), (SELECT COUNT(*) FROM counted), (SELECT COUNT(*) FROM timed)
"""


def _sweep(pick: str, params: list) -> int:
    # the inserts take their rows in key order: two sweeps meeting on the same rollup rows
    # lock them in the same order, so they wait for each other instead of deadlocking
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")  # a lost sweep is swept again
        cursor.execute(_SWEEP % {"pick": pick}, params)
        return cursor.fetchone()[0]


def roll_up(*, batch_size: int | None = None, max_batches: int = 20) -> int:
    """Count the attempts with an outcome not yet in the rollup, `batch_size` a transaction
    (ATTEMPT_ROLLUP_BATCH), at most `max_batches` of them; returns how many were counted."""
    if connection.vendor != "postgresql":
        return 0
    size = batch_size or settings.ATTEMPT_ROLLUP_BATCH
    total = 0
    for _ in range(max_batches):
        counted = _sweep("LIMIT %s", [size])
        total += counted
        if counted < size:
            break
    return total


# A rebuild's batch: one statement over millions of attempts spends its time joining them all
# to their own ids and locking each; batches of this size keep each join in memory.
REBUILD_BATCH = 100_000


def rebuild() -> int:
    """The rollup made again from every attempt (after a bulk load of attempts written with
    `rolled_up` set, or to repair it): emptied, every flag cleared, every attempt with an
    outcome counted again in batches. Returns how many were counted."""
    if connection.vendor != "postgresql":
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE payments_attemptrollup, payments_attemptlatencyrollup")
        cursor.execute("DELETE FROM payments_attemptrollup")
        cursor.execute("DELETE FROM payments_attemptlatencyrollup")
        cursor.execute("UPDATE payments_attempt SET rolled_up = false WHERE rolled_up")
    return roll_up(batch_size=REBUILD_BATCH, max_batches=10**9)
