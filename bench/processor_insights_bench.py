#!/usr/bin/env python
"""Processor insights at scale, on PostgreSQL (DATABASE_URL).

1. Loads `--rows` (default 10,000,000) authorisation attempts of one account into
   payments_attempt with COPY through psycopg (its secondary indexes dropped for the load and
   built after it), spread over the last 30 days: three processor connections and the legacy
   "simulated" one, two payment flows or none, four currencies, every outcome in a realistic
   mix, latencies of a few hundred milliseconds with a long tail. Every row older than
   `--open-minutes` is counted by the rollup's sweep (`payments.rollup`, in batches); the
   newest stay open, as the minute between two sweeps leaves them. Then VACUUM ANALYZE.
2. `GET /v1/processor_insights` over the last 30 days (the default window, which cuts a UTC
   day at each end), grouped by connection, by UTC day, and by connection for one flow, through
   the whole HTTP stack in-process, with the rollup and without it (`_live`,
   PROCESSOR_INSIGHTS_ROLLUP off, the baseline of the same run: `live ÷ rollup` is printed);
   the median of `--repeat` runs, and the plan of the statement by connection.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/payintents_bench \\
        .venv/bin/python bench/processor_insights_bench.py [--rows 10000000] [--repeat 3]

Results go to bench/results/processor-insights-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PAYINTENTS_DEV", "1")

from checkout_bench import median_ms  # noqa: E402 (the bench folder is the script's; after the env)

COLUMNS = (
    "id",
    "account_id",
    "livemode",
    "created",
    "kind",
    "target",
    "processor",
    "payment_flow",
    "outcome",
    "latency_ms",
    "amount",
    "currency",
    "status",
    "rolled_up",
    "params",
    "claimed_at",
    "answered_at",
    "updated",
)
OUTCOMES = (
    ("succeeded", 80),
    ("soft_decline", 7),
    ("hard_decline", 5),
    ("processor_error", 2),
    ("requires_action", 5),
    ("processing", 1),
)
CURRENCIES = (("usd", 2599), ("eur", 4999), ("gbp", 8900), ("php", 150000))
REBUILT = ("attempt_insights_idx", "attempt_open_insights_idx")


def rows(account_id: str, processors: list[str], flows: list[str], n: int, now: datetime):
    rnd = random.Random(1)
    outcomes = [name for name, weight in OUTCOMES for _ in range(weight)]
    window = 30 * 86400
    for i in range(n):
        created = now - timedelta(seconds=window * (i + rnd.random()) / n)
        processor = processors[i % len(processors)]
        # a few hundred milliseconds, a long tail; each connection a little different
        latency = int(rnd.lognormvariate(5.6 + 0.15 * (i % len(processors)), 0.45))
        currency, amount = CURRENCIES[rnd.randrange(len(CURRENCIES))]
        yield (
            f"att_bench{i:016d}",
            account_id,
            False,
            created,
            "authorize",
            f"pi_bench{i:016d}",
            processor,
            flows[i % len(flows)],
            outcomes[rnd.randrange(len(outcomes))],
            latency,
            amount,
            currency,
            "applied",
            False,
            "{}",
            created,
            created + timedelta(milliseconds=latency),
            created,
        )


def load(account_id, processors, flows, n: int, now: datetime) -> float:
    from django.db import connection

    from payments.models import Attempt

    started = time.perf_counter()
    indexes = [i for i in Attempt._meta.indexes if i.name in REBUILT]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM payments_attempt WHERE id LIKE 'att\\_bench%%'")
        cursor.execute("DELETE FROM payments_attemptrollup")
        cursor.execute("DELETE FROM payments_attemptlatencyrollup")
        for index in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {index.name}")
        raw = cursor.cursor
        with raw.copy(f"COPY payments_attempt ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows(account_id, processors, flows, n, now):
                copy.write_row(row)
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(Attempt, index)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--open-minutes", type=float, default=1.0)
    args, _ = parser.parse_known_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("processor_insights_bench: needs DATABASE_URL=postgres://… (skipped)")
        return 0

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    settings.ALLOWED_HOSTS = ["*"]
    settings.RATE_LIMIT_ENABLED = False
    call_command("migrate", verbosity=0)
    from accounts.services import account_create
    from core.scope import Scope
    from payments import rollup
    from payments.insights import insights_query
    from payments.models import Attempt, AttemptLatencyRollup, AttemptRollup
    from tests.factories import PaymentFlowFactory, ProcessorConnectionFactory
    from tests.helpers import StripeTestClient

    account, keys = account_create(name="Processor insights bench")
    client = StripeTestClient(key=keys["secret_key_test"])
    processors = [
        ProcessorConnectionFactory(account=account, name=name).id
        for name in ("Alpha", "Beta", "Gamma")
    ] + ["simulated"]
    flows = [PaymentFlowFactory(account=account, name=f"Flow {i}").id for i in range(2)] + [""]
    now = datetime.now(UTC)
    result: dict = {"rows": args.rows}

    seconds = load(account.id, processors, flows, args.rows, now)
    result["load_seconds"] = round(seconds, 1)
    print(f"loaded {args.rows:,} attempts with COPY and built their indexes in {seconds:.1f} s")

    started = time.perf_counter()
    open_after = now - timedelta(minutes=args.open_minutes)
    with transaction.atomic(), connection.cursor() as cursor:  # the newest stay open
        cursor.execute(
            "UPDATE payments_attempt SET rolled_up = true WHERE account_id = %s AND created >= %s",
            [account.id, open_after],
        )
    counted = rollup.roll_up(batch_size=rollup.REBUILD_BATCH, max_batches=10**9)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_attempt SET rolled_up = false WHERE account_id = %s AND created >= %s",
            [account.id, open_after],
        )
    result["rollup_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with connection.cursor() as cursor:  # what autovacuum does after so many writes
        for table in (
            "payments_attempt",
            "payments_attemptrollup",
            "payments_attemptlatencyrollup",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    result["vacuum_seconds"] = round(time.perf_counter() - started, 1)
    result["rollup_rows"] = AttemptRollup.objects.count()
    result["latency_rollup_rows"] = AttemptLatencyRollup.objects.count()
    result["open_rows"] = Attempt.objects.filter(rolled_up=False).exclude(outcome="").count()
    print(
        f"rolled up {counted:,} attempts in {result['rollup_seconds']} s "
        f"({result['rollup_rows']:,} rollup rows, {result['latency_rollup_rows']:,} of the "
        f"latency histogram; {result['open_rows']:,} attempts not rolled up)"
    )

    def insights(params):
        def call():
            response = client.get("/v1/processor_insights", params)
            assert response.status_code == 200, response
            return response.json()

        return call

    answers = {}
    for suffix, with_rollup in (("", True), ("_live", False)):
        settings.PROCESSOR_INSIGHTS_ROLLUP = with_rollup
        for name, params in (
            ("by_processor_30d", {}),
            ("by_day_30d", {"group_by": "day"}),
            ("by_processor_one_flow_30d", {"payment_flow": flows[0]}),
        ):
            params = {**params, "created[lt]": int(now.timestamp())}  # the same window both ways
            answers[name + suffix] = insights(params)()
            ms, times = median_ms(insights(params), args.repeat)
            result[name + suffix + "_ms"] = round(ms, 1)
            print(f"{name}{suffix}: median {ms:.0f} ms of {[round(t) for t in times]}")
    settings.PROCESSOR_INSIGHTS_ROLLUP = True
    for name in [k for k in answers if not k.endswith("_live")]:
        same = answers[name] == answers[name + "_live"]
        result[name + "_same_answer"] = same
        assert same, f"{name}: the rollup's answer differs from the attempts'"
        result[name + "_live_over_rollup"] = round(
            result[name + "_live_ms"] / result[name + "_ms"], 2
        )
    attempts = sum(row["attempts"] for row in answers["by_processor_30d"]["data"])
    result["attempts_in_window"] = attempts
    print(f"attempts in the window: {attempts:,}; every answer the same both ways")
    print(
        "live ÷ rollup: "
        + ", ".join(
            f"{k.removesuffix('_live_over_rollup')} {v}x"
            for k, v in result.items()
            if k.endswith("_live_over_rollup")
        )
    )

    start = now - timedelta(days=30)
    sql, params = insights_query(
        Scope(account.id, False), start, now, None, ("processor",), rollup=True
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")  # as the view does
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    result["plan_by_processor"] = plan
    print(plan)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"processor-insights-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
