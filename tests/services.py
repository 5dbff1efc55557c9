"""`make test`'s services on a fresh clone, loaded as a pytest plugin (`-p tests.services`) so
that it runs before the settings are read: PostgreSQL needs nothing here (the settings start the
embedded server when DATABASE_URL is not set, config/embedded_db.py); Redis, when REDIS_URL is
not set and a `redis-server` is on the PATH, is started here on a free 127.0.0.1 port, with no
persistence, for this run only (pytest-xdist's workers inherit REDIS_URL), and stopped at exit.
Without either, the tests that need Redis skip (CI sets REDIS_URL and fails instead)."""

import atexit
import os
import shutil
import socket
import subprocess
import time


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis() -> None:
    server = shutil.which("redis-server")
    if os.environ.get("REDIS_URL") or os.environ.get("PYTEST_XDIST_WORKER") or not server:
        return
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        return
    atexit.register(proc.terminate)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"


_start_redis()
