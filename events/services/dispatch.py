"""The hints the events services give the broker: by task NAME through `core.enqueue` (so no
service imports `events.tasks`, which imports the services), routed to the `webhooks` queue by
CELERY_TASK_ROUTES {"events.tasks.*": …}.

A publish never retries and never raises: a dead broker must not hold up or fail the request
whose transaction wrote the event. The database stays the truth about what is left to send; the
sweep re-issues any hint that was lost.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from core.enqueue import enqueue, runs_in_process

RELAY_TASK = "events.tasks.events_relay"
DELIVERY_TASK = "events.tasks.deliveries_send"
ENDPOINT_TASK = "events.tasks.endpoint_send"


# A deferred hint names at most this many events (the relay relays every unrelayed event
# anyway; the ids only say which transactions asked).
_HINT_IDS_MAX = 1000


class _RelayHints:
    """This process's relay hints, at most one per `WEBHOOK_RELAY_HINT_SECONDS`.

    The first transaction after a quiet spell publishes its hint at once; a transaction that
    commits sooner after the last hint adds its events to a deferred one, which a timer thread
    publishes when the interval is up. At a steady stream of small transactions (a payment's
    events, one commit each) the worker then runs one relay a window for all of them instead
    of one task per transaction; the latency this adds is at most the window. A hint lost on
    the way (the process dies within the window) is covered by the sweep, like any lost hint.
    A window of 0, or relay tasks run in this process (no broker), publish every hint at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._last = -math.inf  # monotonic time of the last hint published
        self._deferred: list[str] | None = None  # the events of the hint a timer will publish

    def publish(self, event_ids: list[str]) -> None:
        window = settings.WEBHOOK_RELAY_HINT_SECONDS
        if window <= 0 or runs_in_process(RELAY_TASK):
            enqueue(RELAY_TASK, event_ids)
            return
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's timer is not ours
                self._pid, self._last, self._deferred = os.getpid(), -math.inf, None
            if self._deferred is not None:
                self._deferred.extend(event_ids[: _HINT_IDS_MAX - len(self._deferred)])
                return
            now = time.monotonic()
            wait = self._last + window - now
            if wait > 0:
                self._deferred = list(event_ids[:_HINT_IDS_MAX])
                timer = threading.Timer(wait, self._publish_deferred)
                timer.daemon = False  # an exiting process still publishes it
                timer.start()
                return
            self._last = now
        enqueue(RELAY_TASK, event_ids)

    def _publish_deferred(self) -> None:
        with self._lock:
            event_ids, self._deferred = self._deferred, None
            self._last = time.monotonic()
        if event_ids:
            enqueue(RELAY_TASK, event_ids)


relay_hints = _RelayHints()


class _RelayBatch:
    """The events one transaction wrote, relayed by ONE hint once it commits."""

    def __init__(self) -> None:
        self.event_ids: list[str] = []

    def __call__(self) -> None:
        relay_hints.publish(self.event_ids)


def relay_on_commit(event_ids: list[str]) -> None:
    """Ask the relay to look at these events once the current transaction commits: every event
    of one transaction goes in one hint (one broker publish per transaction at most, not per
    event; fewer when transactions follow each other closely, see `_RelayHints`). Outside a
    transaction, at once."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        relay_hints.publish(list(event_ids))
        return
    batch = getattr(connection, "_payintents_relay_batch", None)
    # The batch is this transaction's while its callback is still registered; a rollback (of
    # the transaction, or of the savepoint that registered it) drops the callback.
    if batch is None or not any(entry[1] is batch for entry in connection.run_on_commit):
        batch = _RelayBatch()
        connection._payintents_relay_batch = batch
        transaction.on_commit(batch)
    batch.event_ids.extend(event_ids)


def delivery_batches(pairs: Iterable[tuple[str, str]]) -> list[list[str]]:
    """`(delivery id, endpoint id)` pairs as batches: one endpoint's deliveries each, at most
    `WEBHOOK_DELIVERY_BATCH` of them, in the order given."""
    size = max(1, settings.WEBHOOK_DELIVERY_BATCH)
    by_endpoint: dict[str, list[str]] = {}
    for delivery_id, endpoint_id in pairs:
        by_endpoint.setdefault(endpoint_id, []).append(delivery_id)
    return [ids[i : i + size] for ids in by_endpoint.values() for i in range(0, len(ids), size)]


def deliveries_dispatch(batches: list[list[str]]) -> None:
    """One `deliveries_send` task per batch, stopping at the first broker failure."""
    for batch in batches:
        if not enqueue(DELIVERY_TASK, batch):
            return  # the broker is down; the sweep re-dispatches after the grace period


def deliveries_dispatch_on_commit(batches: list[list[str]]) -> None:
    transaction.on_commit(lambda: deliveries_dispatch(batches))


def endpoints_send_on_commit(endpoint_ids: list[str]) -> None:
    """One `endpoint_send` hint per endpoint once the transaction commits (each endpoint's
    `send_requested_at` was set in it), stopping at the first broker failure."""

    def send() -> None:
        for endpoint_id in endpoint_ids:
            if not enqueue(ENDPOINT_TASK, endpoint_id):
                return  # the sweep clears the stale requests and re-dispatches

    transaction.on_commit(send)
