"""GET /v1/checkout_insights on a known data set whose every figure is worked out by hand here.
PostgreSQL answers in one aggregate query; tests/checkouts/test_insights_paths.py compares it with
the figures counted row by row on a random month."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import CheckoutFactory
from tests.helpers import StripeTestClient

URL = "/v1/checkout_insights"
NY = ZoneInfo("America/New_York")


@pytest.fixture
def data(acct, other_acct):
    """Seven checkouts of the account in test mode, started on two New York days (D and D+1)
    that are ONE day in UTC; plus rows that must not count (another account, live mode, older
    than the window)."""
    now = timezone.now()
    day = now.astimezone(NY).date() - timedelta(days=3)

    def at(days: int, hh: int, mm: int) -> datetime:
        return datetime.combine(day + timedelta(days=days), time(hh, mm), tzinfo=NY)

    def row(created, **fields):
        fields.setdefault("last_activity_at", created)
        return CheckoutFactory(account=acct.account, created=created, **fields)

    def funnel(created, upto: int, completed_after: int | None = None) -> dict:
        """Every funnel column up to `upto` (1 active … 5 payment attempted), a minute apart."""
        names = (
            "active_at",
            "shipping_completed_at",
            "delivery_completed_at",
            "billing_completed_at",
            "payment_attempted_at",
        )
        out = {n: created + timedelta(minutes=i + 1) for i, n in enumerate(names[:upto])}
        if completed_after is not None:
            out["completed_at"] = created + timedelta(seconds=completed_after)
            out["status"] = "complete"
        return out

    r1 = at(0, 22, 30)  # landed, never came back: inactive (abandoned)
    row(r1, amount=1000, currency="usd")
    r2 = at(0, 22, 40)  # shipping done, then written inactive by the sweep (abandoned)
    row(
        r2,
        amount=2000,
        currency="usd",
        status="inactive",
        was_inactive=True,
        last_activity_at=r2 + timedelta(minutes=10),
        **funnel(r2, 2),
    )
    r3 = at(1, 0, 30)  # everything, two declines, recovered after going inactive, 600 s
    row(
        r3,
        amount=3000,
        currency="usd",
        was_inactive=True,
        declined_attempts=2,
        last_decline_code="insufficient_funds",
        **funnel(r3, 5, completed_after=600),
    )
    r4 = at(1, 0, 40)  # everything, one decline, 300 s
    row(
        r4,
        amount=5000,
        currency="eur",
        declined_attempts=1,
        last_decline_code="card_declined",
        **funnel(r4, 5, completed_after=300),
    )
    r5 = at(1, 1, 0)  # delivery done, active a minute ago: neither inactive nor lost
    row(
        r5,
        amount=700,
        currency="eur",
        status="active",
        last_activity_at=now - timedelta(seconds=60),
        **funnel(r5, 3),
    )
    r6 = at(1, 2, 0)  # paid and declined, then quiet for an hour: inactive on read
    row(
        r6,
        amount=1500,
        currency="eur",
        status="active",
        active_at=r6,
        payment_attempted_at=r6 + timedelta(minutes=5),
        declined_attempts=1,
        last_decline_code="card_declined",
        last_activity_at=now - timedelta(hours=1),
    )
    r7 = at(1, 3, 0)  # no shipping form (a later step counts), completed in 900 s
    row(
        r7,
        amount=400,
        currency="usd",
        active_at=r7,
        billing_completed_at=r7 + timedelta(minutes=2),
        payment_attempted_at=r7 + timedelta(minutes=3),
        completed_at=r7 + timedelta(seconds=900),
        status="complete",
    )
    # none of these count
    CheckoutFactory(account=other_acct.account, created=r3, amount=9999, currency="usd")
    CheckoutFactory(account=acct.account, livemode=True, created=r3, amount=9999)
    CheckoutFactory(account=acct.account, created=now - timedelta(days=40), amount=9999)
    return {"day": day}


def _figures(
    funnel, conversion, steps, drops, inactive, abandoned, recovered, money, median
) -> dict:
    names = (
        "active",
        "shipping_completed",
        "delivery_completed",
        "billing_completed",
        "payment_attempted",
        "completed",
    )
    return {
        "started": funnel[0],
        **dict(zip(names, funnel[1:], strict=True)),
        "conversion_rate": conversion,
        "step_conversion": dict(zip(names, steps, strict=True)),
        "drop_off": dict(zip(names, drops, strict=True)),
        "inactive": inactive,
        "abandoned": abandoned,
        "recovered": recovered,
        "money": money,
        "median_seconds_to_complete": median,
    }


def _money(currency, completed, lost, declined, codes, recovered=0) -> dict:
    return {
        "currency": currency,
        "completed_amount": completed,
        "lost_amount": lost,
        "recovered_amount": recovered,
        "declined_attempts": declined,
        "top_decline_codes": [{"code": c, "count": n} for c, n in codes],
    }


USD_ALL = _money("usd", 3000 + 400, 1000 + 2000, 2, [("insufficient_funds", 1)], recovered=3000)
EUR_ALL = _money("eur", 5000, 1500, 1 + 1, [("card_declined", 2)])
TOTAL = _figures(
    funnel=[7, 6, 6, 5, 4, 4, 3],
    conversion=round(3 / 7, 4),
    steps=[round(6 / 7, 4), 1.0, round(5 / 6, 4), 0.8, 1.0, 0.75],
    drops=[1, 0, 1, 1, 0, 1],
    inactive=3,  # r1, r2, r6
    abandoned=2,  # r1, r2
    recovered=1,  # r3
    money=[EUR_ALL, USD_ALL],
    median=600,  # 300, 600, 900
)
DAY_0 = _figures(
    funnel=[2, 1, 1, 0, 0, 0, 0],
    conversion=0.0,
    steps=[0.5, 1.0, 0.0, None, None, None],
    drops=[1, 0, 1, 0, 0, 0],
    inactive=2,
    abandoned=2,
    recovered=0,
    money=[_money("usd", 0, 3000, 0, [])],
    median=None,
)
DAY_1 = _figures(
    funnel=[5, 5, 5, 5, 4, 4, 3],
    conversion=0.6,
    steps=[1.0, 1.0, 1.0, 0.8, 1.0, 0.75],
    drops=[0, 0, 0, 1, 0, 1],
    inactive=1,
    abandoned=0,
    recovered=1,
    money=[
        _money("eur", 5000, 1500, 2, [("card_declined", 2)]),
        _money("usd", 3400, 0, 2, [("insufficient_funds", 1)], recovered=3000),
    ],
    median=600,
)


def test_every_figure_by_day_in_new_york(client, data):
    response = client.get(URL, {"group_by": "day", "tz": "America/New_York"})
    assert response.status_code == 200, response
    body = response.json()
    assert body["object"] == "checkout_insights"
    assert body["group_by"] == "day" and body["tz"] == "America/New_York"
    assert body["total"] == TOTAL
    day = data["day"]
    assert [b["bucket"] for b in body["data"]] == [
        day.isoformat(),
        (day + timedelta(days=1)).isoformat(),
    ]
    assert {k: v for k, v in body["data"][0].items() if k != "bucket"} == DAY_0
    assert {k: v for k, v in body["data"][1].items() if k != "bucket"} == DAY_1
    assert body["created"]["lt"] - body["created"]["gte"] == 30 * 24 * 3600


def test_the_same_rows_are_one_day_in_utc(client, data):
    body = client.get(URL, {"group_by": "day"}).json()
    assert [b["bucket"] for b in body["data"]] == [(data["day"] + timedelta(days=1)).isoformat()]
    assert {k: v for k, v in body["data"][0].items() if k != "bucket"} == TOTAL


def test_grouped_by_currency_and_by_week(client, data):
    body = client.get(URL, {"group_by": "currency"}).json()
    assert [(b["bucket"], b["started"], b["completed"]) for b in body["data"]] == [
        ("eur", 3, 1),
        ("usd", 4, 2),
    ]
    weeks = client.get(URL, {"group_by": "week", "tz": "America/New_York"}).json()["data"]
    assert sum(b["started"] for b in weeks) == 7
    assert all(datetime.fromisoformat(b["bucket"]).weekday() == 0 for b in weeks)


def test_no_group_by_is_the_total_alone_and_the_window_is_honoured(client, data):
    body = client.get(URL).json()
    assert body["data"] == [] and body["total"] == TOTAL
    day1 = datetime.combine(data["day"] + timedelta(days=1), time(0, 0), tzinfo=NY)
    later = client.get(URL, {"created": {"gte": int(day1.timestamp())}}).json()
    assert later["total"] == DAY_1


def test_an_empty_window_is_zeros_with_no_rates(client, db):
    total = client.get(URL).json()["total"]
    assert total["started"] == 0 and total["conversion_rate"] is None
    assert total["money"] == [] and total["median_seconds_to_complete"] is None


@pytest.mark.parametrize(
    "params, param",
    [
        ({"group_by": "hour"}, "group_by"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"created": {"gte": "yesterday"}}, "created[gte]"),
        ({"created": {"gt": 1}}, "created[gt]"),
    ],
)
def test_bad_parameters_are_400s(client, db, params, param):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert response.error["param"] == param


def test_secret_keys_only_and_scoped(acct, other_acct, data):
    assert StripeTestClient(key=acct.pk).get(URL).status_code == 403
    theirs = StripeTestClient(key=other_acct.sk).get(URL).json()["total"]
    assert theirs["started"] == 1 and theirs["money"] == [_money("usd", 0, 0, 0, [])]
    live = StripeTestClient(key=acct.sk_live).get(URL).json()["total"]
    assert live["started"] == 1


def test_postgres_answers_in_one_aggregate_query(acct, data):
    from django.test.utils import CaptureQueriesContext

    from checkouts.insights import checkout_insights
    from core.scope import Scope

    with CaptureQueriesContext(connection) as ctx:
        answer = checkout_insights(scope=Scope(acct.id, False), group_by="day", tz="UTC")
    reads = [q["sql"] for q in ctx.captured_queries if "checkouts_checkout" in q["sql"]]
    assert len(reads) == 1  # one statement: its two aggregates joined by UNION ALL
    assert answer["total"] == TOTAL
