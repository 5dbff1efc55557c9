#!/usr/bin/env python
"""The product against a bare DRF baseline, in one interleaved run.

Two servers with the same configuration (gunicorn, `--worker-class`, `--workers`,
`--threads`) on the same PostgreSQL database: the product (`config.wsgi`) and the bare
baseline (`bench.baseline.wsgi`, its own settings and app; the product never serves it). Each
operation is measured in round pairs, product then baseline, then baseline then product, and so
on (`--rounds` pairs; the order alternates so that a drift of the machine's speed favours
neither side), at 16 connections and at 1:

    create    POST /v1/payment_intents
    retrieve  GET  /v1/payment_intents/<id>
    flow      create → confirm (pm_card_visa) → capture, one payment per loop

For each: requests (or payments) per second, p50/p99 latency (of the whole payment for `flow`,
and of each request on its own), CPU milliseconds per request of
the server's processes (their rusage from /proc), and SQL statements per request (counted
in-process with the Django test client, BEGIN/COMMIT and the simulated processor's own table
left out). A round is repeated (up to `--retries` times) when other processes (not the
server, not this client, not PostgreSQL's work for this database) took more than `--max-foreign` of the machine's CPU
while it ran (read from /proc/stat, steal included), since the machine may be shared. Prints a
table: the ratio is the median over the rounds of the product's rate over the baseline's
measured right before or after it (the machine's speed drifts over minutes; a pair shares it),
with the rounds' range; the rates and latencies shown are each side's best round. Writes
bench/results/flow-<time>.json.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/payintents_bench \\
        .venv/bin/python bench/flow_bench.py [--seconds 5] [--rounds 2] [--workers 3]
        [--worker-class sync|gthread] [--threads 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.api_bench import HOST, RUN_DIR, free_port, percentile  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- CPU accounting from /proc ------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:
            pass
    return total / CLK_TCK


def postgres_pids(database: str) -> list[int]:
    """The database's processes that work for this bench: the backends (and their parallel
    workers) connected to `database`, and the server's own background processes. Backends of
    other databases on the same server are another's work, so they count as foreign."""
    titles = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() not in ("postgres", "postmaster"):
                        continue
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    titles[int(entry)] = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                pass

    def ours(title: str) -> bool:
        words = title.split()
        # "postgres: 15/main: <user> <database> <client> <state>" for a backend
        if len(words) >= 5 and ("(" in words[4] or words[4] == "[local]"):
            return words[3] == database
        return True  # the postmaster and background processes

    pids = []
    for pid, title in titles.items():
        if "parallel worker for PID" in title:
            leader = title.split("parallel worker for PID", 1)[1].split()[0]
            if leader.isdigit() and ours(titles.get(int(leader), "")):
                pids.append(pid)
        elif ours(title):
            pids.append(pid)
    return pids


def machine_busy_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine incl. steal, wall-clock CPU seconds available)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


# --- servers ------------------------------------------------------------------------------------


class Server:
    def __init__(self, name: str, app: str, settings: str, args, database_url: str):
        self.name, self.app, self.settings, self.args = name, app, settings, args
        self.database_url = database_url
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            PAYINTENTS_DEV="1",
            DJANGO_SETTINGS_MODULE=self.settings,
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=os.environ.get("BENCH_BROKER_URL", "memory://localhost/"),
            LOG_LEVEL="WARNING",
            RATE_LIMIT_ENABLED=os.environ.get("BENCH_RATE_LIMIT", "0"),
        )
        env.pop("PYTEST_VERSION", None)
        return env

    def start(self) -> None:
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        if self.args.server == "granian":
            cmd = [
                str(ROOT / ".venv" / "bin" / "granian"),
                "--interface",
                "wsgi",
                self.app.replace(":application", ":application"),
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--workers",
                str(self.args.workers),
                "--blocking-threads",
                str(self.args.threads),
                "--log-level",
                "warning",
            ]
        else:
            cmd = [
                str(ROOT / ".venv" / "bin" / "gunicorn"),
                self.app,
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.args.workers),
                "--worker-class",
                self.args.worker_class,
                "--threads",
                str(self.args.threads),
                "--log-level",
                "warning",
            ]
        self.log = open(RUN_DIR / f"{self.name}-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/v1/payment_intents/none")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


# --- load ---------------------------------------------------------------------------------------


def request(conn, method, path, body, headers) -> dict:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
    return json.loads(payload)


