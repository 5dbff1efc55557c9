"""Reads, always within one `Scope` (the caller's account and mode). Selectors return querysets
or raise `ResourceMissing`; they never write. The views paginate."""

from __future__ import annotations

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


def webhook_endpoint_list(*, scope: Scope) -> QuerySet:
    return WebhookEndpoint.objects.filter(**scope.filters)


def webhook_endpoint_get(*, scope: Scope, id: str, param: str = "id") -> WebhookEndpoint:
    return first_or_missing(
        webhook_endpoint_list(scope=scope),
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
