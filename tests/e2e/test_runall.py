"""`make run`'s supervisor: serves the API with a worker and beat; one SIGTERM stops all three."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.long(20)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    tree: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        tree.setdefault(parent, []).append(child)
    found, stack = set(), [pid]
    while stack:
        for child in tree.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still "exists" until reaped
    state = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True
    ).stdout
    return bool(state.strip()) and not state.strip().startswith("Z")


@pytest.fixture
def sandbox_env(tmp_path, migrated_scratch_database):
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "PYTEST_VERSION"):
        env.pop(name, None)
    env.update(
        PAYINTENTS_DEV="1",
        DATABASE_URL=migrated_scratch_database.url,
        BROKER_DIR=str(tmp_path / "broker"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    return env


def test_runall_serves_with_a_worker_and_beat_and_one_sigterm_stops_everything(
    sandbox_env, tmp_path
):
    port = free_port()
    output = tmp_path / "runall.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runall", "--port", str(port)],
            cwd=ROOT,
            env=sandbox_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 60
        while "publishable key:" not in output.read_text():
            assert proc.poll() is None and time.time() < deadline, output.read_text()[-3000:]
            time.sleep(0.3)
        secret = re.search(r"^secret key: (sk_test_\w+)$", output.read_text(), re.M).group(1)
        body = None
        deadline = time.time() + 40
        while time.time() < deadline and body is None:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz")
                request.add_header("Authorization", f"Bearer {secret}")
                body = json.loads(urllib.request.urlopen(request, timeout=2).read())
            except OSError:
                time.sleep(0.3)
        assert body == {"status": "ok", "database": "ok", "broker": "ok"}
        descendants = children_of(proc.pid)
        commands = subprocess.run(
            ["ps", "-o", "args=", "-p", ",".join(map(str, descendants))],
            capture_output=True,
            text=True,
        ).stdout
        assert "gunicorn" in commands
        assert "worker" in commands
        assert "beat" in commands
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
        deadline = time.time() + 10
        while time.time() < deadline and any(alive(pid) for pid in descendants):
            time.sleep(0.2)
        assert not [pid for pid in descendants if alive(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()
