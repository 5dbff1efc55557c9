"""A worker process's sender threads: what keeps a slow endpoint from holding the workers.

A sending task (`endpoint_send`, `deliveries_send`) does not send in the worker's own thread: it
hands the send to one of this process's `WEBHOOK_SENDER_THREADS` threads and waits for it at
most `WEBHOOK_SEND_PATIENCE_SECONDS`. A healthy endpoint's batches are done well within that,
and the task returns their outcomes as before. A send still waiting on an endpoint then (one
that answers slowly or not at all, up to `WEBHOOK_TIMEOUT_SECONDS`) goes on in its thread, which
records its outcomes itself, and the task returns at once: the worker takes the next task, the
other endpoints' included. A thread waiting on the network holds no interpreter lock, no
transaction and no row lock, so a process can have as many slow sends under way as it has
sender threads while its own thread keeps serving the queue.

A task waits for its send to start, however long that takes: when every sender thread of the
process is busy the worker waits, as it did when it sent in its own thread, and the queue's
other messages go to the other worker processes; so nothing is taken on that no thread can
serve, and a process dying loses only what its threads had started, which the leases and the
sweep bring back (the database is the truth about what is left to send). At most
`WEBHOOK_SENDERS_PER_ENDPOINT` threads of a deployment send to one endpoint (the sender slots,
`events.services.delivery`), and an endpoint that does not answer is paused at its first
timeout, so however many endpoints hang, they hold sender threads, never the workers.

A worker process waits for its sender threads before it exits (`drain`, on Celery's
`worker_process_shutdown`), so a warm shutdown records what was sent. Where tasks run in the
calling process (no broker: `WEBHOOKS_IN_PROCESS`) they send in their own thread, as before.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections

from core.enqueue import runs_in_process

from .dispatch import ENDPOINT_TASK

logger = logging.getLogger("payintents.events")


class _SenderThreads:
    """This process's thread pool, made on first use (after a worker forks its processes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pid = 0
        self._running: set[concurrent.futures.Future] = set()

    def pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=max(1, settings.WEBHOOK_SENDER_THREADS),
                    thread_name_prefix="webhook-sender",
                )
                self._pid = os.getpid()
                self._running = set()
            return self._pool

    def track(self, future: concurrent.futures.Future) -> None:
        with self._lock:
            self._running.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: concurrent.futures.Future) -> None:
        with self._lock:
            self._running.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error(
                "a webhook send failed in its sender thread; its deliveries' leases expire "
                "and the sweep sends them",
                exc_info=future.exception(),
            )

    def drain(self, timeout: float) -> int:
        """Wait (at most `timeout` seconds) for the sends under way; how many were left."""
        with self._lock:
            if self._pid != os.getpid():
                return 0
            running = list(self._running)
        _, not_done = concurrent.futures.wait(running, timeout=timeout)
        return len(not_done)


_threads = _SenderThreads()


def _in_sender_thread(started: threading.Event, send: Callable[..., Any], kwargs: dict) -> Any:
    started.set()
    close_old_connections()  # this thread's connection: kept between sends, unless too old
    try:
        return send(**kwargs)
    finally:
        close_old_connections()


def send_patiently(send: Callable[..., dict], **kwargs: Any) -> dict:
    """Run `send(**kwargs)` in a sender thread and return its outcomes if it is done within
    `WEBHOOK_SEND_PATIENCE_SECONDS`; otherwise leave it running there and return
    `{"detached": 1}`. In the calling thread when sender threads are off
    (`WEBHOOK_SENDER_THREADS=0`) or the tasks run in process."""
    if settings.WEBHOOK_SENDER_THREADS <= 0 or runs_in_process(ENDPOINT_TASK):
        return send(**kwargs)
    started = threading.Event()
    future = _threads.pool().submit(_in_sender_thread, started, send, kwargs)
    _threads.track(future)
    started.wait()
    try:
        return future.result(timeout=settings.WEBHOOK_SEND_PATIENCE_SECONDS)
    except concurrent.futures.TimeoutError:
        return {"detached": 1}


def drain(timeout: float | None = None) -> int:
    """Wait for this process's sends under way (a worker process about to exit); returns how
    many were still running at the timeout (by default a send's longest: the lease)."""
    return _threads.drain(settings.WEBHOOK_LEASE_SECONDS if timeout is None else timeout)