def run(server: Server, operation: str, connections: int, seconds: float, key: str, ids: list):
    """Loop `operation` on `connections` keep-alive connections for `seconds`: returns
    (units per second, latencies in s, requests made)."""
    headers = {**FORM, "Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    per_request: list[float] = []  # each request's own latency (a flow makes three)
    counts = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    errors: list[str] = []

    def loop(n: int) -> None:
        conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
        mine, each, requests, i = [], [], 0, n

        def timed(*args):
            began = time.perf_counter()
            answer = request(*args)
            each.append(time.perf_counter() - began)
            return answer

        try:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                if operation == "create":
                    timed(conn, "POST", "/v1/payment_intents", "amount=1000&currency=usd", headers)
                    requests += 1
                elif operation == "retrieve":
                    timed(conn, "GET", f"/v1/payment_intents/{ids[i % len(ids)]}", None, headers)
                    i += connections
                    requests += 1
                else:
                    pi = timed(
                        conn,
                        "POST",
                        "/v1/payment_intents",
                        "amount=1000&currency=usd&capture_method=manual",
                        headers,
                    )
                    timed(
                        conn,
                        "POST",
                        f"/v1/payment_intents/{pi['id']}/confirm",
                        "payment_method=pm_card_visa",
                        headers,
                    )
                    timed(conn, "POST", f"/v1/payment_intents/{pi['id']}/capture", "", headers)
                    requests += 3
                mine.append(time.perf_counter() - started)
        except Exception as exc:  # reported, and the round counts as failed
            errors.append(str(exc)[:300])
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)
            per_request.extend(each)
            counts[0] += requests

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(connections)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{server.name} {operation}: {errors[0]}")
    latencies.sort()
    per_request.sort()
    return len(latencies) / wall, latencies, counts[0], per_request


def measure(server, operation, connections, seconds, key, ids, args) -> dict:
    """One measurement, repeated while other processes took too much of the machine."""
    for attempt in range(args.retries + 1):
        pids, db = process_tree(server.proc.pid), postgres_pids(args.database)
        cpu0, busy0, own0 = cpu_seconds(pids), machine_busy_seconds(), own_cpu()
        db0 = cpu_seconds(db)
        rate, latencies, requests, per_request = run(
            server, operation, connections, seconds, key, ids
        )
        cpu1, busy1, own1 = (
            cpu_seconds(process_tree(server.proc.pid)),
            machine_busy_seconds(),
            own_cpu(),
        )
        db1 = cpu_seconds(postgres_pids(args.database))
        available = busy1[1] - busy0[1]
        foreign = (busy1[0] - busy0[0]) - (cpu1 - cpu0) - (own1 - own0) - (db1 - db0)
        foreign_share = max(0.0, foreign / available) if available else 0.0
        result = {
            "rate": round(rate, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "request_p50_ms": round(percentile(per_request, 50) * 1000, 1),
            "request_p99_ms": round(percentile(per_request, 99) * 1000, 1),
            "cpu_ms_per_request": round((cpu1 - cpu0) * 1000 / max(requests, 1), 2),
            "cpu_ms_per_unit": round((cpu1 - cpu0) * 1000 / max(len(latencies), 1), 2),
            # where the rest of the machine went: PostgreSQL's work for the bench database,
            # and this load client (Python, on the same cores)
            "db_cpu_ms_per_unit": round((db1 - db0) * 1000 / max(len(latencies), 1), 2),
            "client_cpu_ms_per_unit": round((own1 - own0) * 1000 / max(len(latencies), 1), 2),
            "foreign_cpu_share": round(foreign_share, 2),
            "attempt": attempt + 1,
        }
        if foreign_share <= args.max_foreign:
            break
        print(
            f"   ({server.name} {operation}@{connections}: others took "
            f"{foreign_share:.0%} of the CPU; measuring again)",
            flush=True,
        )
    return result


# --- the baseline's schema -----------------------------------------------------------------------

# The baseline's tables before they had the product's columns (baseline_intent and a 6-column
# baseline_charge, under the same migration name 0001_initial): dropped with their migration
# records, once, so that `migrate` builds the current ones.
RESET_STALE_BASELINE = r"""
import os, sys
sys.path.insert(0, os.getcwd())
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    tables = connection.introspection.table_names(cursor)
    if "baseline_intent" in tables:
        for table in tables:
            if table.startswith("baseline_"):
                cursor.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
        cursor.execute("DELETE FROM django_migrations WHERE app = 'baseline'")
        print("flow_bench: dropped the baseline's old tables", file=sys.stderr)
"""


# --- statements per request (in-process, one subprocess per app) --------------------------------


COUNT_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, os.getcwd())
import django
django.setup()
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
product = settings.ROOT_URLCONF != "bench.baseline.urls"
key = sys.argv[1]
client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
form = "application/x-www-form-urlencoded"
def post(path, body):
    response = client.post(path, body, content_type=form)
    assert response.status_code == 200, response.content
    return response.json()
def counted(fn):
    with CaptureQueriesContext(connection) as c:
        fn()
    return len([q for q in c.captured_queries
                if not q["sql"].upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))
                and "simulatedprocessorrecord" not in q["sql"]])
