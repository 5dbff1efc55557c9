"""The PostgreSQL statement (with and without the rollup of closed checkouts) and the tests'
oracle, the same figures counted row by row in Python (tests/checkouts/reference.py), give the
same answer, figure for figure, on a random month of checkouts: every
grouping, filters, time zones whose days do not start on a UTC hour or that change their clocks
within the window; and the rollup stays exact when closed checkouts are written again. Checkouts
run against real payment flows (`flow_…` ids), so grouping by `payment_flow` groups by flow id."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Account
from checkouts import insights, rollup
from checkouts.models import (
    Checkout,
    CheckoutCompletionRollup,
    CheckoutQuarterRollup,
    CheckoutRollup,
)
from checkouts.services import (
    checkout_complete,
    checkout_record_payment_attempt,
    checkout_update,
    checkouts_mark_inactive,
    checkouts_roll_up,
)
from core.scope import Scope
from tests.checkouts.reference import python_insights
from tests.checkouts.sample import load_sample, sample_flows
from tests.conftest import committed_for_module, make_account

CASES = [
    {},
    {"group_by": "day", "tz": "Europe/Dublin"},
    {"group_by": "day", "tz": "Asia/Kathmandu"},
    {"group_by": "day", "tz": "Asia/Kolkata"},
    {"group_by": "day", "tz": "America/Santiago"},
    {"group_by": "week", "tz": "Australia/Lord_Howe"},
    {"group_by": "currency"},
    {"group_by": "country", "payment_flow": "express"},  # the sample's flow of that name
    {"group_by": "source", "country": "IRL"},
    {"group_by": "payment_flow", "source": "hosted"},
]


@pytest.fixture(scope="module")
def _month_of(django_db_setup, django_db_blocker):
    """The account and its month of checkouts, made once for the module and committed; each
    test runs in a transaction rolled back after it (`db`), so every one reads the same month
    whatever the one before it wrote."""

    def build():
        acct = make_account("Acme")
        load_sample(acct.account, n=800, seed=11)
        rng = random.Random(3)
        now = timezone.now()
        for chk in Checkout.objects.filter(account=acct.account).order_by("id"):
            chk.source = rng.choice(("hosted", "tracked"))
            if chk.completed_at is not None:  # completion times spread over seconds to a day
                chk.completed_at = chk.created + timedelta(seconds=rng.randint(30, 86400))
                chk.completed_at = min(chk.completed_at, now)
            if rng.random() < 0.03:  # no amount, no country, no flow
                chk.amount = chk.currency = chk.country = chk.payment_flow = None
            chk.save(update_fields=["source", "completed_at", "amount", "currency", "country"])
        Checkout.objects.filter(payment_flow__isnull=False, amount__isnull=True).update(
            payment_flow=None
        )
        return acct

    yield from committed_for_module(django_db_blocker, build)


@pytest.fixture
def acct(_month_of, db):
    return _month_of


@pytest.fixture
def month(acct):
    return Scope(acct.id, False)


def with_flow_ids(scope, params: dict) -> dict:
    """A case with the sample's flow it names (`express`) given by its `flow_…` id."""
    if "payment_flow" not in params:
        return params
    flows = sample_flows(Account.objects.get(id=scope.account_id))
    return {**params, "payment_flow": flows[params["payment_flow"]]}


def answers(scope, now) -> list:
    """Every case's answer by the path the settings choose."""
    window = {"gte": int((now - timedelta(days=31)).timestamp()), "lt": int(now.timestamp())}
    return [
        insights.checkout_insights(scope=scope, now=now, **window, **with_flow_ids(scope, p))
        for p in CASES
    ]


