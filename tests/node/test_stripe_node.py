"""The official stripe-node library (pinned in tests/node/package.json) runs the flow of the
Python contract tests against a live server: create, confirm with a test card, capture,
retrieve, a decline, an invalid request, a list with auto-pagination, a cancel.

Needs Node.js and npm: skipped without them, except where PAYINTENTS_REQUIRE_NODE is set (CI),
where their absence fails.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import make_account

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.django_db(transaction=True)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("PAYINTENTS_REQUIRE_NODE"):
            pytest.fail(f"{name} is not installed (PAYINTENTS_REQUIRE_NODE is set)")
        pytest.skip(f"{name} is not installed")
    return path


def _installed(name: str) -> str | None:
    """The version of package `name` in tests/node/node_modules, or None."""
    manifest = HERE / "node_modules" / name / "package.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text()).get("version")


def install_node_modules() -> str:
    """Install the pinned packages (stripe-node, openapi-typescript, openapi-fetch, typescript,
    axe-core; from package-lock.json) into tests/node/node_modules, unless every one is there
    at its pinned version (a pin moved since the last install installs again);
    under a file lock, since two test workers may ask at once. Returns node's path."""
    node, npm = _tool("node"), _tool("npm")
    wanted = json.loads((HERE / "package.json").read_text())["dependencies"]
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all(_installed(name) == version for name, version in wanted.items()):
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HERE,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stdout + result.stderr
    return node


@pytest.fixture(scope="module")
def node_modules():
    return install_node_modules()


def test_stripe_node_runs_the_payment_flow(node_modules, live_server, transactional_db):
    keys = make_account("Node Co")
    env = {
        **os.environ,
        "PAYINTENTS_URL": live_server.url,
        "PAYINTENTS_SECRET_KEY": keys.sk,
    }
    result = subprocess.run(
        [node_modules, "flow.mjs"],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    steps = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert steps == [
        "create",
        "confirm",
        "capture",
        "retrieve",
        "decline",
        "invalid",
        "list",
        "cancel",
    ], output
    assert result.stdout.rstrip().endswith("flow complete")


def _run(node, live_server, keys, *args) -> str:
    env = {**os.environ, "PAYINTENTS_URL": live_server.url, "PAYINTENTS_SECRET_KEY": keys.sk}
    result = subprocess.run(
        [node, "checkout.mjs", *args],
        cwd=HERE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_stripe_node_runs_checkout_and_the_session_is_paid_in_the_browser(
    node_modules, live_server, transactional_db, browser, settings
):
    """stripe-node makes a product, a price, a session, a payment link and a SetupIntent; a
    shopper pays the session, and visits the link twice, in Chromium; stripe-node sees it all."""
    settings.PUBLIC_BASE_URL = live_server.url
    keys = make_account("Node Checkout Co")
    made = json.loads(_run(node_modules, live_server, keys, "create", f"{live_server.url}/healthz"))
    browser.get(made["url"])
    for name, value in {
        "number": "4242424242424242",
        "exp": "1234",
        "cvc": "123",
        "name": "N",
    }.items():
        browser.find_element(By.ID, name).send_keys(value)
    browser.find_element(By.ID, "pay").click()
    WebDriverWait(browser, 20).until(lambda d: "/healthz?session_id=" in d.current_url)
    browser.get(made["link_url"])
    first = browser.current_url
    browser.get(made["link_url"])
    assert "/checkout/" in first and browser.current_url != first
    assert _run(
        node_modules, live_server, keys, "verify", made["session"], made["link"]
    ).strip() == ("verified")