out = {}
post("/v1/payment_intents", "amount=1000&currency=usd")  # warm (key cache)
out["create"] = counted(lambda: post("/v1/payment_intents", "amount=1000&currency=usd"))
pi = post("/v1/payment_intents", "amount=1000&currency=usd&capture_method=manual")
out["retrieve"] = counted(lambda: client.get(f"/v1/payment_intents/{pi['id']}"))
out["confirm"] = counted(lambda: post(f"/v1/payment_intents/{pi['id']}/confirm", "payment_method=pm_card_visa"))
out["capture"] = counted(lambda: post(f"/v1/payment_intents/{pi['id']}/capture", ""))
out["flow"] = out["create"] + out["confirm"] + out["capture"]
print(json.dumps(out))
"""


def statements(server: Server, key: str) -> dict:
    env = server.env()
    output = subprocess.run(
        [sys.executable, "-c", COUNT_SCRIPT, key],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if output.returncode:
        raise RuntimeError(output.stderr[-2000:])
    return json.loads(output.stdout.strip().splitlines()[-1])


# --- main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--max-foreign", type=float, default=0.25)
    parser.add_argument("--server", choices=["gunicorn", "granian"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", default="16,1")
    parser.add_argument("--operations", default="create,retrieve,flow")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        print("flow_bench needs DATABASE_URL=postgres://… (the product's guarantees need it)")
        return 2
    args.database = database_url.rsplit("/", 1)[-1].split("?", 1)[0]

    product = Server("product", "config.wsgi:application", "config.settings", args, database_url)
    baseline = Server(
        "baseline",
        "bench.baseline.wsgi:application",
        "bench.baseline.settings",
        args,
        database_url,
    )
    subprocess.run(
        [sys.executable, "-c", RESET_STALE_BASELINE],
        cwd=ROOT,
        env=baseline.env(),
        check=True,
        timeout=120,
    )
    for server in (product, baseline):
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=server.env(),
            check=True,
            timeout=300,
        )
    keys = subprocess.run(
        [sys.executable, "manage.py", "create_account", "bench", "--json"],
        cwd=ROOT,
        env=product.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(keys.stdout)["secret_key"]
    counts = {"product": statements(product, key), "baseline": statements(baseline, "none")}

    results: dict = {}
    try:
        product.start()
        baseline.start()
        ids = {}
        for server in (product, baseline):
            conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
            headers = {**FORM, "Authorization": f"Bearer {key}"}
            ids[server.name] = [
                request(conn, "POST", "/v1/payment_intents", "amount=1000&currency=usd", headers)[
                    "id"
                ]
                for _ in range(200)
            ]
            conn.close()
        for operation in args.operations.split(","):
            for connections in [int(c) for c in args.connections.split(",")]:
                for round_ in range(args.rounds):
                    # ABBA: which side goes first alternates, so a drift of the machine's
                    # speed over the rounds favours neither side
                    order = (product, baseline) if round_ % 2 == 0 else (baseline, product)
                    for server in order:
                        r = measure(
                            server,
                            operation,
                            connections,
                            args.seconds,
                            key,
                            ids[server.name],
                            args,
                        )
                        results.setdefault((operation, connections), {}).setdefault(
                            server.name, []
                        ).append(r)
                        print(
                            f"{operation}@{connections} round {round_ + 1} {server.name}: {r}",
                            flush=True,
                        )
    finally:
        product.stop()
        baseline.stop()

    def best(rows: list[dict]) -> dict:
        return max(rows, key=lambda r: r["rate"])

    def pair_ratios(by: dict) -> list[float]:
        """Each round's product rate over the baseline's measured right before or after it:
        the machine's speed drifts over minutes, a pair measured back to back shares it."""
        return sorted(
            p["rate"] / b["rate"] for p, b in zip(by["product"], by["baseline"], strict=True)
        )

    print()
    print(
        f"server: {args.server} {args.worker_class} workers={args.workers} threads={args.threads}"
    )
    print(
        "| operation | conns | product /s | baseline /s | ratio (rounds' range) | "
        "p50 ms (prod/base) | "
        "p99 ms (prod/base) | per request p50/p99 ms (prod; base) | "
        "CPU ms per unit (prod/base) | SQL (prod/base) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    table = []
    for (operation, connections), by in results.items():
        p, b = best(by["product"]), best(by["baseline"])
        sql = f"{counts['product'].get(operation)}/{counts['baseline'].get(operation)}"
        row = {
            "operation": operation,
            "connections": connections,
            "product": p,
            "baseline": b,
            "ratio": round(statistics.median(pair_ratios(by)), 2),
            "round_ratios": [round(r, 2) for r in pair_ratios(by)],
            "best_over_best": round(p["rate"] / b["rate"], 2),
            "sql": sql,
        }
        table.append(row)
        print(
            f"| {operation} | {connections} | {p['rate']} | {b['rate']} | {row['ratio']}× "
            f"({'–'.join(str(r) for r in row['round_ratios'][:: max(1, len(row['round_ratios']) - 1)])}) | "
            f"{p['p50_ms']}/{b['p50_ms']} | {p['p99_ms']}/{b['p99_ms']} | "
            f"{p['request_p50_ms']}/{p['request_p99_ms']}; "
            f"{b['request_p50_ms']}/{b['request_p99_ms']} | "
            f"{p['cpu_ms_per_unit']}/{b['cpu_ms_per_unit']} | {sql} |"
        )
    print(f"SQL statements per request: product {counts['product']}, baseline {counts['baseline']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"flow-{stamp}.json").write_text(
        json.dumps({"args": vars(args), "statements": counts, "table": table}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
