"""GET /v1/processor_insights: every figure of a ledger worked out by hand (per connection, per
UTC day, of one flow), the recovered charges, the window and its defaults, the caller's scope,
the statements it takes (one aggregate, one for the recovered), and the parameters it refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.scope import Scope
from payments.insights import processor_insights
from tests.factories import (
    AttemptFactory,
    ChargeFactory,
    PaymentFlowFactory,
    ProcessorConnectionFactory,
)

URL = "/v1/processor_insights"
DAY1 = datetime(2026, 3, 2, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
WINDOW = {
    "created": {"gte": int(DAY1.timestamp()), "lt": int((DAY2 + timedelta(days=1)).timestamp())}
}


def at(day: datetime, hour: int) -> datetime:
    return day + timedelta(hours=hour)


@pytest.fixture
def ledger(acct, other_acct):
    """Two connections and a legacy "simulated" attempt, over two days, some under flow f1;
    rows that must not count: outside the window, not an authorisation, another account,
    live mode."""
    account = acct.account
    alpha = ProcessorConnectionFactory(account=account, name="Alpha")
    beta = ProcessorConnectionFactory(account=account, name="Beta")
    flow = PaymentFlowFactory(account=account, name="Main")

    def attempt(processor, outcome, latency, amount=1000, currency="usd", *, when, flow_id=""):
        return AttemptFactory(
            account=account,
            processor=processor,
            outcome=outcome,
            latency_ms=latency,
            amount=amount,
            currency=currency,
            created=when,
            payment_flow=flow_id,
        )

    a, b, f = alpha.id, beta.id, flow.id
    # alpha, day 1
    attempt(a, "succeeded", 100, 1000, when=at(DAY1, 1), flow_id=f)
    attempt(a, "succeeded", 200, 500, "eur", when=at(DAY1, 2), flow_id=f)
    attempt(a, "soft_decline", 300, 700, when=at(DAY1, 3), flow_id=f)
    attempt(a, "hard_decline", 400, 800, when=at(DAY1, 4))
    attempt(a, "processor_error", 1000, 900, when=at(DAY1, 5))
    attempt(a, "requires_action", 50, 1000, when=at(DAY1, 23))
    # alpha, day 2
    attempt(a, "succeeded", 120, 2000, when=at(DAY2, 0), flow_id=f)
    attempt(a, "processing", None, 300, when=at(DAY2, 1))
    # beta
    attempt(b, "soft_decline", 10, 100, when=at(DAY1, 6), flow_id=f)
    attempt(b, "succeeded", 20, 3000, when=at(DAY1, 7), flow_id=f)
    attempt(b, "processor_error", 5000, 100, when=at(DAY2, 2))
    # an attempt made before connections existed
    attempt("simulated", "succeeded", None, 500, "jpy", when=at(DAY2, 3))

    # none of these count
    attempt(a, "succeeded", 1, 99, when=DAY1 - timedelta(seconds=1))
    attempt(a, "succeeded", 1, 99, when=DAY2 + timedelta(days=1))
    AttemptFactory(account=account, kind="capture", processor=a, outcome="", created=at(DAY1, 8))
    AttemptFactory(account=account, livemode=True, processor=a, created=at(DAY1, 9))
    stranger = ProcessorConnectionFactory(account=other_acct.account, name="Theirs")
    AttemptFactory(account=other_acct.account, processor=stranger.id, created=at(DAY1, 9))

    # recovered: succeeded on attempt 2 or later
    def charge(number, status="succeeded", amount=1500, currency="usd", **kw):
        kw.setdefault("account", account)
        kw.setdefault("created", at(DAY1, 10))
        return ChargeFactory(
            attempt_number=number,
            status=status,
            amount=amount,
            currency=currency,
            processor=kw.pop("processor", beta),
            **kw,
        )

    charge(2, payment_flow=f)
    charge(3, amount=700, currency="eur", processor=alpha, created=at(DAY2, 5))
    charge(1)
    charge(2, status="failed")
    charge(2, created=DAY1 - timedelta(hours=1))
    charge(2, account=other_acct.account, processor=stranger)
    return {"alpha": a, "beta": b, "flow": f}


def latency(p50, p95):
    return {"p50": p50, "p95": p95}


def test_per_processor_every_figure(client, ledger):
    response = client.get(URL, WINDOW)
    assert response.status_code == 200, response
    body = response.json()
    assert body["object"] == "processor_insights"
    assert body["livemode"] is False
    assert body["created"] == WINDOW["created"]
    assert body["group_by"] == "processor"
    assert body["payment_flow"] is None
    assert body["data"] == [
        {
            "processor": ledger["alpha"],
            "name": "Alpha",
            "attempts": 8,
            "succeeded": 3,
            "authorization_rate": 0.6,  # 3 / (3 + 1 soft + 1 hard)
            "soft_declines": 1,
            "hard_declines": 1,
            "processor_errors": 1,
            "requires_action": 1,
            "processing": 1,
            # 50 100 120 200 300 400 1000: the 4th; 400 + 0.7 × 600
            "latency_ms": latency(200, 820),
            "volume": [{"currency": "eur", "amount": 500}, {"currency": "usd", "amount": 3000}],
        },
        {
            "processor": ledger["beta"],
            "name": "Beta",
            "attempts": 3,
            "succeeded": 1,
            "authorization_rate": 0.5,
            "soft_declines": 1,
            "hard_declines": 0,
            "processor_errors": 1,
            "requires_action": 0,
            "processing": 0,
            "latency_ms": latency(20, 4502),  # 10 20 5000: 20 + 0.9 × 4980
            "volume": [{"currency": "usd", "amount": 3000}],
        },
        {
            "processor": "simulated",
            "name": None,
            "attempts": 1,
            "succeeded": 1,
            "authorization_rate": 1.0,
            "soft_declines": 0,
            "hard_declines": 0,
            "processor_errors": 0,
            "requires_action": 0,
            "processing": 0,
            "latency_ms": latency(None, None),
            "volume": [{"currency": "jpy", "amount": 500}],
        },
    ]
    assert body["recovered"] == {
        "count": 2,
        "amount": [{"currency": "eur", "amount": 700}, {"currency": "usd", "amount": 1500}],
    }


def test_per_utc_day(client, ledger):
    body = client.get(URL, {**WINDOW, "group_by": "day"}).json()
    assert body["group_by"] == "day"
    assert body["data"] == [
        {
            "day": "2026-03-02",
            "attempts": 8,
            "succeeded": 3,
            "authorization_rate": 0.5,  # 3 / (3 + 2 soft + 1 hard)
            "soft_declines": 2,
            "hard_declines": 1,
            "processor_errors": 1,
            "requires_action": 1,
            "processing": 0,
            # 10 20 50 100 200 300 400 1000: 100 + 0.5 × 100; 400 + 0.65 × 600
            "latency_ms": latency(150, 790),
            "volume": [{"currency": "eur", "amount": 500}, {"currency": "usd", "amount": 4000}],
        },
        {
            "day": "2026-03-03",
            "attempts": 4,
            "succeeded": 2,
            "authorization_rate": 1.0,
            "soft_declines": 0,
            "hard_declines": 0,
            "processor_errors": 1,
            "requires_action": 0,
            "processing": 1,
            "latency_ms": latency(2560, 4756),  # 120 5000
            "volume": [{"currency": "jpy", "amount": 500}, {"currency": "usd", "amount": 2000}],
        },
    ]
    assert body["recovered"]["count"] == 2


def test_one_payment_flow(client, ledger):
    body = client.get(URL, {**WINDOW, "payment_flow": ledger["flow"]}).json()
    assert body["payment_flow"] == ledger["flow"]
    figures = {
        row["processor"]: (
            row["attempts"],
            row["succeeded"],
            row["soft_declines"],
            row["authorization_rate"],
            row["volume"],
        )
        for row in body["data"]
    }
    assert figures == {
        ledger["alpha"]: (
            4,
            3,
            1,
            0.75,
            [{"currency": "eur", "amount": 500}, {"currency": "usd", "amount": 3000}],
        ),
        ledger["beta"]: (2, 1, 1, 0.5, [{"currency": "usd", "amount": 3000}]),
    }
    assert body["recovered"] == {"count": 1, "amount": [{"currency": "usd", "amount": 1500}]}
    unknown = client.get(URL, {**WINDOW, "payment_flow": "flow_nothing"}).json()
    assert unknown["data"] == [] and unknown["recovered"] == {"count": 0, "amount": []}


def test_the_window_narrows_every_figure(client, ledger):
    day2 = {"created": {"gte": int(DAY2.timestamp()), "lt": int(at(DAY2, 2).timestamp())}}
    body = client.get(URL, day2).json()
    assert [(r["processor"], r["attempts"]) for r in body["data"]] == [(ledger["alpha"], 2)]
    assert body["data"][0]["authorization_rate"] == 1.0
    assert body["recovered"]["count"] == 0  # the recovered charges are at DAY1 10:00, DAY2 05:00


def test_the_default_window_is_the_last_30_days(client, acct):
    now = datetime.now(UTC)
    AttemptFactory(account=acct.account, created=now - timedelta(days=29))
    AttemptFactory(account=acct.account, created=now - timedelta(days=31))
    body = client.get(URL).json()
    assert [row["attempts"] for row in body["data"]] == [1]
    assert abs(body["created"]["lt"] - now.timestamp()) < 60
    assert body["created"]["lt"] - body["created"]["gte"] == 30 * 86400
    only_lt = client.get(URL, {"created": {"lt": int(DAY2.timestamp())}}).json()
    assert only_lt["created"] == {
        "gte": int(DAY2.timestamp()) - 30 * 86400,
        "lt": int(DAY2.timestamp()),
    }


def test_an_account_sees_its_own_attempts_in_its_own_mode(client, acct, other_acct, ledger):
    theirs = client.get(URL, WINDOW, key=other_acct.sk).json()
    assert [(r["name"], r["attempts"]) for r in theirs["data"]] == [("Theirs", 1)]
    assert theirs["recovered"]["count"] == 1
    live = client.get(URL, WINDOW, key=acct.sk_live).json()
    assert live["livemode"] is True
    assert [(r["processor"], r["attempts"]) for r in live["data"]] == [(ledger["alpha"], 1)]
    # the live attempt's connection is a test-mode one: its name is not shown across modes
    assert live["data"][0]["name"] is None
    assert live["recovered"]["count"] == 0


def test_statements(acct, ledger):
    """One aggregate over the attempts (and the rollup) and one over the recovered charges,
    in one transaction with its planner settings; nothing else."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for group_by in ("processor", "day", "processor_day"):
        with CaptureQueriesContext(connection) as ctx:
            processor_insights(scope=Scope(acct.id, False), group_by=group_by, **WINDOW["created"])
        statements = [q["sql"] for q in ctx.captured_queries]
        reads = [sql for sql in statements if "FROM" in sql]
        assert len(reads) == 2, statements
        assert "payments_attempt" in reads[0] and "payments_charge" in reads[1]
        rest = [sql for sql in statements if sql not in reads]
        assert all(sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL")) for sql in rest)


def test_the_consoles_grouping_by_processor_and_day(acct, ledger):
    rows = processor_insights(
        scope=Scope(acct.id, False), group_by="processor_day", **WINDOW["created"]
    )["data"]
    assert [(r["processor"], r["day"], r["attempts"]) for r in rows] == sorted(
        [
            (ledger["alpha"], "2026-03-02", 6),
            (ledger["alpha"], "2026-03-03", 2),
            (ledger["beta"], "2026-03-02", 2),
            (ledger["beta"], "2026-03-03", 1),
            ("simulated", "2026-03-03", 1),
        ]
    )
    names = {r["processor"]: r["name"] for r in rows}
    assert names == {ledger["alpha"]: "Alpha", ledger["beta"]: "Beta", "simulated": None}


@pytest.mark.parametrize(
    "params, param",
    [
        ({"group_by": "week"}, "group_by"),
        ({"created": {"gte": "yesterday"}}, "created[gte]"),
        ({"created": {"lt": "-1"}}, "created[lt]"),
        ({"created": {"gte": 200, "lt": 100}}, "created[gte]"),
        ({"created": {"gte": 100, "lt": 100}}, "created[gte]"),
        ({"payment_flow": "f" * 41}, "payment_flow"),
        ({"processor": "proc_x"}, "processor"),
    ],
)
def test_a_bad_parameter_is_400(client, params, param):
    response = client.get(URL, params)
    assert response.status_code == 400, response
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_secret_keys_only(client, acct):
    assert client.get(URL, key=acct.pk).status_code == 403
    assert client.get(URL, key="").status_code == 401
