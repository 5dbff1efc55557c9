"""What the document states of an amount and its currency (`x-currency-parameters` on a body's
schema, the currencies' rules once in `info.x-currency-amounts`), honoured in generated data:
an amount the schema takes is moved into what its currency takes (at least the currency's
minimum, at most the maximum, a multiple of 10 in a three-decimal currency), as a client
following the document sends it. An amount the schema itself refuses (a negative case's) is
left as it is, and so is one whose currency the body does not give (the stored object's).
Likewise `x-minimum-when` (`name=value` → {number: least}): once the condition holds, a number
the schema takes is at least that least value."""

from __future__ import annotations

import schemathesis

from tests.fuzz_rules import DOCUMENT, json_body_schema, resolve

RULES = DOCUMENT["info"]["x-currency-amounts"]


def _fits_schema(value: int, schema: dict) -> bool:
    return schema.get("minimum", value) <= value <= schema.get("maximum", value)


def in_currency(amount: int, currency: str) -> int:
    """`amount` moved into what `currency` takes: clamped (and rounded down to a multiple of 10
    in a three-decimal currency), a map that never reverses two amounts, so a body keeps the
    order its rules ask (`amount_min` <= `amount`) when its amounts are moved."""
    least = RULES["minimums"].get(currency, RULES["default_minimum"])
    most = RULES["maximum"]
    if currency in RULES["three_decimal"]:
        least, most, amount = -(-least // 10) * 10, most - most % 10, amount - amount % 10
    return min(max(amount, least), most)


def amounts_in_their_currency(value, schema: dict, seen: frozenset = frozenset()):
    resolved = resolve(schema, seen)
    if resolved is None:
        return value
    schema, seen = resolved
    for child in schema.get("allOf", []):
        value = amounts_in_their_currency(value, child, seen)
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties", {})
    value = {
        name: amounts_in_their_currency(item, properties[name], seen)
        if name in properties
        else item
        for name, item in value.items()
    }
    for key, minimums in schema.get("x-minimum-when", {}).items():
        name, _, wanted = key.partition("=")
        if str(value.get(name)).lower() != wanted:
            continue
        for number, least in minimums.items():
            given = value.get(number)
            number_schema = (resolve(properties.get(number, {}), seen) or ({}, seen))[0]
            if (
                isinstance(given, int | float)
                and not isinstance(given, bool)
                and _fits_schema(given, number_schema)
                and given < least
            ):
                value[number] = least
    for amount, currency_name in schema.get("x-currency-parameters", {}).items():
        currency = value.get(currency_name)
        if currency is None:
            currency = (resolve(properties.get(currency_name, {}), seen) or ({}, seen))[0].get(
                "default"
            )
        given = value.get(amount)
        amount_schema = (resolve(properties.get(amount, {}), seen) or ({}, seen))[0]
        if (
            isinstance(currency, str)
            and isinstance(given, int)
            and not isinstance(given, bool)
            and _fits_schema(given, amount_schema)
        ):
            value[amount] = in_currency(given, currency.lower())
    return value


@schemathesis.hook("map_body")
def map_body_amounts_in_their_currency(ctx, body):
    schema = json_body_schema(ctx)
    return body if schema is None else amounts_in_their_currency(body, schema)
