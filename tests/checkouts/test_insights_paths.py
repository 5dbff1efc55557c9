"""The PostgreSQL statement and the Python computation give the same answer, figure for figure,
on a random month of checkouts: every grouping, filters, and time zones whose days do not start
on a UTC hour or that change their clocks within the window."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from checkouts import insights
from checkouts.models import Checkout
from core.scope import Scope
from tests.checkouts.sample import load_sample

pytestmark = pytest.mark.postgres

CASES = [
    {},
    {"group_by": "day", "tz": "Europe/Dublin"},
    {"group_by": "day", "tz": "Asia/Kathmandu"},
    {"group_by": "day", "tz": "America/Santiago"},
    {"group_by": "week", "tz": "Australia/Lord_Howe"},
    {"group_by": "currency"},
    {"group_by": "country", "payment_flow": "express"},
    {"group_by": "source", "country": "IRL"},
    {"group_by": "payment_flow", "source": "hosted"},
]


@pytest.fixture
def month(acct):
    load_sample(acct.account, n=800, seed=11)
    rng = random.Random(3)
    now = timezone.now()
    for chk in Checkout.objects.filter(account=acct.account).order_by("id"):
        chk.source = rng.choice(("hosted", "tracked"))
        if chk.completed_at is not None:  # completion times spread over seconds to a day
            chk.completed_at = chk.created + timedelta(seconds=rng.randint(30, 86400))
            chk.completed_at = min(chk.completed_at, now)
        chk.save(update_fields=["source", "completed_at"])
    return Scope(acct.id, False)


@pytest.mark.parametrize("params", CASES, ids=lambda p: "-".join(map(str, p.values())) or "total")
def test_postgres_and_python_give_the_same_answer(month, params, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("compares PostgreSQL's statement with the Python path")
    now = timezone.now()
    window = {"gte": int((now - timedelta(days=31)).timestamp()), "lt": int(now.timestamp())}
    answer = insights.checkout_insights(scope=month, now=now, **window, **params)
    assert answer["total"]["started"] > 0
    monkeypatch.setattr(insights, "_postgres", insights._python)
    assert insights.checkout_insights(scope=month, now=now, **window, **params) == answer


def test_time_buckets_follow_the_local_days_across_a_clock_change():
    zone = insights.insights_timezone("Europe/Dublin")
    now = timezone.now().replace(year=2026, month=10, day=27, hour=12, minute=7)
    window = insights.Window(now - timedelta(days=3), now)
    thresholds, labels = insights.time_buckets(window, "day", zone)
    assert labels == ["2026-10-24", "2026-10-25", "2026-10-26", "2026-10-27"]
    # midnight in Dublin is 23:00 UTC in summer time, 00:00 UTC after the clocks go back
    assert [t.strftime("%d %H:%M") for t in thresholds[1:]] == ["24 23:00", "26 00:00", "27 00:00"]
