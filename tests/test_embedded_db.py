"""The development database (config/embedded_db.py): the process that starts the embedded
PostgreSQL owns it and stops it when it exits; a process that finds it running uses it and
leaves it running; an owner killed with kill -9 leaves it to the next process, which adopts it.
Each process here is a real Python process, as `make run` and a `manage.py` beside it are."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent

# Start (or join) the server under argv[1], say its URL, answer one query, then wait for a line
# on stdin (or exit at once with "now").
PROCESS = """
import sys
from pathlib import Path
import psycopg
from config.embedded_db import database_url
url = database_url(Path(sys.argv[1]))
with psycopg.connect(url) as conn:
    assert conn.execute("SELECT 1").fetchone() == (1,)
print(url, flush=True)
if sys.argv[2] != "now":
    sys.stdin.readline()
"""


def start(run_dir: Path, wait: bool = True) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-c", PROCESS, str(run_dir), "wait" if wait else "now"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = proc.stdout.readline().strip()
    assert url.startswith("postgres://postgres@127.0.0.1:"), url
    return proc, url


def answers(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute("SELECT current_database()").fetchone() == ("payintents",)


def stopped(url: str, timeout: float = 20) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not answers(url):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("embedded-run")


def test_the_process_that_starts_it_stops_it_when_it_exits(run_dir):
    owner, url = start(run_dir)
    assert answers(url)
    assert (run_dir / "postgres" / "PG_VERSION").exists()
    owner.communicate("\n", timeout=60)
    assert owner.returncode == 0
    assert stopped(url)
    assert not (run_dir / "postgres" / "postmaster.pid").exists()


def test_a_process_that_finds_it_running_leaves_it_to_its_owner(run_dir):
    owner, url = start(run_dir)
    visitor, same = start(run_dir, wait=False)
    assert same == url
    visitor.wait(timeout=60)
    assert answers(url)  # the visitor's exit stopped nothing
    owner.communicate("\n", timeout=60)
    assert stopped(url)


def test_an_owner_killed_leaves_the_server_to_the_next_process_which_adopts_it(run_dir):
    owner, url = start(run_dir)
    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=20)
    assert answers(url)  # nobody stopped it
    heir, same = start(run_dir)
    assert same == url
    heir.communicate("\n", timeout=60)
    assert stopped(url)
