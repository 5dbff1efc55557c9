"""The seam between services and the task queue: services ask for work by task name, so a
service never imports the tasks module that imports it (tasks call services, never the reverse).

A publish never retries and never raises: a dead broker must not hold up or fail the request
whose transaction made the work due. One connection attempt, bounded by
BROKER_PUBLISH_TIMEOUT_SECONDS; after a failure this process does not try again for
BROKER_PUBLISH_BACKOFF_SECONDS (each skipped publish is logged), so a broker outage costs a
request at most one bounded attempt, usually none. Every kind of work enqueued here is also
found by a periodic sweep that reads the database, so a lost message only delays it.

Tasks named in settings.IN_PROCESS_TASK_PREFIXES skip the broker: they run in a small thread pool
of the calling process. `make run` does that for the webhook tasks when no broker server is
configured, because kombu's file-system transport hands a worker a message only every few
seconds; the worker and beat still run the sweeps, so nothing depends on the thread. A
short-lived process (a management command such as `trigger`) waits for what it handed its pool,
and for what that handed on, before it exits (`drain`, called by manage.py): else the
interpreter's shutdown refuses the tasks' own follow-ups ("cannot schedule new futures").
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from importlib import import_module
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import connections, transaction

logger = logging.getLogger("payintents.enqueue")

_pool: ThreadPoolExecutor | None = None
_pending: set[Future[None]] = set()  # what the pool has not finished yet
_pending_lock = threading.Lock()


def _in_process(task_name: str) -> bool:
    return task_name.startswith(tuple(settings.IN_PROCESS_TASK_PREFIXES))


def runs_in_process(task_name: str) -> bool:
    """Does `enqueue(task_name, …)` run the task in this process's thread pool (no broker)?"""
    return _in_process(task_name)


def _run_here(task_name: str, args: tuple[Any, ...]) -> None:
    try:
        current_app.tasks[task_name](*args)
    except Exception:
        logger.exception("in-process task %s failed; the sweep will pick it up", task_name)
    finally:
        connections.close_all()  # this thread's connections only


class _Backoff:
    """When this process may next try the broker (monotonic seconds), shared by its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.until = 0.0

    def active(self) -> bool:
        return time.monotonic() < self.until

    def trip(self, seconds: float) -> None:
        with self._lock:
            self.until = time.monotonic() + seconds

    def reset(self) -> None:
        with self._lock:
            self.until = 0.0


backoff = _Backoff()


# The publishing connections of this process, one pool per broker URL: the app's own pool
# with a deadline on every socket operation (`socket_timeout`), not only on connecting. A Redis
# that accepts connections and never answers (stopped, swapping, a full network buffer) would
# otherwise hold a request until it came back. The worker keeps the app's options (its reads
# are driven by its event loop and block by design).
_publish_pools: dict[str, Any] = {}
_publish_pools_lock = threading.Lock()


def publish_transport_options() -> dict[str, Any]:
    timeout = settings.BROKER_PUBLISH_TIMEOUT_SECONDS
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS or {})
    if not current_app.conf.broker_url.startswith("filesystem://"):
        options.update(socket_timeout=timeout, socket_connect_timeout=timeout)
    return options


def _publish_pool() -> Any:
    url = current_app.conf.broker_url
    with _publish_pools_lock:
        pool = _publish_pools.get(url)
        if pool is None:
            connection = current_app.connection_for_write(
                transport_options=publish_transport_options()
            )
            pool = _publish_pools[url] = connection.Pool(limit=current_app.conf.broker_pool_limit)
        return pool


def _publish(task_name: str, args: list[Any]) -> None:
    timeout = settings.BROKER_PUBLISH_TIMEOUT_SECONDS
    with _publish_pool().acquire(block=True, timeout=timeout) as conn:
        # One attempt (max_retries=0), never kombu's default loop of retries with sleeps.
        conn.ensure_connection(max_retries=0, timeout=timeout)
        current_app.send_task(task_name, args=args, retry=False, connection=conn)


def enqueue(task_name: str, *args: Any) -> bool:
    """Publish `task_name(*args)` now (routed by CELERY_TASK_ROUTES), or hand it to this
    process's thread pool (IN_PROCESS_TASK_PREFIXES); False if that failed."""
    global _pool
    if _in_process(task_name):
        try:
            # the task's own module, not celery's import_default_modules: that runs Django's
            # whole system check (celery's Django fixup), which loads every URL and view
            import_module(task_name.rpartition(".")[0])
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="in-process-task")
            future = _pool.submit(_run_here, task_name, args)
            with _pending_lock:
                _pending.add(future)
            future.add_done_callback(_finished)
            return True
        except RuntimeError as exc:  # shutting down
            logger.warning("could not run %s in process: %s", task_name, exc)
            return False
    if backoff.active():
        logger.warning(
            "skipped enqueue of %s(%s): the broker failed moments ago; the sweep will pick it up",
            task_name,
            str(args)[:200],
        )
        return False
    try:
        _publish(task_name, list(args))
        return True
    except Exception as exc:  # any broker failure; the sweep re-issues the work
        backoff.trip(settings.BROKER_PUBLISH_BACKOFF_SECONDS)
        logger.warning(
            "could not enqueue %s(%s): %s (%s); the sweep will pick it up",
            task_name,
            str(args)[:200],
            exc.__class__.__name__,
            str(exc)[:200],
        )
        return False


def _finished(future: Future[None]) -> None:
    with _pending_lock:
        _pending.discard(future)


def drain(timeout: float = 60.0) -> bool:
    """Wait until this process's pool has finished every task handed to it, including those
    its tasks handed on while it waited; False if some were still running after `timeout`
    seconds (the sweep finishes their work)."""
    deadline = time.monotonic() + timeout
    while True:
        with _pending_lock:
            waiting = list(_pending)
        if not waiting:
            return True
        left = deadline - time.monotonic()
        if left <= 0 or wait(waiting, timeout=left).not_done:
            logger.warning(
                "%d in-process task(s) still running; the sweep will finish them", len(waiting)
            )
            return False


def enqueue_on_commit(task_name: str, *args: Any) -> None:
    """Publish once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: enqueue(task_name, *args))
