"""The proof that many nodes keep the promises (`make nodes`, run by CI after `make test`).

The console script of a clean install (`pip install .` into its own venv) starts two web nodes
behind HAProxy, two workers and two beats, every one of them reaching PostgreSQL through
PgBouncer in transaction pooling (HAProxy and PgBouncer are Debian's, run here as this script's
own processes on free ports with their configuration in a temporary folder). Client threads
drive payments (each retried with its Idempotency-Key until it is answered), refunds and
abandoned intents through the proxy, to a webhook endpoint served here, while the script
kill -9s a web node, a worker and the leading beat, stops the other worker with SIGTERM, then
drains the other web node with SIGTERM. It shows, and fails unless:

- every answered payment's `payment_intent.succeeded` and every answered refund's
  `refund.created` reached the receiver (nothing lost with the killed or stopped nodes);
- no Idempotency-Key made two payments, and no payment was charged twice;
- each abandoned intent's `payment_intent.canceled` (written by a sweep) exists exactly once;
- another beat took the lead within the lease after the leader's kill -9;
- not one request failed while the web node drained, and the stopped worker exited cleanly.

Usage: python tests/e2e/many_nodes.py [--venv DIR] [--seconds N]
Needs DATABASE_URL (a PostgreSQL server it may create a database on) and REDIS_URL (a database
it may flush)."""

import argparse
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
LEASE = 4  # BEAT_LEASE_SECONDS of the beats here
ABANDON_AFTER = 6  # ABANDONMENT_SECONDS
# What the webhook endpoint here subscribes to: what the checks below look for.
WATCHED = ("payment_intent.succeeded", "payment_intent.canceled", "refund.created")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Receiver:
    """The merchant's webhook endpoint: every event id and type it was sent."""

    def __init__(self):
        self.deliveries: list[tuple[str, str, str]] = []  # (event id, type, object id)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.deliveries.append(
                        (body["id"], body["type"], body["data"]["object"]["id"])
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def objects(self, event_type: str) -> set[str]:
        with self.lock:
            return {obj for _, kind, obj in self.deliveries if kind == event_type}


