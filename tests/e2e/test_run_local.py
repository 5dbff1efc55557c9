"""`make run` on a laptop: the 3-D Secure links follow the port it serves on (and the host a
request came in on), loopback webhook URLs are allowed there, and the banner comes last."""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from tests.conftest import ScratchDatabase

from .test_runall import ROOT, free_port

pytestmark = pytest.mark.long(40)


def call(base: str, secret: str, method: str, path: str, data=None, host: str | None = None):
    body = urllib.parse.urlencode(data or {}, doseq=True).encode() if method == "POST" else None
    request = urllib.request.Request(base + path, data=body, method=method)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{secret}:".encode()).decode())
    if host:
        request.add_header("Host", host)
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory):
    """`manage.py runall` (what `make run` execs) on a free port, with an empty database of its
    own and its own broker folder: it migrates, collects the static files and makes the demo
    account itself, as on a fresh clone; yields (base URL, the demo secret key it printed, path
    of its output, its environment). One for the module: the stack takes seconds to start and
    stop, and each test makes its own objects on it."""
    tmp_path = tmp_path_factory.mktemp("local_stack")
    database = ScratchDatabase("run").create()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "PYTEST_VERSION",
            "PUBLIC_BASE_URL",
            "WEBHOOK_ALLOWED_NETWORKS",
            "HOST",
            "PORT",
        )
    }
    env.update(
        PAYINTENTS_DEV="1",
        DATABASE_URL=database.url,
        BROKER_DIR=str(tmp_path / "broker"),
        RATE_LIMIT_ENABLED="0",
        STATIC_ROOT=str(tmp_path / "static"),
    )
    port = free_port()
    output = tmp_path / "runall.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runall"],
            cwd=ROOT,
            env=dict(env, PORT=str(port)),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while "publishable key:" not in output.read_text():
            assert proc.poll() is None, output.read_text()[-3000:]
            assert time.time() < deadline, output.read_text()[-3000:]
            time.sleep(0.3)
        secret = re.search(r"^secret key: (sk_test_\w+)$", output.read_text(), re.M).group(1)
        yield base, secret, output, env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
        database.drop()


def test_make_run_prepares_a_fresh_database_saying_so_and_prints_demo_keys_that_work(
    local_stack,
):
    base, secret, output, _ = local_stack
    text = output.read_text()
    steps = [
        "payintents: applying migrations",
        "payintents: collecting static files",
        "payintents: checking the demo account",
        "serving on",
    ]
    assert [text.index(step) for step in steps] == sorted(text.index(step) for step in steps)
    status, pi = call(
        base, secret, "POST", "/v1/payment_intents", {"amount": 1000, "currency": "usd"}
    )
    assert status == 200 and pi["object"] == "payment_intent"


def test_the_three_d_secure_link_answers_on_the_port_make_run_serves_on(local_stack):
    base, secret, _, _ = local_stack
    status, pi = call(
        base,
        secret,
        "POST",
        "/v1/payment_intents",
        {
            "amount": 2500,
            "currency": "usd",
            "payment_method": "pm_card_authenticationRequired",
            "confirm": "true",
            "return_url": "https://shop.test/done",
        },
    )
    assert pi["status"] == "requires_action"
    url = pi["next_action"]["redirect_to_url"]["url"]
    assert url.startswith(base + "/")
    page = urllib.request.urlopen(url, timeout=15)
    assert page.status == 200
    assert "$25.00" in page.read().decode()


def test_the_link_follows_the_host_a_request_came_in_on_when_it_is_allowed(local_stack):
    base, secret, _, _ = local_stack
    port = base.rsplit(":", 1)[1]
    data = {
        "amount": 2500,
        "currency": "usd",
        "payment_method": "pm_card_threeDSecure2Required",
        "confirm": "true",
        "return_url": "https://shop.test/done",
    }
    _, through_proxy = call(
        base, secret, "POST", "/v1/payment_intents", data, host=f"localhost:{port}"
    )
    assert through_proxy["next_action"]["redirect_to_url"]["url"].startswith(
        f"http://localhost:{port}/authenticate/"
    )
    assert (
        urllib.request.urlopen(through_proxy["next_action"]["redirect_to_url"]["url"]).status == 200
    )


def test_make_run_allows_loopback_webhooks_and_says_so_last(local_stack):
    base, secret, output, _ = local_stack
    status, endpoint = call(
        base,
        secret,
        "POST",
        "/v1/webhook_endpoints",
        {"url": "http://127.0.0.1:4242/webhook", "enabled_events[]": ["*"]},
    )
    assert status == 200 and endpoint["url"] == "http://127.0.0.1:4242/webhook"
    text = output.read_text()
    assert "WEBHOOK_ALLOWED_NETWORKS" in text
    banner_at = text.index("serving on")
    # the worker and beat start-up banners are not printed; nothing of theirs follows the banner
    assert "celery@" not in text and "[tasks]" not in text
    assert "ForkPoolWorker" not in text[banner_at:]
    # the command it suggests runs as printed: the venv's Python, not a bare `python`
    python = os.path.relpath(sys.executable, ROOT)
    python = sys.executable if python.startswith("..") else python
    assert f"{python} manage.py listen --forward-to" in text[banner_at:]
