"""Every write of the events app, by sub-domain:

- `outbox`: `event_emit` (the cross-app contract: the events of one change, each the object as
  the API shows it now and before, in one INSERT) and `previous_attributes`;
- `relay`: committed events → one `Delivery` per matching enabled endpoint;
- `delivery`: one attempt (lease, sign, POST, record), the backoff, and the sweep;
- `senders`: a worker process's sender threads, so a slow endpoint holds a thread, not a worker;
- `endpoints`: create / update / delete / roll the secret, and resending an event;
- `purge`: retention;
- `dispatch`: the hints to the broker, by task name (`core.enqueue`).

Concurrency: rows are claimed with `SELECT … FOR UPDATE SKIP LOCKED`; a delivery in flight is
marked with a lease (`lease_until`) instead of a lock held across the network call, so a
crashed worker only delays a delivery until its lease expires. The database is the truth about
what is left to send; the broker only carries "look at this row now" hints, and the sweep
re-issues any hint that was lost (Redis down, worker killed).
"""

from .delivery import (
    deliveries_send,
    delivery_attempt,
    endpoint_deliveries_send,
    retry_delay_seconds,
    webhooks_sweep,
)
from .endpoints import (
    event_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_roll_secret,
    webhook_endpoint_update,
)
from .outbox import event_emit, previous_attributes
from .purge import events_purge
from .relay import events_relay

__all__ = [
    "deliveries_send",
    "delivery_attempt",
    "endpoint_deliveries_send",
    "event_emit",
    "event_resend",
    "events_purge",
    "events_relay",
    "previous_attributes",
    "retry_delay_seconds",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_roll_secret",
    "webhook_endpoint_update",
    "webhooks_sweep",
]
