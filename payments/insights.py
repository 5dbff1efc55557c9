"""Processor insights (`GET /v1/processor_insights`, and the console's processor page): how each
processor connection answered the caller's authorisations in a window, per connection or per
UTC day, and what retries recovered.

Every figure comes from the attempt ledger (`payments.Attempt`): the payment core writes an
authorisation attempt's (`authorize`, `authenticate`, `resolve_async`) `outcome` — one of
OUTCOMES —, the connection it called (`processor`), the flow it ran under (`payment_flow`), how
long the call took (`latency_ms`), its amount and currency. Every other attempt has no outcome,
and the partial index `attempt_insights_idx` (account, livemode, created) WHERE outcome <> ''
holds exactly the rows read here.

- `attempts`: authorisation attempts; `succeeded`, `soft_declines`, `hard_declines`,
  `processor_errors`, `requires_action`, `processing`: those with that outcome;
- `authorization_rate`: succeeded / the attempts that reached an answer (succeeded, soft and
  hard declines), 4 decimals, null when none did;
- `latency_ms`: `p50` and `p95` of the calls' durations (continuous percentiles, as
  PostgreSQL's `percentile_cont`, rounded to whole milliseconds), null without any;
- `volume`: the amount of the succeeded attempts, per currency;
- `recovered` (the whole window, not per row): the charges that succeeded on a retry (attempt
  number 2 or more within one confirm), counted, and their amount per currency.

ONE aggregate statement for the rows (`GROUPING SETS`: per row for the counts, per row and
currency for the volume; the latency histogram's running counts for the percentiles; the
connection's name joined to the result) and one for `recovered`. On PostgreSQL the whole days
of a window are read from the rollup (`payments/rollup.py`) when PROCESSOR_INSIGHTS_ROLLUP is
on, so a month over millions of attempts reads thousands of rows; the tests check every figure
against figures worked out by hand, and the rollup's answers against the attempts'.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from core.errors import InvalidRequestError
from core.scope import Scope

from .models import Charge

OUTCOMES = (
    "succeeded",
    "requires_action",
    "processing",
    "soft_decline",
    "hard_decline",
    "processor_error",
)
# The counts of a row, and the outcome each counts.
COUNTS = {
    "succeeded": "succeeded",
    "soft_declines": "soft_decline",
    "hard_declines": "hard_decline",
    "processor_errors": "processor_error",
    "requires_action": "requires_action",
    "processing": "processing",
}
# What the API offers; `processor_day` (a row per connection and day) is the console's chart.
GROUP_BY = ("processor", "day")
KEYS = {"processor": ("processor",), "day": ("day",), "processor_day": ("processor", "day")}
DEFAULT_WINDOW = timedelta(days=30)
PERCENTILES = {"p50": 0.5, "p95": 0.95}


def processor_insights(
    *,
    scope: Scope,
    gte: int | None = None,
    lt: int | None = None,
    payment_flow: str | None = None,
    group_by: str = "processor",
    now: datetime | None = None,
) -> dict:
    """The insights answer (see the module docstring) of the attempts created in
    [`gte`, `lt`) (unix seconds; default: the 30 days before `lt`, which defaults to now), of
    the flow `payment_flow` only when given, grouped by `group_by`."""
    if group_by not in KEYS:
        raise InvalidRequestError(
            f"Invalid group_by: must be one of {', '.join(GROUP_BY)}", param="group_by"
        )
    now = now or timezone.now()
    end = datetime.fromtimestamp(lt, tz=UTC) if lt is not None else now
    start = datetime.fromtimestamp(gte, tz=UTC) if gte is not None else end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidRequestError(
            "created[gte] must be before created[lt].",
            param="created[gte]" if gte is not None else "created[lt]",
        )
    rows, recovered = _postgres(scope, start, end, payment_flow or None, KEYS[group_by])
    return {
        "object": "processor_insights",
        "livemode": scope.livemode,
        "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
        "group_by": group_by,
        "payment_flow": payment_flow or None,
        "data": [_present(row, KEYS[group_by]) for row in _ordered(rows, group_by)],
        "recovered": recovered,
    }


# --- a row as shown ----------------------------------------------------------------------


def _row() -> dict:
    return {
        "name": None,
        "attempts": 0,
        **dict.fromkeys(COUNTS, 0),
        "latency": dict.fromkeys(PERCENTILES),
        "volume": defaultdict(int),
    }


def authorization_rate(succeeded: int, soft: int, hard: int) -> float | None:
    answered = succeeded + soft + hard
    return round(succeeded / answered, 4) if answered else None


def _ms(value: float | None) -> int | None:
    return None if value is None else int(round(value))


def _present(row: dict, keys: tuple[str, ...]) -> dict:
    shown: dict = {key: row[key] for key in keys}
    if "processor" in keys:
        shown["name"] = row["name"]
    shown |= {
        "attempts": row["attempts"],
        "succeeded": row["succeeded"],
        "authorization_rate": authorization_rate(
            row["succeeded"], row["soft_declines"], row["hard_declines"]
        ),
        "soft_declines": row["soft_declines"],
        "hard_declines": row["hard_declines"],
        "processor_errors": row["processor_errors"],
        "requires_action": row["requires_action"],
        "processing": row["processing"],
        "latency_ms": {name: _ms(value) for name, value in row["latency"].items()},
        "volume": [
            {"currency": currency, "amount": int(amount)}
            for currency, amount in sorted(row["volume"].items())
        ],
    }
    return shown


def _ordered(rows: dict, group_by: str) -> list[dict]:
    """Connections with the most attempts first; days in order; a connection's days in order."""
    if group_by == "processor":
        return sorted(rows.values(), key=lambda r: (-r["attempts"], r["processor"]))
    if group_by == "day":
        return sorted(rows.values(), key=lambda r: r["day"])
    return sorted(rows.values(), key=lambda r: (r["processor"], r["day"]))


