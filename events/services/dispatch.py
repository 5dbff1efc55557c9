"""The hints the events services give the broker: by task NAME through `core.enqueue` (so no
service imports `events.tasks`, which imports the services), routed to the `webhooks` queue by
CELERY_TASK_ROUTES {"events.tasks.*": …}.

A publish never retries and never raises: a dead broker must not hold up or fail the request
whose transaction wrote the event. The database stays the truth about what is left to send; the
sweep re-issues any hint that was lost.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from core.enqueue import enqueue

RELAY_TASK = "events.tasks.events_relay"
DELIVERY_TASK = "events.tasks.deliveries_send"
ENDPOINT_TASK = "events.tasks.endpoint_send"


class _RelayBatch:
    """The events one transaction wrote, relayed by ONE hint once it commits."""

    def __init__(self) -> None:
        self.event_ids: list[str] = []

    def __call__(self) -> None:
        enqueue(RELAY_TASK, self.event_ids)


def relay_on_commit(event_ids: list[str]) -> None:
    """Ask the relay to look at these events once the current transaction commits: every event
    of one transaction goes in one hint (one broker publish per transaction, not per event).
    Outside a transaction, at once."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        enqueue(RELAY_TASK, list(event_ids))
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
