"""The checkout insights worked out the slow, obvious way, as the tests' oracle: every row of the
window read into Python and counted in a loop. `checkouts.insights` answers in one PostgreSQL
statement (and from its rollup); `test_insights_paths` puts this in place of that statement
(`monkeypatch.setattr(insights, "_postgres", python_insights)`) and compares the answers."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

from checkouts import insights
from checkouts.models import Checkout, Status

TOTAL = object()


def bucket_of(row: dict, group_by: str | None, zone: ZoneInfo):
    if group_by in ("day", "week"):
        day = row["created"].astimezone(zone).date()
        if group_by == "week":
            day = day - timedelta(days=day.weekday())
        return day.isoformat()
    return row[group_by]


def python_insights(scope, window, group_by, tz, filters, now):
    inactive_cutoff, abandoned_cutoff = insights._cutoffs(now)
    zone = insights.insights_timezone(tz)
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
        *insights.FUNNEL_COLUMNS,
    )
    rows = Checkout.objects.filter(
        **scope.filters, created__gte=window.gte, created__lt=window.lt, **filters
    ).values(*columns)
    total = insights._agg()
    buckets: dict = defaultdict(insights._agg)
    durations: dict = defaultdict(list)
    for row in rows.iterator(chunk_size=5000):
        targets = [(TOTAL, total)]
        if group_by:
            key = bucket_of(row, group_by, zone)
            targets.append((key, buckets[key]))
        inactive = row["status"] == Status.INACTIVE or (
            row["status"] in (Status.INTENT, Status.ACTIVE)
            and row["last_activity_at"] <= inactive_cutoff
        )
        reached = []
        for index in range(len(insights.FUNNEL_COLUMNS)):
            reached.append(any(row[c] is not None for c in insights.FUNNEL_COLUMNS[index:]))
        completed = row["completed_at"] is not None
        for key, agg in targets:
            counts = agg["counts"]
            counts["started"] += 1
            for name, hit in zip(insights.FUNNEL[1:], reached, strict=True):
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
        (total if key is TOTAL else buckets[key])["median"] = statistics.median(values)
    return total, dict(buckets)
