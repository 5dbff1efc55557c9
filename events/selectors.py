"""Reads, always within one `Scope` (the caller's account and mode). Selectors return querysets
or raise `ResourceMissing`; they never write. The views paginate."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db.models import QuerySet

from core.scope import Scope
from core.selectors import first_or_missing

from .models import DeliveryAttempt, Event, WebhookEndpoint


def _retained() -> QuerySet:
    return Event.objects.filter(created__gte=Event.retention_cutoff())


def event_list(
    *, scope: Scope, type: str | None = None, types: list[str] | None = None
) -> QuerySet:
    """`type` is exact, `*`, or a prefix ending in `*` (`payment_intent.*`)."""
    queryset = _retained().filter(**scope.filters)
    if type:
        if type == "*":
            pass
        elif type.endswith("*"):
            queryset = queryset.filter(type__startswith=type[:-1])
        else:
            queryset = queryset.filter(type=type)
    if types:
        queryset = queryset.filter(type__in=types)
    return queryset


def event_get(*, scope: Scope, id: str, param: str = "id") -> Event:
    return first_or_missing(
        _retained().filter(**scope.filters), object_id=id, object_name="event", param=param
    )


def webhook_endpoint_list(*, scope: Scope, dialect: str | None = None) -> QuerySet:
    """Every endpoint of `scope`, or only those of one dialect (a face lists its own)."""
    queryset = WebhookEndpoint.objects.filter(**scope.filters)
    if dialect is not None:
        queryset = queryset.filter(dialect=dialect)
    return queryset


def webhook_endpoint_get(
    *, scope: Scope, id: str, param: str = "id", dialect: str | None = None
) -> WebhookEndpoint:
    return first_or_missing(
        webhook_endpoint_list(scope=scope, dialect=dialect),
        object_id=id,
        object_name="webhook_endpoint",
        param=param,
    )


def delivery_attempt_list(
    *, scope: Scope, event_id: str | None = None, webhook_endpoint_id: str | None = None
) -> QuerySet:
    """The attempt log of one event and/or one endpoint; each one named must exist in `scope`
    (`ResourceMissing` otherwise)."""
    queryset = DeliveryAttempt.objects.filter(**scope.filters)
    if webhook_endpoint_id is not None:
        endpoint = webhook_endpoint_get(scope=scope, id=webhook_endpoint_id)
        queryset = queryset.filter(endpoint=endpoint)
    if event_id is not None:
        queryset = queryset.filter(event=event_get(scope=scope, id=event_id))
    return queryset


# (account id, livemode) → (has an enabled endpoint, monotonic time it was read)
_endpoints_known: dict[tuple[str, bool], tuple[bool, float]] = {}
_endpoints_lock = threading.Lock()


def webhook_endpoints_enabled(*, scope: Scope) -> bool:
    """Could any endpoint of `scope` want an event now? Remembered by this process for
    `WEBHOOK_ENDPOINT_CACHE_SECONDS`: an event written while an endpoint created elsewhere is
    not yet known here is relayed by the webhook sweep instead of at once."""
    key = (scope.account_id, scope.livemode)
    now = time.monotonic()
    known = _endpoints_known.get(key)
    if known is not None and now - known[1] < settings.WEBHOOK_ENDPOINT_CACHE_SECONDS:
        return known[0]
    enabled = WebhookEndpoint.objects.filter(
        **scope.filters, status=WebhookEndpoint.Status.ENABLED
    ).exists()
    with _endpoints_lock:
        if len(_endpoints_known) >= 10_000:
            _endpoints_known.clear()
        _endpoints_known[key] = (enabled, now)
    return enabled


def webhook_endpoints_forget() -> None:
    """Read the endpoints again on the next event (one was created, changed or deleted)."""
    with _endpoints_lock:
        _endpoints_known.clear()
