"""The relay: committed, unrelayed events become one `Delivery` per matching enabled endpoint.

Events are claimed with `SELECT … FOR UPDATE SKIP LOCKED`, so a relay task, the sweep and a
resend never relay the same event twice.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..dialects import wants
from ..models import Delivery, Event, WebhookEndpoint
from .dispatch import deliveries_dispatch_on_commit


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
                if endpoint.subscribes_to(event.type) and wants(endpoint, event)
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
            deliveries_dispatch_on_commit(delivery_ids)
    return len(events)
