"""What the document states beside the schema for /v1/'s checkout intents, payment flows and
processor insights, honoured by the fuzz tests (tests/test_fuzz.py imports this module): each
hook reads its extension from the document (api/openapi_description.md defines them), never an
operation's name.

- `x-time-window` (an integer property, a unix time): at least `min_after_now` seconds after
  the request and at most `max_after_created` seconds after the object's creation. Generated
  times are moved into that window, as a client following the document sends them.
- `x-unique-items-by` (an array of hashes): no two items have the same value of that key.
- `x-items-sum` (an array of hashes): the items' values of each key named sum to its total.
  Generated values are scaled to that total when each fits its own schema (when one does not,
  the case breaks the schema there and is left as drawn).
- `x-not-more-than` (a body's object): each parameter named is at most each of those it lists,
  when both are given as integers.
- `x-less-than` (an operation's query): a given parameter is below the one it names, or below
  the current time when that one is absent and its `default` is `now`.
"""

from __future__ import annotations

import json
import time

import schemathesis

from tests.fuzz_rules import json_body_schema, resolve

TIME_WINDOW = "x-time-window"
UNIQUE_ITEMS_BY = "x-unique-items-by"
LESS_THAN = "x-less-than"
ITEMS_SUM = "x-items-sum"
NOT_MORE_THAN = "x-not-more-than"

#: Room at the window's near end (a generated case may be replayed a little later) and at its
#: far end (the objects the tests update were created moments before, never a day).
_NEAR_MARGIN = 600
_FAR_MARGIN = 86_400


def _mapped(value, schema: dict, change, seen: frozenset = frozenset()):
    """`value` with `change(item, schema)` applied at each schema of it (any depth)."""
    found = resolve(schema, seen)
    if found is None:
        return value
    schema, seen = found
    value = change(value, schema)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(keyword, []):
            value = _mapped(value, child, change, seen)
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return {
            name: _mapped(item, properties[name], change, seen) if name in properties else item
            for name, item in value.items()
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_mapped(item, schema["items"], change, seen) for item in value]
    return value


def _into_the_window(value, schema: dict):
    window = schema.get(TIME_WINDOW)
    if not window or not isinstance(value, int) or isinstance(value, bool):
        return value
    start = int(time.time()) + window["min_after_now"] + _NEAR_MARGIN
    width = window["max_after_created"] - window["min_after_now"] - _NEAR_MARGIN - _FAR_MARGIN
    return start + value % width


@schemathesis.hook("map_body")
def map_body_time_window(ctx, body):
    """`x-time-window`: a time in data is one in the window, which moves with the clock (no
    `minimum` can say it), as a client following the document sends; the drawn times keep
    their spread. (A negative case breaks the schema elsewhere: an integer here is valid.)"""
    schema = json_body_schema(ctx)
    return body if schema is None else _mapped(body, schema, _into_the_window)


def _fits(value, schema: dict) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and schema.get("minimum", value) <= value <= schema.get("maximum", value)
    )


def _summed(value, schema: dict):
    """`value` (a list of hashes) with each key of `x-items-sum` scaled to sum to its total,
    every value kept at least its `minimum` (1 when none): the drawn proportions kept."""
    rules = schema.get(ITEMS_SUM)
    if not rules or not isinstance(value, list) or not value:
        return value
    items_schema = schema.get("items") or {}
    found = resolve(items_schema, frozenset())
    properties = (found[0] if found else {}).get("properties") or {}
    for key, total in rules.items():
        described = properties.get(key, {})
        if not all(isinstance(item, dict) and _fits(item.get(key), described) for item in value):
            continue
        low = max(described.get("minimum", 1), 1)
        spare = total - low * len(value)
        if spare < 0:
            continue
        drawn = [item[key] for item in value]
        weight = sum(drawn) or 1
        shares = [low + spare * part // weight for part in drawn]
        shares[0] += total - sum(shares)
        value = [{**item, key: share} for item, share in zip(value, shares, strict=True)]
    return value


@schemathesis.hook("map_body")
def map_body_items_sum(ctx, body):
    """`x-items-sum`: the shares in data sum to their total, as a client following the document
    sends them (no schema keyword says it)."""
    schema = json_body_schema(ctx)
    return body if schema is None else _mapped(body, schema, _summed)


def _in_order(value, schema: dict) -> bool:
    rule = schema.get(NOT_MORE_THAN)
    if not rule or not isinstance(value, dict):
        return True
    for name, others in rule.items():
        low = _integer(value.get(name))
        for other in others:
            high = _integer(value.get(other))
            if low is not None and high is not None and low > high:
                return False
    return True


def _keeps_its_rules(value, schema: dict) -> bool:
    if not _in_order(value, schema):
        return False
    key = schema.get(UNIQUE_ITEMS_BY)
    if not key or not isinstance(value, list):
        return True
    seen = [
        json.dumps(item[key], sort_keys=True)
        for item in value
        if isinstance(item, dict) and key in item
    ]
    return len(seen) == len(set(seen))


def _keeps_rules(value, schema: dict, seen: frozenset = frozenset()) -> bool:
    found = resolve(schema, seen)
    if found is None:
        return True
    schema, seen = found
    if not _keeps_its_rules(value, schema):
        return False
    for keyword in ("allOf", "anyOf", "oneOf"):
        if not all(_keeps_rules(value, child, seen) for child in schema.get(keyword, [])):
            return False
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        return all(
            _keeps_rules(item, properties[name], seen)
            for name, item in value.items()
            if name in properties
        )
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return all(_keeps_rules(item, schema["items"], seen) for item in value)
    return True


@schemathesis.hook("filter_body")
def filter_body_unique_items_by(ctx, body):
    """`x-unique-items-by` (what `uniqueItems` cannot say of hashes: one share per processor)
    and `x-not-more-than` (`amount_min` not above `amount_max`): data keeps them, as a client
    following the document would; a body that breaks one is refused, so the negative half
    loses nothing by it."""
    schema = json_body_schema(ctx)
    return schema is None or _keeps_rules(body, schema)


def _integer(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


@schemathesis.hook("filter_query")
def filter_query_less_than(ctx, query):
    """`x-less-than`: a query's window is not empty (`created[gte]` before `created[lt]`, or
    before now when that is absent), as a client following the document asks; an empty one is
    refused, so the negative half loses nothing by it."""
    if not isinstance(query, dict) or ctx.operation is None:
        return True
    for name, rule in ctx.operation.definition.raw.get(LESS_THAN, {}).items():
        low = _integer(query.get(name))
        if low is None:
            continue
        if rule["than"] in query:
            high = _integer(query[rule["than"]])
        else:
            high = int(time.time()) if rule.get("default") == "now" else None
        if high is not None and low >= high:
            return False
    return True
