"""The API representations of events, endpoints and delivery attempts (also the webhook body)."""

from __future__ import annotations

import json

from .models import DeliveryAttempt, Event, WebhookEndpoint


def _unix(dt) -> int | None:
    return int(dt.timestamp()) if dt is not None else None


def event_dict(event: Event) -> dict:
    data = {"object": event.data.get("object")}
    if event.data.get("previous_attributes"):
        data["previous_attributes"] = event.data["previous_attributes"]
    return {
        "id": event.id,
        "object": "event",
        "api_version": event.api_version,
        "created": _unix(event.created),
        "data": data,
        "livemode": event.livemode,
        "pending_webhooks": event.pending_webhooks,
        "request": {"id": event.request_id, "idempotency_key": event.idempotency_key},
        "type": event.type,
    }


def event_body(event: Event) -> bytes:
    """The exact bytes POSTed and signed."""
    return json.dumps(event_dict(event), separators=(",", ":"), ensure_ascii=False).encode()


def endpoint_dict(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict:
    out = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "api_version": endpoint.api_version,
        "application": None,
        "created": _unix(endpoint.created),
        "description": endpoint.description,
        "disabled_reason": endpoint.disabled_reason,
        "enabled_events": list(endpoint.enabled_events),
        "livemode": endpoint.livemode,
        "metadata": endpoint.metadata or {},
        "status": endpoint.status,
        "url": endpoint.url,
    }
    if with_secret:
        out["secret"] = endpoint.secret
    return out


def attempt_dict(attempt: DeliveryAttempt) -> dict:
    return {
        "id": attempt.id,
        "object": "webhook_delivery_attempt",
        "created": _unix(attempt.created),
        "event": attempt.event_id,
        "event_type": attempt.event_type,
        "webhook_endpoint": attempt.endpoint_id,
        "livemode": attempt.livemode,
        "http_status": attempt.http_status,
        "succeeded": attempt.succeeded,
        "latency_ms": attempt.latency_ms,
        "response_excerpt": attempt.response_excerpt,
        "error": attempt.error,
        "next_attempt_at": _unix(attempt.next_attempt_at),
    }
