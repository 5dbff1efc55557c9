"""The OpenAPI document describes a query-string array the way the API reads one: a client
that serialises each array parameter as the document says gets a 200, not the 400 for a
parameter given twice."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from tests.helpers import StripeTestClient

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())


def _serialise(parameter: dict, values: list[str]) -> str:
    """A query string as OpenAPI's rules write it for `parameter` (form style, exploded)."""
    assert parameter.get("style", "form") == "form" and parameter.get("explode", True)
    return urlencode([(parameter["name"], value) for value in values])


def test_every_query_array_is_named_with_brackets():
    arrays = [
        (path, parameter["name"])
        for path, operations in SCHEMA["paths"].items()
        for operation in operations.values()
        if isinstance(operation, dict)
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "query" and parameter["schema"].get("type") == "array"
    ]
    assert arrays  # there are some (expand, types, …)
    assert all(name.endswith("[]") for _, name in arrays), arrays


def test_a_client_following_the_document_gets_its_arrays_read(acct):
    client = StripeTestClient(key=acct.sk)
    pi = client.post(
        "/v1/payment_intents",
        {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true"},
    ).json()
    parameter = next(
        p
        for p in SCHEMA["paths"]["/v1/charges/{id}"]["get"]["parameters"]
        if p["name"].startswith("expand")
    )
    query = _serialise(parameter, ["payment_intent", "customer"])
    answer = client.django.get(
        f"/v1/charges/{pi['latest_charge']}?{query}", HTTP_AUTHORIZATION=f"Bearer {acct.sk}"
    )
    assert answer.status_code == 200, answer.content
    # (what the document said before: the same array as repeated plain keys, refused)
    repeated = client.django.get(
        f"/v1/charges/{pi['latest_charge']}?expand=payment_intent&expand=customer",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert repeated.status_code == 400
    events = next(
        p
        for p in SCHEMA["paths"]["/v1/events"]["get"]["parameters"]
        if p["name"].startswith("types")
    )
    query = _serialise(events, ["payment_intent.created", "payment_intent.succeeded"])
    answer = client.django.get(f"/v1/events?{query}", HTTP_AUTHORIZATION=f"Bearer {acct.sk}")
    assert answer.status_code == 200, answer.content
