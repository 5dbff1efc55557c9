#!/usr/bin/env python
"""Webhook latency under `make run`'s embedded broker: event created → POST received.

Runs the stack `make run` runs (`manage.py runall`: gunicorn, a Celery worker, beat) with no
REDIS_URL, so the broker is kombu's file-system transport (in a private folder), against a fresh
database on the embedded PostgreSQL (DATABASE_URL when set). A receiver (http.server, threads) listens on 127.0.0.1; one
webhook endpoint points at it. Then `--events` customers are created through the API, one every
`--interval` seconds (each `customer.created` event is measured alone, not behind a queue), and
the lag of each event is the time from its `Event.created` (read from the database) to the
moment the receiver got its POST.

Reported: lag p50/p95/max in ms and whether every event arrived. Results go to
bench/results/embedded-webhooks-<time>.json; a line is printed. Bounded: `--events` is capped
at 500, `--time-limit` bounds the wait, and the stack is stopped on every exit path.

    .venv/bin/python bench/embedded_webhook_bench.py [--events 30] [--interval 0.5]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUN_DIR = ROOT / ".run" / "bench"
MAX_EVENTS = 500


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
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                now = time.time()
                with receiver.lock:
                    receiver.received.setdefault(self.headers.get("webhook-id", ""), now)
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


def api(base: str, secret: str, method: str, path: str, data: dict | None = None) -> dict:
    body = urllib.parse.urlencode(data or {}, doseq=True).encode() if method == "POST" else None
    request = urllib.request.Request(base + path, data=body, method=method)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{secret}:".encode()).decode())
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between events")
    parser.add_argument("--time-limit", type=float, default=120.0)
    args, _ = parser.parse_known_args()
    n_events = max(1, min(args.events, MAX_EVENTS))

    work = RUN_DIR / f"embedded-{time.time_ns()}"
    work.mkdir(parents=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "CELERY_BROKER_URL", "PYTEST_VERSION", "LOG_LEVEL")
    }
    sys.path.insert(0, str(ROOT))
    from bench.database import bench_database_url

    env.update(
        PAYINTENTS_DEV="1",
        DATABASE_URL=bench_database_url("embedded_webhooks")[0],
        BROKER_DIR=str(work / "broker"),
        RATE_LIMIT_ENABLED="0",
    )
    os.environ.clear()
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
    keys = json.loads(
        subprocess.run(
            [sys.executable, "manage.py", "create_account", "Bench", "--json"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    secret = keys["secret_key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    receiver = Receiver()
    log = open(work / "runall.log", "wb")
    stack = subprocess.Popen(
        [sys.executable, "manage.py", "runall", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                api(base, secret, "GET", "/readyz")
                break
            except OSError:
                if time.time() > deadline or stack.poll() is not None:
                    print((work / "runall.log").read_text()[-2000:])
                    return 1
                time.sleep(0.3)
        api(
            base,
            secret,
            "POST",
            "/v1/webhook_endpoints",
            {
                "url": f"http://127.0.0.1:{receiver.port}/hook",
                "enabled_events[]": ["customer.created"],
            },
        )
        time.sleep(2)  # the worker is connected once /readyz answers; let beat settle too
        started = time.time()
        for i in range(n_events):
            api(base, secret, "POST", "/v1/customers", {"name": f"bench {i}"})
            time.sleep(args.interval)
        deadline = time.time() + args.time_limit
        while time.time() < deadline and len(receiver.received) < n_events:
            time.sleep(0.1)

        import django

        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        sys.path.insert(0, str(ROOT))
        django.setup()
        from events.models import Event

        created = {
            event_id: at.timestamp()
            for event_id, at in Event.objects.filter(type="customer.created").values_list(
                "id", "created"
            )
        }
        with receiver.lock:
            received = dict(receiver.received)
        lags = sorted((received[e] - c) * 1000 for e, c in created.items() if e in received)
        result = {
            "benchmark": "embedded-webhooks",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "broker": "filesystem (make run's default)",
            "events": len(created),
            "delivered": len(lags),
            "all_delivered": len(lags) == len(created) == n_events,
            "interval_seconds": args.interval,
            "wall_seconds": round(time.time() - started, 1),
            "lag_ms": {
                "p50": round(percentile(lags, 50) or 0, 1),
                "p95": round(percentile(lags, 95) or 0, 1),
                "max": round(lags[-1], 1) if lags else None,
            },
        }
        out = RESULTS / f"embedded-webhooks-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(
            f"embedded webhooks: {result['delivered']}/{n_events} delivered, lag p50 "
            f"{result['lag_ms']['p50']} ms, p95 {result['lag_ms']['p95']} ms, max "
            f"{result['lag_ms']['max']} ms → {out.relative_to(ROOT)}"
        )
        return 0 if result["all_delivered"] else 1
    finally:
        if stack.poll() is None:
            stack.send_signal(signal.SIGTERM)
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
        log.close()
        receiver.stop()


if __name__ == "__main__":
    sys.exit(main())
