"""The hints the events services give the broker: by task NAME through `core.enqueue` (so no
service imports `events.tasks`, which imports the services), routed to the `webhooks` queue by
CELERY_TASK_ROUTES {"events.tasks.*": …}.

A publish never retries and never raises: a dead broker must not hold up or fail the request
whose transaction wrote the event. The database stays the truth about what is left to send; the
sweep re-issues any hint that was lost.
"""

from __future__ import annotations

from django.db import transaction

from core.enqueue import enqueue

RELAY_TASK = "events.tasks.events_relay"
DELIVERY_TASK = "events.tasks.delivery_attempt"


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


def deliveries_dispatch(delivery_ids: list[str]) -> None:
    """One `delivery_attempt` task per delivery, stopping at the first broker failure."""
    for delivery_id in delivery_ids:
        if not enqueue(DELIVERY_TASK, delivery_id):
            return  # the broker is down; the sweep re-dispatches after the grace period


def deliveries_dispatch_on_commit(delivery_ids: list[str]) -> None:
    transaction.on_commit(lambda: deliveries_dispatch(delivery_ids))
