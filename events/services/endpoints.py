"""Webhook endpoints (create, update, delete, roll the secret) and resending an event to them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.errors import InvalidRequestError
from core.metadata import merge_metadata
from core.scope import Scope
from core.selectors import first_or_missing
from core.values import UNSET

from ..models import Delivery, Event, WebhookEndpoint
from ..selectors import (
    event_get,
    webhook_endpoint_get,
    webhook_endpoint_list,
    webhook_endpoints_forget,
)
from ..signing import new_secret
from ..ssrf import UnsafeURL, check_url
from .dispatch import deliveries_dispatch_on_commit
from .outbox import event_pending_webhooks_decrement
from .relay import events_relay

# --- endpoints -------------------------------------------------------------------------------


def _checked_url(url: str) -> str:
    try:
        check_url(url)
    except UnsafeURL as exc:
        raise InvalidRequestError(str(exc), code="url_invalid", param="url")
    return url


def _deduplicated(enabled_events: list[str]) -> list[str]:
    return list(dict.fromkeys(enabled_events))


def webhook_endpoint_create(
    *,
    scope: Scope,
    url: str,
    enabled_events: list[str],
    description: str | None = None,
    metadata: dict | None = None,
    dialect: str = "stripe",
    secret: str | None = None,
) -> WebhookEndpoint:
    """`dialect`: whose webhooks (`events.dialects`); the service's own by default. `secret`:
    the signing key the caller chose (a face whose provider lets the merchant choose it); a new
    random one when None."""
    _checked_url(url)
    webhook_endpoints_forget()
    transaction.on_commit(webhook_endpoints_forget)
    return WebhookEndpoint.objects.create(
        account_id=scope.account_id,
        livemode=scope.livemode,
        url=url,
        enabled_events=_deduplicated(enabled_events),
        description=description,
        metadata=merge_metadata({}, metadata) if metadata is not None else {},
        api_version=settings.API_VERSION,
        secret=secret or new_secret(),
        dialect=dialect,
    )


def _lock(scope: Scope, webhook_endpoint_id: str) -> WebhookEndpoint:
    """`select_for_update()` the endpoint within `scope` (404 `id` when it is not there)."""
    return first_or_missing(
        webhook_endpoint_list(scope=scope).select_for_update(),
        object_id=webhook_endpoint_id,
        object_name="webhook_endpoint",
    )


def webhook_endpoint_update(
    *,
    scope: Scope,
    webhook_endpoint_id: str,
    url: str | None = UNSET,
    enabled_events: list[str] | None = UNSET,
    description: str | None = UNSET,
    metadata: dict | None = UNSET,
    disabled: bool | None = UNSET,
) -> WebhookEndpoint:
    """Change what is given (UNSET: leave as is). `url` and `enabled_events` given as None change
    nothing; `description=None` clears it; `metadata` merges (Stripe's rules)."""
    if url is not UNSET and url is not None:
        _checked_url(url)
    with transaction.atomic():
        locked = _lock(scope, webhook_endpoint_id)
        if url is not UNSET and url is not None:
            locked.url = url
            locked.paused_until = None  # a new address is tried at once
            locked.failures_in_row = 0
        if enabled_events is not UNSET and enabled_events is not None:
            locked.enabled_events = _deduplicated(enabled_events)
        if description is not UNSET:
            locked.description = description
        if metadata is not UNSET:
            locked.metadata = merge_metadata(locked.metadata, metadata)
        if disabled is True:
            locked.status = WebhookEndpoint.Status.DISABLED
            locked.disabled_reason = "Disabled through the API."
        elif disabled is False:
            locked.status = WebhookEndpoint.Status.ENABLED
            locked.disabled_reason = None
            locked.failing_since = None
            locked.paused_until = None
            locked.failures_in_row = 0
            transaction.on_commit(webhook_endpoints_forget)
        locked.save()
    return locked


def webhook_endpoint_delete(*, scope: Scope, webhook_endpoint_id: str) -> None:
    """Delete the endpoint with its deliveries and their log; events it still owed stop
    counting it in `pending_webhooks`."""
    with transaction.atomic():
        locked = _lock(scope, webhook_endpoint_id)
        pending = (
            Delivery.objects.filter(endpoint=locked, status=Delivery.Status.PENDING)
            .select_for_update()
            .values_list("event_id", flat=True)
        )
        for event_id in list(pending):
            event_pending_webhooks_decrement(event_id=event_id)
        locked.delete()


def webhook_endpoint_roll_secret(*, scope: Scope, webhook_endpoint_id: str) -> WebhookEndpoint:
    """A new secret; the old one keeps signing for WEBHOOK_SECRET_ROLL_OVERLAP_SECONDS."""
    with transaction.atomic():
        locked = _lock(scope, webhook_endpoint_id)
        locked.previous_secret = locked.secret
        locked.previous_secret_expires_at = timezone.now() + timedelta(
            seconds=settings.WEBHOOK_SECRET_ROLL_OVERLAP_SECONDS
        )
        locked.secret = new_secret()
        locked.save()
    return locked


# --- resend ----------------------------------------------------------------------------------


def event_resend(*, scope: Scope, event_id: str, webhook_endpoint_id: str | None = None) -> Event:
    """Send the event again to the endpoint `webhook_endpoint_id` (or to every enabled endpoint
    of the scope that wants its type), delivered or not: the delivery is re-armed with a fresh
    retry window."""
    event = event_get(scope=scope, id=event_id)
    endpoint = None
    if webhook_endpoint_id is not None:
        endpoint = webhook_endpoint_get(
            scope=scope, id=webhook_endpoint_id, param="webhook_endpoint"
        )
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
                    **scope.filters, status=WebhookEndpoint.Status.ENABLED
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
                delivery.save()
            if created:
                Event.objects.filter(id=event.id).update(pending_webhooks=F("pending_webhooks") + 1)
            ids.append(delivery.id)
        if ids:
            deliveries_dispatch_on_commit([[delivery_id] for delivery_id in ids])
    event.refresh_from_db()
    return event