class Stack:
    def __init__(self, venv: Path, tmp: Path):
        self.bin = venv / "bin" / "payintents"
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen] = {}
        server = urlsplit(os.environ["DATABASE_URL"])
        self.dbname = f"{server.path.lstrip('/') or 'payintents'}_nodes"
        self.admin_url = urlunsplit(server._replace(path="/postgres"))
        self.direct_url = urlunsplit(server._replace(path=f"/{self.dbname}"))
        self.pg_host, self.pg_port = server.hostname or "127.0.0.1", server.port or 5432
        self.pgbouncer_port = free_port()
        self.proxy_port = free_port()
        self.web_ports = {"web1": free_port(), "web2": free_port()}
        self.base = f"http://127.0.0.1:{self.proxy_port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("PAYINTENTS_", "PYTEST"))},
            "ENV_FILE": "",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "DATABASE_URL": f"postgres://{server.username or 'postgres'}@127.0.0.1:"
            f"{self.pgbouncer_port}/{self.dbname}",
            "DATABASE_POOLER": "pgbouncer",
            "REDIS_URL": os.environ["REDIS_URL"],
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PUBLIC_BASE_URL": self.base,
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "RUN_DIR": str(tmp / "run"),
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT_ENABLED": "false",
            "BEAT_LEASE_SECONDS": str(LEASE),
            "ABANDONMENT_SECONDS": str(ABANDON_AFTER),
            "INTENTS_SWEEP_SECONDS": "1",
            "INTENTS_EXPIRY_SWEEP_SECONDS": "1",
            "WEBHOOK_SWEEP_INTERVAL_SECONDS": "1",
            "WEBHOOK_RETRY_BASE_SECONDS": "1",
            "WEBHOOK_RETRY_JITTER": "0",
            "WEBHOOK_TIMEOUT_SECONDS": "3",
            # A delivery whose task died with a kill -9'd worker is sent again by the sweep after
            # this; short, but longer than the queue's backlog here (or the sweep re-sends rows
            # whose first message is still queued).
            "WEBHOOK_LEASE_SECONDS": "15",
            "INFLIGHT_TIMEOUT_SECONDS": "5",
            "SIMULATED_PROCESSING_DELAY_SECONDS": "1",
            "REFUND_RESOLVE_DELAY_SECONDS": "1",
            "WEB_CONCURRENCY": "2",
            "WEB_THREADS": "4",
            "WORKER_CONCURRENCY": "3",
            "DRAIN_SECONDS": "3",
            "GRACEFUL_TIMEOUT": "10",
        }

    # --- the pieces ------------------------------------------------------------------------

    def database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()

    def pgbouncer(self) -> None:
        conf = self.tmp / "pgbouncer.ini"
        (self.tmp / "userlist.txt").write_text('"postgres" ""\n')
        conf.write_text(
            f"""[databases]
{self.dbname} = host={self.pg_host} port={self.pg_port} dbname={self.dbname}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.pgbouncer_port}
unix_socket_dir =
auth_type = trust
auth_file = {self.tmp / "userlist.txt"}
pool_mode = transaction
default_pool_size = 8
max_client_conn = 400
server_reset_query =
ignore_startup_parameters = extra_float_digits
"""
        )
        argv = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(conf)]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            for path in (self.tmp, conf, self.tmp / "userlist.txt"):
                path.chmod(0o777 if path.is_dir() else 0o644)
            argv[1:1] = ["-u", "nobody"]
        self.start("pgbouncer", argv)
        self.wait_port(self.pgbouncer_port, "pgbouncer")

    def haproxy(self, names: tuple[str, ...] = ("web1", "web2")) -> None:
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{self.web_ports[name]} check inter 500ms fall 2 rise 2"
            for name in names
        )
        conf = self.tmp / "haproxy.cfg"
        conf.write_text(
            f"""global
    maxconn 1000

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 3
    option redispatch
    option http-server-close

frontend api
    bind 127.0.0.1:{self.proxy_port}
    default_backend web

backend web
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
{servers}
"""
        )
        self.start(
            "haproxy", [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", str(conf)]
        )
        self.wait_port(self.proxy_port, "haproxy")

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        proc = subprocess.Popen(
            argv,
            env={**self.env, **env},
            cwd=self.tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def web(self, name: str) -> None:
        self.start(
            name, [str(self.bin), "run", "web"], PORT=str(self.web_ports[name]), HOST="127.0.0.1"
        )

    def run(self, *args: str) -> str:
        out = subprocess.run(
            [str(self.bin), *args], env=self.env, cwd=self.tmp, capture_output=True, text=True
        )
        if out.returncode not in (0, 1) or (out.returncode and args[0] != "beat_status"):
            raise SystemExit(f"payintents {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        return out.stdout

    def wait_port(self, port: int, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{name} did not listen on {port}: see {self.tmp / (name + '.log')}")

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.web_ports[name]}/readyz"
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.procs[name].poll() is not None:
                break
            time.sleep(0.2)
        raise SystemExit(
            f"{name} never became ready:\n{(self.tmp / (name + '.log')).read_text()[-3000:]}"
        )

    def kill9(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def leader(self) -> dict:
        """The beat lease as `payintents beat_status --json` tells it."""
        return json.loads(self.run("beat_status", "--json"))

    def leader_pid(self) -> tuple[int, datetime] | None:
        """The leading beat's pid and since when, read straight from the lease's row (a quick
        poll: beat_status is a whole process start on a loaded machine)."""
        with psycopg.connect(self.direct_url, autocommit=True) as db:
            row = db.execute(
                "SELECT pid, acquired_at FROM cluster_beatlease WHERE expires_at > now()"
            ).fetchone()
        return (row[0], row[1]) if row else None

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


class Load:
    """Client threads: each payment is a create-and-confirm with its own Idempotency-Key,
    retried with the same key until it is answered, then once more (which must give the same
    intent); every fifth is refunded; every seventh is an intent left unconfirmed, for the
    abandonment sweep."""

    def __init__(self, base: str, key: str):
        self.base, self.key = base, key
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answered: dict[str, str] = {}  # idempotency key → payment intent id
        self.refunds: list[str] = []
        self.left: list[str] = []
        self.same_key_mismatches: list[tuple[str, str, str]] = []
        self.requests: list[tuple[float, float, bool, str]] = []  # start, end, ok, what

    def call(self, session, method, path, data, key):
        started = time.monotonic()
        try:
            response = session.request(
                method,
                self.base + path,
                data=data,
                timeout=30,
                headers={"Idempotency-Key": key},
                auth=(self.key, ""),
            )
            ok = response.status_code < 500 and response.status_code not in (409, 429)
            what = f"{response.status_code}"
        except requests.RequestException as exc:
            response, ok, what = None, False, exc.__class__.__name__
        with self.lock:
            self.requests.append((started, time.monotonic(), ok, what))
        return response if ok else None

    def until_answered(self, session, method, path, data, key, deadline=60):
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            response = self.call(session, method, path, data, key)
            if response is not None:
                return response
            time.sleep(0.2)
        raise SystemExit(f"{method} {path} with key {key} was never answered")

    def client(self, n: int) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            i += 1
            key = f"pay-{n}-{i}-{uuid.uuid4().hex[:6]}"
            if i % 7 == 0:
                body = {"amount": 500, "currency": "usd", "metadata[order]": key}
                pi = self.until_answered(session, "POST", "/v1/payment_intents", body, key).json()
                with self.lock:
                    self.left.append(pi["id"])
                continue
            body = {
                "amount": 1000 + i,
                "currency": "usd",
                "payment_method": "pm_card_visa",
                "confirm": "true",
                "metadata[order]": key,
            }
            pi = self.until_answered(session, "POST", "/v1/payment_intents", body, key).json()
            again = self.until_answered(session, "POST", "/v1/payment_intents", body, key).json()
            with self.lock:
                self.answered[key] = pi["id"]
                if again["id"] != pi["id"]:
                    self.same_key_mismatches.append((key, pi["id"], again["id"]))
            if i % 5 == 0 and pi.get("status") == "succeeded":
                refund_key = f"refund-{key}"
                refund = self.until_answered(
                    session,
                    "POST",
                    "/v1/refunds",
                    {"payment_intent": pi["id"], "amount": 100},
                    refund_key,
                ).json()
                with self.lock:
                    self.refunds.append(refund["id"])

    def failures_between(self, start: float, end: float) -> list:
        with self.lock:
            return [r for r in self.requests if not r[2] and start <= r[0] <= end]


def build_venv(venv: Path) -> None:
    say(f"installing the project into a clean venv ({venv}) with pip install .")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    pip = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    if pip.returncode:
        raise SystemExit(f"pip install . failed:\n{pip.stdout}{pip.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--venv", default=str(ROOT / ".run" / "nodes-venv"))
    parser.add_argument("--reuse-venv", action="store_true")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    venv = Path(args.venv)
    if not (args.reuse_venv and (venv / "bin" / "payintents").exists()):
        build_venv(venv)
    tmp = Path(tempfile.mkdtemp(prefix="payintents-nodes-"))
    stack = Stack(venv, tmp)
    receiver = Receiver()
    failures: list[str] = []
    try:
        stack.database()
        stack.pgbouncer()
        say(f"PgBouncer (transaction pooling) on {stack.pgbouncer_port}; migrating through it")
        stack.run("migrate", "--noinput", "-v", "0")
        account = json.loads(stack.run("create_account", "Nodes", "--json"))
        for name in ("web1", "web2"):
            stack.web(name)
        for name in ("worker1", "worker2"):
            stack.start(name, [str(stack.bin), "run", "worker"])
        for name in ("beat1", "beat2"):
            stack.start(name, [str(stack.bin), "run", "beat"])
        for name in ("web1", "web2"):
            stack.wait_ready(name)
        stack.haproxy()
        say(f"HAProxy on {stack.proxy_port} in front of web1 and web2; 2 workers, 2 beats")
        endpoint = requests.post(
            f"{stack.base}/v1/webhook_endpoints",
            auth=(account["secret_key"], ""),
            data={"url": receiver.url, "enabled_events[]": "*"},
            timeout=10,
        )
        endpoint.raise_for_status()

        deadline = time.monotonic() + 30
        while stack.leader_pid() is None:
            if time.monotonic() > deadline:
                raise SystemExit("no beat took the lead")
            time.sleep(0.3)
        leader = stack.leader()  # the command an operator runs
        say(
            f"payintents beat_status: {leader['host']} pid {leader['pid']} leads until "
            f"{leader['lease_ends']}"
        )

        load = Load(stack.base, account["secret_key"])
        threads = [threading.Thread(target=load.client, args=(n,)) for n in range(args.clients)]
        for thread in threads:
            thread.start()
        time.sleep(4)

        say("kill -9 web1 (while the load runs), then start it again")
        stack.kill9("web1")
        time.sleep(2)
        stack.web("web1")
        say("kill -9 worker1, then start it again")
        stack.kill9("worker1")
        stack.start("worker1", [str(stack.bin), "run", "worker"])
        leading_pid = stack.leader_pid()[0]
        beat = next(n for n in ("beat1", "beat2") if stack.procs[n].pid == leading_pid)
        say(f"kill -9 the leading beat ({beat}, pid {leading_pid})")
        with psycopg.connect(stack.direct_url, autocommit=True) as db:
            killed_at = db.execute("SELECT now()").fetchone()[0]  # the lease's clock
        stack.kill9(beat)
        deadline = time.monotonic() + LEASE * 4
        while True:
            now = stack.leader_pid()
            if now is not None and now[0] != leading_pid:
                took = (now[1] - killed_at).total_seconds()
                say(
                    f"the other beat (pid {now[0]}) took the lead {took:.1f}s after the kill "
                    f"(lease {LEASE}s, by the database's clock)"
                )
                if took > LEASE * 1.1 + 0.5:
                    failures.append(f"the lead passed on after {took:.1f}s, lease {LEASE}s")
                break
            if time.monotonic() > deadline:
                failures.append("no beat took the lead after the leader's kill -9")
                break
            time.sleep(0.2)
        stack.wait_ready("web1")
        time.sleep(2)  # HAProxy's checks put web1 back (rise 2 × 500 ms)

        say("SIGTERM worker2 (warm shutdown) while the load runs, then start it again")
        stopping = time.monotonic()
        os.kill(stack.procs["worker2"].pid, signal.SIGTERM)
        code = stack.procs["worker2"].wait(timeout=120)
        say(
            f"worker2 finished its tasks and stopped in {time.monotonic() - stopping:.1f}s "
            f"(exit status {code})"
        )
        if code != 0:
            failures.append(f"worker2 exited with {code} on SIGTERM")
        stack.start("worker2", [str(stack.bin), "run", "worker"])

        say("SIGTERM web2 (graceful drain) while the load runs")
        drain_start = time.monotonic()
        os.kill(stack.procs["web2"].pid, signal.SIGTERM)
        stack.procs["web2"].wait(timeout=60)
        drain_end = time.monotonic()
        time.sleep(1)
        load.stop.set()
        for thread in threads:
            thread.join()
        drained = load.failures_between(drain_start, drain_end + 1)
        say(
            f"web2 drained and stopped in {drain_end - drain_start:.1f}s; "
            f"{len(drained)} failed requests meanwhile"
        )
        if drained:
            failures.append(f"{len(drained)} requests failed during the drain: {drained[:5]}")

        answered = set(load.answered.values())
        total = len(load.requests)
        failed = sum(1 for r in load.requests if not r[2])
        say(
            f"{len(answered)} payments answered, {len(load.refunds)} refunds, {len(load.left)} "
            f"left to be abandoned; {total} requests, {failed} failed (all retried with their key)"
        )

        # Settle: every succeeded payment's event delivered, every left intent abandoned.
        with psycopg.connect(stack.direct_url, autocommit=True) as db:
            succeeded = {
                row[0]
                for row in db.execute(
                    "SELECT id FROM intents_paymentintent WHERE id = ANY(%s) AND status = 'succeeded'",
                    [list(answered)],
                )
            }
            deadline = time.monotonic() + 150 + ABANDON_AFTER
            while time.monotonic() < deadline:
                missing = succeeded - receiver.objects("payment_intent.succeeded")
                refunds_missing = set(load.refunds) - receiver.objects("refund.created")
                unabandoned = db.execute(
                    "SELECT count(*) FROM intents_paymentintent WHERE id = ANY(%s) AND status <> 'canceled'",
                    [load.left],
                ).fetchone()[0]
                if not missing and not refunds_missing and not unabandoned:
                    break
                time.sleep(1)
            say(
                f"{len(succeeded) - len(missing)}/{len(succeeded)} succeeded payments' events delivered"
            )
            if missing:
                failures.append(
                    f"{len(missing)} succeeded payments' events never arrived: {sorted(missing)[:5]}"
                )
            if unabandoned:
                failures.append(f"{unabandoned} intents were never abandoned by the sweep")
            if len(succeeded) < len(answered) * 0.9:
                failures.append(f"only {len(succeeded)} of {len(answered)} payments succeeded")

            doubles = db.execute(
                "SELECT metadata->>'order', count(*) FROM intents_paymentintent "
                "GROUP BY 1 HAVING count(*) > 1"
            ).fetchall()
            charged_twice = db.execute(
                "SELECT payment_intent_id, count(*) FROM payments_charge WHERE status = 'succeeded' "
                "GROUP BY 1 HAVING count(*) > 1"
            ).fetchall()
            say(
                f"{len(doubles)} keys with two payments, {len(charged_twice)} payments charged "
                f"twice, {len(load.same_key_mismatches)} same-key retries answered differently"
            )
            if doubles or charged_twice or load.same_key_mismatches:
                failures.append(
                    f"double charges: {doubles[:5]} {charged_twice[:5]} {load.same_key_mismatches[:5]}"
                )

            canceled = collections.Counter(
                obj
                for (obj,) in db.execute(
                    "SELECT object_id FROM events_event WHERE type = 'payment_intent.canceled' "
                    "AND object_id = ANY(%s)",
                    [load.left],
                )
            )
            twice = {obj: n for obj, n in canceled.items() if n != 1}
            delivered = receiver.objects("payment_intent.canceled") & set(load.left)
            say(
                f"{len(canceled)}/{len(load.left)} abandoned intents' canceled events written, "
                f"{len(twice)} more than once; {len(delivered)} delivered"
            )
            if twice or len(canceled) != len(load.left):
                failures.append(f"abandonment events not once each: {twice or canceled}")
            say(
                f"{len(load.refunds) - len(refunds_missing)}/{len(load.refunds)} answered refunds' "
                "refund.created delivered"
            )
            if refunds_missing:
                failures.append(f"{len(refunds_missing)} refunds' events never arrived")
    finally:
        stack.stop_all()
    if failures:
        say("FAILED:\n  " + "\n  ".join(failures) + f"\nlogs in {tmp}")
        return 1
    say("many nodes: every promise kept")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
