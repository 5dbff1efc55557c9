"""The `payintents` console script's own arguments (the commands it runs are tested where they
live; tests/e2e/many_nodes.py runs the installed script)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import database_url_for_current_test_db

ROOT = Path(__file__).resolve().parents[1]


def payintents(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    environ.update(PAYINTENTS_DEV="1", **env)
    return subprocess.run(
        [sys.executable, "-m", "config.cli", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_of_an_unknown_role_says_which_roles_exist():
    out = payintents("run", "cron")
    assert out.returncode == 1
    assert "payintents run web|worker|beat" in out.stderr


def test_a_worker_asked_for_an_unknown_queue_names_the_variable():
    out = payintents("run", "worker", WORKER_QUEUES="celery,mail")
    assert out.returncode == 1
    assert "WORKER_QUEUES" in out.stderr and "mail" in out.stderr


def test_a_web_port_that_is_not_a_number_names_the_variable():
    out = payintents("run", "web", PORT="eighty")
    assert out.returncode == 2
    assert out.stderr.strip() == "configuration error: PORT=eighty: expects an integer"


@pytest.mark.django_db
def test_any_manage_py_command_runs_through_it():
    # On the tests' own database: DATABASE_URL's may not exist (CI names one it never creates).
    out = payintents("showmigrations", "cluster", DATABASE_URL=database_url_for_current_test_db())
    assert out.returncode == 0, out.stderr
    assert "0001_initial" in out.stdout


def test_through_pgbouncer_no_prepared_statement_or_server_side_cursor_outlives_a_transaction():
    out = payintents(
        "shell",
        "-c",
        "from django.conf import settings; db = settings.DATABASES['default'];"
        "print(db['OPTIONS'].get('prepare_threshold', 'unset'), db['DISABLE_SERVER_SIDE_CURSORS'])",
        DATABASE_URL="postgres://u@127.0.0.1:6432/db",
        DATABASE_POOLER="pgbouncer",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1].split() == ["None", "True"]


def test_an_unknown_database_pooler_stops_the_process_naming_the_variable():
    out = payintents("check", DATABASE_POOLER="pgpool")
    assert out.returncode != 0
    assert out.stderr.strip() == (
        "configuration error: DATABASE_POOLER=pgpool: expects empty, or 'pgbouncer' "
        "(transaction pooling)"
    )
