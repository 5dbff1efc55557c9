"""Configuration from the environment, as an operator meets it: a wrong value stops `manage.py`
at start with one line naming the variable and what it expects, and `check --deploy` refuses
the production settings that would expose the service."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from core.checks import production_settings

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k != "PYTEST_VERSION"}
    db = connection.settings_dict
    base.update(
        ENV_FILE="",
        DATABASE_URL=(
            f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "expects"),
    [
        ("RATE_LIMIT_SECRET_PER_WINDOW", "abc", "expects an integer"),
        ("WEBHOOK_TIMEOUT_SECONDS", "ten", "expects a number"),
        ("DEBUG", "maybe", "expects a boolean"),
        ("LOG_LEVEL", "loud", "expects one of DEBUG, INFO"),
        ("REDIS_URL", "localhost:6379", "expects a URL starting redis://"),
        ("WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8,office", "'office' is not one"),
        ("DATABASE_URL", "mysql://u@db/x", "expects a PostgreSQL URL"),
        ("PORT", "99999", "expects a TCP port"),
        ("MINIMUM_AMOUNTS", "usd=abc", "each value an integer"),
    ],
)
def test_a_wrong_setting_stops_manage_py_with_one_line_naming_it(variable, value, expects):
    result = manage("check", PAYINTENTS_DEV="1", **{variable: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    shown = value.upper() if variable == "LOG_LEVEL" else value
    assert lines[0].startswith(f"configuration error: {variable}={shown}: ")
    assert expects in lines[0]
    assert "Traceback" not in result.stderr


def test_production_without_database_url_names_it():
    result = manage("check", PAYINTENTS_DEV="", DATABASE_URL="", SECRET_KEY="x" * 60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(
        "configuration error: DATABASE_URL=: expects postgres://user:password@host:5432/dbname "
        "(not set; a development checkout sets PAYINTENTS_DEV=1"
    )


def test_check_deploy_refuses_a_weak_secret_key_and_debug_on():
    result = manage("check", "--deploy", PAYINTENTS_DEV="", SECRET_KEY="abc", DEBUG="on")
    assert result.returncode == 1
    assert "payintents.E001" in result.stderr and "SECRET_KEY is weak" in result.stderr
    assert "payintents.E002" in result.stderr and "DEBUG is on" in result.stderr


def test_check_deploy_accepts_a_strong_key_with_debug_off(settings):
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    settings.DEBUG = False
    assert production_settings() == []
    settings.SECRET_KEY = "django-insecure-" + secrets.token_urlsafe(50)
    assert [error.id for error in production_settings()] == ["payintents.E001"]
