"""`manage.py listen --forward-to` and `manage.py trigger`, end to end: separate processes on one
database of their own, and a real HTTP receiver that verifies both signature schemes with the receiver
libraries themselves."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import standardwebhooks
import stripe

from .test_runall import ROOT

pytestmark = pytest.mark.long(55)


class Receiver:
    """A local webhook receiver: verifies every request with stripe-python and standardwebhooks,
    answers 200 when both pass (400 otherwise), and keeps what it got."""

    def __init__(self, secret: str):
        self.secret = secret
        self.got: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    event = stripe.Webhook.construct_event(
                        body.decode(), self.headers["Stripe-Signature"], receiver.secret
                    )
                    standardwebhooks.Webhook(receiver.secret).verify(
                        body,
                        {
                            "webhook-id": self.headers["webhook-id"],
                            "webhook-timestamp": self.headers["webhook-timestamp"],
                            "webhook-signature": self.headers["webhook-signature"],
                        },
                    )
                    verified = True
                except Exception:
                    event, verified = json.loads(body), False
                with receiver.lock:
                    receiver.got.append(
                        {"id": event["id"], "type": event["type"], "verified": verified}
                    )
                self.send_response(200 if verified else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def types(self) -> list[str]:
        with self.lock:
            return [hit["type"] for hit in self.got]


def manage(env, *args) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


class Listener:
    """`manage.py listen` as a subprocess, its output read line by line."""

    def __init__(self, env, *args):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "listen", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        wait(lambda: any("Ready!" in line for line in self.lines), self)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def deliveries(self) -> list[str]:
        return [line for line in self.lines if "-->" in line]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def wait(predicate, what, timeout=60):
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, f"timed out; {what!r}: {getattr(what, 'lines', '')}"
        time.sleep(0.1)


@pytest.fixture
def local_env(tmp_path, migrated_scratch_database):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_VERSION")
    }
    env.update(
        PAYINTENTS_DEV="1",
        DATABASE_URL=migrated_scratch_database.url,
        BROKER_DIR=str(tmp_path / "broker"),
    )
    account = json.loads(manage(env, "create_account", "Laptop", "--json"))["id"]
    return env, account


def test_listen_forwards_triggered_events_signed_for_both_libraries(local_env):
    env, account = local_env
    secret = manage(env, "listen", "--account", account, "--print-secret").strip()
    assert secret.startswith("whsec_")
    receiver = Receiver(secret)
    listener = Listener(
        env, "--account", account, "--forward-to", f"http://localhost:{receiver.port}/webhook"
    )
    try:
        assert secret in listener.lines[0]
        out = manage(env, "trigger", "payment_intent.succeeded", "--account", account)
        assert "Trigger succeeded!" in out
        manage(env, "trigger", "customer.created", "--account", account)
        expected = [
            "payment_intent.created",
            "charge.succeeded",
            "payment_intent.succeeded",
            "customer.created",
        ]
        wait(lambda: len(receiver.types()) >= len(expected), listener)
        time.sleep(1)  # nothing more arrives
        assert sorted(receiver.types()) == sorted(expected)
        assert all(hit["verified"] for hit in receiver.got)
        lines = listener.deliveries()
        assert len(lines) == len(expected)
        for hit in receiver.got:
            (line,) = [line for line in lines if hit["id"] in line]
            assert f"--> {hit['type']} [{hit['id']}]" in line
            assert "<-- [200] POST" in line
    finally:
        listener.stop()
        receiver.server.shutdown()


def test_listen_forwards_only_the_events_asked_for_and_reports_a_refusal(local_env):
    env, account = local_env
    receiver = Receiver("whsec_" + "A" * 44)  # not the listen secret: every request fails
    listener = Listener(
        env,
        "--account",
        account,
        "--events",
        "payment_intent.payment_failed,customer.*",
        "--forward-to",
        f"http://127.0.0.1:{receiver.port}/hook",
    )
    try:
        manage(env, "trigger", "charge.failed", "--account", account)
        manage(env, "trigger", "customer.created", "--account", account)
        wait(lambda: len(receiver.types()) >= 2, listener)
        time.sleep(1)
        assert sorted(receiver.types()) == ["customer.created", "payment_intent.payment_failed"]
        assert not any(hit["verified"] for hit in receiver.got)
        assert [line for line in listener.deliveries() if "<-- [400] POST" in line] == (
            listener.deliveries()
        )
        assert len(listener.deliveries()) == 2
    finally:
        listener.stop()
        receiver.server.shutdown()


def test_listen_keeps_its_secret_and_refuses_an_unknown_event_type(local_env):
    env, account = local_env
    first = manage(env, "listen", "--account", account, "--print-secret").strip()
    assert manage(env, "listen", "--account", account, "--print-secret").strip() == first
    refused = subprocess.run(
        [sys.executable, "manage.py", "listen", "--account", account, "--events", "nope.x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "unknown event type: nope.x" in refused.stderr


def test_trigger_delivers_to_an_endpoint_in_process_and_exits_cleanly(local_env):
    """With `make run`'s in-process webhooks, `trigger` waits for the deliveries its events
    make before it exits: every event has reached the endpoint when it returns, and nothing is
    printed about tasks the interpreter's shutdown refused."""
    env, account = local_env
    env = {**env, "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8", "WEBHOOKS_IN_PROCESS": "1"}
    receiver = Receiver("")
    try:
        receiver.secret = manage(
            env,
            "shell",
            "-c",
            "from core.scope import Scope; from events.services import webhook_endpoint_create; "
            f"print(webhook_endpoint_create(scope=Scope({account!r}, False), "
            f"url='http://127.0.0.1:{receiver.port}/hook', enabled_events=['*']).secret)",
        ).split()[-1]
        done = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "trigger",
                "payment_intent.succeeded",
                "--account",
                account,
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "Trigger succeeded!" in done.stdout
        assert done.stderr == ""  # no "cannot schedule new futures after interpreter shutdown"
        # delivered before the command returned, signed with the endpoint's secret
        assert sorted(receiver.types()) == [
            "charge.succeeded",
            "payment_intent.created",
            "payment_intent.succeeded",
        ]
        assert all(hit["verified"] for hit in receiver.got)
    finally:
        receiver.server.shutdown()
