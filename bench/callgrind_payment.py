#!/usr/bin/env python
"""Instructions per payment (create + confirm + capture) under callgrind, in-process.

A payment is `POST /v1/payment_intents` (`amount=1000&currency=usd&capture_method=manual`),
`POST …/confirm` (`payment_method=pm_card_visa`), `POST …/capture`, each a call of
`config.wsgi.application` with a hand-built WSGI environ (no server, no client), with the
environment flow_bench.py gives its servers (`PAYINTENTS_DEV=1`, in-memory Celery broker, rate
limit off, `LOG_LEVEL=WARNING`) on PostgreSQL. Only this Python process is counted, not
PostgreSQL's backend.

Per invocation it:

1. creates a throwaway database `cg_payment_<pid>` on the server of `--server-url` (default
   `postgres://postgres@127.0.0.1:5432/postgres`), migrates it and creates one account, in a
   subprocess without valgrind;
2. builds a tiny C library (`gcc`, valgrind's `callgrind.h`) in a temporary folder: `start`
   is `CALLGRIND_ZERO_STATS` + `CALLGRIND_TOGGLE_COLLECT`, `stop` is `CALLGRIND_TOGGLE_COLLECT`
   + `CALLGRIND_DUMP_STATS_AT`; the measured process loads it with ctypes;
3. `--runs` times: runs `valgrind --tool=callgrind --collect-atstart=no` on a subprocess of
   this script that makes `--warmup` payments (default 20), calls `start`, makes `--payments`
   payments (default 50), calls `stop`, so the dump counts those payments and nothing else,
   then makes one more payment, uncounted, under `CaptureQueriesContext` to list its SQL;
4. drops the database and the temporary folder (`--keep` keeps the callgrind files).

Things that happen by the clock at native speed once per thousands of requests, but under
valgrind's ~50× slowdown every few payments, are held off in the measured process so the count
is of a payment and not of the clock: the API-key cache (`API_KEY_CACHE_SECONDS`, 5 s), the
memory of whether the account has a webhook endpoint (`WEBHOOK_ENDPOINT_CACHE_SECONDS`, 5 s) and the
key's last-used stamp (`API_KEY_LAST_USED_RESOLUTION_SECONDS`, 60 s) are set to an hour, and so
is the connection's age (`DB_CONN_MAX_AGE`, 60 s); `PYTHONHASHSEED=0`. The script checks that
the database connection was not replaced in the counted window.

`--tree` is the checkout whose code is measured (default: the one holding this script): the
measured process runs with that folder as its working directory and first on `sys.path`, so the
script can measure another commit from a git worktree:

    .venv/bin/python bench/callgrind_payment.py [--tree .] [--runs 1] [--warmup 20]
        [--payments 50] [--annotate 25] [--per-request]
        [--server-url postgres://postgres@127.0.0.1:5432/postgres] [--json out.json] [--keep DIR]

It prints, per run, the instructions (Ir) of the counted window and the figure per payment in
millions (with `--per-request`, also `--payments` creates, then their confirms, then their
captures, each counted in a window of its own, per request), the median over the runs, the SQL
statements of one payment (per request: verb and table), and with `--annotate N` the self Ir
per object file and the top N functions by self Ir (what `callgrind_annotate --inclusive=no`
lists) of the last run, per payment. The last line is `M_INSTR_PER_PAYMENT <median>`. Needs valgrind, gcc and the valgrind
headers (`apt-get install valgrind gcc`); a run takes a few minutes.
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
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve()
DEFAULT_TREE = HERE.parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
HOUR = "3600"

C_SOURCE = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_TOGGLE_COLLECT; }
void cg_stop(const char *what) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT(what); }
int cg_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
"""
DUMP_LABEL = "payments"


# --- the measured process --------------------------------------------------------------------


