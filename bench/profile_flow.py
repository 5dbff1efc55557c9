#!/usr/bin/env python
"""Where a request's CPU goes: create, and confirm + capture, profiled in-process.

Runs the product's whole WSGI stack (middleware, DRF, services, presenters, rendering) through
`django.test.Client` on the PostgreSQL database of DATABASE_URL (migrated, one bench account),
with the settings flow_bench.py gives its servers (rate limit off, in-memory broker), and
profiles `--n` creates, then `--n` confirm + capture pairs, with cProfile. Prints each profile's
top functions by own time and by cumulative time, and the CPU milliseconds per request.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/payintents_bench \\
        .venv/bin/python bench/profile_flow.py [--n 300] [--top 40] [--sort tottime]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("PAYINTENTS_DEV", "1")
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("RATE_LIMIT_ENABLED", "0")
os.environ.pop("PYTEST_VERSION", None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="only the unprofiled loops (to run under py-spy: py-spy record -f raw -- …)",
    )
    parser.add_argument(
        "--pyinstrument", action="store_true", help="a call tree from pyinstrument instead"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("profile_flow needs DATABASE_URL=postgres://…")
        return 2

    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    from accounts.services import account_create  # noqa: PLC0415

    call_command("migrate", "--noinput", verbosity=0)
    _, keys = account_create(name="profile")
    secret = keys["secret_key_test"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    form = "application/x-www-form-urlencoded"

    def post(path: str, body: str) -> dict:
        response = client.post(path, body, content_type=form)
        assert response.status_code == 200, response.content
        return response.json()

    def create(capture_method: str = "") -> dict:
        body = "amount=1000&currency=usd"
        if capture_method:
            body += f"&capture_method={capture_method}"
        return post("/v1/payment_intents", body)

    for _ in range(20):  # warm: key cache, imports, serializer fields, connection
        pi = create("manual")
        post(f"/v1/payment_intents/{pi['id']}/confirm", "payment_method=pm_card_visa")
        post(f"/v1/payment_intents/{pi['id']}/capture", "")

    def profiled(label: str, fn, requests: int) -> None:
        if args.pyinstrument:
            from pyinstrument import Profiler  # noqa: PLC0415

            profiler = Profiler(interval=0.0002)
            profiler.start()
            fn()
            profiler.stop()
            print(f"\n=== {label} ===")
            print(profiler.output_text(unicode=True, show_all=False, time="percent_of_total"))
            return
        profile = cProfile.Profile(time.process_time)
        cpu0 = time.process_time()
        profile.enable()
        fn()
        profile.disable()
        cpu = time.process_time() - cpu0
        print(f"\n=== {label}: {cpu * 1000 / requests:.2f} ms CPU per request (profiled) ===")
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())

    def unprofiled(label: str, fn, requests: int) -> None:
        cpu0 = time.process_time()
        fn()
        cpu = time.process_time() - cpu0
        print(f"{label}: {cpu * 1000 / requests:.2f} ms CPU per request (client included)")

    def creates() -> None:
        for _ in range(args.n):
            create()

    manual = []

    def make_manual() -> None:
        manual[:] = [create("manual")["id"] for _ in range(args.n)]

    def confirm_capture() -> None:
        for pi_id in manual:
            post(f"/v1/payment_intents/{pi_id}/confirm", "payment_method=pm_card_visa")
            post(f"/v1/payment_intents/{pi_id}/capture", "")

    unprofiled("create", creates, args.n)
    make_manual()
    unprofiled("confirm+capture", confirm_capture, 2 * args.n)
    if args.plain:
        return 0
    profiled("create", creates, args.n)
    make_manual()
    profiled("confirm + capture", confirm_capture, 2 * args.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
