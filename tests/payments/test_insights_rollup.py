"""The processor insights' rollup (payments/rollup.py): answers read through it are the answers
of the attempts themselves, whatever part of the ledger the sweep has counted, for windows that
cut days at either end, fall inside one day or start at midnight; the sweep counts every
attempt once, also two sweeps at once; a real worker runs it."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from core.scope import Scope
from payments import rollup
from payments.insights import COUNTS, PERCENTILES, processor_insights
from payments.models import Attempt, AttemptLatencyRollup, AttemptRollup
from tests.factories import AttemptFactory, PaymentFlowFactory, ProcessorConnectionFactory

START = datetime(2026, 5, 10, tzinfo=UTC)
OUTCOMES = ("succeeded", "succeeded", "succeeded", "soft_decline", "hard_decline")
OUTCOMES += ("processor_error", "requires_action", "processing")
CURRENCIES = ("usd", "eur", "jpy")


def ledger(account, n: int, seed: int) -> list[Attempt]:
    """`n` authorisations over six days from START, of three connections and the legacy
    "simulated" one, two flows or none, three currencies, every outcome (`processing` without a
    latency), latencies with repeats (the histogram must count them), at random times; and
    attempts that never count (no outcome, another mode)."""
    rnd = random.Random(seed)
    connections = [
        ProcessorConnectionFactory(account=account, name=name).id for name in ("A", "B", "C")
    ]
    flows = [PaymentFlowFactory(account=account, name=f"F{i}").id for i in range(2)] + [""]
    made = []
    for _ in range(n):
        outcome = rnd.choice(OUTCOMES)
        made.append(
            AttemptFactory(
                account=account,
                processor=rnd.choice([*connections, "simulated"]),
                payment_flow=rnd.choice(flows),
                outcome=outcome,
                latency_ms=None if outcome == "processing" else rnd.choice(range(20, 90, 7)),
                amount=rnd.choice((500, 1250, 9999)),
                currency=rnd.choice(CURRENCIES),
                created=START + timedelta(seconds=rnd.randrange(6 * 86400)),
            )
        )
    AttemptFactory(account=account, kind="capture", outcome="", created=START + timedelta(days=1))
    AttemptFactory(account=account, livemode=True, created=START + timedelta(days=2))
    return made


def oracle(account_id: str, attempts, start, end, payment_flow, group_by) -> dict:
    """The figures worked out from the attempts in Python; the percentiles by PostgreSQL's
    own `percentile_cont` over the attempts (not through the histogram)."""
    keys = {"processor": ("processor",), "day": ("day",), "processor_day": ("processor", "day")}
    keys = keys[group_by]
    rows: dict = defaultdict(lambda: {"counts": Counter(), "volume": Counter()})
    for a in attempts:
        if not (start <= a.created < end) or (payment_flow and a.payment_flow != payment_flow):
            continue
        values = {"processor": a.processor, "day": a.created.date().isoformat()}
        row = rows[tuple(values[k] for k in keys)]
        row["counts"]["attempts"] += 1
        row["counts"][a.outcome] += 1
        if a.outcome == "succeeded":
            row["volume"][a.currency] += a.amount
    expressions = {"processor": "processor", "day": "(created AT TIME ZONE 'UTC')::date::text"}
    group = ", ".join(expressions[k] for k in keys)
    fractions = ", ".join(
        f"percentile_cont({f}) WITHIN GROUP (ORDER BY latency_ms)" for f in PERCENTILES.values()
    )
    flow = " AND payment_flow = %s" if payment_flow else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {group}, {fractions} FROM payments_attempt WHERE account_id = %s AND "
            f"livemode = false AND outcome <> '' AND created >= %s AND created < %s{flow} "
            f"GROUP BY {group}",
            [account_id, start, end, *([payment_flow] if payment_flow else [])],
        )
        latencies = {tuple(found[: len(keys)]): found[len(keys) :] for found in cursor.fetchall()}
    answer = {}
    for key, row in rows.items():
        counts = row["counts"]
        answer[key] = {
            "attempts": counts["attempts"],
            **{name: counts[outcome] for name, outcome in COUNTS.items()},
            "latency_ms": {
                name: None if value is None else int(round(value))
                for name, value in zip(PERCENTILES, latencies[key], strict=True)
            },
            "volume": [
                {"currency": c, "amount": amount} for c, amount in sorted(row["volume"].items())
            ],
        }
    return answer


def shown(answer: dict, group_by: str) -> dict:
    keys = {"processor": ("processor",), "day": ("day",), "processor_day": ("processor", "day")}
    fields = ("attempts", *COUNTS, "latency_ms", "volume")
    return {
        tuple(row[k] for k in keys[group_by]): {f: row[f] for f in fields} for row in answer["data"]
    }


def windows():
    day = timedelta(days=1)
    yield START, START + 6 * day  # whole days only
    yield START + timedelta(hours=7, minutes=13), START + 5 * day + timedelta(hours=2)  # both cut
    yield START + timedelta(hours=1), START + timedelta(hours=20)  # inside one day
    yield START + 2 * day, START + 3 * day + timedelta(seconds=1)  # midnight, one second after
    yield START + timedelta(hours=23), START + day + timedelta(hours=1)  # no whole day


@pytest.mark.parametrize("swept", ["nothing", "part", "all", "all_then_more"])
def test_the_rollup_answers_what_the_attempts_answer(acct, settings, swept):
    account = acct.account
    attempts = ledger(account, 400, seed=7)
    if swept == "part":
        rollup.roll_up(batch_size=150, max_batches=1)
    elif swept in ("all", "all_then_more"):
        assert rollup.roll_up() == 401  # and the live-mode one
    if swept == "all_then_more":  # written after the sweep: read beside the rollup
        attempts += ledger(account, 60, seed=8)
    rolled = Attempt.objects.filter(rolled_up=True).count()
    assert rolled == {"nothing": 0, "part": 150, "all": 401, "all_then_more": 401}[swept]
    flows = sorted({a.payment_flow for a in attempts if a.payment_flow})
    scope = Scope(account.id, False)
    settings.PROCESSOR_INSIGHTS_ROLLUP = True
    for start, end in windows():
        for group_by in ("processor", "day", "processor_day"):
            for flow in (None, flows[0]):
                window = {"gte": int(start.timestamp()), "lt": int(end.timestamp())}
                answer = processor_insights(
                    scope=scope, payment_flow=flow, group_by=group_by, **window
                )
                expected = oracle(account.id, attempts, start, end, flow, group_by)
                assert shown(answer, group_by) == expected, (start, end, group_by, flow)


def test_rollup_on_and_off_give_the_same_answer_through_the_api(client, acct, settings):
    ledger(acct.account, 200, seed=3)
    rollup.roll_up(batch_size=120, max_batches=1)
    params = {
        "created[gte]": int((START + timedelta(hours=5)).timestamp()),
        "created[lt]": int((START + timedelta(days=4, hours=9)).timestamp()),
        "group_by": "day",
    }
    answers = []
    for on in (True, False):
        settings.PROCESSOR_INSIGHTS_ROLLUP = on
        response = client.get("/v1/processor_insights", params)
        assert response.status_code == 200, response.json()
        answers.append(response.json())
    assert answers[0] == answers[1]
    assert sum(row["attempts"] for row in answers[0]["data"]) > 100


def test_the_sweep_counts_each_attempt_once_in_batches(acct):
    attempts = ledger(acct.account, 250, seed=11)
    attempts += list(Attempt.objects.filter(livemode=True))  # the ledger's one in live mode
    assert rollup.roll_up(batch_size=100, max_batches=1) == 100
    assert rollup.roll_up(batch_size=100) == 151
    assert rollup.roll_up(batch_size=100) == 0
    timed = [a for a in attempts if a.latency_ms is not None]
    assert sum(r.attempts for r in AttemptRollup.objects.all()) == 251
    assert sum(r.attempts for r in AttemptLatencyRollup.objects.all()) == len(timed)
    assert sum(r.amount for r in AttemptRollup.objects.all()) == sum(a.amount for a in attempts)
    # a rebuild makes the same rows from scratch
    before = sorted(AttemptRollup.objects.values_list("day", "processor", "outcome", "attempts"))
    assert rollup.rebuild() == 251
    after = sorted(AttemptRollup.objects.values_list("day", "processor", "outcome", "attempts"))
    assert after == before


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_count_every_attempt_once(acct):
    attempts = ledger(acct.account, 600, seed=5)
    attempts += list(Attempt.objects.filter(livemode=True))  # the ledger's one in live mode
    counted: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            counted.append(rollup.roll_up(batch_size=50))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    # every attempt counted once between the two (which one takes how many batches is the
    # scheduler's: on a loaded machine one sweep may find every batch already taken)
    assert sum(counted) == 601 and len(counted) == 2, counted
    assert sum(r.attempts for r in AttemptRollup.objects.all()) == 601
    per_key = Counter()
    for a in attempts:
        key = (a.livemode, a.created.date(), a.processor, a.payment_flow, a.currency, a.outcome)
        per_key[key] += 1
    rows = AttemptRollup.objects.values_list(
        "livemode", "day", "processor", "payment_flow", "currency", "outcome", "attempts"
    )
    assert {row[:6]: row[6] for row in rows} == per_key


def test_a_real_worker_runs_the_sweep(celery_worker, acct):
    from payments.tasks import roll_up_attempts
    from tests.conftest import wait_for

    ledger(acct.account, 30, seed=2)  # and one in live mode
    roll_up_attempts.delay()
    wait_for(
        lambda: not Attempt.objects.filter(rolled_up=False).exclude(outcome="").exists(),
        timeout=30,
        message="the worker's sweep",
    )
    assert sum(r.attempts for r in AttemptRollup.objects.all()) == 31


def test_the_beat_schedules_the_sweep(settings):
    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "payments.tasks.roll_up_attempts" in entries


def test_the_command_counts_what_is_left_and_rebuilds(acct):
    from io import StringIO

    from django.core.management import call_command

    ledger(acct.account, 40, seed=4)
    rollup.roll_up(batch_size=10, max_batches=1)
    out = StringIO()
    call_command("attempts_rollup", stdout=out)
    assert out.getvalue().strip() == "31 attempts rolled up"  # the rest, and the live one
    out = StringIO()
    call_command("attempts_rollup", "--rebuild", stdout=out)
    assert out.getvalue().strip() == "41 attempts rolled up"
    assert sum(r.attempts for r in AttemptRollup.objects.all()) == 41
