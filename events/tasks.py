"""Thin Celery tasks on the `webhooks` queue: load ids, call a service. All idempotent: the
broker may deliver twice, a killed worker's message may come back, the sweep re-issues hints."""

from celery import shared_task, signals
from django.conf import settings

from . import services
from .services import senders

_COMMON = dict(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    queue="webhooks",
)


@shared_task(
    name="events.tasks.events_relay",
    time_limit=60,
    soft_time_limit=50,
    **_COMMON,
)
def events_relay_task(event_ids: list[str]) -> int:
    """A hint that events were committed: relays them and any other unrelayed events (the
    oldest first, in claims of `WEBHOOK_SWEEP_BATCH` until fewer are left), so a burst of small
    transactions is relayed in a few large batches."""
    total = 0
    for _ in range(20):
        count = services.events_relay()
        total += count
        if count < settings.WEBHOOK_SWEEP_BATCH:
            break
    return total


_SEND_LIMIT = int(settings.WEBHOOK_LEASE_SECONDS)


@shared_task(
    name="events.tasks.deliveries_send",
    time_limit=_SEND_LIMIT + 30,
    soft_time_limit=_SEND_LIMIT + 20,
    **_COMMON,
)
def deliveries_send_task(delivery_ids: list[str]) -> dict:
    return senders.send_patiently(services.deliveries_send, delivery_ids=delivery_ids)


@shared_task(
    name="events.tasks.endpoint_send",
    time_limit=_SEND_LIMIT + 30,
    soft_time_limit=_SEND_LIMIT + 20,
    **_COMMON,
)
def endpoint_send_task(endpoint_id: str) -> dict:
    return senders.send_patiently(services.endpoint_deliveries_send, endpoint_id=endpoint_id)


@signals.worker_process_shutdown.connect
def _finish_sends(**_) -> None:
    """A worker process about to exit records what its sender threads sent."""
    senders.drain()


@shared_task(
    name="events.tasks.delivery_attempt",
    time_limit=int(settings.WEBHOOK_TIMEOUT_SECONDS) + 30,
    soft_time_limit=int(settings.WEBHOOK_TIMEOUT_SECONDS) + 20,
    **_COMMON,
)
def delivery_attempt_task(delivery_id: str) -> str:
    """One delivery (hints published before deliveries were sent in batches)."""
    return services.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="events.tasks.webhooks_sweep", time_limit=120, soft_time_limit=100, **_COMMON)
def webhooks_sweep() -> dict:
    return services.webhooks_sweep()


@shared_task(name="events.tasks.events_purge", time_limit=600, soft_time_limit=580, **_COMMON)
def events_purge() -> int:
    return services.events_purge()
