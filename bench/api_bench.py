#!/usr/bin/env python
"""API benchmark: payment-intent endpoints relative to a baseline, measured in the same run.

Starts its own gunicorn on a free 127.0.0.1 port against DATABASE_URL (default: a fresh
database on the checkout's embedded PostgreSQL, bench/database.py), creates an account through `accounts.services.account_create`, then
sends a bounded number of requests per scenario over a thread pool:

    baseline  GET  /readyz                        (the floor: routing, one SELECT 1, broker ping)
    create    POST /v1/payment_intents
    retrieve  GET  /v1/payment_intents/<id>
    list      GET  /v1/payment_intents?limit=10
    confirm   POST /v1/payment_intents/<id>/confirm   (pm_card_visa, one fresh intent each)

Throughput and p50/p95/p99 latency are reported as ratios to the baseline (the mean of a run
before and after the scenarios), because absolute numbers on a shared machine mean little.
Query counts per request are measured in-process with the Django test client and
CaptureQueriesContext. Results go to bench/results/api-<time>.json; a table is printed.

Everything is bounded: `--requests` per scenario, `--time-limit` for the whole run, a timeout
per request; the server is stopped on every exit path. Only 127.0.0.1 is contacted.

    .venv/bin/python bench/api_bench.py [--requests 200] [--concurrency 4] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RUN_DIR = ROOT / ".run" / "bench"
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 15.0


# --- measurement ----------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    name: str
    requests: int = 0
    ok: int = 0
    errors: int = 0
    error_statuses: dict = field(default_factory=dict)
    seconds: float = 0.0
    throughput: float = 0.0  # successful requests per second
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    stopped_by_time_limit: bool = False
    ratios: dict = field(default_factory=dict)


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, int(-(-p * len(sorted_values) // 100)))  # ceil(p/100 * n)
    return sorted_values[min(rank, len(sorted_values)) - 1]


class Connections:
    """One keep-alive HTTP connection per thread."""

    def __init__(self, port: int):
        self.port = port
        self.local = threading.local()

    def request(self, method: str, path: str, body: str | None, headers: dict) -> tuple[int, bytes]:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(
                HOST, self.port, timeout=REQUEST_TIMEOUT
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise


def run_scenario(
    name: str,
    connections: Connections,
    requests: list[tuple[str, str, str | None]],
    *,
    key: str | None,
    concurrency: int,
    deadline: float,
    keep_bodies: bool = False,
) -> tuple[ScenarioResult, list[bytes]]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    latencies: list[float] = []
    bodies: list[bytes] = []
    result = ScenarioResult(name=name)
    lock = threading.Lock()

    def one(request: tuple[str, str, str | None]) -> None:
        if time.monotonic() > deadline:
            with lock:
                result.stopped_by_time_limit = True
            return
        method, path, body = request
        started = time.perf_counter()
        try:
            status, payload = connections.request(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            status, payload = exc.__class__.__name__, b""
        elapsed = time.perf_counter() - started
        with lock:
            result.requests += 1
            if status == 200:
                result.ok += 1
                latencies.append(elapsed)
                if keep_bodies:
                    bodies.append(payload)
            else:
                result.errors += 1
                result.error_statuses[str(status)] = result.error_statuses.get(str(status), 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, requests))
    result.seconds = round(time.perf_counter() - started, 4)
    latencies.sort()
    result.throughput = round(result.ok / result.seconds, 2) if result.seconds else 0.0
    for p in (50, 95, 99):
        value = percentile(latencies, p)
        setattr(result, f"p{p}_ms", round(value * 1000, 3) if value is not None else None)
    return result, bodies


def add_ratios(result: ScenarioResult, baseline: ScenarioResult) -> None:
    def ratio(a, b):
        return round(a / b, 3) if a and b else None

    result.ratios = {
        "throughput": ratio(result.throughput, baseline.throughput),
        "p50": ratio(result.p50_ms, baseline.p50_ms),
        "p95": ratio(result.p95_ms, baseline.p95_ms),
        "p99": ratio(result.p99_ms, baseline.p99_ms),
    }


def merge_baselines(before: ScenarioResult, after: ScenarioResult) -> ScenarioResult:
    merged = ScenarioResult(name="baseline")
    merged.requests = before.requests + after.requests
    merged.ok = before.ok + after.ok
    merged.errors = before.errors + after.errors
    merged.seconds = round(before.seconds + after.seconds, 4)
    merged.throughput = round(statistics.mean([before.throughput, after.throughput]), 2)
    for p in (50, 95, 99):
        values = [v for v in (getattr(before, f"p{p}_ms"), getattr(after, f"p{p}_ms")) if v]
        setattr(merged, f"p{p}_ms", round(statistics.mean(values), 3) if values else None)
    merged.stopped_by_time_limit = before.stopped_by_time_limit or after.stopped_by_time_limit
    return merged


# --- environment, database, server ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def bench_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        PAYINTENTS_DEV="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        # Enqueued tasks stay in the web process's memory: the bench measures the API, not a
        # broker, and leaves nothing behind in .broker/ or in anyone's Redis.
        CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "memory://localhost/"),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # One key sends every request: the per-key limiter (100/s) would measure itself, not
        # the endpoints. BENCH_RATE_LIMIT=1 keeps it on to measure its cost.
        RATE_LIMIT_ENABLED=os.environ.get("BENCH_RATE_LIMIT", "0"),
    )
    env.pop("PYTEST_VERSION", None)
    return env


def describe_database(database_url: str) -> str:
    parsed = urlparse(database_url)
    return f"{parsed.scheme}://{parsed.hostname}:{parsed.port or ''}{parsed.path}"


def migrate(env: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


class Server:
    def __init__(self, env: dict, port: int, workers: int, threads: int):
        self.env = env
        self.port = port
        self.workers = workers
        self.threads = threads
        self.proc: subprocess.Popen | None = None
        self.log_path = RUN_DIR / f"gunicorn-{port}.log"

    def start(self, timeout: float = 30.0) -> None:
        gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--worker-class",
                "gthread",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited early; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not become healthy in {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if getattr(self, "log", None):
            self.log.close()


# --- in-process: account and query counts -------------------------------------------------------


def setup_django(env: dict) -> None:
    os.environ.update({k: env[k] for k in ("PAYINTENTS_DEV", "DJANGO_SETTINGS_MODULE")})
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    os.environ["CELERY_BROKER_URL"] = env["CELERY_BROKER_URL"]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def create_account() -> dict[str, str]:
    from accounts.services import account_create

    _, keys = account_create(name=f"bench-{int(time.time())}", live=False)
    return keys


def measure_query_counts(secret_key: str) -> dict[str, int | str]:
    """Queries per request for each endpoint, after one warm-up call (key last-used stamps)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret_key}", raise_request_exception=False)
    form = "application/x-www-form-urlencoded"

    def create():
        return client.post("/v1/payment_intents", "amount=1000&currency=usd", content_type=form)

    def intent_id() -> str | None:
        response = create()
        return response.json().get("id") if response.status_code == 200 else None

    calls = {
        "baseline": lambda: client.get("/readyz"),
        "create": create,
        "retrieve": lambda: client.get(f"/v1/payment_intents/{sample}"),
        "list": lambda: client.get("/v1/payment_intents?limit=10"),
        "confirm": lambda: client.post(
            f"/v1/payment_intents/{intent_id_for_confirm()}/confirm",
            "payment_method=pm_card_visa",
            content_type=form,
        ),
    }
    confirm_ids: list[str | None] = []

    def intent_id_for_confirm() -> str | None:
        return confirm_ids.pop()

    sample = intent_id()
    counts: dict[str, int | str] = {}
    for name, call in calls.items():
        if name == "confirm":
            confirm_ids.extend([intent_id(), intent_id()])
        call()  # warm-up
        with CaptureQueriesContext(connection) as captured:
            response = call()
        counts[name] = (
            len(captured.captured_queries)
            if response.status_code == 200
            else f"HTTP {response.status_code}"
        )
    return counts


