"""The drivers behind processor connections (`routing.ProcessorConnection`), one interface
(`base.Processor`): `simulated` (the test cards, and fault behaviours) and `stripe` (any server
that speaks Stripe's v1 API, through the official library). `driver_for(connection)` gives a
connection's driver; an attempt or a charge made before connections existed (no connection)
has the simulator's."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.conf import settings

from core import crypto

from .base import Processor
from .simulated import SimulatedProcessor
from .stripe import StripeProcessor

if TYPE_CHECKING:
    from routing.models import ProcessorConnection


@cache
def builtin_driver() -> SimulatedProcessor:
    """The simulator with its normal behaviour."""
    return SimulatedProcessor()


def driver_for(connection: ProcessorConnection | None) -> Processor:
    if connection is None:
        return builtin_driver()
    if connection.kind == "stripe":
        return _stripe(connection.id, connection.api_key_encrypted, connection.api_base)
    if connection.behavior == "normal" and not connection.latency_ms:
        return builtin_driver()
    return _simulated(connection.behavior, connection.decline_code, connection.latency_ms)


@cache
def _simulated(behavior: str, decline_code: str, latency_ms: int) -> SimulatedProcessor:
    return SimulatedProcessor(behavior=behavior, decline_code=decline_code, latency_ms=latency_ms)


_STRIPE: dict[str, tuple[tuple[str, str], Processor]] = {}


def _stripe(connection_id: str, api_key_encrypted: str, api_base: str) -> Processor:
    """One client per connection and settings (a key rotated or a base changed makes a new
    one)."""
    settings_now = (api_key_encrypted, api_base)
    cached = _STRIPE.get(connection_id)
    if cached is not None and cached[0] == settings_now:
        return cached[1]
    driver = StripeProcessor(
        api_key=crypto.decrypt(api_key_encrypted),
        api_base=api_base,
        timeout=settings.PROCESSOR_CALL_TIMEOUT_SECONDS,
    )
    _STRIPE[connection_id] = (settings_now, driver)
    return driver
