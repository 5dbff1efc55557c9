"""The operator commands work in a dev checkout exactly as the README writes them: in a copy of
the checkout, `make .env` (which `make run` runs) writes the secret, and then each README line —
with no SECRET_KEY or PAYINTENTS_DEV in the environment — runs as written.

The database is a copy of the run's migrated one, given as DATABASE_URL as a deployment gives
it (the `migrate` then has nothing to do): the embedded server a checkout without DATABASE_URL
gets, made and migrated from nothing, is `make run`'s test's (tests/e2e/test_run_local.py) and
tests/test_embedded_db.py's."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ScratchDatabase

pytestmark = pytest.mark.long(20)

ROOT = Path(__file__).resolve().parents[2]
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".run", ".broker", ".env", "__pycache__", "img", "node_modules"
)


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    lines = re.findall(r"^(\.venv/bin/python manage\.py .+)$", readme, re.M)
    return [line.split("#", 1)[0].strip() for line in lines]


def test_the_readme_writes_the_three_operator_commands():
    commands = [shlex.split(line)[2] for line in readme_commands()]
    assert commands == ["createsuperuser", "create_account", "roll_key"]


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_readme_operator_commands_run_as_written_after_make_env(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT, checkout, ignore=COPY_IGNORE)
    (checkout / ".venv").symlink_to((ROOT / ".venv").resolve())
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PAYINTENTS_DEV", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
        and not k.startswith("PYTEST")
    }
    env["DJANGO_SUPERUSER_PASSWORD"] = "pw-readme-1"
    database = ScratchDatabase("readme").create(migrated=True)
    env["DATABASE_URL"] = database.url
    try:
        _run_the_readme(checkout, env)
    finally:
        database.drop()


def _run_the_readme(checkout: Path, env: dict[str, str]) -> None:
    def run(command: str) -> str:
        result = subprocess.run(
            command, shell=True, cwd=checkout, env=env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result.stdout

    run("make .env")
    assert (checkout / ".env").read_text().startswith("SECRET_KEY=")
    assert "PAYINTENTS_DEV=1" in (checkout / ".env").read_text().splitlines()
    run(".venv/bin/python manage.py migrate --noinput -v 0")  # as `make run` does

    superuser, create, roll = readme_commands()
    run(f"{superuser} --noinput --username alice --email alice@example.com")
    created = json.loads(run(create.replace("[--live]", "--live")))
    assert created["live_secret_key"].startswith("sk_live_")
    rolled = json.loads(
        run(roll.replace("acct_…", created["id"]).replace("[--live|--test]", "--test"))
    )
    assert rolled["secret_key"] != created["secret_key"]
    assert "live_secret_key" not in rolled
