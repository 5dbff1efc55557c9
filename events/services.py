"""Every write of the events app: the outbox (`event_record`), the relay that turns committed
events into deliveries, one delivery attempt, the sweep, resends, endpoints and the purge.

Concurrency: rows are claimed with `SELECT … FOR UPDATE SKIP LOCKED`; a delivery in flight is
marked with a lease (`lease_until`) instead of a lock held across the network call, so a
crashed worker only delays a delivery until its lease expires. The database is the truth about
what is left to send; the broker only carries "look at this row now" hints, and the sweep
re-issues any hint that was lost (Redis down, worker killed).
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import context
from core.errors import InvalidRequestError
from core.metadata import merge_metadata
from core.scope import Scope

from .http import SendResult, post
from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from .presenters import event_body
from .signing import new_secret, signed_headers
from .ssrf import UnsafeURL, check_url

logger = logging.getLogger("payintents.events")


# --- the outbox ------------------------------------------------------------------------------


def event_record(
    *,
    scope: Scope,
    type: str,
    data_object: dict,
    previous_attributes: dict | None = None,
) -> Event:
    """Write one event. Call it inside the transaction that makes the change it reports; the
    relay is asked to look at it once that transaction commits (and the sweep would find it
    anyway if the ask is lost)."""
    data: dict = {"object": data_object}
    if previous_attributes:
        data["previous_attributes"] = previous_attributes
    ctx = context.current()
    event = Event.objects.create(
        account_id=scope.account_id,
        livemode=scope.livemode,
        type=type,
        api_version=settings.API_VERSION,
        data=data,
        object_id=str(data_object.get("id", "")),
        request_id=ctx.request_id,
        idempotency_key=ctx.idempotency_key,
    )
    transaction.on_commit(lambda: _enqueue_relay([event.id]))
    return event


def previous_attributes(before: dict, after: dict) -> dict:
    """The fields of `before` whose values differ in `after` (Stripe's previous_attributes)."""
    return {key: value for key, value in before.items() if key in after and after[key] != value}


def _enqueue(task, args: list) -> bool:
    """Publish without retrying: a dead broker must not hold up (or fail) an API request."""
    try:
        task.apply_async(args=args, queue="webhooks", retry=False)
        return True
    except Exception as exc:  # any broker failure; the sweep re-issues the work
        logger.warning(
            "could not enqueue %s(%s): %s; the sweep will pick it up",
            task.name,
            str(args)[:200],
            exc.__class__.__name__,
        )
        return False


def _enqueue_relay(event_ids: list[str]) -> None:
    from .tasks import events_relay_task

    _enqueue(events_relay_task, [event_ids])


def _enqueue_deliveries(delivery_ids: list[str]) -> None:
    from .tasks import delivery_attempt_task

    for delivery_id in delivery_ids:
        if not _enqueue(delivery_attempt_task, [delivery_id]):
            return  # the broker is down; the sweep re-dispatches after the grace period


# --- the relay -------------------------------------------------------------------------------


def _matching_endpoints(events: list[Event]) -> dict[tuple[str, bool], list[WebhookEndpoint]]:
    scopes = {(e.account_id, e.livemode) for e in events}
    where = Q()
    for account_id, livemode in scopes:
        where |= Q(account_id=account_id, livemode=livemode)
    by_scope: dict[tuple[str, bool], list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(where, status=WebhookEndpoint.Status.ENABLED):
        by_scope[(endpoint.account_id, endpoint.livemode)].append(endpoint)
    return by_scope


def events_relay(*, event_ids: list[str] | None = None, limit: int | None = None) -> int:
    """Claim committed, unrelayed events and create one delivery per matching enabled endpoint.
    Returns how many events were relayed."""
    now = timezone.now()
    limit = limit or settings.WEBHOOK_SWEEP_BATCH
    with transaction.atomic():
        queryset = Event.objects.filter(relayed_at__isnull=True)
        if event_ids is not None:
            queryset = queryset.filter(id__in=event_ids)
        events = list(queryset.order_by("created").select_for_update(skip_locked=True)[:limit])
        if not events:
            return 0
        by_scope = _matching_endpoints(events)
        deliveries: list[Delivery] = []
        for event in events:
            matching = [
                endpoint
                for endpoint in by_scope.get((event.account_id, event.livemode), [])
                if endpoint.subscribes_to(event.type)
            ]
            for endpoint in matching:
                deliveries.append(
                    Delivery(
                        event=event,
                        endpoint=endpoint,
                        window_start=now,
                        next_attempt_at=now,
                        dispatched_at=now,
                    )
                )
            event.pending_webhooks = event.pending_webhooks + len(matching)
            event.relayed_at = now
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        Event.objects.bulk_update(events, ["pending_webhooks", "relayed_at"])
        delivery_ids = [d.id for d in deliveries]
        if delivery_ids:
            transaction.on_commit(lambda: _enqueue_deliveries(delivery_ids))
    return len(events)


# --- one attempt -----------------------------------------------------------------------------


def retry_delay_seconds(attempt_count: int) -> float:
    """Exponential backoff with jitter for the retry after the `attempt_count`-th failure."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * (2 ** max(attempt_count - 1, 0))
    delay = min(base, settings.WEBHOOK_RETRY_MAX_SECONDS)
    return delay * (1 + random.random() * settings.WEBHOOK_RETRY_JITTER)


def _not_pending_anymore(event_id: str) -> None:
    Event.objects.filter(id=event_id, pending_webhooks__gt=0).update(
        pending_webhooks=F("pending_webhooks") - 1
    )


def _claim(delivery_id: str, now) -> Delivery | None:
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
            delivery.save(update_fields=["status", "next_attempt_at"])
            _not_pending_anymore(delivery.event_id)
            return None
        delivery.lease_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save(update_fields=["lease_until"])
        return delivery


def delivery_attempt(*, delivery_id: str) -> str:
    """Send one delivery once, if it is due and nobody else is sending it. Idempotent: a
    delivered (or failed, or leased) delivery is left alone."""
    delivery = _claim(delivery_id, timezone.now())
    if delivery is None:
        return "skipped"
    endpoint, event = delivery.endpoint, delivery.event
    # No transaction and no lock is held across the network call.
    body = event_body(event)
    timestamp = int(time.time())
    headers = signed_headers(
        secrets=endpoint.signing_secrets(), event_id=event.id, timestamp=timestamp, body=body
    )
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
            _not_pending_anymore(event.id)
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
                _not_pending_anymore(event.id)
                outcome = "failed"
            else:
                delivery.next_attempt_at = next_at
                attempt.next_attempt_at = next_at
            _endpoint_failed(endpoint_id=endpoint.id, now=now)
        delivery.save(
            update_fields=[
                "status",
                "attempt_count",
                "lease_until",
                "dispatched_at",
                "delivered_at",
                "next_attempt_at",
            ]
        )
        attempt.save()
        return outcome


def _endpoint_failed(*, endpoint_id: str, now) -> None:
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
            transaction.on_commit(lambda: _enqueue_deliveries(due))
    return {"relayed": relayed, "dispatched": len(due)}


def events_purge() -> int:
    """Delete events (and their deliveries and attempts) past the retention period."""
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    total = 0
    while True:
        ids = list(Event.objects.filter(created__lt=cutoff).values_list("id", flat=True)[:1000])
        if not ids:
            return total
        Event.objects.filter(id__in=ids).delete()
        total += len(ids)


# --- resend ----------------------------------------------------------------------------------


def event_resend(*, event: Event, endpoint: WebhookEndpoint | None = None) -> Event:
    """Send `event` again to `endpoint` (or every enabled endpoint it matches), delivered or not."""
    if endpoint is not None and endpoint.status != WebhookEndpoint.Status.ENABLED:
        raise InvalidRequestError(
            f"The webhook endpoint {endpoint.id} is disabled.",
            code="webhook_endpoint_disabled",
            param="webhook_endpoint",
        )
    if event.relayed_at is None:
        events_relay(event_ids=[event.id])
    now = timezone.now()
    with transaction.atomic():
        if endpoint is not None:
            endpoints = [endpoint]
        else:
            endpoints = [
                e
                for e in WebhookEndpoint.objects.filter(
                    account_id=event.account_id,
                    livemode=event.livemode,
                    status=WebhookEndpoint.Status.ENABLED,
                )
                if e.subscribes_to(event.type)
            ]
        ids = []
        for target in endpoints:
            delivery, created = Delivery.objects.select_for_update().get_or_create(
                event=event,
                endpoint=target,
                defaults={"window_start": now, "next_attempt_at": now, "dispatched_at": now},
            )
            if not created:
                if delivery.status != Delivery.Status.PENDING:
                    created = True  # counts as pending again
                delivery.status = Delivery.Status.PENDING
                delivery.window_start = now
                delivery.next_attempt_at = now
                delivery.dispatched_at = now
                delivery.save(
                    update_fields=["status", "window_start", "next_attempt_at", "dispatched_at"]
                )
            if created:
                Event.objects.filter(id=event.id).update(pending_webhooks=F("pending_webhooks") + 1)
            ids.append(delivery.id)
        if ids:
            transaction.on_commit(lambda: _enqueue_deliveries(ids))
    event.refresh_from_db()
    return event


# --- endpoints -------------------------------------------------------------------------------


def _checked_url(url: str) -> str:
    try:
        check_url(url)
    except UnsafeURL as exc:
        raise InvalidRequestError(str(exc), code="url_invalid", param="url")
    return url


def webhook_endpoint_create(
    *,
    account_id: str,
    livemode: bool,
    url: str,
    enabled_events: list[str],
    description: str | None = None,
    metadata: dict | None = None,
) -> WebhookEndpoint:
    _checked_url(url)
    return WebhookEndpoint.objects.create(
        account_id=account_id,
        livemode=livemode,
        url=url,
        enabled_events=list(dict.fromkeys(enabled_events)),
        description=description,
        metadata=merge_metadata({}, metadata) if metadata is not None else {},
        api_version=settings.API_VERSION,
        secret=new_secret(),
    )


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, changes: dict) -> WebhookEndpoint:
    if "url" in changes and changes["url"] is not None:
        _checked_url(changes["url"])
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
        if changes.get("url") is not None:
            locked.url = changes["url"]
        if changes.get("enabled_events") is not None:
            locked.enabled_events = list(dict.fromkeys(changes["enabled_events"]))
        if "description" in changes:
            locked.description = changes["description"]
        if "metadata" in changes:
            locked.metadata = merge_metadata(locked.metadata, changes["metadata"])
        if changes.get("disabled") is True:
            locked.status = WebhookEndpoint.Status.DISABLED
            locked.disabled_reason = "Disabled through the API."
        elif changes.get("disabled") is False:
            locked.status = WebhookEndpoint.Status.ENABLED
            locked.disabled_reason = None
            locked.failing_since = None
        locked.save()
    return locked


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint with its deliveries and their log; events it still owed stop
    counting it in `pending_webhooks`."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
        pending = (
            Delivery.objects.filter(endpoint=locked, status=Delivery.Status.PENDING)
            .select_for_update()
            .values_list("event_id", flat=True)
        )
        for event_id in list(pending):
            _not_pending_anymore(event_id)
        locked.delete()


def webhook_endpoint_roll_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + timedelta(
            seconds=settings.WEBHOOK_SECRET_ROLL_OVERLAP_SECONDS
        )
        locked.secret = new_secret()
        locked.save(update_fields=["previous_secret", "previous_secret_expires_at", "secret"])
    return locked