# --- the run ------------------------------------------------------------------------------------


def form(data: dict) -> str:
    return urlencode(data)


def print_table(baseline: ScenarioResult, scenarios: list[ScenarioResult], queries: dict) -> None:
    def fmt(value, suffix=""):
        return "-" if value is None else f"{value}{suffix}"

    header = (
        f"{'scenario':<10} {'ok/sent':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} │ {'tput×':>6} {'p50×':>6} {'p95×':>6} {'p99×':>6} │ {'queries':>7}"
    )
    print(header)
    print("─" * len(header))
    for result in [baseline, *scenarios]:
        r = (
            result.ratios
            if result is not baseline
            else dict.fromkeys(("throughput", "p50", "p95", "p99"), 1.0)
        )
        print(
            f"{result.name:<10} {f'{result.ok}/{result.requests}':>9} {result.throughput:>8} "
            f"{fmt(result.p50_ms):>8} {fmt(result.p95_ms):>8} {fmt(result.p99_ms):>8} │ "
            f"{fmt(r.get('throughput')):>6} {fmt(r.get('p50')):>6} {fmt(r.get('p95')):>6} "
            f"{fmt(r.get('p99')):>6} │ {fmt(queries.get(result.name)):>7}"
        )
    print("ratios: throughput ÷ baseline throughput, latency ÷ baseline latency (× = times)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="per scenario (max 5000)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (max 32)")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds for the run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the fresh database made on the embedded PostgreSQL (default: dropped)",
    )
    args = parser.parse_args(argv)
    n = max(1, min(args.requests, 5000))
    concurrency = max(1, min(args.concurrency, 32))

    RUN_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    sys.path.insert(0, str(ROOT))
    from bench.database import bench_database_url, drop_bench_database

    database_url, fresh = bench_database_url("api")
    env = bench_env(database_url)
    print(f"database: {describe_database(database_url)}; migrating…", flush=True)
    migrate(env)
    setup_django(env)
    keys = create_account()
    secret = keys["secret_key_test"]

    port = free_port()
    server = Server(env, port, args.workers, args.threads)
    started_at = time.monotonic()
    deadline = started_at + args.time_limit
    scenarios: list[ScenarioResult] = []
    try:
        server.start()
        connections = Connections(port)
        print(
            f"gunicorn on {HOST}:{port} ({args.workers}×{args.threads}); {n} requests per "
            f"scenario, {concurrency} threads, time limit {args.time_limit:.0f}s",
            flush=True,
        )

        def run(name, requests, *, key=secret, keep_bodies=False):
            result, bodies = run_scenario(
                name,
                connections,
                requests,
                key=key,
                concurrency=concurrency,
                deadline=deadline,
                keep_bodies=keep_bodies,
            )
            print(f"  {name:<9} {result.ok}/{result.requests} ok in {result.seconds}s", flush=True)
            return result, bodies

        # warm both workers and their connections; not counted
        run_scenario(
            "warmup",
            connections,
            [("GET", "/readyz", None)] * (concurrency * 4),
            key=None,
            concurrency=concurrency,
            deadline=deadline,
        )
        before, _ = run("baseline", [("GET", "/readyz", None)] * n, key=None)

        create_body = form({"amount": 1000, "currency": "usd"})
        create, bodies = run(
            "create", [("POST", "/v1/payment_intents", create_body)] * n, keep_bodies=True
        )
        ids = [json.loads(body)["id"] for body in bodies]
        scenarios.append(create)
        if ids:
            retrieve, _ = run(
                "retrieve",
                [("GET", f"/v1/payment_intents/{ids[i % len(ids)]}", None) for i in range(n)],
            )
            scenarios.append(retrieve)
        scenarios.append(run("list", [("GET", "/v1/payment_intents?limit=10", None)] * n)[0])
        if ids:
            confirm_body = form({"payment_method": "pm_card_visa"})
            confirm, _ = run(
                "confirm",
                [("POST", f"/v1/payment_intents/{pi}/confirm", confirm_body) for pi in ids],
            )
            scenarios.append(confirm)
        after, _ = run("baseline", [("GET", "/readyz", None)] * n, key=None)
    finally:
        server.stop()

    baseline = merge_baselines(before, after)
    for result in scenarios:
        add_ratios(result, baseline)
    queries = measure_query_counts(secret)

    report = {
        "benchmark": "api",
        "started_at": stamp,
        "database": describe_database(database_url),
        "config": {
            "requests_per_scenario": n,
            "concurrency": concurrency,
            "gunicorn_workers": args.workers,
            "gunicorn_threads": args.threads,
            "time_limit_s": args.time_limit,
            "cpu_count": os.cpu_count(),
        },
        "baseline": asdict(baseline),
        "baseline_runs": {"before": asdict(before), "after": asdict(after)},
        "scenarios": {result.name: asdict(result) for result in scenarios},
        "queries_per_request": queries,
        "wall_seconds": round(time.monotonic() - started_at, 2),
    }
    if not args.keep_db:
        drop_bench_database(database_url, fresh)
    out = RESULTS / f"api-{stamp}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print_table(baseline, scenarios, queries)
    print(f"\nwritten: {out.relative_to(ROOT)}")
    failed = [r.name for r in scenarios if r.errors]
    if failed:
        print(f"scenarios with non-200 answers: {', '.join(failed)} (see error_statuses)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
