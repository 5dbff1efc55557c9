"""The insights rollup (PostgreSQL): the figures of the checkouts that can no longer change,
added up per account, mode, quarter hour of `created` (every IANA zone's offset is a whole
number of quarter hours, so every zone's midnight starts one), currency, country, payment flow,
source and latest decline code (`CheckoutRollup`; the same per currency and decline code only
in `CheckoutQuarterRollup`, which the total and the time buckets without a filter read), and the
histogram of their whole seconds to
completion per quarter hour (`CheckoutCompletionRollup`, for the exact median), so that insights
over a month aggregate a few rows per quarter hour plus the checkouts still open instead of
every row.

A checkout is *closed* when its figures no longer depend on the time of the read: complete, or
inactive and untouched past CHECKOUT_ABANDONED_SECONDS (abandoned stays abandoned as time
passes). The sweep (`roll_up`) claims closed rows not yet counted (`FOR UPDATE SKIP LOCKED`),
adds their figures — computed by the same SQL as the live aggregate, `insights.figures_sql` —
and their seconds to completion, and marks them `rolled_up`, in one statement. A closed row can still be written (an update
brings an abandoned checkout back, a late attempt on a complete one adds a decline): every
checkout service calls `unroll` under the row's lock before it saves, which takes the row's
figures back out of the rollup in the same transaction; the sweep counts it again once it is
closed again (a rollup row whose checkouts have all been taken out stays, with zeros, and is
not read). Other databases keep no rollup (insights compute in Python there).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .insights import FIGURES, INACTIVE_NOW, _cutoffs, figures_sql
from .models import Checkout

KEY_SQL = (
    "account_id, livemode, date_bin('15 minutes', created, TIMESTAMPTZ '2000-01-01 00:00+00') "
    "AS quarter, "
    "COALESCE(currency, '') AS currency, COALESCE(country, '') AS country, "
    "COALESCE(payment_flow, '') AS payment_flow, source, "
    "COALESCE(last_decline_code, '') AS code"
)
KEY = ("account_id", "livemode", "quarter", "currency", "country", "payment_flow", "source", "code")
# The narrow rollup (`CheckoutQuarterRollup`): the same figures without the columns insights
# filter or group by, read for the total and time buckets.
NARROW = "checkouts_checkoutquarterrollup"
NARROW_KEY_SQL = (
    "account_id, livemode, date_bin('15 minutes', created, TIMESTAMPTZ '2000-01-01 00:00+00') "
    "AS quarter, COALESCE(currency, '') AS currency, COALESCE(last_decline_code, '') AS code"
)
NARROW_KEY = ("account_id", "livemode", "quarter", "currency", "code")
# The histogram of whole seconds to completion (`CheckoutCompletionRollup`), of the same rows.
TIMED_KEY_SQL = (
    "account_id, livemode, date_bin('15 minutes', created, TIMESTAMPTZ '2000-01-01 00:00+00') "
    "AS quarter, FLOOR(EXTRACT(EPOCH FROM completed_at - created))::bigint AS seconds"
)
TIMED_KEY = ("account_id", "livemode", "quarter", "seconds")
TIMED = "checkouts_checkoutcompletionrollup"


def roll_up(*, batch_size: int | None = None, max_batches: int = 20, now=None) -> int:
    """Count the closed checkouts not yet in the rollup; returns how many. Each batch is one
    statement in its own transaction."""
    batch_size = batch_size or settings.CHECKOUT_ROLLUP_BATCH
    total = 0
    for _ in range(max_batches):
        now_at = now or timezone.now()
        inactive_cutoff, abandoned_cutoff = _cutoffs(now_at)
        figures, figure_params = figures_sql(now_at)
        updates = ", ".join(
            f"{name} = checkouts_checkoutrollup.{name} + EXCLUDED.{name}" for name in FIGURES
        )
        narrow_updates = ", ".join(
            f"{name} = {NARROW}.{name} + EXCLUDED.{name}" for name in FIGURES
        )
        sql = f"""
        WITH claimed AS (
          UPDATE checkouts_checkout AS c SET rolled_up = TRUE
          FROM (
            SELECT id FROM checkouts_checkout
            WHERE NOT rolled_up
              AND (status = 'complete' OR ({INACTIVE_NOW} AND last_activity_at <= %s))
            LIMIT %s FOR UPDATE SKIP LOCKED
          ) AS due
          WHERE c.id = due.id
          RETURNING c.*
        ), counted AS (
          INSERT INTO checkouts_checkoutrollup ({", ".join(KEY)}, {", ".join(FIGURES)})
          SELECT {KEY_SQL}, {figures}
          FROM claimed GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
          ORDER BY 1, 2, 3, 4, 5, 6, 7, 8  -- one lock order for concurrent sweeps
          ON CONFLICT ({", ".join(KEY)}) DO UPDATE SET {updates}
          RETURNING 1
        ), narrowed AS (
          INSERT INTO {NARROW} ({", ".join(NARROW_KEY)}, {", ".join(FIGURES)})
          SELECT {NARROW_KEY_SQL}, {figures}
          FROM claimed GROUP BY 1, 2, 3, 4, 5
          ORDER BY 1, 2, 3, 4, 5
          ON CONFLICT ({", ".join(NARROW_KEY)}) DO UPDATE SET {narrow_updates}
          RETURNING 1
        ), timed AS (
          INSERT INTO {TIMED} ({", ".join(TIMED_KEY)}, completed)
          SELECT {TIMED_KEY_SQL}, COUNT(*)
          FROM claimed WHERE completed_at IS NOT NULL GROUP BY 1, 2, 3, 4
          ORDER BY 1, 2, 3, 4
          ON CONFLICT ({", ".join(TIMED_KEY)})
            DO UPDATE SET completed = {TIMED}.completed + EXCLUDED.completed
          RETURNING 1
        )
        SELECT (SELECT COUNT(*) FROM claimed), (SELECT COUNT(*) FROM counted),
          (SELECT COUNT(*) FROM narrowed), (SELECT COUNT(*) FROM timed)
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                sql, [inactive_cutoff, abandoned_cutoff, batch_size, *figure_params, *figure_params]
            )
            claimed = cursor.fetchone()[0]
        total += claimed
        if claimed < batch_size:
            break
    return total


