"""Checkout insights: the funnel, inactivity, recovery and money of the caller's checkouts
started in a window, in total and per bucket (`group_by`).

Every figure comes from the checkout rows themselves (one timestamp per funnel step, the last
activity, the completion, the was-inactive flag), never from a scan of events:

- PostgreSQL: ONE aggregate query: `COUNT(*) FILTER (…)`, `SUM(…) FILTER (…)`, `date_trunc`
  on `created AT TIME ZONE tz` for day and week buckets, and two hashable `GROUPING SETS` —
  (bucket, currency, decline code) for every additive figure, (bucket, whole seconds to
  complete) for the exact median — so one scan answers everything (hashed when the planner
  expects few groups, sorted otherwise); the
  buckets, the total and the money per currency are added up from its few hundred rows here.
  The covering index `chk_insights_idx` (account, livemode, created) INCLUDE (the columns the
  query reads) lets PostgreSQL read a window that is a small part of the table by an
  index-only scan.
- SQLite (the development default): the same figures computed in Python over the window's rows
  (one query, then a loop) — slower, identical by definition; tests check both against figures
  worked out by hand.

Definitions. A checkout *reached* a funnel step when it reached it or any later one (so the
funnel never widens: a page without a shipping form still counts as past shipping once it is
paying). `inactive`: inactive as shown now (written, or left alone past
CHECKOUT_INACTIVE_SECONDS); `abandoned`: inactive with its last activity older than
CHECKOUT_ABANDONED_SECONDS; `recovered`: completed after having been inactive. Money is per
currency: `completed_amount` of completed checkouts, `lost_amount` of inactive (and so
abandoned) ones, `recovered_amount` of the recovered ones, `declined_attempts` of linked payments, and the top decline codes counted per
checkout by its latest decline. `median_seconds_to_complete`: from start to completion.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.scope import Scope

from .models import Checkout, Status

GROUP_BY = ("day", "week", "currency", "country", "payment_flow", "source")
DEFAULT_WINDOW = timedelta(days=30)
TOP_DECLINE_CODES = 3
FUNNEL = (
    "started",
    "active",
    "shipping_completed",
    "delivery_completed",
    "billing_completed",
    "payment_attempted",
    "completed",
)
# The funnel column of each step after `started`, in order (a step is reached when its column
# or any later one is set).
FUNNEL_COLUMNS = (
    "active_at",
    "shipping_completed_at",
    "delivery_completed_at",
    "billing_completed_at",
    "payment_attempted_at",
    "completed_at",
)
COUNTS = (*FUNNEL, "inactive", "abandoned", "recovered")


def insights_timezone(name: str | None) -> ZoneInfo | None:
    """The IANA zone `name` (None when it is not one)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class Window:
    gte: datetime
    lt: datetime

    @classmethod
    def of(cls, gte: int | None, lt: int | None, now: datetime) -> Window:
        end = datetime.fromtimestamp(lt, tz=UTC) if lt is not None else now
        start = datetime.fromtimestamp(gte, tz=UTC) if gte is not None else end - DEFAULT_WINDOW
        return cls(start, end)


