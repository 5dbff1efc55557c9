"""The seam between services and the task queue: services ask for work by task name, so a
service never imports the tasks module that imports it (tasks call services, never the reverse).

A publish never retries and never raises: a dead broker must not hold up or fail the request
whose transaction made the work due. Every kind of work enqueued here is also found by a periodic
sweep that reads the database, so a lost message only delays it.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger("payintents.enqueue")


def enqueue(task_name: str, *args) -> bool:
    """Publish `task_name(*args)` now (routed by CELERY_TASK_ROUTES); False if the broker failed."""
    try:
        current_app.send_task(task_name, args=list(args), retry=False)
        return True
    except Exception as exc:  # any broker failure; the sweep re-issues the work
        logger.warning(
            "could not enqueue %s(%s): %s; the sweep will pick it up",
            task_name,
            str(args)[:200],
            exc.__class__.__name__,
        )
        return False


def enqueue_on_commit(task_name: str, *args) -> None:
    """Publish once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task_name, *args))