def unroll(chk: Checkout, now: datetime | None = None) -> None:
    """Take a rolled-up checkout's figures back out of the rollup, before a write changes them;
    call it under the row's lock, in the write's transaction. Nothing for a row not counted."""
    if not chk.rolled_up:
        return
    figures, figure_params = figures_sql(now or timezone.now())
    updates = ", ".join(f"{name} = r.{name} - g.{name}" for name in FIGURES)
    matches = " AND ".join(f"r.{name} = g.{name}" for name in KEY)
    timed_matches = " AND ".join(f"r.{name} = g.{name}" for name in TIMED_KEY)
    narrow_matches = " AND ".join(f"r.{name} = g.{name}" for name in NARROW_KEY)
    sql = f"""
    WITH taken AS (
      UPDATE checkouts_checkout SET rolled_up = FALSE WHERE id = %s AND rolled_up RETURNING *
    ), untimed AS (
      UPDATE {TIMED} AS r SET completed = r.completed - g.completed
      FROM (
        SELECT {TIMED_KEY_SQL}, COUNT(*) AS completed
        FROM taken WHERE completed_at IS NOT NULL GROUP BY 1, 2, 3, 4
      ) AS g
      WHERE {timed_matches}
    ), narrowed AS (
      UPDATE {NARROW} AS r SET {updates}
      FROM (SELECT {NARROW_KEY_SQL}, {figures} FROM taken GROUP BY 1, 2, 3, 4, 5) AS g
      WHERE {narrow_matches}
    )
    UPDATE checkouts_checkoutrollup AS r SET {updates}
    FROM (SELECT {KEY_SQL}, {figures} FROM taken GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) AS g
    WHERE {matches}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [chk.id, *figure_params, *figure_params])
    chk.rolled_up = False


def rebuild(now: datetime | None = None) -> int:
    """Count every closed checkout afresh (after a bulk load, or a change of
    CHECKOUT_INACTIVE_SECONDS or CHECKOUT_ABANDONED_SECONDS); returns how many. One
    transaction that holds off writes to checkouts meanwhile (reads go on): the flag is written
    only where it changes (a bulk load may write it already), then the rollup is one aggregate
    of the flagged rows."""
    now = now or timezone.now()
    inactive_cutoff, abandoned_cutoff = _cutoffs(now)
    figures, figure_params = figures_sql(now)
    closed = f"(status = 'complete' OR ({INACTIVE_NOW} AND last_activity_at <= %s))"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE checkouts_checkout IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("LOCK TABLE checkouts_checkoutrollup IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"LOCK TABLE {TIMED} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"LOCK TABLE {NARROW} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("DELETE FROM checkouts_checkoutrollup")
        cursor.execute(f"DELETE FROM {NARROW}")
        cursor.execute(f"DELETE FROM {TIMED}")
        cursor.execute(
            f"UPDATE checkouts_checkout SET rolled_up = {closed} "
            f"WHERE rolled_up IS DISTINCT FROM {closed}",
            [inactive_cutoff, abandoned_cutoff] * 2,
        )
        cursor.execute(
            f"""
            INSERT INTO checkouts_checkoutrollup ({", ".join(KEY)}, {", ".join(FIGURES)})
            SELECT {KEY_SQL}, {figures}
            FROM checkouts_checkout WHERE rolled_up GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
            """,
            figure_params,
        )
        sums = ", ".join(f"SUM({name})" for name in FIGURES)
        cursor.execute(  # the narrow rollup: the wide one's rows added up
            f"""
            INSERT INTO {NARROW} ({", ".join(NARROW_KEY)}, {", ".join(FIGURES)})
            SELECT {", ".join(NARROW_KEY)}, {sums} FROM checkouts_checkoutrollup
            GROUP BY 1, 2, 3, 4, 5
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {TIMED} ({", ".join(TIMED_KEY)}, completed)
            SELECT {TIMED_KEY_SQL}, COUNT(*) FROM checkouts_checkout
            WHERE rolled_up AND completed_at IS NOT NULL GROUP BY 1, 2, 3, 4
            """
        )
        cursor.execute("SELECT COUNT(*) FROM checkouts_checkout WHERE rolled_up")
        return cursor.fetchone()[0]