def child_env(tree: Path, database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        PAYINTENTS_DEV="1",
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL="memory://localhost/",
        LOG_LEVEL="WARNING",
        RATE_LIMIT_ENABLED="0",
        ENV_FILE="",  # neither tree's .env, if one has one
        API_KEY_CACHE_SECONDS=HOUR,
        WEBHOOK_ENDPOINT_CACHE_SECONDS=HOUR,
        DB_CONN_MAX_AGE=HOUR,
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.pop("PYTEST_VERSION", None)
    env.pop("PYTHONPATH", None)
    return env


def django_up(tree: str) -> None:
    sys.path.insert(0, tree)
    os.chdir(tree)
    import django  # noqa: PLC0415

    django.setup()
    import config  # noqa: PLC0415

    where = Path(config.__file__).resolve()
    if not where.is_relative_to(Path(tree).resolve()):
        raise SystemExit(f"config imported from {where}, not from {tree}")


def phase_setup(args) -> int:
    django_up(args.tree)
    from django.core.management import call_command  # noqa: PLC0415

    from accounts.services import account_create  # noqa: PLC0415

    call_command("migrate", "--noinput", verbosity=0)
    _, keys = account_create(name="callgrind")
    print(json.dumps({"key": keys["secret_key_test"]}))
    return 0


def phase_measure(args) -> int:
    lib = ctypes.CDLL(args.lib)
    lib.cg_stop.argtypes = [ctypes.c_char_p]

    if not lib.cg_on_valgrind():
        print("not running under valgrind: the counts would be nothing", file=sys.stderr)
        return 2
    django_up(args.tree)
    from django.conf import settings  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    import config.wsgi  # noqa: PLC0415

    settings.API_KEY_LAST_USED_RESOLUTION_SECONDS = int(HOUR)
    app = config.wsgi.application
    auth = f"Bearer {args.key}"
    form = "application/x-www-form-urlencoded"

    def post(path: str, body: bytes) -> bytes:
        environ = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": form,
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

    def create() -> str:
        created = post("/v1/payment_intents", b"amount=1000&currency=usd&capture_method=manual")
        return id_re.search(created).group(1).decode()

    def confirm(pi: str) -> None:
        post(f"/v1/payment_intents/{pi}/confirm", b"payment_method=pm_card_visa")

    def capture(pi: str) -> None:
        post(f"/v1/payment_intents/{pi}/capture", b"")

    def payment() -> None:
        pi = create()
        confirm(pi)
        capture(pi)

    for _ in range(args.warmup):
        payment()
    before = connection.connection.info.backend_pid
    lib.cg_start()
    for _ in range(args.payments):
        payment()
    lib.cg_stop(DUMP_LABEL.encode())
    same_connection = (
        connection.connection is not None and connection.connection.info.backend_pid == before
    )
    if args.per_request:  # each kind of request in a window of its own
        lib.cg_start()
        ids = [create() for _ in range(args.payments)]
        lib.cg_stop(b"create")
        lib.cg_start()
        for pi in ids:
            confirm(pi)
        lib.cg_stop(b"confirm")
        lib.cg_start()
        for pi in ids:
            capture(pi)
        lib.cg_stop(b"capture")

    # One more payment, uncounted: its SQL statements, per request.
    statements = []
    for label, path_of, body in (
        ("create", None, b"amount=1000&currency=usd&capture_method=manual"),
        ("confirm", "confirm", b"payment_method=pm_card_visa"),
        ("capture", "capture", b""),
    ):
        with CaptureQueriesContext(connection) as ctx:
            if path_of is None:
                pi = id_re.search(post("/v1/payment_intents", body)).group(1).decode()
            else:
                post(f"/v1/payment_intents/{pi}/{path_of}", body)
        statements.append({"request": label, "sql": [q["sql"] for q in ctx.captured_queries]})
    Path(args.report).write_text(
        json.dumps({"same_connection": same_connection, "statements": statements})
    )
    return 0


# --- the orchestrating process ---------------------------------------------------------------


def server_url_for(server_url: str, dbname: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + dbname))


def build_lib(folder: Path) -> Path:
    src, lib = folder / "cg.c", folder / "libcg.so"
    src.write_text(C_SOURCE)
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    return lib


def dump_path(folder: Path, pid: int, label: str = DUMP_LABEL) -> Path:
    """The dump that `cg_stop(label)` made in process `pid`."""
    for path in sorted(folder.glob(f"callgrind.out.{pid}.*")):
        with path.open(errors="replace") as lines:
            head = "".join(next(lines, "") for _ in range(30))
        if f"Client Request: {label}\n" in head:
            return path
    raise SystemExit(f"no callgrind dump '{label}' of process {pid} in {folder}")


