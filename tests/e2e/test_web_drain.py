"""`payintents run web` on SIGTERM: /readyz answers 503 (`draining`) while every other request is
still served, for DRAIN_SECONDS; then the server stops (gracefully: gunicorn's own stop). A real
gunicorn master and workers started the way the console script starts them."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import database_url_for_current_test_db, redis_url, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    env.update(
        PAYINTENTS_DEV="1",
        DATABASE_URL=database_url_for_current_test_db(),
        REDIS_URL=redis_url(),
        PORT=str(port),
        HOST="127.0.0.1",
        WEB_CONCURRENCY="1",
        WEB_THREADS="4",
        DRAIN_SECONDS="3",
        GRACEFUL_TIMEOUT="10",
    )
    log = open(tmp_path / "web.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "config.cli", "run", "web"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_for(up, timeout=30, message="payintents run web to be ready")
    yield proc, base
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_a_draining_web_node_answers_503_on_readyz_serves_the_rest_then_stops(web):
    proc, base = web
    os.kill(proc.pid, signal.SIGTERM)
    wait_for(
        lambda: requests.get(f"{base}/readyz", timeout=2).status_code == 503,
        timeout=2,
        message="/readyz to answer 503",
    )
    assert requests.get(f"{base}/readyz", timeout=2).json()["status"] == "draining"
    # Still serving everything else meanwhile: liveness and the API.
    assert requests.get(f"{base}/healthz", timeout=2).status_code == 200
    assert requests.get(f"{base}/v1/payment_intents", timeout=2).status_code == 401
    assert proc.poll() is None
    proc.wait(timeout=20)
    assert proc.returncode == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=2)
