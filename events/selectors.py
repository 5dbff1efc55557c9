"""Reads, always scoped to the caller's account and mode."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import ResourceMissing

from .models import DeliveryAttempt, Event, WebhookEndpoint


def _retained() -> QuerySet:
    cutoff = timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS)
    return Event.objects.filter(created__gte=cutoff)


def event_list(*, scope: dict, type: str | None = None, types: list[str] | None = None) -> QuerySet:
    queryset = _retained().filter(**scope)
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


def event_get(*, scope: dict, id: str, param: str = "id") -> Event:
    event = _retained().filter(id=id, **scope).first()
    if event is None:
        raise ResourceMissing("event", id, param=param)
    return event


def webhook_endpoint_list(*, scope: dict) -> QuerySet:
    return WebhookEndpoint.objects.filter(**scope)


def webhook_endpoint_get(*, scope: dict, id: str, param: str = "id") -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(id=id, **scope).first()
    if endpoint is None:
        raise ResourceMissing("webhook_endpoint", id, param=param)
    return endpoint


def delivery_attempts_for_endpoint(*, scope: dict, endpoint_id: str) -> QuerySet:
    endpoint = webhook_endpoint_get(scope=scope, id=endpoint_id)
    return DeliveryAttempt.objects.filter(endpoint=endpoint, **scope)


def delivery_attempts_for_event(*, scope: dict, event_id: str) -> QuerySet:
    event = event_get(scope=scope, id=event_id)
    return DeliveryAttempt.objects.filter(event=event, **scope)
