"""An upstream for `stripe` processor connections: a second instance of this very service, on its
own port and its own database, started once per test module.

    from tests.routing.upstream import upstream  # noqa: F401  (the fixture)

    def test_something(upstream):
        StripeProcessor(api_key=upstream.secret_key, api_base=upstream.base_url)

It gets a fresh database `payintents_upstream_<random>` on the tests' PostgreSQL server
(tests.conftest.ScratchDatabase), dropped afterwards. The
database (a copy of one migrated once per test process) is given one account (`manage.py create_account`), and the static files are
collected into the folder (as `make run` does); then gunicorn serves it,
as `manage.py runall` does (`gunicorn_argv`, one worker), with no broker server (kombu's
file-system transport in a folder of its own, so nothing it enqueues reaches the tests' Redis)
and the simulated processor. Nothing runs its worker: what the upstream answers at once is what
the tests see.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from api.management.commands.runall import gunicorn_argv
from tests.conftest import ScratchDatabase

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60

# The upstream's account, as `manage.py create_account --json` prints it, made in the same
# process as the migration (one Django start-up instead of two).
_PREPARE = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
call_command("collectstatic", verbosity=0, interactive=False)
call_command("create_account", "Upstream", json=True, live=True)
"""


@dataclass
class Upstream:
    base_url: str
    secret_key: str
    publishable_key: str
    live_secret_key: str
    account_id: str
    database_url: str
    log_path: Path
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the server --------------------------------------------------------------------------------


def _environment(database_url: str, port: int, folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    # not a test run: the upstream is configured as a deployment is, from its environment alone
    for name in ("PYTEST_VERSION", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.update(
        PAYINTENTS_DEV="1",
        ENV_FILE="",  # not the checkout's .env
        DATABASE_URL=database_url,
        BROKER_DIR=str(folder / "broker"),
        WEBHOOKS_IN_PROCESS="0",
        RATE_LIMIT_ENABLED="0",
        HOST="127.0.0.1",
        PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        # its own static files, collected as a deployment's are: its pages (the 3-D Secure
        # page's stylesheet) load them through the manifest
        STATIC_ROOT=str(folder / "static"),
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        # it plays Stripe, whose live mode takes live payments: its simulator may
        SIMULATED_LIVE_PAYMENTS="1",
    )
    return env


def _healthy(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def start_upstream(folder: Path) -> tuple[Upstream, ScratchDatabase]:
    database = ScratchDatabase("upstream").create(migrated=True)
    port = _free_port()
    env = _environment(database.url, port, folder)
    log_path = folder / "upstream.log"
    upstream: Upstream | None = None
    try:
        prepared = subprocess.run(
            [sys.executable, "-c", _PREPARE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )
        if prepared.returncode != 0:
            raise RuntimeError(f"the upstream's migrate failed:\n{prepared.stderr[-4000:]}")
        keys = _last_json_line(prepared.stdout)
        upstream = Upstream(
            base_url=f"http://127.0.0.1:{port}",
            secret_key=keys["secret_key"],
            publishable_key=keys["publishable_key"],
            live_secret_key=keys["live_secret_key"],
            account_id=keys["id"],
            database_url=database.url,
            log_path=log_path,
        )
        with open(log_path, "wb") as log:
            upstream.proc = subprocess.Popen(
                gunicorn_argv(host="127.0.0.1", port=port, workers=1),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(upstream.base_url):
            if upstream.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the upstream did not serve /healthz:\n{upstream.log()[-4000:]}"
                )
            time.sleep(0.1)
    except BaseException:
        if upstream is not None:
            stop_upstream(upstream, database)
        else:
            database.drop()
        raise
    return upstream, database


def _last_json_line(output: str) -> dict:
    for line in reversed(output.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"create_account printed no keys: {output[-2000:]!r}")


def stop_upstream(upstream: Upstream, database: ScratchDatabase) -> None:
    """gunicorn stopped (its whole process group), then its database dropped."""
    proc = upstream.proc
    try:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    finally:
        database.drop()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory) -> Iterator[Upstream]:
    """A second instance of this service (`.base_url`) with one account (`.secret_key`, its
    test-mode secret key), for the module's tests; stopped and its database dropped after."""
    server, database = start_upstream(tmp_path_factory.mktemp("upstream"))
    try:
        yield server
    finally:
        stop_upstream(server, database)
