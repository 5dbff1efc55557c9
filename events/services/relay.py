"""The relay: committed, unrelayed events become one `Delivery` per matching enabled endpoint.

Events are claimed with `SELECT … FOR UPDATE SKIP LOCKED`, so a relay task, the sweep and a
resend never relay the same event twice.
"""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from ..dialects import wants
from ..models import Delivery, Event, WebhookEndpoint
from .dispatch import endpoints_send_on_commit


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
        to_send: dict[str, None] = {}
        by_count: dict[int, list[str]] = {}
        for event in events:
            matching = [
                endpoint
                for endpoint in by_scope.get((event.account_id, event.livemode), [])
                if endpoint.subscribes_to(event.type) and wants(endpoint, event)
            ]
            for endpoint in matching:
                # A paused endpoint's delivery waits for the pause to end (the sweep hands it
                # out then), so it does not hold a worker for a timeout meanwhile.
                paused = endpoint.paused_until is not None and endpoint.paused_until > now
                delivery = Delivery(
                    event=event,
                    endpoint=endpoint,
                    window_start=now,
                    next_attempt_at=endpoint.paused_until if paused else now,
                    dispatched_at=None if paused else now,
                )
                deliveries.append(delivery)
                if not paused:
                    to_send[endpoint.id] = None
            by_count.setdefault(len(matching), []).append(event.id)
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        # One UPDATE per number of matching endpoints (usually one or two), not bulk_update's
        # CASE over every event: that compiled expression was most of a relay's time.
        for count, ids in by_count.items():
            Event.objects.filter(id__in=ids).update(
                relayed_at=now, pending_webhooks=F("pending_webhooks") + count
            )
        endpoints_send_request(list(to_send), now=now)
    return len(events)


def endpoints_send_request(endpoint_ids: list[str], *, now) -> None:
    """Ask a worker to send these endpoints' due deliveries, once the transaction commits; an
    endpoint that already has a request on its way gets no second one (its sender takes every
    due delivery it finds, these included)."""
    if not endpoint_ids:
        return
    table = WebhookEndpoint._meta.db_table
    with connection.cursor() as cursor:
        # One statement for all of them; RETURNING names those that had no request yet.
        cursor.execute(
            f'UPDATE "{table}" SET "send_requested_at" = %s'
            ' WHERE "id" = ANY(%s) AND "send_requested_at" IS NULL RETURNING "id"',
            [now, list(endpoint_ids)],
        )
        returned = {row[0] for row in cursor.fetchall()}
    requested = [endpoint_id for endpoint_id in endpoint_ids if endpoint_id in returned]
    if requested:
        endpoints_send_on_commit(requested)