def _recovered(scope: Scope, start: datetime, end: datetime, payment_flow: str | None) -> dict:
    """The charges a retry made succeed (one statement, grouped by currency)."""
    charges = Charge.objects.filter(
        **scope.filters,
        status=Charge.Status.SUCCEEDED,
        attempt_number__gte=2,
        created__gte=start,
        created__lt=end,
    )
    if payment_flow:
        charges = charges.filter(payment_flow=payment_flow)
    per_currency = list(
        charges.order_by()
        .values("currency")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("currency")
    )
    return {
        "count": sum(row["n"] for row in per_currency),
        "amount": [
            {"currency": row["currency"], "amount": int(row["amount"] or 0)} for row in per_currency
        ],
    }


# --- PostgreSQL: one statement ------------------------------------------------------------


def _day_bounds(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The first UTC midnight at or after `start`, the last at or before `end`: the whole days
    of the window are those between."""
    first = start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(days=1)
    last = end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return first, last


def insights_query(scope, start, end, payment_flow, keys, *, rollup: bool) -> tuple[str, list]:
    """The one statement and its parameters (public for an EXPLAIN and the tests).

    What it reads: with the rollup (`payments/rollup.py`), for the whole UTC days of the window
    its rows (the figures; the latency histogram) and the attempts not counted in it yet, and
    for the days the window cuts at either end the attempts themselves; without it (or for a
    window inside one day), every attempt of the window. The attempts are read once (`a`,
    grouped down to connection, day, currency, outcome and latency, from the partial indexes
    `attempt_open_insights_idx` and `attempt_insights_idx`, index-only) and feed both
    aggregates; the rollup's rows stream into each. `g`: two grouping sets (the row's keys for
    the counts; the keys with the currency for the succeeded volume, told apart by
    `GROUPING(currency)`); `p`: per row, the histogram's running counts, from which the two
    latencies around each percentile's position are read (`_percentile` interpolates them as
    `percentile_cont` does). The connection's name is joined to the rows (the caller's scope
    only)."""
    account = [scope.account_id, scope.livemode]
    flow = " AND payment_flow = %s" if payment_flow else ""
    flow_params = [payment_flow] if payment_flow else []

    def attempts(lo, hi, *, open_only=False) -> tuple[str, list]:
        still_open = " AND NOT rolled_up" if open_only else ""
        return (
            f"""
      SELECT processor, (created AT TIME ZONE 'UTC')::date AS day, currency,
        outcome, latency_ms, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS amount
      FROM payments_attempt
      WHERE account_id = %s AND livemode = %s AND outcome <> ''{still_open}
        AND created >= %s AND created < %s{flow}
      GROUP BY processor, day, currency, outcome, latency_ms""",
            [*account, lo, hi, *flow_params],
        )

    first, last = _day_bounds(start, end)
    figures: list[tuple[str, list]] = []  # the rollup's figures
    latencies: list[tuple[str, list]] = []  # the rollup's histogram
    live: list[tuple[str, list]] = []  # attempts, for both
    if rollup and first < last:
        days = [*account, first.date(), last.date(), *flow_params]
        figures.append(
            (
                f"""
      SELECT processor, day, currency, outcome, NULL::integer, attempts, amount
      FROM payments_attemptrollup
      WHERE account_id = %s AND livemode = %s AND day >= %s AND day < %s{flow}""",
                days,
            )
        )
        latencies.append(
            (
                f"""
      SELECT processor, day, NULL, NULL, latency_ms, attempts, 0
      FROM payments_attemptlatencyrollup
      WHERE account_id = %s AND livemode = %s AND day >= %s AND day < %s{flow}""",
                days,
            )
        )
        live.append(attempts(first, last, open_only=True))
        if start < first:
            live.append(attempts(start, first))
        if last < end:
            live.append(attempts(last, end))
    else:
        live.append(attempts(start, end))

    def union(parts: list[tuple[str, list]]) -> str:
        return "\n      UNION ALL".join(sql for sql, _ in parts)

    live_sql = union(live)
    # the rollup's rows stream into each aggregate; the attempts, read once, feed both
    figures.append(("\n      SELECT * FROM a", []))
    latencies.append(("\n      SELECT * FROM a", []))
    params = [param for _, values in [*live, *figures, *latencies] for param in values]

    key_list = ", ".join(keys)
    counts = ",\n      ".join(
        f"COALESCE(SUM(n) FILTER (WHERE outcome = '{outcome}'), 0)::bigint AS {name}"
        for name, outcome in COUNTS.items()
    )
    neighbours = ",\n      ".join(
        f"MIN(latency_ms) FILTER (WHERE upto > FLOOR({fraction} * (timed - 1))) AS {name}_lo, "
        f"MIN(latency_ms) FILTER (WHERE upto > CEIL({fraction} * (timed - 1))) AS {name}_hi"
        for name, fraction in PERCENTILES.items()
    )
    shown = ", ".join(f"p.{name}_lo, p.{name}_hi" for name in PERCENTILES)
    joined = " AND ".join(f"p.{key} = g.{key}" for key in keys)
    aggregate = f"""
    WITH a (processor, day, currency, outcome, latency_ms, n, amount) AS ({live_sql}
    ), g AS (
      SELECT {key_list}, currency, GROUPING(currency) AS all_currencies,
        SUM(n)::bigint AS attempts,
        {counts},
        COALESCE(SUM(amount) FILTER (WHERE outcome = 'succeeded'), 0)::bigint AS volume
      FROM ({union(figures)}
      ) AS src (processor, day, currency, outcome, latency_ms, n, amount)
      GROUP BY GROUPING SETS (({key_list}), ({key_list}, currency))
    ), hist AS (
      SELECT {key_list}, latency_ms, SUM(n) AS n
      FROM ({union(latencies)}
      ) AS src (processor, day, currency, outcome, latency_ms, n, amount)
      WHERE latency_ms IS NOT NULL
      GROUP BY {key_list}, latency_ms
    ), running AS (
      SELECT {key_list}, latency_ms,
        SUM(n) OVER (PARTITION BY {key_list} ORDER BY latency_ms) AS upto,
        SUM(n) OVER (PARTITION BY {key_list}) AS timed
      FROM hist
    ), p AS (
      SELECT {key_list}, timed::bigint AS timed,
      {neighbours}
      FROM running GROUP BY {key_list}, timed
    )
    SELECT g.*, p.timed, {shown}
    FROM g LEFT JOIN p ON g.all_currencies = 1 AND {joined}"""
    if "processor" not in keys:
        return f"SELECT a.*, NULL AS name FROM ({aggregate}\n    ) AS a", params
    sql = f"""SELECT a.*, c.name FROM ({aggregate}
    ) AS a
    LEFT JOIN routing_processorconnection AS c
      ON c.id = a.processor AND c.account_id = %s AND c.livemode = %s"""
    return sql, [*params, *account]


def _percentile(fraction: float, timed: int | None, lo: int | None, hi: int | None):
    """`percentile_cont(fraction)` of `timed` latencies whose values at the two positions
    around fraction × (timed - 1) are `lo` and `hi`, computed as PostgreSQL computes it."""
    if not timed or lo is None or hi is None:
        return None
    position = fraction * (timed - 1)
    return lo + (hi - lo) * (position - math.floor(position))


def _postgres(scope, start, end, payment_flow, keys) -> tuple[dict, dict]:
    """The rows and the recovered charges, read in one transaction."""
    sql, params = insights_query(
        scope, start, end, payment_flow, keys, rollup=settings.PROCESSOR_INSIGHTS_ROLLUP
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compiling the aggregate costs more than it saves (seconds at millions of rows);
        # the histogram's hashing and sorting get memory instead of temporary files
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        result = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        recovered = _recovered(scope, start, end, payment_flow)
    rows: dict = {}
    for found in result:
        if "day" in found:
            found["day"] = found["day"].isoformat()
        key = tuple(found[k] for k in keys)
        row = rows.get(key)
        if row is None:
            row = rows[key] = _row() | dict(zip(keys, key, strict=True))
        if found["all_currencies"]:  # the row's totals (not grouped by currency)
            row["name"] = found["name"]
            row["attempts"] = found["attempts"]
            for name in COUNTS:
                row[name] = found[name]
            row["latency"] = {
                name: _percentile(
                    fraction, found["timed"], found[f"{name}_lo"], found[f"{name}_hi"]
                )
                for name, fraction in PERCENTILES.items()
            }
        elif found["succeeded"] and found["currency"]:
            row["volume"][found["currency"]] += found["volume"]
    return rows, recovered
