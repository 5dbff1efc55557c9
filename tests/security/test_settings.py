"""Production settings are safe by default: checked in a fresh interpreter per environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k, None) for k in ("
    "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
    "'SECURE_SSL_REDIRECT', 'SECURE_PROXY_SSL_HEADER', 'SECURE_CONTENT_TYPE_NOSNIFF', "
    "'X_FRAME_OPTIONS', 'SECRET_KEY')}))"
)


def _run(**env_overrides) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PAYINTENTS_DEV", "PYTEST_VERSION", "SECRET_KEY", "DEBUG", "SECURE_HTTPS")
        and not k.startswith("PYTEST_")
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # a deployment: no dev `.env`, which a checkout has once `make run` ran there
    env["ENV_FILE"] = ""
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_no_default_secret_key_outside_dev():
    result = _run()
    assert result.returncode != 0
    assert "SECRET_KEY=: expects a long random value" in result.stderr


def test_manage_py_without_a_secret_key_says_so_in_one_line():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PAYINTENTS_DEV", "SECRET_KEY") and not k.startswith("PYTEST_")
    }
    env["ENV_FILE"] = ""
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: SECRET_KEY=: expects a long random value, kept secret (only "
        "`make run` and tests have a default)"
    ]


def test_production_defaults_are_safe():
    result = _run(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_https_turns_on_secure_cookies_hsts_and_redirect():
    result = _run(SECRET_KEY="x" * 50, SECURE_HTTPS="1")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_dev_mode_has_a_default_secret_key():
    result = _run(PAYINTENTS_DEV="1")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["SECRET_KEY"]


def test_the_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / "dev.env"
    env_file.write_text("SECRET_KEY=from-the-file-" + "k" * 40 + "\nDEBUG=1\n")
    result = _run(ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["SECRET_KEY"] == "from-the-file-" + "k" * 40 and values["DEBUG"] is True
    result = _run(ENV_FILE=str(env_file), SECRET_KEY="s" * 50)
    assert json.loads(result.stdout)["SECRET_KEY"] == "s" * 50
