"""What `make run` skips on a restart (`manage.py runall`): `migrate` when every migration on
disk is recorded as applied, the system checks when nothing they look at changed since they
last passed. Each skip is checked against the case where the work is due."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from api.management.commands import runall


@pytest.mark.django_db
def test_migrations_found_on_disk_are_the_ones_django_loads():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert runall.migrations_on_disk() == set(loader.disk_migrations)


@pytest.mark.django_db
def test_a_migrated_database_needs_no_migrate_and_one_unrecorded_migration_does():
    assert runall.migrations_pending() is False
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'checkouts' AND name = '0001_initial'"
        )
    assert runall.migrations_pending() is True


@pytest.mark.django_db
def test_a_database_without_the_migrations_table_needs_migrate():
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE django_migrations RENAME TO django_migrations_away")
    assert runall.migrations_pending() is True


def test_the_checks_run_again_only_when_a_source_or_the_environment_changes(
    settings, tmp_path, monkeypatch
):
    settings.RUN_DIR = str(tmp_path)
    ran = []
    command = runall.Command(stdout=io.StringIO())
    monkeypatch.setattr(command, "check", lambda *a, **k: ran.append(1))
    command.check_once()
    assert len(ran) == 1 and (tmp_path / "checks.sha256").exists()
    command.check_once()
    assert len(ran) == 1  # nothing changed: skipped
    monkeypatch.setenv("PAYINTENTS_SOME_SETTING", "changed")
    command.check_once()
    assert len(ran) == 2
    monkeypatch.setenv("PORT", "1234")  # a new port changes nothing the checks look at
    command.check_once()
    assert len(ran) == 2


def test_the_checks_digest_follows_the_content_of_the_sources(settings, tmp_path):
    (tmp_path / "app").mkdir()
    source = tmp_path / "app" / "views.py"
    source.write_text("x = 1\n")
    settings.BASE_DIR = tmp_path
    before = runall.checks_digest()
    assert runall.checks_digest() == before
    source.write_text("x = 2\n")
    assert runall.checks_digest() != before
