#!/usr/bin/env python
"""Instructions of WhenThen's GraphQL face against the REST checkouts it translates, under
callgrind, in-process: the same tracked checkout started and completed both ways.

- REST: `POST /v1/checkouts` (JSON: tracking id, flow, amount, currency, guest customer) then
  `POST /v1/checkouts/{id}/complete` (`payment_reference`);
- GraphQL: `POST /whenthen/graphql` with WhenThen's own `startIntent` document (every field of
  the intent selected, as its reference prints it) and the same values, then its
  `completeIntent` document.

Both from a public client address (8.8.8.8), so both look the country up (GeoLocation). Each
`--pairs` times, in one process under valgrind, after `--warmup` of each: the REST window, then
the GraphQL window, each dumped apart; the machinery (throwaway database, the callgrind
control library, the environment) is `callgrind_payment.py`'s.

    .venv/bin/python bench/callgrind_whenthen.py [--runs 1] [--warmup 20] [--pairs 50] [--keep DIR]

The last line is `WHENTHEN_OVER_REST <ratio>` (GraphQL Ir / REST Ir, median over the runs).
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from callgrind_payment import (  # noqa: E402
    DEFAULT_SERVER,
    DEFAULT_TREE,
    HOUR,
    build_lib,
    child_env,
    django_up,
    dump_path,
    dumped_ir,
    server_url_for,
)

HERE = Path(__file__).resolve()
CLIENT_ADDRESS = "8.8.8.8"


def phase_setup(args) -> int:
    django_up(args.tree)
    from django.core.management import call_command  # noqa: PLC0415

    from accounts.services import account_create  # noqa: PLC0415
    from core.scope import Scope  # noqa: PLC0415
    from routing.selectors import connection_list  # noqa: PLC0415
    from routing.services import flow_create  # noqa: PLC0415

    call_command("migrate", "--noinput", verbosity=0)
    account, keys = account_create(name="callgrind")
    scope = Scope(account_id=account.id, livemode=False)
    [builtin] = connection_list(scope=scope)
    flow = flow_create(
        scope=scope,
        name="checkout",
        routing={"type": "priority", "processors": [builtin.id]},
        retry={"max_attempts": 1, "on": []},
    )
    print(json.dumps({"key": keys["secret_key_test"], "flow": flow.id}))
    return 0


def phase_measure(args) -> int:
    lib = ctypes.CDLL(args.lib)
    lib.cg_stop.argtypes = [ctypes.c_char_p]
    if not lib.cg_on_valgrind():
        print("not running under valgrind: the counts would be nothing", file=sys.stderr)
        return 2
    django_up(args.tree)
    from django.conf import settings  # noqa: PLC0415

    import config.wsgi  # noqa: PLC0415
    from tests.faces.whenthen.seed_documents import COMPLETEINTENT, STARTINTENT  # noqa: PLC0415

    settings.API_KEY_LAST_USED_RESOLUTION_SECONDS = int(HOUR)
    app = config.wsgi.application

    def post(path: str, payload: dict) -> bytes:
        body = json.dumps(payload).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": CLIENT_ADDRESS,
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": f"Bearer {args.key}",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        status: list[str] = []
        chunks = app(environ, lambda s, headers, exc_info=None: status.append(s))
        out = b"".join(chunks)
        if not status or not status[0].startswith("200") or b'"errors"' in out:
            raise SystemExit(f"POST {path}: {status} {out[:500]!r}")
        return out

    id_re = re.compile(rb'"id"\s*:\s*"(chk_[^"]+)"')
    counter = iter(range(10**9))

    def rest() -> None:
        created = post(
            "/v1/checkouts",
            {
                "tracking_id": f"rest-{next(counter)}",
                "payment_flow": args.flow,
                "amount": 5999,
                "currency": "usd",
                "customer": {"is_guest": True},
            },
        )
        chk = id_re.search(created).group(1).decode()
        post(f"/v1/checkouts/{chk}/complete", {"payment_reference": "f6sepsen"})

    def graphql() -> None:
        variables = {
            **STARTINTENT["variables"],
            "trackingId": f"gql-{next(counter)}",
            "paymentFlowId": args.flow,
        }
        started = post("/whenthen/graphql", {"query": STARTINTENT["query"], "variables": variables})
        chk = id_re.search(started).group(1).decode()
        post(
            "/whenthen/graphql",
            {
                "query": COMPLETEINTENT["query"],
                "variables": {"id": chk, "paymentReference": "f6sepsen"},
            },
        )

    for _ in range(args.warmup):
        rest()
        graphql()
    for label, run in (("rest", rest), ("graphql", graphql)):
        lib.cg_start()
        for _ in range(args.pairs):
            run()
        lib.cg_stop(label.encode())
    return 0


def orchestrate(args) -> int:
    import psycopg  # noqa: PLC0415

    tree = Path(args.tree).resolve()
    dbname = f"cg_whenthen_{os.getpid()}"
    database_url = server_url_for(args.server_url, dbname)
    work = Path(tempfile.mkdtemp(prefix="cg-whenthen-"))
    try:
        with psycopg.connect(args.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env = child_env(tree, database_url)
        me = [sys.executable, str(HERE), "--tree", str(tree)]
        setup = subprocess.run(
            [*me, "--phase", "setup"], env=env, cwd=tree, capture_output=True, text=True
        )
        if setup.returncode:
            print(setup.stdout, setup.stderr, sep="\n", file=sys.stderr)
            return 1
        made = json.loads(setup.stdout.strip().splitlines()[-1])
        lib = build_lib(work)
        ratios = []
        for run in range(1, args.runs + 1):
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                f"--callgrind-out-file={work}/callgrind.out.%p",
                *me,
                *("--phase", "measure", "--key", made["key"], "--flow", made["flow"]),
                *("--lib", str(lib), "--warmup", str(args.warmup), "--pairs", str(args.pairs)),
            ]
            proc = subprocess.Popen(
                cmd, env=env, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            out, err = proc.communicate()
            if proc.returncode:
                print(out, err[-5000:], sep="\n", file=sys.stderr)
                return 1
            rest = dumped_ir(dump_path(work, proc.pid, "rest")) / args.pairs / 1e6
            graphql = dumped_ir(dump_path(work, proc.pid, "graphql")) / args.pairs / 1e6
            ratios.append(graphql / rest)
            print(
                f"run {run}: REST start+complete {rest:.3f} M, GraphQL startIntent+completeIntent "
                f"{graphql:.3f} M instructions: {graphql / rest:.3f}×",
                flush=True,
            )
        if args.keep:
            keep = Path(args.keep)
            keep.mkdir(parents=True, exist_ok=True)
            for path in work.glob("callgrind.out.*"):
                shutil.copy2(path, keep / path.name)
        print(f"WHENTHEN_OVER_REST {statistics.median(ratios):.4f}")
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
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--server-url", default=DEFAULT_SERVER)
    parser.add_argument("--keep", help="copy the callgrind files into this folder")
    parser.add_argument("--phase", choices=["setup", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--flow", help=argparse.SUPPRESS)
    parser.add_argument("--lib", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "setup":
        return phase_setup(args)
    if args.phase == "measure":
        return phase_measure(args)
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
