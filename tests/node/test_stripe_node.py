"""The official stripe-node library (pinned in tests/node/package.json) runs the flow of the
Python contract tests against a live server: create, confirm with a test card, capture,
retrieve, a decline, an invalid request, a list with auto-pagination, a cancel.

Needs Node.js and npm: skipped without them, except where PAYINTENTS_REQUIRE_NODE is set (CI),
where their absence fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def node_modules():
    """Install the pinned packages (stripe-node, openapi-typescript, openapi-fetch, typescript;
    from package-lock.json) into tests/node/node_modules, unless every one is there."""
    node, npm = _tool("node"), _tool("npm")
    wanted = json.loads((HERE / "package.json").read_text())["dependencies"]
    if not all((HERE / "node_modules" / name / "package.json").exists() for name in wanted):
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return node


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
