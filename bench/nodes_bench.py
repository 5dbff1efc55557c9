"""One web node against two, and the CPU one payment costs, on the deployment's own shape.

    DATABASE_URL=postgres://… REDIS_URL=redis://…/N .venv/bin/python bench/nodes_bench.py
        [--seconds 20] [--clients 8] [--rounds 1]

The stack of tests/e2e/many_nodes.py (the console script of a clean `pip install .`, PgBouncer
in transaction pooling, HAProxy in front), with 1 worker and 1 beat, and 1 then 2 web nodes
(WEB_CONCURRENCY=2 × WEB_THREADS=4 each). `--clients` threads on this machine create-and-confirm
payments (`pm_card_visa`, one Idempotency-Key each) through HAProxy for `--seconds`, with a
webhook endpoint taking every event, so a payment costs what it costs in production: the API
request, its events relayed and delivered by the worker, PostgreSQL's work.

It prints, per setting: payments per second, median and p95 latency, and the CPU time per
payment of each role, read from /proc (user + system, every process of the role's session; for
PostgreSQL, the backends serving this database, found in pg_stat_activity). From the total it
derives the cores a merchant would provision for 100 and 1,000 payments per second at 60 %
utilisation. Results go to bench/results/nodes-<UTC time>.json.

The load generator shares the machine (and, here, 2 cores with other work), so the payments per
second compare the two settings within one run only; the CPU per payment is the figure that
carries to other machines (as an order of magnitude: a faster core costs fewer milliseconds)."""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.many_nodes import Receiver, Stack, build_venv, say  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
UTILISATION = 0.6


def session_cpu(sid: int) -> float:
    """CPU seconds (user + system) of every live process in session `sid`."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat: the session id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def pid_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds of each of these processes that is still alive."""
    cpu = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return cpu


def backends(stack: Stack) -> list[int]:
    with psycopg.connect(stack.admin_url, autocommit=True) as db:
        return [
            pid
            for (pid,) in db.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [stack.dbname]
            )
        ]


def roles(stack: Stack, webs: tuple[str, ...]) -> dict[str, float]:
    cpu = {
        "web": sum(session_cpu(stack.procs[name].pid) for name in webs),
        "worker": session_cpu(stack.procs["worker1"].pid),
        "beat": session_cpu(stack.procs["beat1"].pid),
        "pgbouncer": session_cpu(stack.procs["pgbouncer"].pid),
        "haproxy": session_cpu(stack.procs["haproxy"].pid),
    }
    return cpu


def load(base: str, key: str, seconds: float, clients: int) -> tuple[list[float], dict]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        session = requests.Session()
        while time.monotonic() < stop:
            body = {
                "amount": 1000,
                "currency": "usd",
                "payment_method": "pm_card_visa",
                "confirm": "true",
            }
            started = time.monotonic()
            try:
                response = session.post(
                    f"{base}/v1/payment_intents",
                    data=body,
                    auth=(key, ""),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                    timeout=30,
                )
                what = str(response.status_code)
            except requests.RequestException as exc:
                what = exc.__class__.__name__
            with lock:
                if what == "200":
                    latencies.append(time.monotonic() - started)
                else:
                    errors[what] = errors.get(what, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors


def measure(venv: Path, webs: tuple[str, ...], seconds: float, clients: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="payintents-nodes-bench-"))
    stack = Stack(venv, tmp)
    stack.env.update(LOG_LEVEL="WARNING", WORKER_CONCURRENCY="2")
    receiver = Receiver()
    try:
        stack.database()
        stack.pgbouncer()
        stack.run("migrate", "--noinput", "-v", "0")
        account = json.loads(stack.run("create_account", "Bench", "--json"))
        for name in webs:
            stack.web(name)
        stack.start("worker1", [str(stack.bin), "run", "worker"])
        stack.start("beat1", [str(stack.bin), "run", "beat"])
        for name in webs:
            stack.wait_ready(name)
        stack.haproxy(webs)
        requests.post(
            f"{stack.base}/v1/webhook_endpoints",
            auth=(account["secret_key"], ""),
            data={"url": receiver.url, "enabled_events[]": "*"},
            timeout=10,
        ).raise_for_status()
        load(stack.base, account["secret_key"], 3, clients)  # warm-up
        time.sleep(3)  # its events delivered
        before, pg_before = roles(stack, webs), pid_cpu(backends(stack))
        latencies, errors = load(stack.base, account["secret_key"], seconds, clients)
        time.sleep(3)  # the worker delivers the events of the last payments
        after, pg_after = roles(stack, webs), pid_cpu(backends(stack))
        # PgBouncer keeps its server connections, so the backends live through the run; one
        # that closed meanwhile is not counted (an underestimate), a new one counts in full.
        pg_cpu = sum(cpu - pg_before.get(pid, 0.0) for pid, cpu in pg_after.items())
        payments = len(latencies)
        cpu = {role: (after[role] - before[role]) for role in after}
        cpu["postgres"] = max(pg_cpu, 0.0)
        per_payment_ms = {role: 1000 * value / max(payments, 1) for role, value in cpu.items()}
        total_ms = sum(per_payment_ms.values())
        ordered = sorted(latencies)
        return {
            "web_nodes": len(webs),
            "seconds": seconds,
            "clients": clients,
            "payments": payments,
            "errors": errors,
            "payments_per_second": payments / seconds,
            "p50_ms": 1000 * statistics.median(ordered) if ordered else None,
            "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))] if ordered else None,
            "cpu_ms_per_payment": per_payment_ms,
            "cpu_ms_per_payment_total": total_ms,
            "cores_for_100_per_second": 100 * total_ms / 1000 / UTILISATION,
            "cores_for_1000_per_second": 1000 * total_ms / 1000 / UTILISATION,
        }
    finally:
        stack.stop_all()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", default=str(ROOT / ".run" / "nodes-venv"))
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--nodes", default="1,2", help="the settings to measure, in order")
    args = parser.parse_args()
    venv = Path(args.venv)
    if not (venv / "bin" / "payintents").exists():
        build_venv(venv)
    results = []
    for _ in range(args.rounds):
        for count in (int(n) for n in args.nodes.split(",")):
            webs = ("web1", "web2")[:count]
            say(f"{len(webs)} web node(s): {args.clients} clients for {args.seconds:.0f}s")
            results.append(measure(venv, webs, args.seconds, args.clients))
            r = results[-1]
            say(
                f"  {r['payments_per_second']:.1f} payments/s, p50 {r['p50_ms']:.0f} ms, "
                f"p95 {r['p95_ms']:.0f} ms, errors {r['errors'] or 'none'}; CPU per payment "
                + ", ".join(f"{k} {v:.1f}" for k, v in r["cpu_ms_per_payment"].items())
                + f" ms (total {r['cpu_ms_per_payment_total']:.1f} ms)"
            )
    print()
    print(
        "| web nodes | payments/s | p50 ms | p95 ms | CPU ms/payment (web, worker, postgres, "
        "rest) | cores for 100/s | cores for 1,000/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        c = r["cpu_ms_per_payment"]
        rest = c["beat"] + c["pgbouncer"] + c["haproxy"]
        print(
            f"| {r['web_nodes']} | {r['payments_per_second']:.1f} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['cpu_ms_per_payment_total']:.1f} ({c['web']:.1f}, "
            f"{c['worker']:.1f}, {c['postgres']:.1f}, {rest:.1f}) | "
            f"{r['cores_for_100_per_second']:.1f} | {r['cores_for_1000_per_second']:.0f} |"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"nodes-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\n{path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
