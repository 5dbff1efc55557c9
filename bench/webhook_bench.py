#!/usr/bin/env python
"""Webhook delivery benchmark: deliveries per second and lag (event created → 2xx received).

Starts its own redis-server on a free 127.0.0.1 port (never the shared one), a receiver
(http.server, threads) on 127.0.0.1, and a real Celery worker with beat on that Redis, against
DATABASE_URL (default: a fresh database on the checkout's embedded PostgreSQL). It creates an account and one `*` endpoint, then records `--events` events the way
services do (`event_emit` inside a transaction, in batches of `--batch`), so the measured
path is the real one: after-commit relay enqueue → relay → one delivery per endpoint →
signed POST → 2xx → delivery marked delivered.

Reported: deliveries per second (events / (last 2xx − first event created)), lag p50/p95/p99
and max in ms, duplicates seen by the receiver, and whether every event arrived. Results go to
bench/results/webhooks-<time>.json; a line is printed. Everything is bounded (`--events` is
capped, `--time-limit` for the wait) and stopped on every exit path; the bench account (and its
events, endpoints, deliveries) is deleted at the end.

    .venv/bin/python bench/webhook_bench.py [--events 500] [--concurrency 2] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


class Receiver:
    def __init__(self):
        self.received: dict[str, float] = {}
        self.duplicates = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.time()
                event_id = self.headers.get("webhook-id", "")
                with receiver.lock:
                    if event_id in receiver.received:
                        receiver.duplicates += 1
                    else:
                        receiver.received[event_id] = now
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--batch", type=int, default=10, help="events per transaction")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--time-limit", type=float, default=120.0)
    args, _ = parser.parse_known_args()
    n_events = max(1, min(args.events, MAX_EVENTS))

    RUN_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    redis_proc, broker_url = start_redis()
    receiver = Receiver()
    os.environ.update(
        PAYINTENTS_DEV="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_BROKER_URL=broker_url,
        REDIS_URL=broker_url,
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
        WEBHOOK_SWEEP_INTERVAL_SECONDS="1",
    )
    sys.path.insert(0, str(ROOT))
    from bench.database import bench_database_url

    os.environ["DATABASE_URL"], _ = bench_database_url("webhooks")
    worker = None
    account = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import transaction

        from accounts.services import account_create
        from events.models import Event
        from events.services import event_emit, webhook_endpoint_create

        call_command("migrate", verbosity=0, interactive=False)
        account, _keys = account_create(name="webhook bench", live=False)
        webhook_endpoint_create(
            scope=Scope(account_id=account.id, livemode=False),
            url=f"http://127.0.0.1:{receiver.port}/bench",
            enabled_events=["*"],
        )
        worker = start_worker(args.concurrency, RUN_DIR / "webhook-worker.log")
        time.sleep(3)  # let the worker connect
        if worker.poll() is not None:
            print((RUN_DIR / "webhook-worker.log").read_text()[-2000:])
            return 1

        started = time.time()
        ids: list[str] = []
        for start in range(0, n_events, args.batch):
            with transaction.atomic():
                for i in range(start, min(start + args.batch, n_events)):
                    [event] = event_emit(
                        scope=Scope(account_id=account.id, livemode=False),
                        changes=[
                            (
                                "customer.created",
                                {"id": f"cus_bench{i}", "object": "customer"},
                                None,
                            )
                        ],
                    )
                    ids.append(event.id)
        recorded = time.time()

        deadline = time.time() + args.time_limit
        while time.time() < deadline and len(receiver.received) < len(ids):
            time.sleep(0.2)
        finished = time.time()

        created = {
            e: c.timestamp()
            for e, c in Event.objects.filter(id__in=ids).values_list("id", "created")
        }
        with receiver.lock:
            received = dict(receiver.received)
            duplicates = receiver.duplicates
        lags = sorted((received[e] - created[e]) * 1000 for e in ids if e in received)
        last = max(received.values()) if received else finished
        result = {
            "benchmark": "webhooks",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": os.environ["DATABASE_URL"].split("@")[-1],
            "events": len(ids),
            "delivered": len(lags),
            "all_delivered": len(lags) == len(ids),
            "duplicates": duplicates,
            "worker_concurrency": args.concurrency,
            "record_seconds": round(recorded - started, 3),
            "deliveries_per_second": round(len(lags) / max(last - started, 1e-9), 1),
            "lag_ms": {
                "p50": round(percentile(lags, 50) or 0, 1),
                "p95": round(percentile(lags, 95) or 0, 1),
                "p99": round(percentile(lags, 99) or 0, 1),
                "max": round(lags[-1], 1) if lags else None,
            },
            "stopped_by_time_limit": len(lags) < len(ids),
        }
        out = RESULTS / f"webhooks-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(
            f"webhooks: {result['delivered']}/{result['events']} delivered, "
            f"{result['deliveries_per_second']}/s, lag p50 {result['lag_ms']['p50']} ms, "
            f"p95 {result['lag_ms']['p95']} ms, p99 {result['lag_ms']['p99']} ms, "
            f"{duplicates} duplicates → {out.relative_to(ROOT)}"
        )
        return 0 if result["all_delivered"] else 1
    finally:
        stop(worker, group=True)
        receiver.stop()
        if account is not None:
            account.delete()
        stop(redis_proc)


if __name__ == "__main__":
    sys.exit(main())
