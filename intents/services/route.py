"""Routing a confirm: the payment's facts for `routing.routes.decide`, the first connection
to call, and the next one when a failed attempt is retried (a payment flow's retry chain).

The route of a chain rides on its attempts (`params`: the connections left, the retry policy,
the attempt's number and the chain's first attempt id), so whoever applies a failed attempt's
answer — the request, its retry, the reconciler — goes on the same way.
"""

from __future__ import annotations

from django.utils import timezone

from payments.attempts import chain_id
from payments.exceptions import MESSAGES
from payments.models import Attempt, AttemptKind, PaymentMethod
from payments.processors.base import AuthorizationResult, Decline
from payments.processors.drivers import driver_for
from payments.services import card_tokens
from routing.health import trial_claim
from routing.models import ConnectionStatus, ProcessorConnection
from routing.routes import Facts, Route, is_soft

from ..models import PaymentIntent

# A confirm with nowhere to go (every connection disabled or its circuit open).
NO_PROCESSOR = Decline("processing_error", "processing_error", MESSAGES["processing_error"])


def is_local(connection: ProcessorConnection) -> bool:
    """Its driver answers in-process (the simulator): no network call."""
    return bool(getattr(driver_for(connection), "in_process", False))


def active(connections: list[ProcessorConnection]) -> list[ProcessorConnection]:
    return [c for c in connections if c.status == ConnectionStatus.ACTIVE and c.deleted_at is None]


def facts(pi: PaymentIntent, pm: PaymentMethod, connections: list[ProcessorConnection]) -> Facts:
    return Facts(
        amount=pi.amount,
        currency=pi.currency,
        card_brand=pm.card_brand,
        card_country=pm.card_country,
        metadata=pi.metadata or {},
        tokens=card_tokens(pm, connections),
    )


def first_connection(route: Route) -> ProcessorConnection | None:
    """The first connection of the route that takes the call (a half-open one only if this
    confirm wins its one trial); the connections after it stay in `route.connections`."""
    while route.connections:
        connection = route.connections.pop(0)
        if connection.circuit_state() != "half_open" or trial_claim(connection):
            return connection
    return None


def chain_params(route: Route, connection: ProcessorConnection, first_id: str) -> dict:
    """What attempt 1 of a chain carries for the ones after it."""
    return {
        "chain": first_id,
        "n": 1,
        "max": route.max_attempts,
        "route": [c.id for c in route.connections][: route.max_attempts - 1],
        "retry_on": list(route.retry_on),
        "flow": route.flow_id,
        "version": route.flow_version,
    }


def next_connection(
    attempt: Attempt, result: AuthorizationResult, pm: PaymentMethod
) -> tuple[ProcessorConnection, dict] | None:
    """Where a failed authorisation goes next, with the next attempt's params; None when it
    is not retried: not a confirm's first authorisation chain (a 3-D Secure step, a resolved
    `processing` one), a hard decline, a kind the flow does not retry, no attempt left."""
    params = attempt.params or {}
    rest = list(params.get("route") or [])
    if attempt.kind != AttemptKind.AUTHORIZE or not rest or result.status != "declined":
        return None
    number = int(params.get("n") or 1)
    if number >= int(params.get("max") or 1):
        return None
    decline = result.decline
    soft = decline is not None and is_soft(decline.decline_code, decline.code)
    if decline is not None and decline.code == "authentication_required":
        return None  # the customer's part, never another processor's
    wanted = "processor_error" if result.processor_error else "soft_decline" if soft else None
    if wanted is None or wanted not in (params.get("retry_on") or ()):
        return None
    found = {
        c.id: c
        for c in ProcessorConnection.objects.filter(
            id__in=rest, account_id=attempt.account_id, livemode=attempt.livemode
        )
    }
    tokens = card_tokens(pm, list(found.values()))
    now = timezone.now()
    while rest:
        candidate = found.get(rest.pop(0))
        if (
            candidate is None
            or candidate.deleted_at is not None
            or candidate.status != ConnectionStatus.ACTIVE
            or candidate.id not in tokens
        ):
            continue
        state = candidate.circuit_state(now)
        if state == "open" or (state == "half_open" and not trial_claim(candidate)):
            continue
        return candidate, {
            **params,
            "n": number + 1,
            "route": rest,
        }
    return None


def next_attempt_id(attempt: Attempt, number: int) -> str:
    return chain_id(attempt.params["chain"], number)