def differences(got, expected, path="") -> list[str]:
    """Where two answers differ (empty when they are the same), for a readable failure."""
    if isinstance(got, dict) and isinstance(expected, dict):
        keys = sorted(set(got) | set(expected), key=str)
        return [d for k in keys for d in differences(got.get(k), expected.get(k), f"{path}.{k}")]
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        return [
            d
            for i, (a, b) in enumerate(zip(got, expected, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    return [] if got == expected else [f"{path}: {got!r} != {expected!r}"]


def python_answers(scope, now, monkeypatch) -> list:
    with monkeypatch.context() as patch:
        patch.setattr(insights, "_postgres", python_insights)
        return answers(scope, now)


@pytest.mark.parametrize("params", CASES, ids=lambda p: "-".join(map(str, p.values())) or "total")
def test_postgres_and_python_give_the_same_answer(month, params, monkeypatch):
    now = timezone.now()
    window = {"gte": int((now - timedelta(days=31)).timestamp()), "lt": int(now.timestamp())}
    params = with_flow_ids(month, params)
    answer = insights.checkout_insights(scope=month, now=now, **window, **params)
    assert answer["total"]["started"] > 0
    monkeypatch.setattr(insights, "_postgres", python_insights)
    assert insights.checkout_insights(scope=month, now=now, **window, **params) == answer


def test_grouping_by_payment_flow_groups_by_flow_id_on_both_paths(acct, month, monkeypatch):
    now = timezone.now()
    window = {"gte": int((now - timedelta(days=31)).timestamp()), "lt": int(now.timestamp())}
    flows = sample_flows(acct.account)
    rows = Checkout.objects.filter(account=acct.account, livemode=False)
    expected = {flow: rows.filter(payment_flow=flow).count() for flow in (*flows.values(), None)}
    assert all(expected.values())  # both flows, and checkouts of none
    for path in ("postgres", "python"):
        with monkeypatch.context() as patch:
            if path == "python":
                patch.setattr(insights, "_postgres", python_insights)
            answer = insights.checkout_insights(
                scope=month, now=now, group_by="payment_flow", **window
            )
            express = insights.checkout_insights(
                scope=month, now=now, payment_flow=flows["express"], **window
            )
        assert {b["bucket"]: b["started"] for b in answer["data"]} == expected, path
        assert [b["bucket"] for b in answer["data"]] == [*sorted(flows.values()), None], path
        assert express["total"]["started"] == expected[flows["express"]], path


# Every figure of the narrow rollup, its key first.
NARROW_COLUMNS = ("quarter", "currency", "code", *insights.FIGURES)


def test_the_rollup_gives_the_same_answers_and_stays_exact_when_rows_change(
    month, settings, monkeypatch
):
    now = timezone.now()
    expected = python_answers(month, now, monkeypatch)
    counted = checkouts_roll_up()
    assert counted == Checkout.objects.filter(rolled_up=True).count() > 400
    assert CheckoutRollup.objects.exists()
    completed = Checkout.objects.filter(rolled_up=True, completed_at__isnull=False).count()
    assert sum(CheckoutCompletionRollup.objects.values_list("completed", flat=True)) == completed
    assert differences(answers(month, now), expected) == []
    settings.CHECKOUT_INSIGHTS_ROLLUP = False
    assert differences(answers(month, now), expected) == []
    settings.CHECKOUT_INSIGHTS_ROLLUP = True

    # closed rows written again: each is taken out of the rollup in its write's transaction
    rolled = Checkout.objects.filter(rolled_up=True)
    abandoned = list(rolled.exclude(status="complete").order_by("id")[:3])
    # a complete one whose latest decline code changes (a row of the rollup may empty out)
    complete = (
        rolled.filter(status="complete", last_decline_code__isnull=False)
        .exclude(last_decline_code="expired_card")
        .order_by("id")
        .first()
    )
    checkout_update(scope=month, checkout_id=abandoned[0].id, shipping="complete")
    checkout_complete(scope=month, checkout_id=abandoned[1].id, payment_reference="ext_9")
    checkout_record_payment_attempt(
        scope=month,
        checkout_id=complete.id,
        payment_intent_id="pi_late",
        charge_id="ch_late",
        status="failed",
        decline_code="expired_card",
    )
    Checkout.objects.filter(id=abandoned[2].id).update(status="active")  # as if never swept
    Checkout.objects.filter(id=abandoned[2].id).update(rolled_up=True)
    checkouts_mark_inactive()
    assert not Checkout.objects.filter(id__in=[c.id for c in abandoned]).filter(rolled_up=True)
    now = timezone.now()
    expected = python_answers(month, now, monkeypatch)
    assert differences(answers(month, now), expected) == []
    assert checkouts_roll_up() >= 2  # the complete ones, closed again
    assert differences(answers(month, now), expected) == []
    incremental = sorted(
        CheckoutRollup.objects.filter(started__gt=0).values_list(
            "quarter",
            "currency",
            "country",
            "payment_flow",
            "source",
            "code",
            "started",
            "abandoned",
            "lost_amount",
            "declined_attempts",
        )
    )
    timed = sorted(
        CheckoutCompletionRollup.objects.filter(completed__gt=0).values_list(
            "quarter", "seconds", "completed"
        )
    )
    narrow = sorted(
        CheckoutQuarterRollup.objects.filter(started__gt=0).values_list(*NARROW_COLUMNS)
    )
    rollup.rebuild()
    assert narrow == sorted(
        CheckoutQuarterRollup.objects.filter(started__gt=0).values_list(*NARROW_COLUMNS)
    )
    assert timed == sorted(
        CheckoutCompletionRollup.objects.filter(completed__gt=0).values_list(
            "quarter", "seconds", "completed"
        )
    )
    rebuilt = sorted(
        CheckoutRollup.objects.filter(started__gt=0).values_list(
            "quarter",
            "currency",
            "country",
            "payment_flow",
            "source",
            "code",
            "started",
            "abandoned",
            "lost_amount",
            "declined_attempts",
        )
    )
    assert incremental == rebuilt
    assert differences(answers(month, now), expected) == []


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_days_in_any_zone_read_the_rollup(month, tz):
    """Every zone's midnight is on a quarter hour, so day buckets in a half-hour (Kolkata) or
    45-minute (Kathmandu) zone add up the rollup instead of aggregating the window live. At
    18:40 UTC, the hour before is the day before in Kolkata (00:10 there): still 31 days."""
    now = datetime(2026, 12, 7, 18, 40, tzinfo=UTC)
    window = insights.Window(now - timedelta(days=30), now)
    sql, _, labels = insights.insights_query(month, window, "day", tz, {}, now, rollup=True)
    assert "checkouts_checkoutquarterrollup" in sql  # the narrow one: no filter
    assert "checkouts_checkoutcompletionrollup" in sql
    assert len(labels) == 31
    filtered = {"country": "IRL"}
    sql, _, _ = insights.insights_query(month, window, "day", tz, filtered, now, rollup=True)
    assert "checkouts_checkoutrollup" in sql and "checkouts_checkoutquarterrollup" not in sql
    sql, _, _ = insights.insights_query(month, window, "day", tz, {}, now, rollup=False)
    assert "rollup" not in sql


@pytest.mark.parametrize("tz", ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"])
def test_time_buckets_are_the_local_days_of_the_window_at_any_time_of_day(tz):
    """Whatever the quarter hour a 30-day window starts at, its buckets are exactly the local days
    from the start's to the end's, and the first threshold is at or before the start within
    its quarter hour (a walk from the UTC hour once added the day before in Kolkata)."""
    zone = ZoneInfo(tz)
    day = datetime(2026, 12, 7, tzinfo=UTC)
    for minutes in range(0, 24 * 60, 5):
        now = day + timedelta(minutes=minutes)
        window = insights.Window(now - timedelta(days=30), now)
        thresholds, labels = insights.time_buckets(window, "day", zone)
        first = window.gte.astimezone(zone).date()
        last = (window.lt - timedelta(microseconds=1)).astimezone(zone).date()
        expected = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
        assert labels == expected, now
        assert thresholds[0] <= window.gte < thresholds[0] + timedelta(minutes=15), now
        assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(thresholds[1:]))


def test_time_buckets_follow_the_local_days_across_a_clock_change():
    zone = insights.insights_timezone("Europe/Dublin")
    now = timezone.now().replace(year=2026, month=10, day=27, hour=12, minute=7)
    window = insights.Window(now - timedelta(days=3), now)
    thresholds, labels = insights.time_buckets(window, "day", zone)
    assert labels == ["2026-10-24", "2026-10-25", "2026-10-26", "2026-10-27"]
    # midnight in Dublin is 23:00 UTC in summer time, 00:00 UTC after the clocks go back
    assert [t.strftime("%d %H:%M") for t in thresholds[1:]] == ["24 23:00", "26 00:00", "27 00:00"]


@pytest.mark.parametrize("group_by", [None, "day", "week", "payment_flow"])
@pytest.mark.parametrize("tz", ["UTC", "Pacific/Kiritimati", "Etc/GMT+12"])
def test_a_window_at_the_end_of_time_is_answered(client, acct, group_by, tz):
    """The largest timestamp the API takes, as both bounds or as the end of a last week: an
    answer (the window held to 9999-12-30), never a 500 from a quarter hour or a local day past
    what datetime holds."""
    last = 253402300799  # 9999-12-31T23:59:59Z
    params = {"tz": tz, **({"group_by": group_by} if group_by else {})}
    for gte, lt in ((last, last), (last - 7 * 86400, last)):
        query = {"created[gte]": gte, "created[lt]": lt, **params}
        response = client.get("/v1/checkout_insights", query)
        assert response.status_code == 200, response
        assert response.json()["created"]["lt"] == int(insights.LATEST.timestamp())
