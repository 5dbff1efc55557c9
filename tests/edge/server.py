"""A real gunicorn started with `runall`'s command line, on the tests' PostgreSQL, for the tests
of what reaches the application over a socket (tests/edge/)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import requests

from api.management.commands.runall import gunicorn_argv
from tests.conftest import ROOT, database_url_for_current_test_db, redis_url, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, *, workers: int = 1, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "gunicorn.log"
        env = dict(os.environ)
        env.pop("PYTEST_VERSION", None)
        env.update(
            PAYINTENTS_DEV="1",
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=database_url_for_current_test_db(),
            REDIS_URL=redis_url(),
            CELERY_BROKER_URL=redis_url(),
            RATE_LIMIT_ENABLED="0",
        )
        env.update(extra_env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            gunicorn_argv(host="127.0.0.1", port=self.port, workers=workers),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._ready, timeout=40, message=f"gunicorn to serve:\n{self.log()}")

    def _ready(self) -> bool:
        assert self.proc.poll() is None, self.log()
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def raw(self, data: bytes, *, close_write: bool = True, timeout: float = 20) -> bytes:
        """Send `data` as it is on a new connection (then half-close it, as a client cut off
        mid-body does) and return everything the server answers."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as sock:
            sock.sendall(data)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                try:
                    chunk = sock.recv(65536)
                except (TimeoutError, ConnectionResetError):
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
        self._log.close()
