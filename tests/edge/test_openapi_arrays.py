"""The OpenAPI document describes arrays and hashes the way the API reads them, in query strings
and in form bodies: a client that serialises each as the document says gets a 200, not the 400
for a parameter given twice."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from tests.helpers import StripeTestClient, encode_form_as_documented

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


def test_a_form_body_encoded_as_the_document_says_is_read(acct):
    """A form body built by the document's `encoding` (what a generated client follows): the
    array and the hash in brackets (deepObject), not the repeated keys of form style."""
    operation = SCHEMA["paths"]["/v1/payment_intents"]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
    encoding = form["encoding"]
    assert encoding["payment_method_types"] == {"style": "deepObject", "explode": True}
    assert encoding["metadata"] == {"style": "deepObject", "explode": True}
    body = {
        "amount": 1000,
        "currency": "usd",
        "payment_method_types": ["card"],
        "metadata": {"order": "42"},
    }
    pairs = encode_form_as_documented(body, encoding)
    assert ("payment_method_types[0]", "card") in pairs and ("metadata[order]", "42") in pairs
    client = StripeTestClient(key=acct.sk)
    answer = client.django.post(
        "/v1/payment_intents",
        urlencode(pairs),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["payment_method_types"] == ["card"]
    assert answer.json()["metadata"] == {"order": "42"}
    # (what the document's default, form style, would have sent: refused as a repeated key)
    repeated = encode_form_as_documented({**body, "payment_method_types": ["card", "card"]}, {})
    refused = client.django.post(
        "/v1/payment_intents",
        urlencode(repeated),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert refused.status_code == 400


def test_every_form_body_array_and_hash_is_described_in_brackets():
    undescribed = []
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/x-www-form-urlencoded" not in content:
                continue
            encoding = content["application/x-www-form-urlencoded"].get("encoding", {})
            schema = _resolve(content["application/json"]["schema"])
            for name, prop in schema.get("properties", {}).items():
                text = json.dumps(_resolve(prop))
                if ('"array"' in text or '"object"' in text) and name not in encoding:
                    undescribed.append(f"{method.upper()} {path} {name}")
    assert not undescribed, undescribed


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_a_query_hash_encoded_as_the_document_says_is_read(acct):
    parameter = next(
        p for p in SCHEMA["paths"]["/v1/charges"]["get"]["parameters"] if p["name"] == "created"
    )
    assert parameter["style"] == "deepObject" and parameter["explode"]
    client = StripeTestClient(key=acct.sk)
    answer = client.django.get(
        "/v1/charges?" + urlencode({"created[gte]": 0, "created[lt]": 253402300799}),
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert answer.status_code == 200, answer.content
