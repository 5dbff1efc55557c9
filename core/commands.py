"""The base of the management commands people run by hand, often (`trigger`, `listen`,
`create_account`, …)."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class QuickCommand(BaseCommand):
    """A command that starts without Django's system checks. Those load every URL, and so
    every view and drf-spectacular's schema machinery, which was most of such a command's
    start-up (bench/startup_bench.py); the command itself needs none of it. `manage.py check`,
    `migrate` and `runall` still run every check."""

    requires_system_checks: list[str] = []
