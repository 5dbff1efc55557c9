#!/usr/bin/env python
"""What a face costs: instructions of the same payment through the Stripe dialect and through
a face, under callgrind, in one process (so both are counted on the same code, database and
warm caches). The machinery (the throwaway database, the callgrind client-request library,
the environment of the measured process) is `callgrind_payment.py`'s.

Windows, each of `--payments` repetitions, after `--warmup` of each:

- `stripe`: `POST /v1/payment_intents` (`amount=2000&currency=php&capture_method=automatic`),
  then `POST …/confirm` (`payment_method=pm_card_visa`);
- `paymongo`: `POST /paymongo/v1/payment_intents` (`{"data": {"attributes": {"amount": 2000,
  "currency": "PHP", "payment_method_allowed": ["card"]}}}`, which is capture `automatic`), then
  `POST …/attach` (`payment_method=pm_card_visa`), with HTTP Basic as PayMongo's client sends it;
- `checkout_intent`: `POST /v1/checkout_intents` (a `checkout_page` of 561.31 usd);
- `payload`: `POST /payload/intents`, the same intent in Payload's words (a Payload intent is
  paid on the hosted page, not through the API, so its face is measured on the create);
- `stripe_one`: `POST /v1/payment_intents` created and confirmed in one request
  (`amount=2000&currency=usd&confirm=true&payment_method=pm_card_visa`);
- `payload_payment`: `POST /payload/transactions`, the same payment in Payload's words
  (`{"type": "payment", "amount": 20.00, "payment_method_id": "pm_card_visa"}`), one request
  as Payload's client sends it.

    .venv/bin/python bench/callgrind_faces.py [--runs 1] [--warmup 10] [--payments 30]
        [--server-url postgres://postgres@127.0.0.1:5432/postgres]

Prints each window's instructions per repetition and each face's ratio to the Stripe dialect's
figure for the same work; the last lines are `FACE_RATIO_PAYMONGO`, `FACE_RATIO_PAYLOAD` and
`FACE_RATIO_PAYLOAD_PAYMENT`.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from callgrind_payment import (
    DEFAULT_SERVER,
    DEFAULT_TREE,
    HOUR,
    build_lib,
    child_env,
    django_up,
    dump_path,
    dumped_ir,
    phase_setup,
    server_url_for,
)

HERE = Path(__file__).resolve()
WINDOWS = ("stripe", "paymongo", "checkout_intent", "payload", "stripe_one", "payload_payment")
PAGE = {
    "completed_url": "https://shop.example.com/done",
    "return_url": "https://shop.example.com/cart",
}


def phase_measure(args) -> int:
    lib = ctypes.CDLL(args.lib)
    lib.cg_stop.argtypes = [ctypes.c_char_p]
    if not lib.cg_on_valgrind():
        print("not running under valgrind: the counts would be nothing", file=sys.stderr)
        return 2
    django_up(args.tree)
    from django.conf import settings  # noqa: PLC0415

    import config.wsgi  # noqa: PLC0415

    settings.API_KEY_LAST_USED_RESOLUTION_SECONDS = int(HOUR)
    app = config.wsgi.application
    bearer = f"Bearer {args.key}"
    basic = "Basic " + base64.b64encode(args.key.encode()).decode()  # as paymongo-python
    form, json_type = "application/x-www-form-urlencoded", "application/json"

    def post(path: str, body: bytes, content_type: str = form, auth: str = bearer) -> bytes:
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": auth,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        status = []
        chunks = app(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            out = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if not status or not status[0].startswith("200"):
            raise SystemExit(f"POST {path}: {status} {out[:500]!r}")
        return out

    id_re = re.compile(rb'"id"\s*:\s*"(pi_[^"]+)"')

    def stripe() -> None:
        created = post("/v1/payment_intents", b"amount=2000&currency=php&capture_method=automatic")
        pi = id_re.search(created).group(1).decode()
        post(f"/v1/payment_intents/{pi}/confirm", b"payment_method=pm_card_visa")

    paymongo_create = json.dumps(
        {
            "data": {
                "attributes": {
                    "amount": 2000,
                    "currency": "PHP",
                    "payment_method_allowed": ["card"],
                }
            }
        }
    ).encode()
    paymongo_attach = json.dumps(
        {"data": {"attributes": {"payment_method": "pm_card_visa"}}}
    ).encode()

    def paymongo() -> None:
        created = post("/paymongo/v1/payment_intents", paymongo_create, json_type, basic)
        pi = id_re.search(created).group(1).decode()
        answer = post(
            f"/paymongo/v1/payment_intents/{pi}/attach", paymongo_attach, json_type, basic
        )
        if b'"succeeded"' not in answer:
            raise SystemExit(f"attach did not succeed: {answer[:300]!r}")

    checkout_body = (
        b"type=checkout_page&amount=56131&currency=usd&description=Plan"
        b"&redirects[completed_url]=https://shop.example.com/done"
        b"&redirects[return_url]=https://shop.example.com/cart"
    )
    payload_body = json.dumps(
        {
            "type": "checkout_page",
            "checkout_page": {"amount": 561.31, "description": "Plan", "redirects": PAGE},
        }
    ).encode()

    def checkout_intent() -> None:
        post("/v1/checkout_intents", checkout_body)

    def payload() -> None:
        post("/payload/intents", payload_body, json_type, basic)

    def stripe_one() -> None:
        answer = post(
            "/v1/payment_intents",
            b"amount=2000&currency=usd&confirm=true&payment_method=pm_card_visa",
        )
        if b'"succeeded"' not in answer:
            raise SystemExit(f"the payment did not succeed: {answer[:300]!r}")

    payload_payment_body = json.dumps(
        {"type": "payment", "amount": 20.00, "payment_method_id": "pm_card_visa"}
    ).encode()

    def payload_payment() -> None:
        answer = post("/payload/transactions", payload_payment_body, json_type, basic)
        if b'"processed"' not in answer:
            raise SystemExit(f"the payment was not processed: {answer[:300]!r}")

    work = {
        "stripe": stripe,
        "paymongo": paymongo,
        "checkout_intent": checkout_intent,
        "payload": payload,
        "stripe_one": stripe_one,
        "payload_payment": payload_payment,
    }
    for _ in range(args.warmup):
        for step in work.values():
            step()
    for name in WINDOWS:
        lib.cg_start()
        for _ in range(args.payments):
            work[name]()
        lib.cg_stop(name.encode())
    return 0


def orchestrate(args) -> int:
    import psycopg  # noqa: PLC0415

    tree = Path(args.tree).resolve()
    dbname = f"cg_faces_{os.getpid()}"
    database_url = server_url_for(args.server_url, dbname)
    work = Path(tempfile.mkdtemp(prefix="cg-faces-"))
    try:
        with psycopg.connect(args.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env = child_env(tree, database_url)
        setup = subprocess.run(
            [
                sys.executable,
                str(HERE.parent / "callgrind_payment.py"),
                "--tree",
                str(tree),
                "--phase",
                "setup",
            ],
            env=env,
            cwd=tree,
            capture_output=True,
            text=True,
        )
        if setup.returncode:
            print(setup.stdout, setup.stderr, sep="\n", file=sys.stderr)
            return 1
        key = json.loads(setup.stdout.strip().splitlines()[-1])["key"]
        lib = build_lib(work)
        per_window: dict[str, list[float]] = {name: [] for name in WINDOWS}
        for run in range(1, args.runs + 1):
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                f"--callgrind-out-file={work}/callgrind.out.%p",
                sys.executable,
                str(HERE),
                "--tree",
                str(tree),
                "--phase",
                "measure",
                "--key",
                key,
                "--lib",
                str(lib),
                "--warmup",
                str(args.warmup),
                "--payments",
                str(args.payments),
            ]
            proc = subprocess.Popen(
                cmd, env=env, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            out, err = proc.communicate()
            if proc.returncode:
                print(out, err[-5000:], sep="\n", file=sys.stderr)
                return 1
            figures = {
                name: dumped_ir(dump_path(work, proc.pid, name)) / args.payments / 1e6
                for name in WINDOWS
            }
            for name, m in figures.items():
                per_window[name].append(m)
            print(
                f"run {run}: " + ", ".join(f"{k} {v:.3f} M" for k, v in figures.items()), flush=True
            )
        median = {name: statistics.median(values) for name, values in per_window.items()}
        paymongo = median["paymongo"] / median["stripe"]
        payload = median["payload"] / median["checkout_intent"]
        payload_payment = median["payload_payment"] / median["stripe_one"]
        print(
            f"create + confirm: stripe {median['stripe']:.3f} M, paymongo {median['paymongo']:.3f} M"
        )
        print(
            f"intent create: v1 {median['checkout_intent']:.3f} M, payload {median['payload']:.3f} M"
        )
        print(
            f"payment in one request: v1 {median['stripe_one']:.3f} M, "
            f"payload {median['payload_payment']:.3f} M"
        )
        print(f"FACE_RATIO_PAYMONGO {paymongo:.4f}")
        print(f"FACE_RATIO_PAYLOAD {payload:.4f}")
        print(f"FACE_RATIO_PAYLOAD_PAYMENT {payload_payment:.4f}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        try:
            with psycopg.connect(args.server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        except psycopg.Error as exc:  # pragma: no cover - reported, not fatal
            print(f"could not drop {dbname}: {exc}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", default=str(DEFAULT_TREE), help="checkout whose code runs")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--payments", type=int, default=30)
    parser.add_argument("--server-url", default=DEFAULT_SERVER)
    parser.add_argument("--phase", choices=["setup", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--lib", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "setup":
        return phase_setup(args)
    if args.phase == "measure":
        return phase_measure(args)
    return orchestrate(args)


if __name__ == "__main__":
    raise SystemExit(main())
