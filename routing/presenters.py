"""Processor connections, payment flows and a routing decision as the API shows them. Pure
functions of model rows (`<noun>_to_api`), used by views, events and errors alike: a
connection's API key is never part of what they show (only its last four characters)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.values import unix

from .models import ConnectionKind, PaymentFlow, ProcessorConnection

if TYPE_CHECKING:
    from .routes import Route

#: What an empty `api_base` of a `stripe` connection means: Stripe's own API.
STRIPE_API_BASE = "https://api.stripe.com"
#: A flow's `retry` when it says nothing: one attempt (no retry), on both kinds of failure.
DEFAULT_RETRY_ON = ("soft_decline", "processor_error")


def connection_to_api(c: ProcessorConnection) -> dict[str, Any]:
    simulated = c.kind == ConnectionKind.SIMULATED
    return {
        "id": c.id,
        "object": "processor",
        "kind": c.kind,
        "name": c.name,
        "livemode": c.livemode,
        "created": unix(c.created),
        "status": c.status,
        # half open (the cool-down is over, a trial call may go) still reads as open
        "circuit": "closed" if c.circuit_state() == "closed" else "open",
        "simulated": (
            {
                "behavior": c.behavior,
                "decline_code": c.decline_code,
                "latency_ms": c.latency_ms,
            }
            if simulated
            else None
        ),
        "stripe": (
            None
            if simulated
            else {
                "api_base": c.api_base or STRIPE_API_BASE,
                "api_key_last4": c.api_key_last4,
            }
        ),
        "metadata": c.metadata or {},
    }


def connection_deleted_to_api(connection_id: str) -> dict[str, Any]:
    return {"id": connection_id, "object": "processor", "deleted": True}


def retry_to_api(retry: dict[str, Any] | None) -> dict[str, Any]:
    retry = retry or {}
    return {
        "max_attempts": int(retry.get("max_attempts") or 1),
        # as `routing.routes.decide` reads it: none named is both
        "on": list(retry.get("on") or DEFAULT_RETRY_ON),
    }


def flow_to_api(f: PaymentFlow) -> dict[str, Any]:
    return {
        "id": f.id,
        "object": "payment_flow",
        "name": f.name,
        "routing": f.routing or {},
        "retry": retry_to_api(f.retry),
        "version": f.version,
        "default": f.is_default,
        "livemode": f.livemode,
        "created": unix(f.created),
        "metadata": f.metadata or {},
    }


def flow_deleted_to_api(flow_id: str) -> dict[str, Any]:
    return {"id": flow_id, "object": "payment_flow", "deleted": True}


def evaluation_to_api(route: Route, *, flow_id: str, version: int) -> dict[str, Any]:
    """What `POST /v1/payment_flows/{id}/evaluate` answers: the decision, nothing done."""
    processors = [c.id for c in route.connections]
    return {
        "object": "payment_flow_evaluation",
        "payment_flow": flow_id,
        "version": version,
        "routing_type": route.routing_type,
        "processors": processors,
        "attempts": min(route.max_attempts, len(processors)),
        "rule": route.rule,
        "skipped": [{"processor": s.processor, "reason": s.reason} for s in route.skipped],
    }
