"""Checkout insights: the funnel, inactivity, recovery and money of the caller's checkouts
started in a window, in total and per bucket (`group_by`).

Every figure comes from the checkout rows themselves (one timestamp per funnel step, the last
activity, the completion, the was-inactive flag), never from a scan of events:

ONE aggregate query: `COUNT(*) FILTER (…)`, `SUM(…) FILTER (…)`, `date_trunc`
  on `created AT TIME ZONE tz` for day and week buckets, and two hashable `GROUPING SETS` —
  (bucket, currency, decline code) for every additive figure, (bucket, whole seconds to
  complete) for the exact median — so one scan answers everything (hashed when the planner
  expects few groups, sorted otherwise); the
  buckets, the total and the money per currency are added up from its few hundred rows here.
  The covering index `chk_insights_idx` (account, livemode, created) INCLUDE (the columns the
  query reads) lets PostgreSQL read a window that is a small part of the table by an
  index-only scan.

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

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from core.scope import Scope

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
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a name too long
        return None


@dataclass(frozen=True)
class Window:
    gte: datetime
    lt: datetime

    @classmethod
    def of(cls, gte: int | None, lt: int | None, now: datetime) -> Window:
        """The window asked for, its bounds no later than `LATEST` (the answer says so)."""
        end = datetime.fromtimestamp(lt, tz=UTC) if lt is not None else now
        start = datetime.fromtimestamp(gte, tz=UTC) if gte is not None else end - DEFAULT_WINDOW
        return cls(min(start, LATEST), min(end, LATEST))


# The latest bound a window takes: a day before the last instant datetime holds, so that a
# bucket's quarter hour, its hour and its local day in any zone (UTC+14 at most) are all
# within it (9999-12-31T23:59:59Z, the largest timestamp taken, once answered 500).
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


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
    total, buckets = _postgres(scope, window, group_by, tz, filters, now)
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


_TOTAL = object()


# --- PostgreSQL: one statement, two parallel aggregates ------------------------------------

_BUCKET_COLUMN = {None: "0", "currency": "currency", "country": "country"}
_BUCKET_COLUMN |= {"payment_flow": "payment_flow", "source": "source"}
_STEP = timedelta(hours=1)
_QUARTER = timedelta(minutes=15)


def time_buckets(window: Window, group_by: str, zone: ZoneInfo) -> tuple[list, list[str]]:
    """The day (or week) buckets of `window` in `zone` as thresholds: the UTC instants where the
    local day (week) changes, from the start of the first, and each bucket's label (the local
    date; a week's Monday), exactly as a row's local date (its Monday for a week) labels it. Every zone's offsets and
    transitions fall on a quarter hour, so the walk goes by the hour and finds a change's
    quarter hour within it; a clock set back over midnight gives two thresholds one label. The walk
    starts at the quarter hour of the window's start, so the first label is the start's own day."""

    def label(at: datetime) -> str:
        day = at.astimezone(zone).date()
        return (day - timedelta(days=day.weekday()) if group_by == "week" else day).isoformat()

    at = _quarter(window.gte, up=False)  # not the hour: in Kolkata that can be the day before
    thresholds, labels = [at], [label(at)]
    while at < window.lt:
        nxt = at + _STEP
        if label(nxt) != labels[-1] or label(nxt - _QUARTER) != labels[-1]:
            quarter = at + _QUARTER
            while quarter <= nxt and quarter < window.lt:  # never a bucket after the window
                if label(quarter) != labels[-1]:
                    thresholds.append(quarter)
                    labels.append(label(quarter))
                quarter += _QUARTER
        at = nxt
    return thresholds, labels


# The additive figures, in the order of `figures_sql` and of the rollup's columns.
FIGURES = (
    *COUNTS,
    "completed_amount",
    "lost_amount",
    "recovered_amount",
    "declined_attempts",
)
INACTIVE_NOW = (
    "(status = 'inactive' OR (status IN ('intent', 'active') AND last_activity_at <= %s))"
)


def figures_sql(now: datetime) -> tuple[str, list]:
    """The select list of the additive figures of a set of checkout rows as read at `now`, and
    its parameters: the live aggregate, the rollup and its undoing all compute them with it."""
    inactive_cutoff, abandoned_cutoff = _cutoffs(now)
    reached = [
        f"COUNT(*) FILTER (WHERE {_reached_sql(i)}) AS {name}" for i, name in enumerate(FUNNEL[1:])
    ]
    sql = ",\n      ".join(
        [
            "COUNT(*) AS started",
            *reached,
            f"COUNT(*) FILTER (WHERE {INACTIVE_NOW}) AS inactive",
            f"COUNT(*) FILTER (WHERE {INACTIVE_NOW} AND last_activity_at <= %s) AS abandoned",
            "COUNT(*) FILTER (WHERE completed_at IS NOT NULL AND was_inactive) AS recovered",
            "COALESCE(SUM(amount) FILTER (WHERE completed_at IS NOT NULL), 0) AS completed_amount",
            f"COALESCE(SUM(amount) FILTER (WHERE {INACTIVE_NOW}), 0) AS lost_amount",
            "COALESCE(SUM(amount) FILTER (WHERE completed_at IS NOT NULL AND was_inactive), 0)"
            " AS recovered_amount",
            "COALESCE(SUM(declined_attempts), 0) AS declined_attempts",
        ]
    )
    return sql, [inactive_cutoff, inactive_cutoff, abandoned_cutoff, inactive_cutoff]


def _quarter(at: datetime, *, up: bool) -> datetime:
    """The quarter hour (of UTC, so of every zone) at or before `at`, or at or after it."""
    at = at.astimezone(UTC)
    floor = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    return floor + _QUARTER if up and floor < at else floor


def insights_query(
    scope, window, group_by, tz, filters, now, *, rollup: bool | None = None
) -> tuple[str, list, list | None]:
    """The one statement, its parameters and the labels of time buckets (None otherwise);
    public for the benchmark's EXPLAIN.

    Plain GROUP BYs joined by UNION ALL (grouping sets cannot be split across workers, and a
    sort of a million rows was most of an earlier query's time), each summed up here:

    - the rollup (`CheckoutRollup`, `checkouts/rollup.py`): the figures of the rows that can no
      longer change, per quarter hour, for the whole quarter hours of the window (every zone's
      day starts on a quarter hour, Asia/Kolkata's and Asia/Kathmandu's too); the narrow one
      (`CheckoutQuarterRollup`, per currency and decline code only) for the total and time
      buckets without a filter;
    - the rows aggregated live: those not rolled up (a covering partial index holds them, read
      index-only), and every row
      of the partial quarter hours at the window's edges — or every row of the window when
      `CHECKOUT_INSIGHTS_ROLLUP` is off, as a parallel hash aggregation;
    - a histogram of whole seconds to completion by bucket, from which the median is exact: the
      rollup's (`CheckoutCompletionRollup`) for the whole quarter hours plus the completed rows
      aggregated live as above, when there is no filter and no grouping by a column; otherwise
      over every completed row of the window (the narrow partial index `chk_completed_idx`,
      read index-only).

    A day or week bucket is the index of `created` (or the rollup's quarter hour) among the bucket
    thresholds (`width_bucket`, a binary search), computed once in Python for the zone instead
    of a time-zone conversion per row; on the checkout rows it is joined to the list of bucket
    numbers so that the planner knows how few groups there are (it would otherwise expect one
    per distinct `created` and give up on parallel aggregation)."""
    rollup = settings.CHECKOUT_INSIGHTS_ROLLUP if rollup is None else rollup
    figures, figure_params = figures_sql(now)
    labels = None
    whole_quarters = True
    if group_by in ("day", "week"):
        thresholds, labels = time_buckets(window, group_by, insights_timezone(tz))
        whole_quarters = all(at.minute % 15 == 0 and at.second == 0 for at in thresholds)
        numbers = ", ".join(f"({n})" for n in range(1, len(thresholds) + 1))
        # (an array literal: the driver's client-side binding would not make a list an array)
        array = "{" + ",".join(at.isoformat() for at in thresholds) + "}"
        join = f" JOIN (VALUES {numbers}) AS b(n) ON b.n = width_bucket(created, %s::timestamptz[])"
        bucket, join_params = "b.n", [array]
        rollup_bucket, rollup_params = "width_bucket(quarter, %s::timestamptz[])", [array]
    else:
        bucket, join, join_params = _BUCKET_COLUMN[group_by], "", []
        rollup_bucket = f"NULLIF({bucket}, '')" if group_by else "0"
        rollup_params = []
    first, last = _quarter(window.gte, up=True), _quarter(window.lt, up=False)
    rollup = rollup and whole_quarters and first < last
    scoped = "account_id = %s AND livemode = %s"
    scope_params = [scope.account_id, scope.livemode]
    narrowed = "".join(f" AND {column} = %s" for column in filters)

    def live(condition: str, params: list) -> tuple[str, list]:
        sql = f"""
    SELECT 0 AS part, {bucket} AS bucket, currency, last_decline_code AS code,
      NULL::bigint AS seconds,
      {figures}
    FROM checkouts_checkout{join}
    WHERE {scoped} AND {condition}{narrowed}
    GROUP BY 2, currency, last_decline_code"""
        return sql, [*figure_params, *join_params, *scope_params, *params, *filters.values()]

    between = "created >= %s AND created < %s"
    if rollup:
        parts = [
            live(f"NOT rolled_up AND {between}", [window.gte, window.lt]),
            live(f"rolled_up AND {between}", [window.gte, first]),
            live(f"rolled_up AND {between}", [last, window.lt]),
        ]
        sums = ", ".join(f"SUM({name})::bigint" for name in FIGURES)
        # Without a filter or a column to group by, the narrow rollup (no country, flow or
        # source: a fraction of the rows) holds every figure needed.
        narrow = group_by in (None, "day", "week") and not filters
        table = "checkouts_checkoutquarterrollup" if narrow else "checkouts_checkoutrollup"
        parts.append(
            (
                f"""
    SELECT 0, {rollup_bucket}, NULLIF(currency, ''), NULLIF(code, ''), NULL::bigint, {sums}
    FROM {table}
    WHERE {scoped} AND quarter >= %s AND quarter < %s{narrowed}
    GROUP BY 2, 3, 4
    HAVING SUM(started) > 0""",
                [*rollup_params, *scope_params, first, last, *filters.values()],
            )
        )
    else:
        parts = [live(between, [window.gte, window.lt])]
    zeros = ", ".join(["0"] * (len(FIGURES) - 1))

    def timed(condition: str, params: list) -> tuple[str, list]:
        sql = f"""
    SELECT 1, {bucket}, NULL, NULL, FLOOR(EXTRACT(EPOCH FROM completed_at - created))::bigint,
      COUNT(*), {zeros}
    FROM checkouts_checkout{join}
    WHERE {scoped} AND {condition}{narrowed} AND completed_at IS NOT NULL
    GROUP BY 2, 5"""
        return sql, [*join_params, *scope_params, *params, *filters.values()]

    # The histogram's rollup has no column to group or filter by: it answers the total and time
    # buckets without filters.
    if rollup and group_by in (None, "day", "week") and not filters:
        parts += [
            timed(f"NOT rolled_up AND {between}", [window.gte, window.lt]),
            timed(f"rolled_up AND {between}", [window.gte, first]),
            timed(f"rolled_up AND {between}", [last, window.lt]),
            (
                f"""
    SELECT 1, {rollup_bucket}, NULL, NULL, seconds, SUM(completed)::bigint, {zeros}
    FROM checkouts_checkoutcompletionrollup
    WHERE {scoped} AND quarter >= %s AND quarter < %s
    GROUP BY 2, 5
    HAVING SUM(completed) > 0""",
                [*rollup_params, *scope_params, first, last],
            ),
        ]
    else:
        parts.append(timed(between, [window.gte, window.lt]))
    sql = "\n    UNION ALL".join(part for part, _ in parts)
    return sql, [param for _, params in parts for param in params], labels


def _postgres(scope, window, group_by, tz, filters, now):
    sql, params, labels = insights_query(scope, window, group_by, tz, filters, now)
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compiling this query's expressions costs more than it saves (seconds at a
        # million rows); hashing gets memory instead of temp files.
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    total = _agg()
    buckets: dict = defaultdict(_agg)
    histograms: dict = defaultdict(lambda: defaultdict(int))
    for row in rows:
        key = labels[row["bucket"] - 1] if labels is not None else row["bucket"]
        targets = [(_TOTAL, total)] + ([(key, buckets[key])] if group_by else [])
        for key, agg in targets:
            if row["part"] == 1:  # the histogram of seconds to completion
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


def _reached_sql(index: int) -> str:
    return f"COALESCE({', '.join(FUNNEL_COLUMNS[index:])}) IS NOT NULL"


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