def dumped_ir(path: Path) -> int:
    match = re.search(r"^(?:summary|totals):\s*(\d+)", path.read_text(errors="replace"), re.M)
    if not match:
        raise SystemExit(f"no total in {path}")
    return int(match.group(1))


def sql_gist(sql: str) -> str:
    """'INSERT payments_attempt', 'SELECT FOR UPDATE intents_paymentintent', 'BEGIN'."""
    verb = sql.split(None, 1)[0].upper() if sql.strip() else "?"
    top = sql
    while True:  # the statement's own clauses: subqueries and lists taken out
        shorter = re.sub(r"\([^()]*\)", "", top)
        if shorter == top:
            break
        top = shorter
    table = re.search(r'(?:INTO|UPDATE|FROM)\s+"?(\w+)"?', top, re.I)
    lock = " FOR UPDATE" if re.search(r"FOR (NO KEY )?UPDATE", top) else ""
    return f"{verb}{lock} {table.group(1)}" if table else verb


def self_costs(path: Path) -> tuple[dict, dict]:
    """Self Ir per (object, function) and per object from a callgrind file (one event, Ir).

    A cost line right after `calls=` is the call's inclusive cost, charged to the callee; every
    other cost line is the current function's own."""
    names: dict[tuple[str, str], str] = {}
    functions: dict[tuple[str, str], int] = {}
    objects: dict[str, int] = {}
    ob = fn = "???"
    after_calls = False

    def name(kind: str, value: str) -> str:
        match = re.match(r"\((\d+)\)\s*(.*)", value)
        if not match:
            return value
        key = (kind, match.group(1))
        if match.group(2):
            names[key] = match.group(2)
        return names.get(key, value)

    with path.open(errors="replace") as lines:
        for line in lines:
            if not line or line[0] in "#\n":
                continue
            head = line[0]
            if head.isdigit() or head in "+-*":
                if after_calls:
                    after_calls = False
                    continue
                ir = int(line.split()[-1])
                functions[(ob, fn)] = functions.get((ob, fn), 0) + ir
                objects[ob] = objects.get(ob, 0) + ir
                continue
            key, _, value = line.rstrip("\n").partition("=")
            if key == "ob":
                ob = name("ob", value).rsplit("/", 1)[-1]
            elif key == "fn":
                fn = name("fn", value)
            elif key in ("cob", "cfn"):
                # callee names are compressed in the same tables
                name("ob" if key == "cob" else "fn", value)
            elif key == "calls":
                after_calls = True
    return functions, objects