def checkout_insights(
    *,
    scope: Scope,
    gte: int | None = None,
    lt: int | None = None,
    group_by: str | None = None,
    tz: str | None = None,
    payment_flow: str | None = None,
    country: str | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> dict:
    """The insights answer (see the module docstring). `payment_flow`, `country` and `source`
    narrow the rows (the console's filters)."""
    now = now or timezone.now()
    tz = tz or "UTC"
    window = Window.of(gte, lt, now)
    filters = {"payment_flow": payment_flow, "country": country, "source": source}
    filters = {k: v for k, v in filters.items() if v}
    compute = _postgres if connection.vendor == "postgresql" else _python
    total, buckets = compute(scope, window, group_by, tz, filters, now)
    return {
        "object": "checkout_insights",
        "livemode": scope.livemode,
        "created": {"gte": int(window.gte.timestamp()), "lt": int(window.lt.timestamp())},
        "group_by": group_by,
        "tz": tz,
        "total": _present(total),
        "data": [
            {"bucket": key, **_present(agg)}
            for key, agg in sorted(buckets.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
        ],
    }


# --- the aggregate of a set of rows, and how it is shown ------------------------------------


def _agg() -> dict:
    return {
        "counts": dict.fromkeys(COUNTS, 0),
        "median": None,
        "money": defaultdict(
            lambda: {
                "completed_amount": 0,
                "lost_amount": 0,
                "recovered_amount": 0,
                "declined_attempts": 0,
                "codes": defaultdict(int),
            }
        ),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _present(agg: dict) -> dict:
    counts = agg["counts"]
    steps = FUNNEL[1:]
    previous = dict(zip(steps, FUNNEL[:-1], strict=True))
    median = agg["median"]
    return {
        **{name: counts[name] for name in FUNNEL},
        "conversion_rate": _rate(counts["completed"], counts["started"]),
        "step_conversion": {s: _rate(counts[s], counts[previous[s]]) for s in steps},
        "drop_off": {s: counts[previous[s]] - counts[s] for s in steps},
        "inactive": counts["inactive"],
        "abandoned": counts["abandoned"],
        "recovered": counts["recovered"],
        "money": [
            {
                "currency": currency,
                "completed_amount": int(m["completed_amount"]),
                "lost_amount": int(m["lost_amount"]),
                "recovered_amount": int(m["recovered_amount"]),
                "declined_attempts": int(m["declined_attempts"]),
                "top_decline_codes": [
                    {"code": code, "count": n}
                    for code, n in sorted(m["codes"].items(), key=lambda cn: (-cn[1], cn[0]))[
                        :TOP_DECLINE_CODES
                    ]
                ],
            }
            for currency, m in sorted(agg["money"].items())
        ],
        "median_seconds_to_complete": int(round(median)) if median is not None else None,
    }


def _cutoffs(now: datetime) -> tuple[datetime, datetime]:
    return (
        now - timedelta(seconds=settings.CHECKOUT_INACTIVE_SECONDS),
        now - timedelta(seconds=settings.CHECKOUT_ABANDONED_SECONDS),
    )


# --- SQLite (and any database): Python over the window's rows -------------------------------


def _bucket_of(row: dict, group_by: str | None, zone: ZoneInfo):
    if group_by in ("day", "week"):
        day = row["created"].astimezone(zone).date()
        if group_by == "week":
            day = day - timedelta(days=day.weekday())
        return day.isoformat()
    return row[group_by]


_TOTAL = object()


def _python(scope, window, group_by, tz, filters, now):
    inactive_cutoff, abandoned_cutoff = _cutoffs(now)
    zone = insights_timezone(tz)
    columns = (
        "created",
        "status",
        "currency",
        "amount",
        "country",
        "payment_flow",
        "source",
        "last_activity_at",
        "was_inactive",
        "declined_attempts",
        "last_decline_code",
        *FUNNEL_COLUMNS,
    )
    rows = Checkout.objects.filter(
        **scope.filters, created__gte=window.gte, created__lt=window.lt, **filters
    ).values(*columns)
    total = _agg()
    buckets: dict = defaultdict(_agg)
    durations: dict = defaultdict(list)
    for row in rows.iterator(chunk_size=5000):
        targets = [(_TOTAL, total)]
        if group_by:
            key = _bucket_of(row, group_by, zone)
            targets.append((key, buckets[key]))
        inactive = row["status"] == Status.INACTIVE or (
            row["status"] in (Status.INTENT, Status.ACTIVE)
            and row["last_activity_at"] <= inactive_cutoff
        )
        reached = []
        for index in range(len(FUNNEL_COLUMNS)):
            reached.append(any(row[c] is not None for c in FUNNEL_COLUMNS[index:]))
        completed = row["completed_at"] is not None
        for key, agg in targets:
            counts = agg["counts"]
            counts["started"] += 1
            for name, hit in zip(FUNNEL[1:], reached, strict=True):
                counts[name] += hit
            counts["inactive"] += inactive
            counts["abandoned"] += inactive and row["last_activity_at"] <= abandoned_cutoff
            counts["recovered"] += completed and row["was_inactive"]
            if completed:
                seconds = (row["completed_at"] - row["created"]).total_seconds()
                durations[key].append(math.floor(seconds))
            if row["currency"]:
                money = agg["money"][row["currency"]]
                amount = row["amount"] or 0
                money["completed_amount"] += amount if completed else 0
                money["lost_amount"] += amount if inactive else 0
                money["recovered_amount"] += amount if completed and row["was_inactive"] else 0
                money["declined_attempts"] += row["declined_attempts"]
                if row["last_decline_code"]:
                    money["codes"][row["last_decline_code"]] += 1
    for key, values in durations.items():
        (total if key is _TOTAL else buckets[key])["median"] = statistics.median(values)
    return total, dict(buckets)


# --- PostgreSQL: one aggregate query --------------------------------------------------------

_BUCKET_SQL = {
    None: "NULL::text",
    "day": "date_trunc('day', created AT TIME ZONE %s)::date::text",
    "week": "date_trunc('week', created AT TIME ZONE %s)::date::text",
    "currency": "currency",
    "country": "country",
    "payment_flow": "payment_flow",
    "source": "source",
}


def _reached_sql(index: int) -> str:
    return f"COALESCE({', '.join(FUNNEL_COLUMNS[index:])}) IS NOT NULL"


def insights_sql(group_by: str | None, filters: dict) -> str:
    """The one query (parameters: `insights_params`); public for the benchmark's EXPLAIN.

    Two grouping sets, both hashable, so PostgreSQL answers in one scan with hash aggregation
    and no sort: `(bucket, currency, code)` carries every additive figure (counts and sums,
    rolled up to buckets and the total in Python), `(bucket, seconds)` a histogram of whole
    seconds to completion, from which the median is exact."""
    reached = ",\n      ".join(
        f"COUNT(*) FILTER (WHERE {_reached_sql(i)}) AS {name}" for i, name in enumerate(FUNNEL[1:])
    )
    where = "".join(f" AND {column} = %s" for column in filters)
    return f"""
    SELECT
      GROUPING(seconds) AS g_seconds, bucket, currency, code, seconds,
      COUNT(*) AS started,
      {reached},
      COUNT(*) FILTER (WHERE inactive_now) AS inactive,
      COUNT(*) FILTER (WHERE inactive_now AND last_activity_at <= %s) AS abandoned,
      COUNT(*) FILTER (WHERE completed_at IS NOT NULL AND was_inactive) AS recovered,
      COALESCE(SUM(amount) FILTER (WHERE completed_at IS NOT NULL), 0) AS completed_amount,
      COALESCE(SUM(amount) FILTER (WHERE inactive_now), 0) AS lost_amount,
      COALESCE(SUM(amount) FILTER (WHERE completed_at IS NOT NULL AND was_inactive), 0)
        AS recovered_amount,
      COALESCE(SUM(declined_attempts), 0) AS declined_attempts
    FROM (
      SELECT {_BUCKET_SQL[group_by]} AS bucket, currency, last_decline_code AS code, amount,
        last_activity_at, was_inactive, declined_attempts, {", ".join(FUNNEL_COLUMNS)},
        FLOOR(EXTRACT(EPOCH FROM completed_at - created))::bigint AS seconds,
        (status = 'inactive' OR (status IN ('intent', 'active') AND last_activity_at <= %s))
          AS inactive_now
      FROM checkouts_checkout
      WHERE account_id = %s AND livemode = %s AND created >= %s AND created < %s{where}
    ) AS rows
    GROUP BY GROUPING SETS ((bucket, currency, code), (bucket, seconds))
    """


def insights_params(scope, window, group_by, tz, filters, now) -> list:
    inactive_cutoff, abandoned_cutoff = _cutoffs(now)
    params: list = [abandoned_cutoff]
    if group_by in ("day", "week"):
        params.append(tz)
    params += [inactive_cutoff, scope.account_id, scope.livemode, window.gte, window.lt]
    return params + list(filters.values())


def _postgres(scope, window, group_by, tz, filters, now):
    sql = insights_sql(group_by, filters)
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compiling this query's expressions costs more than it saves (seconds at a
        # million rows); the sort of the histogram set gets memory instead of temp files.
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, insights_params(scope, window, group_by, tz, filters, now))
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    total = _agg()
    buckets: dict = defaultdict(_agg)
    histograms: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        targets = [(_TOTAL, total)] + (
            [(row["bucket"], buckets[row["bucket"]])] if group_by else []
        )
        for key, agg in targets:
            if row["g_seconds"] == 0:  # the histogram of seconds to completion
                if row["seconds"] is not None:
                    histograms[key][row["seconds"]] += row["started"]
                continue
            for name in COUNTS:
                agg["counts"][name] += row[name]
            if row["currency"] is None:
                continue  # checkouts without an amount have no money to count
            money = agg["money"][row["currency"]]
            for name in (
                "completed_amount",
                "lost_amount",
                "recovered_amount",
                "declined_attempts",
            ):
                money[name] += row[name]
            if row["code"] is not None:
                money["codes"][row["code"]] += row["started"]
    for key, histogram in histograms.items():
        (total if key is _TOTAL else buckets[key])["median"] = _median(histogram)
    return total, dict(buckets)


def _median(histogram: dict[int, int]) -> float | None:
    """The median of the values a histogram {value: count} counts (the mean of the two middle
    ones for an even count), exactly as `statistics.median` of the values."""
    n = sum(histogram.values())
    if not n:
        return None
    wanted = {(n - 1) // 2, n // 2}
    found, seen = [], 0
    for value in sorted(histogram):
        count = histogram[value]
        found += [value for position in sorted(wanted) if seen <= position < seen + count]
        seen += count
    return sum(found) / len(found)
