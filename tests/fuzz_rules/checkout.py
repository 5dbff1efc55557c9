"""Fuzz rules of the Stripe Checkout family (/v1/checkout/sessions, …): what the document states
beside the schema there, honoured by data called valid.

`x-seconds-from-now` (api.time_windows): a Unix timestamp taken only within a window that moves
with the clock, `minimum` to `maximum` seconds after the request is received (a Checkout
Session's `expires_at`). Generated data keeps a drawn integer's spread but moves it into the
window, with a minute's margin at each end for the time the case takes to reach the API, as a
client following the document would send it. An integer outside the schema's own bounds is left
as it is: a negative case that breaks them stays broken."""

from __future__ import annotations

import time

import schemathesis

from api.time_windows import SECONDS_FROM_NOW
from tests.fuzz_rules import DOCUMENT, json_body_schema

#: Seconds kept clear of each end of a window.
_MARGIN = 60


def _within_schema(value: int, schema: dict) -> bool:
    return schema.get("minimum", value) <= value <= schema.get("maximum", value)


def _into_the_window(value: int, window: dict) -> int:
    low, high = window["minimum"] + _MARGIN, window["maximum"] - _MARGIN
    return int(time.time()) + low + value % max(high - low, 1)


def _moved(value, schema: dict, seen: frozenset = frozenset()):
    """`value` with every integer under a property marked `x-seconds-from-now` (and within
    the schema's bounds) moved into its window; anything else as it is."""
    if "$ref" in schema:
        if schema["$ref"] in seen:
            return value
        seen = seen | {schema["$ref"]}
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    window = schema.get(SECONDS_FROM_NOW)
    if (
        window
        and isinstance(value, int)
        and not isinstance(value, bool)
        and _within_schema(value, schema)
    ):
        return _into_the_window(value, window)
    for child in schema.get("allOf", []):
        value = _moved(value, child, seen)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_moved(item, schema["items"], seen) for item in value]
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return {
            name: _moved(item, properties[name], seen) if name in properties else item
            for name, item in value.items()
        }
    return value


@schemathesis.hook("map_body")
def map_body_timestamps_from_now(ctx, body):
    """Timestamps marked `x-seconds-from-now` are in their window, as the document states."""
    schema = json_body_schema(ctx)
    return body if schema is None else _moved(body, schema)
