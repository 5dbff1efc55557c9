#!/usr/bin/env python
"""Webhook delivery benchmark: deliveries per second and lag (event created → 2xx received),
with healthy endpoints alone and beside a slow, a failing and a dead one.

Starts its own redis-server on a free 127.0.0.1 port (never the shared one), a receiver in a
process of its own (`bench/webhook_receiver.py`: HTTP/1.1 keep-alive, 200 at once on
`/good/…`, 200 after 6 s on `/slow/…`, 500 on `/error/…`), and a real Celery worker with beat
on that Redis, against DATABASE_URL (default: a fresh database on the checkout's embedded
PostgreSQL, bench/database.py). The worker runs with
`WEBHOOK_TIMEOUT_SECONDS=5`. Events are recorded the way services do (`event_emit` inside a
transaction), so the measured path is the real one: after-commit relay hint → relay → one
delivery per endpoint → batches per endpoint → signed POSTs → 2xx → deliveries marked.

Phases, each with an account and endpoints of its own (in this order):

| phase | what |
|---|---|
| `backlog` | `--events` events (transactions of `--batch`) recorded while no worker runs, then the worker started: the rate it drains them at, from the first 2xx to the last |
| `burst` | `--events` events recorded as fast as this process can beside a running worker: events ÷ (last 2xx − first event created) |
| `steady` | `--rate` events a second (one transaction each) for `--seconds`: the lag |
| `steady_bad` | the same, with a slow (times out), a failing (500) and a dead (connection refused) endpoint subscribed besides the healthy one: the healthy one's lag, and its ratio to `steady` |

Per phase: delivered/expected, duplicates, deliveries per second, lag p50/p95/p99/max. Nothing
lost means every event at the healthy endpoint; no duplicate means no event id twice. Results:
bench/results/webhooks-<time>.json and a table. Everything is bounded (`--events` capped at
20,000, `--time-limit` per phase) and stopped on every exit path; the bench accounts are
deleted at the end.

    .venv/bin/python bench/webhook_bench.py [--events 20000] [--batch 50] [--rate 200]
        [--seconds 15] [--concurrency 2] [--phases backlog,burst,steady,steady_bad]
        [--time-limit 180]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script (bench/run.py): the project's packages first

from config.celery import worker_argv  # noqa: E402
from core.scope import Scope  # noqa: E402

RESULTS = ROOT / "bench" / "results"
RUN_DIR = ROOT / ".run" / "bench"
MAX_EVENTS = 20_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(sorted_values: list[float], p: float) -> float | None:
    if not sorted_values:
        return None
    rank = max(1, int(-(-p * len(sorted_values) // 100)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def start_redis() -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if not binary:
        sys.exit("webhook_bench needs redis-server on PATH")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("redis-server did not start")


def start_worker(concurrency: int, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        worker_argv(
            concurrency=concurrency,
            loglevel="WARNING",
            gossip=False,
            mingle=False,
            hostname=f"bench-{time.time_ns()}@%h",
            beat_schedule=RUN_DIR / f"beat-{time.time_ns()}",
        ),
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return proc


def stop(proc: subprocess.Popen | None, group: bool = False) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        if group:
            os.killpg(proc.pid, 15)
        else:
            proc.terminate()
        proc.wait(timeout=20)
    except Exception:
        if group:
            os.killpg(proc.pid, 9)
        else:
            proc.kill()


def start_receiver() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "webhook_receiver.py"), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("the receiver did not start")


def receiver_get(port: int, what: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{what}", timeout=30) as answer:
        return json.loads(answer.read())


def wait_until_delivered(port: int, name: str, expected: int, time_limit: float) -> bool:
    deadline = time.time() + time_limit
    while time.time() < deadline:
        if receiver_get(port, "count").get(name, 0) >= expected:
            return True
        time.sleep(0.25)
    return False


def lag_summary(received: dict[str, float], created: dict[str, float]) -> dict:
    lags = sorted((received[e] - created[e]) * 1000 for e in created if e in received)
    return {
        "p50": round(percentile(lags, 50) or 0, 1),
        "p95": round(percentile(lags, 95) or 0, 1),
        "p99": round(percentile(lags, 99) or 0, 1),
        "max": round(lags[-1], 1) if lags else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=50, help="events per transaction")
    parser.add_argument("--rate", type=float, default=200.0, help="events a second, steady")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of a steady phase")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--phases", default="backlog,burst,steady,steady_bad")
    parser.add_argument("--time-limit", type=float, default=180.0, help="per phase")
    args, _ = parser.parse_known_args()
    n_events = max(1, min(args.events, MAX_EVENTS))
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]

    RUN_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    redis_proc, broker_url = start_redis()
    receiver, port = start_receiver()
    os.environ.update(
        PAYINTENTS_DEV="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=broker_url,
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        WEBHOOK_SWEEP_INTERVAL_SECONDS="1",
        WEBHOOK_TIMEOUT_SECONDS="5",
        WEBHOOKS_IN_PROCESS="0",
    )
    sys.path.insert(0, str(ROOT))
    from bench.database import bench_database_url

    os.environ["DATABASE_URL"], _ = bench_database_url("webhooks")
    worker = None
    accounts = []
    results: dict[str, dict] = {}
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import transaction

        from accounts.services import account_create
        from events.models import Event
        from events.services import event_emit, webhook_endpoint_create

        call_command("migrate", verbosity=0, interactive=False)
        dead_port = free_port()  # nothing listens there: connection refused

        def new_account(phase: str, bad: bool) -> Scope:
            account, _keys = account_create(name=f"webhook bench {phase}", live=False)
            accounts.append(account)
            scope = Scope(account_id=account.id, livemode=False)
            urls = [f"http://127.0.0.1:{port}/good/{phase}"]
            if bad:
                urls += [
                    f"http://127.0.0.1:{port}/slow/{phase}",
                    f"http://127.0.0.1:{port}/error/{phase}",
                    f"http://127.0.0.1:{dead_port}/dead/{phase}",
                ]
            for url in urls:
                webhook_endpoint_create(scope=scope, url=url, enabled_events=["*"])
            return scope

        def emit(scope: Scope, i: int) -> str:
            [event] = event_emit(
                scope=scope,
                changes=[("customer.created", {"id": f"cus_bench{i}", "object": "customer"}, None)],
            )
            return event.id

        def record_batches(scope: Scope) -> list[str]:
            ids: list[str] = []
            for start in range(0, n_events, args.batch):
                with transaction.atomic():
                    for i in range(start, min(start + args.batch, n_events)):
                        ids.append(emit(scope, i))
            return ids

        def record_steady(scope: Scope) -> list[str]:
            ids: list[str] = []
            total = int(args.rate * args.seconds)
            started = time.time()
            for i in range(total):
                pause = started + i / args.rate - time.time()
                if pause > 0:
                    time.sleep(pause)
                with transaction.atomic():
                    ids.append(emit(scope, i))
            return ids

        def worker_up() -> subprocess.Popen:
            proc = start_worker(args.concurrency, RUN_DIR / "webhook-worker.log")
            time.sleep(3)  # let the worker connect
            if proc.poll() is not None:
                print((RUN_DIR / "webhook-worker.log").read_text()[-2000:])
                sys.exit(1)
            return proc

        def settle(phase: str, ids: list[str], started: float, extra: dict) -> None:
            complete = wait_until_delivered(port, phase, len(ids), args.time_limit)
            stats = receiver_get(port, "stats")
            received = stats["good"].get(phase, {})
            created = {
                e: c.timestamp()
                for e, c in Event.objects.filter(id__in=ids).values_list("id", "created")
            }
            times = sorted(received[e] for e in ids if e in received)
            span_from = extra.pop("rate_from", None)
            first = times[0] if times else started
            last = times[-1] if times else time.time()
            begin = started if span_from is None else span_from(first)
            results[phase] = {
                "events": len(ids),
                "delivered": len(times),
                "all_delivered": complete and len(times) == len(ids),
                "duplicates": stats["duplicates"],
                "deliveries_per_second": round(len(times) / max(last - begin, 1e-9), 1),
                "lag_ms": lag_summary(received, created),
                "bad_endpoint_requests": stats["bad"],
                **extra,
            }
            urllib.request.urlopen(
                urllib.request.Request(f"http://127.0.0.1:{port}/reset", method="POST")
            ).read()

        for phase in phases:
            if phase == "backlog":
                stop(worker, group=True)
                worker = None
                scope = new_account(phase, bad=False)
                began = time.time()
                ids = record_batches(scope)
                recorded = time.time()
                worker_started = time.time()
                worker = worker_up()
                settle(
                    phase,
                    ids,
                    worker_started,
                    {
                        "record_seconds": round(recorded - began, 3),
                        "rate_from": lambda first: first,
                    },
                )
                continue
            if worker is None:
                worker = worker_up()
            if phase == "burst":
                scope = new_account(phase, bad=False)
                began = time.time()
                ids = record_batches(scope)
                settle(phase, ids, began, {"record_seconds": round(time.time() - began, 3)})
            elif phase in ("steady", "steady_bad"):
                scope = new_account(phase, bad=phase == "steady_bad")
                began = time.time()
                ids = record_steady(scope)
                settle(
                    phase,
                    ids,
                    began,
                    {"record_seconds": round(time.time() - began, 3), "rate": args.rate},
                )
            else:
                sys.exit(f"unknown phase {phase}")
        if "steady" in results and "steady_bad" in results:
            base, bad = results["steady"]["lag_ms"], results["steady_bad"]["lag_ms"]
            results["steady_bad"]["lag_ratio_to_steady"] = {
                key: round(bad[key] / base[key], 2) if base[key] else None for key in ("p50", "p99")
            }
        result = {
            "benchmark": "webhooks",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": os.environ["DATABASE_URL"].split("@")[-1],
            "worker_concurrency": args.concurrency,
            "phases": results,
        }
        out = RESULTS / f"webhooks-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(
            f"{'phase':<11} {'delivered':>13} {'dup':>4} {'per s':>8} "
            f"{'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'max ms':>9}"
        )
        for phase, r in results.items():
            lag = r["lag_ms"]
            print(
                f"{phase:<11} {r['delivered']:>6}/{r['events']:<6} {r['duplicates']:>4} "
                f"{r['deliveries_per_second']:>8} {lag['p50']:>9} {lag['p95']:>9} "
                f"{lag['p99']:>9} {lag['max']!s:>9}"
            )
        if "steady_bad" in results:
            print(
                "steady_bad: healthy endpoint's lag ÷ steady's:",
                results["steady_bad"].get("lag_ratio_to_steady"),
                "bad endpoints' requests:",
                results["steady_bad"]["bad_endpoint_requests"],
            )
        print(f"→ {out.relative_to(ROOT)}")
        ok = all(r["all_delivered"] and r["duplicates"] == 0 for r in results.values())
        return 0 if ok else 1
    finally:
        stop(worker, group=True)
        stop(receiver)
        for account in accounts:
            account.delete()
        stop(redis_proc)


if __name__ == "__main__":
    sys.exit(main())
