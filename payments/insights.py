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

ONE aggregate statement for the rows (`GROUPING SETS`: per row for the counts and percentiles,
per row and currency for the volume; the connection's name joined to the result) and one for
`recovered`; the tests check it against figures worked out by hand.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import connection
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
    rows = _postgres(scope, start, end, payment_flow or None, KEYS[group_by])
    return {
        "object": "processor_insights",
        "livemode": scope.livemode,
        "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
        "group_by": group_by,
        "payment_flow": payment_flow or None,
        "data": [_present(row, KEYS[group_by]) for row in _ordered(rows, group_by)],
        "recovered": _recovered(scope, start, end, payment_flow or None),
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


def insights_query(scope, start, end, payment_flow, keys) -> tuple[str, list]:
    """The one statement and its parameters (public for an EXPLAIN).

    The window's authorisation attempts (the partial index `attempt_insights_idx`), aggregated
    by two grouping sets: the row's keys (every count, the percentiles), and the keys with the
    currency (the succeeded volume per currency), told apart by `GROUPING(currency)`; the
    connection's name is joined to the aggregated rows (of the caller's scope only)."""
    key_list = ", ".join(keys)
    counts = ",\n      ".join(
        f"COUNT(*) FILTER (WHERE outcome = '{outcome}') AS {name}"
        for name, outcome in COUNTS.items()
    )
    percentiles = ",\n      ".join(
        f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY latency_ms) AS {name}"
        for name, fraction in PERCENTILES.items()
    )
    flow = " AND payment_flow = %s" if payment_flow else ""
    aggregate = f"""
    SELECT {key_list}, currency, GROUPING(currency) AS all_currencies,
      COUNT(*) AS attempts,
      {counts},
      {percentiles},
      COALESCE(SUM(amount) FILTER (WHERE outcome = 'succeeded'), 0)::bigint AS volume
    FROM (
      SELECT processor, (created AT TIME ZONE 'UTC')::date AS day, outcome, latency_ms,
        amount, currency
      FROM payments_attempt
      WHERE account_id = %s AND livemode = %s AND outcome <> ''
        AND created >= %s AND created < %s{flow}
    ) AS a
    GROUP BY GROUPING SETS (({key_list}), ({key_list}, currency))"""
    params: list = [scope.account_id, scope.livemode, start, end]
    if payment_flow:
        params.append(payment_flow)
    if "processor" not in keys:
        return f"SELECT g.*, NULL AS name FROM ({aggregate}\n    ) AS g", params
    sql = f"""SELECT g.*, c.name FROM ({aggregate}
    ) AS g
    LEFT JOIN routing_processorconnection AS c
      ON c.id = g.processor AND c.account_id = %s AND c.livemode = %s"""
    return sql, [*params, scope.account_id, scope.livemode]


def _postgres(scope, start, end, payment_flow, keys) -> dict:
    sql, params = insights_query(scope, start, end, payment_flow, keys)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        result = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
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
            row["latency"] = {name: found[name] for name in PERCENTILES}
        elif found["succeeded"] and found["currency"]:
            row["volume"][found["currency"]] += found["volume"]
    return rows
