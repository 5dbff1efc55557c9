"""The outbox: an `Event` row written in the transaction of the change it reports, and its
`pending_webhooks` counter."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Greatest

from core import context
from core.scope import Scope

from ..models import Event
from ..selectors import webhook_endpoints_enabled
from .dispatch import relay_on_commit


def _event(scope: Scope, type: str, data_object: dict, changed: dict | None) -> Event:
    """The unsaved row: the object as shown, what changed, and who asked (the request's id and
    idempotency key, and the operator when a person acted in the console)."""
    data: dict = {"object": data_object}
    if changed:
        data["previous_attributes"] = changed
    ctx = context.current()
    return Event(
        account_id=scope.account_id,
        livemode=scope.livemode,
        type=type,
        api_version=settings.API_VERSION,
        data=data,
        object_id=str(data_object.get("id", "")),
        request_id=ctx.request_id,
        idempotency_key=ctx.idempotency_key,
        operator=ctx.operator,
    )


def _relay_soon(scope: Scope, event_ids: list[str]) -> None:
    """One hint per transaction to the relay, and none when no endpoint of the scope is
    enabled: the webhook sweep relays (marks) those events on its next round."""
    if webhook_endpoints_enabled(scope=scope):
        relay_on_commit(event_ids)


def event_emit(*, scope: Scope, changes: Iterable[tuple[str, dict, dict | None]]) -> list[Event]:
    """The one event writer: each change `(type, the object as the API shows it now, the object
    as it was before or None)` becomes an event with Stripe's `previous_attributes` (the fields
    of `before` whose values changed). All of them are written with one INSERT, in the caller's
    transaction (the change they report commits or rolls back with them); the relay is asked to
    look once that transaction commits, and the sweep finds them anyway if the ask is lost.
    No changes, nothing written (and no query)."""
    rows = [
        _event(scope, type, after, previous_attributes(before, after) if before else None)
        for type, after, before in changes
    ]
    if not rows:
        return []
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        Event.objects.bulk_create(rows)
    _relay_soon(scope, [event.id for event in rows])
    return rows


def previous_attributes(before: dict, after: dict) -> dict:
    """The fields of `before` whose values differ in `after` (Stripe's previous_attributes)."""
    return {key: value for key, value in before.items() if key in after and after[key] != value}


def event_pending_webhooks_decrement(*, event_id: str) -> None:
    """One delivery of the event is settled (delivered, failed, canceled, or its endpoint gone)."""
    Event.objects.filter(id=event_id, pending_webhooks__gt=0).update(
        pending_webhooks=F("pending_webhooks") - 1
    )


def events_pending_webhooks_decrement(*, event_ids: Iterable[str]) -> None:
    """One delivery of each listed event is settled (an id listed twice: two of its deliveries).
    One UPDATE per distinct count, never below zero."""
    counts: dict[str, int] = {}
    for event_id in event_ids:
        counts[event_id] = counts.get(event_id, 0) + 1
    by_count: dict[int, list[str]] = {}
    for event_id, count in counts.items():
        by_count.setdefault(count, []).append(event_id)
    for count, ids in by_count.items():
        Event.objects.filter(id__in=ids, pending_webhooks__gt=0).update(
            pending_webhooks=Greatest(F("pending_webhooks") - count, 0)
        )
