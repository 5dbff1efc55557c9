"""Every `manage.py` command a newcomer types (`make run`'s migrate, createsuperuser, listen,
trigger) runs Django's system checks first: on the development database they report nothing."""

import pytest
from django.core import checks


@pytest.mark.django_db
def test_system_checks_report_nothing_on_the_default_database():
    reported = [
        message for message in checks.run_checks(databases=["default"]) if not message.is_silenced()
    ]
    assert reported == []


def test_check_deploy_is_clean_with_the_documented_production_settings():
    """docs/deploy.md's minimum production environment passes `payintents check --deploy`."""
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_VERSION", "PAYINTENTS_DEV")}
    env.update(
        ENV_FILE="",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=os.environ.get("DATABASE_URL", "") or "postgres://u@127.0.0.1:1/db",
        DATABASE_POOLER="pgbouncer",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="pay.example.com",
        PUBLIC_BASE_URL="https://pay.example.com",
        SECURE_HTTPS="true",
    )
    out = subprocess.run(
        [sys.executable, "-m", "config.cli", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
