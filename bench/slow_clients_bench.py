#!/usr/bin/env python
"""Slow clients against each serving model: how long `/healthz` and a payment take while
`--stalled` connections hold a request whose body never comes, relative to the same requests
on the same server with no stalled connection (the baseline, measured in the same run).

For each worker class it starts gunicorn with runall's command line (1 worker × 4 threads
unless told otherwise; a fresh SQLite file under .run/bench/ unless DATABASE_URL is set), then:

1. baseline: `--requests` × (`GET /healthz`, `POST /v1/payment_intents` with `confirm=true`);
2. stalled: opens `--stalled` connections that each send the headers of a POST with
   `Content-Length: 100` and 19 bytes of body, then nothing; repeats step 1, each request with
   a client timeout of `--timeout` seconds (a timeout counts as that many seconds, and is
   counted).

Prints p50/p95/max per phase and model, the number of timeouts, and the ratio of the p95s.

    .venv/bin/python bench/slow_clients_bench.py [--requests 20] [--stalled 50] [--timeout 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = {
    "gthread (gunicorn's own)": "gthread",
    "buffering gthread (api.gunicorn_worker)": "api.gunicorn_worker.BufferingThreadWorker",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(worker_class: str, env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    from api.management.commands.runall import gunicorn_argv

    port = free_port()
    argv = gunicorn_argv(host="127.0.0.1", port=port, workers=workers)
    argv[argv.index("--worker-class") + 1] = worker_class
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    import requests

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc, port
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def timed(fn, timeout: float) -> tuple[float, bool]:
    import requests

    start = time.perf_counter()
    try:
        fn(timeout)
        return time.perf_counter() - start, False
    except requests.Timeout:
        return timeout, True


def phase(port: int, sk: str, n: int, timeout: float) -> dict:
    import requests

    base = f"http://127.0.0.1:{port}"

    def health(t):
        requests.get(f"{base}/healthz", timeout=t)

    def pay(t):
        answer = requests.post(
            f"{base}/v1/payment_intents",
            data={
                "amount": 1000,
                "currency": "usd",
                "confirm": "true",
                "payment_method": "pm_card_visa",
            },
            headers={"Authorization": f"Bearer {sk}"},
            timeout=t,
        )
        assert answer.status_code == 200, answer.text

    out = {}
    for name, fn in (("healthz", health), ("payment", pay)):
        results = [timed(fn, timeout) for _ in range(n)]
        times = sorted(t for t, _ in results)
        out[name] = {
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1000, 1),
            "max_ms": round(times[-1] * 1000, 1),
            "timeouts": sum(1 for _, late in results if late),
        }
    return out


def stall(port: int, sk: str, count: int) -> list[socket.socket]:
    socks = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            (
                f"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {sk}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                "description=stalled"
            ).encode()
        )
        socks.append(sock)
    return socks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--stalled", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    run_dir = ROOT / ".run" / "bench"
    run_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{run_dir / f'slow-{os.getpid()}.sqlite3'}")
    os.environ.update(
        PAYINTENTS_DEV="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_BROKER_URL="memory://",
        RATE_LIMIT_ENABLED="0",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.services import account_create

    call_command("migrate", verbosity=0)
    _, keys = account_create(name="bench")
    sk = keys["secret_key_test"]
    env = dict(os.environ)
    results = {}
    for label, worker_class in MODELS.items():
        proc, port = serve(worker_class, env, args.workers)
        try:
            baseline = phase(port, sk, args.requests, args.timeout)
            socks = stall(port, sk, args.stalled)
            try:
                stalled = phase(port, sk, args.requests, args.timeout)
            finally:
                for sock in socks:
                    sock.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        results[label] = {"baseline": baseline, "stalled": stalled}
    print(
        f"{args.stalled} stalled connections, {args.requests} requests each, "
        f"timeout {args.timeout} s, {args.workers} worker(s) x 4 threads"
    )
    print(
        f"{'model':42} {'request':8} {'base p95':>9} {'stalled p95':>12} {'ratio':>7} {'timeouts':>9}"
    )
    for label, phases in results.items():
        for name in ("healthz", "payment"):
            base, slow = phases["baseline"][name], phases["stalled"][name]
            ratio = slow["p95_ms"] / base["p95_ms"] if base["p95_ms"] else float("nan")
            print(
                f"{label:42} {name:8} {base['p95_ms']:>8}ms {slow['p95_ms']:>11}ms "
                f"{ratio:>7.1f} {slow['timeouts']:>5}/{args.requests}"
            )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "slow_clients.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