def orchestrate(args) -> int:
    import psycopg  # noqa: PLC0415

    tree = Path(args.tree).resolve()
    python = sys.executable
    dbname = f"cg_payment_{os.getpid()}"
    database_url = server_url_for(args.server_url, dbname)
    work = Path(tempfile.mkdtemp(prefix="cg-payment-"))
    results: dict = {"tree": str(tree), "warmup": args.warmup, "payments": args.payments}
    try:
        head = subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        results["commit"] = head
        print(f"tree {tree} ({head or 'not a git checkout'}), database {dbname}", flush=True)
        with psycopg.connect(args.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env = child_env(tree, database_url)
        me = [python, str(HERE), "--tree", str(tree)]
        setup = subprocess.run(
            [*me, "--phase", "setup"], env=env, cwd=tree, capture_output=True, text=True
        )
        if setup.returncode:
            print(setup.stdout, setup.stderr, sep="\n", file=sys.stderr)
            return 1
        key = json.loads(setup.stdout.strip().splitlines()[-1])["key"]
        lib = build_lib(work)
        per_payment = []
        runs = []
        report = {}
        last_dump = None
        for run in range(1, args.runs + 1):
            report_path = work / f"report-{run}.json"
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                f"--callgrind-out-file={work}/callgrind.out.%p",
                *me,
                *("--phase", "measure", "--key", key, "--lib", str(lib)),
                *("--warmup", str(args.warmup), "--payments", str(args.payments)),
                *("--report", str(report_path)),
                *(["--per-request"] if args.per_request else []),
            ]
            proc = subprocess.Popen(
                cmd, env=env, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            out, err = proc.communicate()
            if proc.returncode:
                print(out, err[-5000:], sep="\n", file=sys.stderr)
                return 1
            last_dump = dump_path(work, proc.pid)
            ir = dumped_ir(last_dump)
            report = json.loads(report_path.read_text())
            m = ir / args.payments / 1e6
            per_payment.append(m)
            runs.append(
                {"ir": ir, "m_per_payment": m, "same_connection": report["same_connection"]}
            )
            note = "" if report["same_connection"] else "  (the connection was replaced!)"
            if args.per_request:
                split = {
                    kind: dumped_ir(dump_path(work, proc.pid, kind)) / args.payments / 1e6
                    for kind in ("create", "confirm", "capture")
                }
                runs[-1]["m_per_request"] = split
                note += "; apart: " + ", ".join(f"{k} {v:.3f} M" for k, v in split.items())
            print(f"run {run}: {ir:,} Ir / {args.payments} payments = {m:.3f} M{note}", flush=True)
        median = statistics.median(per_payment)
        results.update(runs=runs, median_m_per_payment=median, statements=report["statements"])
        print(f"median over {len(per_payment)} run(s): {median:.3f} M instructions per payment")
        total = sum(len(r["sql"]) for r in report["statements"])
        print(f"SQL statements of one payment: {total}")
        for r in report["statements"]:
            print(f"  {r['request']} ({len(r['sql'])}): " + "; ".join(map(sql_gist, r["sql"])))
        if args.annotate and last_dump is not None:
            functions, objects = self_costs(last_dump)
            total = sum(objects.values())
            print(
                f"\nper payment by object file, self Ir (last run, {total / args.payments / 1e6:.2f} M):"
            )
            for name, ir in sorted(objects.items(), key=lambda kv: -kv[1])[:8]:
                print(f"  {ir / args.payments / 1e3:10,.0f} k  {ir / total:6.1%}  {name}")
            print(f"top {args.annotate} functions per payment, self Ir (last run):")
            for (ob, fn), ir in sorted(functions.items(), key=lambda kv: -kv[1])[: args.annotate]:
                print(f"  {ir / args.payments / 1e3:10,.0f} k  {ir / total:6.1%}  {fn}  [{ob}]")
            results["objects_k_per_payment"] = {
                k: round(v / args.payments / 1e3, 1) for k, v in objects.items()
            }
        if args.keep:
            keep = Path(args.keep)
            keep.mkdir(parents=True, exist_ok=True)
            for path in work.glob("callgrind.out.*"):
                shutil.copy2(path, keep / path.name)
        ratio = median / args.budget
        within = ratio <= 1 + args.tolerance
        results.update(budget_m=args.budget, ratio_to_budget=round(ratio, 4), within=within)
        print(
            f"÷ the budget {args.budget} M: {ratio:.3f} "
            f"({'within' if within else 'OVER'} {args.tolerance:.0%})"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
        print(f"M_INSTR_PER_PAYMENT {median:.4f}")
        return 0 if within or not args.enforce else 1
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
    parser.add_argument("--payments", type=int, default=50)
    parser.add_argument("--annotate", type=int, default=0, metavar="N")
    parser.add_argument(
        "--per-request",
        action="store_true",
        help="also count --payments creates, then their confirms, then their captures, apart",
    )
    parser.add_argument("--server-url", default=DEFAULT_SERVER)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--keep", help="copy the callgrind files into this folder")
    parser.add_argument(
        "--budget", type=float, default=21.1, help="M instructions per payment to hold to"
    )
    parser.add_argument("--tolerance", type=float, default=0.05, help="allowed above the budget")
    parser.add_argument(
        "--enforce", action="store_true", help="exit 1 when the median is over the budget"
    )
    # internal: the phases run in subprocesses
    parser.add_argument("--phase", choices=["setup", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--lib", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()  # `make bench` passes its arguments to every script
    if args.phase == "setup":
        return phase_setup(args)
    if args.phase == "measure":
        return phase_measure(args)
    if args.runs < 1 or args.payments < 1 or args.warmup < 0:
        parser.error("--runs and --payments must be ≥ 1, --warmup ≥ 0")
    return orchestrate(args)


if __name__ == "__main__":
    sys.exit(main())
