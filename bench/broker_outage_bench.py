#!/usr/bin/env python
"""Create latency while the broker is down, relative to the same creates with it up.

Starts a redis-server of its own on a free 127.0.0.1 port, points the Celery app of this process
at it, and sends `--requests` `POST /v1/payment_intents` through the Django test client (a
fresh database on the embedded PostgreSQL unless DATABASE_URL is set): first with Redis up, then after
stopping it. Prints p50/p95/max of each phase and the ratio of the p95s; the outage's p95 should
stay close to the baseline (one bounded publish attempt, then a backoff), far under 100 ms.

    .venv/bin/python bench/broker_outage_bench.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    port = free_port()
    run_dir = ROOT / ".run" / "bench"
    run_dir.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from bench.database import bench_database_url

    os.environ["DATABASE_URL"], _ = bench_database_url("outage")
    os.environ.update(
        PAYINTENTS_DEV="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0",
        RATE_LIMIT_ENABLED="0",
    )
    redis = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from accounts.services import account_create

        call_command("migrate", verbosity=0)
        _, keys = account_create(name="bench")
        client = Client()
        auth = {"HTTP_AUTHORIZATION": f"Bearer {keys['secret_key_test']}"}

        def phase() -> list[float]:
            times = []
            for _ in range(args.requests):
                start = time.perf_counter()
                response = client.post(
                    "/v1/payment_intents",
                    "amount=2000&currency=usd",
                    content_type="application/x-www-form-urlencoded",
                    **auth,
                )
                times.append(time.perf_counter() - start)
                assert response.status_code == 200, response.content
            return times

        time.sleep(0.3)
        up = phase()
        redis.terminate()
        redis.wait()
        down = phase()
        for name, times in (("redis up", up), ("redis down", down)):
            q = statistics.quantiles(times, n=20)
            print(
                f"{name:11} n={len(times)} p50={statistics.median(times) * 1000:.1f}ms "
                f"p95={q[18] * 1000:.1f}ms max={max(times) * 1000:.1f}ms"
            )
        print(
            "p95 ratio down/up:",
            round(statistics.quantiles(down, n=20)[18] / statistics.quantiles(up, n=20)[18], 2),
        )
    finally:
        if redis.poll() is None:
            redis.terminate()


if __name__ == "__main__":
    main()
