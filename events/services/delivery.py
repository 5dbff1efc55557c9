"""One delivery attempt, the backoff between attempts, and the sweep that re-issues lost hints.

A delivery in flight is marked with a lease (`lease_until`) instead of a lock held across the
network call, so a crashed worker only delays a delivery until its lease expires. The database
is the truth about what is left to send; the broker only carries "look at this row now" hints.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..dialects import STRIPE, dialect
from ..http import SendResult, post
from ..models import Delivery, DeliveryAttempt, WebhookEndpoint
from ..presenters import event_body
from ..signing import signed_headers
from .dispatch import deliveries_dispatch_on_commit
from .outbox import event_pending_webhooks_decrement
from .relay import events_relay

logger = logging.getLogger("payintents.events")


# --- backoff ---------------------------------------------------------------------------------


def retry_delay_seconds(attempt_count: int) -> float:
    """Exponential backoff with jitter for the retry after the `attempt_count`-th failure."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** max(attempt_count - 1, 0))
    delay = min(base, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return delay * (1 + random.random() * settings.WEBHOOK_RETRY_JITTER)


# --- one attempt -----------------------------------------------------------------------------


def _claim(delivery_id: str, now: datetime) -> Delivery | None:
    """Lease a due, pending delivery; None when it is not due, done, or someone holds it."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(id=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .first()
        )
        if delivery is None:
            return None
        if delivery.endpoint.status != WebhookEndpoint.Status.ENABLED:
            delivery.status = Delivery.Status.CANCELED
            delivery.next_attempt_at = None
            delivery.save()
            event_pending_webhooks_decrement(event_id=delivery.event_id)
            return None
        delivery.lease_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save()
        return delivery


def delivery_attempt(*, delivery_id: str) -> str:
    """Send one delivery once, if it is due and nobody else is sending it. Idempotent: a
    delivered (or failed, or leased) delivery is left alone."""
    delivery = _claim(delivery_id, timezone.now())
    if delivery is None:
        return "skipped"
    endpoint, event = delivery.endpoint, delivery.event
    # No transaction and no lock is held across the network call.
    timestamp = int(time.time())
    if endpoint.dialect == STRIPE:
        body = event_body(event)
        headers = signed_headers(
            secrets=endpoint.signing_secrets(), event_id=event.id, timestamp=timestamp, body=body
        )
    else:
        body, headers = dialect(endpoint.dialect).render(endpoint, event, timestamp)
    result = post(endpoint.url, body=body, headers=headers)
    return _apply_result(delivery_id=delivery.id, result=result)


def _apply_result(*, delivery_id: str, result: SendResult) -> str:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("endpoint", "event")
            .filter(id=delivery_id)
            .first()
        )
        if delivery is None:
            return "gone"  # the endpoint was deleted meanwhile
        endpoint, event = delivery.endpoint, delivery.event
        attempt = DeliveryAttempt(
            account_id=endpoint.account_id,
            livemode=endpoint.livemode,
            delivery=delivery,
            event=event,
            endpoint=endpoint,
            event_type=event.type,
            http_status=result.http_status,
            succeeded=result.succeeded,
            latency_ms=result.latency_ms,
            response_excerpt=result.excerpt,
            error=result.error,
            created=now,
        )
        if delivery.status != Delivery.Status.PENDING:
            attempt.save()  # another attempt (after a lease expiry) already settled it
            return "late"
        delivery.attempt_count += 1
        delivery.lease_until = None
        delivery.dispatched_at = None
        outcome = "retry"
        if result.succeeded:
            delivery.status = Delivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            event_pending_webhooks_decrement(event_id=event.id)
            WebhookEndpoint.objects.filter(id=endpoint.id, failing_since__isnull=False).update(
                failing_since=None
            )
            outcome = "delivered"
        else:
            next_at = now + timedelta(seconds=retry_delay_seconds(delivery.attempt_count))
            window_end = delivery.window_start + timedelta(
                seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS
            )
            if next_at > window_end:
                delivery.status = Delivery.Status.FAILED
                delivery.next_attempt_at = None
                event_pending_webhooks_decrement(event_id=event.id)
                outcome = "failed"
            else:
                delivery.next_attempt_at = next_at
                attempt.next_attempt_at = next_at
            _endpoint_failed(endpoint_id=endpoint.id, now=now)
        delivery.save()
        attempt.save()
        return outcome


def _endpoint_failed(*, endpoint_id: str, now: datetime) -> None:
    WebhookEndpoint.objects.filter(id=endpoint_id, failing_since__isnull=True).update(
        failing_since=now
    )
    cutoff = now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    disabled = WebhookEndpoint.objects.filter(
        id=endpoint_id, status=WebhookEndpoint.Status.ENABLED, failing_since__lte=cutoff
    ).update(
        status=WebhookEndpoint.Status.DISABLED,
        disabled_reason=(
            "Disabled automatically: every delivery attempt failed for "
            f"{settings.WEBHOOK_DISABLE_AFTER_SECONDS / 86400:g} days (since "
            f"{now.isoformat(timespec='seconds')} minus that period)."
        ),
    )
    if disabled:
        logger.warning("webhook endpoint %s disabled after failing too long", endpoint_id)


# --- the sweep -------------------------------------------------------------------------------


def webhooks_sweep() -> dict:
    """The safety net (beat, every few seconds): relay events nobody relayed and re-dispatch
    deliveries that are due and neither in flight nor recently dispatched."""
    relayed = 0
    for _ in range(10):
        count = events_relay()
        relayed += count
        if count < settings.WEBHOOK_SWEEP_BATCH:
            break
    now = timezone.now()
    grace = now - timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    with transaction.atomic():
        due = list(
            Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=grace))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[: settings.WEBHOOK_SWEEP_BATCH]
        )
        if due:
            Delivery.objects.filter(id__in=due).update(dispatched_at=now)
            deliveries_dispatch_on_commit(due)
    return {"relayed": relayed, "dispatched": len(due)}
