"""Events, webhook endpoints and delivery attempts as the API shows them, and the webhook body.

Pure functions of model rows (`<noun>_to_api`), used by the views and by the sender alike, so
the bytes POSTed to an endpoint are the event exactly as `GET /v1/events/<id>` shows it.
"""

from __future__ import annotations

import json

from core.values import unix

from .models import DeliveryAttempt, Event, WebhookEndpoint


def event_request_to_api(event: Event) -> dict:
    """Stripe's `request` (the request that caused the event and its idempotency key), plus
    `operator` when a person caused it from the console."""
    out = {"id": event.request_id, "idempotency_key": event.idempotency_key}
    if event.operator:
        out["operator"] = event.operator
    return out


def event_to_api(event: Event) -> dict:
    data = {"object": event.data.get("object")}
    if event.data.get("previous_attributes"):
        data["previous_attributes"] = event.data["previous_attributes"]
    return {
        "id": event.id,
        "object": "event",
        "api_version": event.api_version,
        "created": unix(event.created),
        "data": data,
        "livemode": event.livemode,
        "pending_webhooks": event.pending_webhooks,
        "request": event_request_to_api(event),
        "type": event.type,
    }


def event_body(event: Event) -> bytes:
    """The exact bytes POSTed and signed: `event_to_api` as compact UTF-8 JSON."""
    return json.dumps(event_to_api(event), separators=(",", ":"), ensure_ascii=False).encode()


def webhook_endpoint_to_api(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict:
    """`with_secret` only for the answers of create and roll_secret."""
    out = {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "api_version": endpoint.api_version,
        "application": None,
        "created": unix(endpoint.created),
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


def webhook_endpoint_deleted_to_api(endpoint_id: str) -> dict:
    return {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


def delivery_attempt_to_api(attempt: DeliveryAttempt) -> dict:
    return {
        "id": attempt.id,
        "object": "webhook_delivery_attempt",
        "created": unix(attempt.created),
        "event": attempt.event_id,
        "event_type": attempt.event_type,
        "webhook_endpoint": attempt.endpoint_id,
        "livemode": attempt.livemode,
        "http_status": attempt.http_status,
        "succeeded": attempt.succeeded,
        "latency_ms": attempt.latency_ms,
        "response_excerpt": attempt.response_excerpt,
        "error": attempt.error,
        "next_attempt_at": unix(attempt.next_attempt_at),
    }
