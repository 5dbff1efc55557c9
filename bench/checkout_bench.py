#!/usr/bin/env python
"""Checkout tracking at scale, on PostgreSQL (DATABASE_URL).

1. Loads `--rows` (default 1,000,000) checkouts of one account into checkouts_checkout with
   COPY through psycopg, spread over 30 days with a realistic funnel: most drop at shipping,
   some at payment after declines, a share recovered after going idle; then ANALYZE.
2. Rolls up the closed checkouts (the whole rollup rebuilt after a load; what is not counted
   yet with --skip-load), then measures GET /v1/checkout_insights over the last 30 days, total,
   grouped by day (in a non-UTC tz) and by country, through the full HTTP stack in-process
   (Django's test client), with the rollup and without it (`_live`): the median of `--repeat`
   runs, and prints the plan of the one statement (EXPLAIN ANALYZE).
3. Measures the cost of start (POST /v1/checkouts) and update (POST /v1/checkouts/{id}) as
   requests per second beside create-intent (POST /v1/payment_intents) in the same run, each
   `--requests` requests in turn from one in-process client (no network, no server threads:
   the figures compare the work each request does).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/payintents_bench \
        .venv/bin/python bench/checkout_bench.py [--rows 1000000] [--requests 300]

Results go to bench/results/checkout-<time>.json and a table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PAYINTENTS_DEV", "1")

COLUMNS = (
    "id",
    "account_id",
    "livemode",
    "created",
    "status",
    "status_changed_at",
    "client_secret",
    "tracking_id",
    "payment_flow",
    "source",
    "amount",
    "currency",
    "country",
    "metadata",
    "steps",
    "step_history",
    "attempts",
    "active_at",
    "shipping_completed_at",
    "delivery_completed_at",
    "billing_completed_at",
    "payment_attempted_at",
    "completed_at",
    "last_activity_at",
    "inactive_at",
    "was_inactive",
    "declined_attempts",
    "last_decline_code",
    "rolled_up",
    "tracking_id_from_browser",
)
# How far a checkout gets: 0 landed, 1 active, 2 shipping, 3 delivery, 4 billing, 5 paying,
# 6 completed. Most stop at shipping (1), some at payment (5).
DEPTH_WEIGHTS = (10, 30, 8, 5, 7, 12, 28)
CURRENCIES = (("eur", 4999), ("usd", 2599), ("gbp", 8900), ("jpy", 5400))
COUNTRIES = ("IRL", "USA", "DEU", "FRA", "GBR", "ESP", "ITA", "NLD", "JPN", "CAN")
CODES = ("insufficient_funds", "card_declined", "expired_card", "do_not_honor")


def rows(account_id: str, n: int, now: datetime, seed: int = 1):
    rng = random.Random(seed)
    depths = rng.choices(range(7), weights=DEPTH_WEIGHTS, k=n)
    span = 30 * 24 * 3600 - 3600  # all inside the 30-day window when measured
    for i in range(n):
        created = now - timedelta(seconds=rng.random() * span)
        depth = depths[i]
        at = [created + timedelta(seconds=30 * (k + 1) + rng.randint(0, 90)) for k in range(6)]
        steps = [at[k] if depth > k else None for k in range(6)]
        declined = depth >= 5 and rng.random() < 0.4
        recovered = depth == 6 and rng.random() < 0.15
        if depth == 6:
            status = "complete"
        else:
            status = "inactive" if rng.random() < 0.95 else "active"
        last = at[min(depth, 6) - 1] if depth else created
        currency, amount = CURRENCIES[i % len(CURRENCIES)]
        yield (
            f"chk_bench{i:016d}",
            account_id,
            False,
            created,
            status,
            last,
            f"chk_bench{i:016d}_secret",
            f"bench_{i}",
            "express" if i % 3 == 0 else "default",
            "hosted" if i % 4 == 0 else "tracked",
            amount,
            currency,
            COUNTRIES[i % len(COUNTRIES)],
            "{}",
            "{}",
            "[]",
            "[]",
            *steps,
            last,
            last + timedelta(seconds=300) if status == "inactive" or recovered else None,
            status == "inactive" or recovered,
            1 if declined else 0,
            CODES[i % len(CODES)] if declined else None,
            # closed (complete, or abandoned): counted by the rollup the load then builds
            status == "complete" or last <= now - timedelta(days=1),
            False,  # tracking ids the merchant's backend gave
        )


# Secondary indexes dropped for the load and built again after it (the usual bulk load: one
# sort per index instead of a billion index insertions); the unique ones stay.
REBUILT = ("chk_insights_idx", "chk_completed_idx", "chk_list_idx", "chk_inactive_idx")


def load(account_id: str, n: int) -> float:
    from django.db import connection

    from checkouts.models import Checkout

    now = datetime.now(UTC)
    started = time.perf_counter()
    indexes = [i for i in Checkout._meta.indexes if i.name in REBUILT]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM checkouts_checkout WHERE tracking_id LIKE 'bench\\_%%'")
        for index in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {index.name}")
        raw = cursor.cursor
        with raw.copy(f"COPY checkouts_checkout ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows(account_id, n, now):
                copy.write_row(row)
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(Checkout, index)
    with connection.cursor() as cursor:  # VACUUM: the visibility map index-only scans need
        cursor.execute("VACUUM ANALYZE checkouts_checkout")
    return time.perf_counter() - started


def median_ms(call, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times


def rps(call, n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        call(i)
    return n / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--skip-load", action="store_true")
    args, _ = parser.parse_known_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("checkout_bench: needs DATABASE_URL=postgres://… (skipped)")
        return 0

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    settings.ALLOWED_HOSTS = ["*"]
    settings.RATE_LIMIT_ENABLED = False
    call_command("migrate", verbosity=0)
    from accounts.models import Account
    from accounts.services import account_create, api_key_create
    from checkouts import rollup
    from checkouts.insights import Window, insights_query
    from checkouts.models import (
        Checkout,
        CheckoutCompletionRollup,
        CheckoutQuarterRollup,
        CheckoutRollup,
    )
    from checkouts.services import checkouts_roll_up
    from core.scope import Scope
    from tests.helpers import StripeTestClient

    account = Account.objects.filter(name="Checkout bench").first()
    if account is None:
        account, keys = account_create(name="Checkout bench")
        secret = keys["secret_key_test"]
    else:  # a rerun (--skip-load) measures the rows loaded before, with a fresh key
        secret = api_key_create(account=account, kind="secret", livemode=False).raw
    client = StripeTestClient(key=secret)
    result: dict = {"rows": args.rows}

    if not args.skip_load:
        seconds = load(account.id, args.rows)
        result["load_seconds"] = round(seconds, 1)
        print(f"loaded {args.rows:,} checkouts with COPY in {seconds:.1f} s")

    def insights(params):
        def call():
            response = client.get("/v1/checkout_insights", params)
            assert response.status_code == 200, response
            return response

        return call

    started = time.perf_counter()
    if args.skip_load:  # what the roll-up sweep has not counted yet
        counted = checkouts_roll_up(batch_size=10**9, max_batches=1)
    else:  # after COPY: every closed row, as `manage.py checkouts_rollup --rebuild` does
        counted = rollup.rebuild()
    result["rollup_seconds"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    with connection.cursor() as cursor:  # what autovacuum does after so many updates
        cursor.execute("VACUUM ANALYZE checkouts_checkout")
        cursor.execute("VACUUM ANALYZE checkouts_checkoutrollup")
        cursor.execute("VACUUM ANALYZE checkouts_checkoutcompletionrollup")
        cursor.execute("VACUUM ANALYZE checkouts_checkoutquarterrollup")
    result["rollup_vacuum_seconds"] = round(time.perf_counter() - started, 1)
    result["rollup_rows"] = CheckoutRollup.objects.count()
    result["quarter_rollup_rows"] = CheckoutQuarterRollup.objects.count()
    result["completion_rollup_rows"] = CheckoutCompletionRollup.objects.count()
    result["open_rows"] = Checkout.objects.filter(rolled_up=False).count()
    print(
        f"rolled up {counted:,} closed checkouts in {result['rollup_seconds']} s "
        f"({result['rollup_rows']:,} rollup rows, {result['quarter_rollup_rows']:,} narrow, "
        f"{result['completion_rollup_rows']:,} of the histogram; "
        f"{result['open_rows']:,} checkouts not rolled up)"
    )

    body = insights({"group_by": "day", "tz": "Europe/Dublin"})().json()
    assert body["total"]["started"] >= args.rows or args.skip_load, body["total"]["started"]
    for suffix, with_rollup in (("", True), ("_live", False)):
        settings.CHECKOUT_INSIGHTS_ROLLUP = with_rollup
        for name, params in (
            ("insights_total_30d", {}),
            ("insights_by_day_30d", {"group_by": "day", "tz": "Europe/Dublin"}),
            ("insights_by_day_kolkata_30d", {"group_by": "day", "tz": "Asia/Kolkata"}),
            ("insights_by_day_kathmandu_30d", {"group_by": "day", "tz": "Asia/Kathmandu"}),
            ("insights_by_country_30d", {"group_by": "country"}),
        ):
            ms, times = median_ms(insights(params), args.repeat)
            result[name + suffix + "_ms"] = round(ms, 1)
            print(f"{name}{suffix}: median {ms:.0f} ms of {[round(t) for t in times]}")
    settings.CHECKOUT_INSIGHTS_ROLLUP = True
    for name in [k for k in result if k.startswith("insights_") and k.endswith("_live_ms")]:
        fast = result[name.replace("_live_ms", "_ms")]
        result[name.replace("_live_ms", "_live_over_rollup")] = round(result[name] / fast, 2)
    print(
        "live ÷ rollup: "
        + ", ".join(
            f"{k.removeprefix('insights_').removesuffix('_live_over_rollup')} {v}x"
            for k, v in result.items()
            if k.endswith("_live_over_rollup")
        )
    )

    now = datetime.now(UTC)
    window = Window.of(None, None, now)
    scope = Scope(account.id, False)
    for name, group_by, tz in (("plan_by_day", "day", "Asia/Kolkata"), ("plan_total", None, None)):
        sql, params, _ = insights_query(scope, window, group_by, tz, {}, now)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")  # as the view does
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(r[0] for r in cursor.fetchall())
        result[name] = plan
        print(plan)

    created: list[str] = []

    def start(i):
        response = client.post(
            "/v1/checkouts",
            {"tracking_id": f"rps_{time.time_ns()}_{i}", "amount": 2599, "currency": "eur"},
        )
        assert response.status_code == 200, response
        created.append(response.json()["id"])

    def update(i):
        response = client.post(
            f"/v1/checkouts/{created[i % len(created)]}",
            {"shipping": {"status": "complete" if i % 2 else "in_progress"}},
        )
        assert response.status_code == 200, response

    def create_intent(i):
        response = client.post("/v1/payment_intents", {"amount": 2599, "currency": "eur"})
        assert response.status_code == 200, response

    for name, call in (("create_intent", create_intent), ("start", start), ("update", update)):
        result[name + "_rps"] = round(rps(call, args.requests), 1)
    base = result["create_intent_rps"]
    for name in ("start", "update"):
        result[name + "_vs_create_intent"] = round(result[name + "_rps"] / base, 2)
    print(
        "requests per second (in-process, sequential): "
        + ", ".join(f"{n} {result[n + '_rps']}" for n in ("create_intent", "start", "update"))
        + f"; start {result['start_vs_create_intent']}x, update "
        + f"{result['update_vs_create_intent']}x create-intent"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"checkout-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
