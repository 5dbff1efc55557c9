"""The PayMongo face on the wire, as a curl user meets it: the seed's PaymentIntent resource
sent as the request it was made from, answered in the same shape; HTTP Basic with the key and
a trailing colon (`curl -u sk_test_…:`); JSON:API errors; lists with `has_more`."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from intents.models import PaymentIntent

pytestmark = pytest.mark.django_db

# The seed's PaymentIntent resource (PayMongo's API reference), whose attributes a merchant
# sends to create it.
SEED_RESOURCE = {
    "data": {
        "id": "pi_1JvFbEiRRnh2fsUE5nJ2F1z7",
        "type": "payment_intent",
        "attributes": {
            "amount": 10000,
            "currency": "PHP",
            "description": "Order # 20190604",
            "statement_descriptor": "The Barkery Shop",
            "status": "awaiting_payment_method",
            "livemode": False,
            "client_key": "pi_1JvFbEiRRnh2fsUE5nJ2F1z7_client_mpe6tJkgaX3pSoiYeSp1AbEU",
            "created_at": 1586179682,
            "updated_at": 1586179682,
            "last_payment_error": None,
            "payment_method_allowed": ["card"],
            "payments": [],
            "next_action": None,
            "payment_method_options": {"card": {"request_three_d_secure": "any"}},
            "metadata": {"yet_another_metadata": "good metadata", "reference_number": "X1999"},
        },
    }
}
REQUEST_ATTRIBUTES = (
    "amount",
    "currency",
    "description",
    "statement_descriptor",
    "payment_method_allowed",
    "payment_method_options",
    "metadata",
)


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def post(path: str, body, key: str):
    return Client().post(
        f"/paymongo/v1/{path}",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(key),
    )


def test_the_seed_request_answers_the_seed_shape(acct):
    attributes = {k: SEED_RESOURCE["data"]["attributes"][k] for k in REQUEST_ATTRIBUTES}
    answer = post("payment_intents", {"data": {"attributes": attributes}}, acct.sk)
    assert answer.status_code == 200, answer.content
    data = answer.json()["data"]
    seed = SEED_RESOURCE["data"]
    assert data.keys() == seed.keys()
    assert data["type"] == seed["type"]
    assert set(seed["attributes"]) <= set(data["attributes"])
    for name in REQUEST_ATTRIBUTES + ("status", "livemode", "last_payment_error", "payments"):
        assert data["attributes"][name] == seed["attributes"][name], name
    assert data["attributes"]["client_key"].startswith(data["id"] + "_client_")
    for name in ("created_at", "updated_at"):
        assert isinstance(data["attributes"][name], int)


def test_a_flat_stripe_style_body_is_refused_in_paymongo_words(acct):
    answer = post("payment_intents", {"amount": 10000, "currency": "PHP"}, acct.sk)
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == "parameter_invalid"
    assert "data" in error["detail"]
    assert not PaymentIntent.objects.exists()


@pytest.mark.parametrize(
    ("attributes", "code", "attribute"),
    [
        ({"currency": "PHP", "payment_method_allowed": ["card"]}, "parameter_required", "amount"),
        (
            {"amount": 1999, "currency": "PHP", "payment_method_allowed": ["card"]},
            "parameter_below_minimum",
            "amount",
        ),
        (
            {"amount": 2000, "currency": "PHP", "payment_method_allowed": ["card"], "x": 1},
            "parameter_invalid",
            "x",
        ),
        (
            {"amount": 2000, "currency": "PHP", "payment_method_allowed": ["gcash"]},
            "parameter_invalid",
            "payment_method_allowed.0",
        ),
        (
            {"amount": "ten", "currency": "PHP", "payment_method_allowed": ["card"]},
            "parameter_format_invalid",
            "amount",
        ),
        (
            # a list where the options' hash goes was a 500
            {
                "amount": 2000,
                "currency": "PHP",
                "payment_method_allowed": ["card"],
                "payment_method_options": ["card"],
            },
            "parameter_invalid",
            "payment_method_options",
        ),
    ],
)
def test_bad_attributes_are_named_and_nothing_is_made(acct, attributes, code, attribute):
    answer = post("payment_intents", {"data": {"attributes": attributes}}, acct.sk)
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == code
    assert error["source"]["attribute"] == attribute
    assert error["source"]["pointer"] == f"attributes.{attribute}"
    assert not PaymentIntent.objects.exists()


def test_another_accounts_intent_is_not_found(acct, other_acct):
    body = {
        "data": {
            "attributes": {"amount": 2000, "currency": "PHP", "payment_method_allowed": ["card"]}
        }
    }
    pi_id = post("payment_intents", body, other_acct.sk).json()["data"]["id"]
    answer = Client().get(
        f"/paymongo/v1/payment_intents/{pi_id}", HTTP_AUTHORIZATION=basic(acct.sk)
    )
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == "resource_not_found"


def test_no_key_is_401_in_paymongo_words():
    answer = Client().get("/paymongo/v1/payment_intents/pi_x")
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "api_key_invalid"


def test_lists_page_with_limit_and_after(acct):
    body = {
        "data": {
            "attributes": {
                "type": "card",
                "details": {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2034},
            }
        }
    }
    for _ in range(3):
        pm = post("payment_methods", body, acct.sk).json()["data"]["id"]
        intent = {
            "data": {
                "attributes": {
                    "amount": 2000,
                    "currency": "PHP",
                    "payment_method_allowed": ["card"],
                }
            }
        }
        pi = post("payment_intents", intent, acct.sk).json()["data"]["id"]
        post(
            f"payment_intents/{pi}/attach",
            {"data": {"attributes": {"payment_method": pm}}},
            acct.sk,
        )
    auth = {"HTTP_AUTHORIZATION": basic(acct.sk)}
    first = Client().get("/paymongo/v1/payments?limit=2", **auth).json()
    assert len(first["data"]) == 2 and first["has_more"] is True
    rest = Client().get(f"/paymongo/v1/payments?limit=2&after={first['data'][-1]['id']}", **auth)
    rest = rest.json()
    assert len(rest["data"]) == 1 and rest["has_more"] is False
    assert {p["type"] for p in first["data"] + rest["data"]} == {"payment"}


def test_an_idempotency_key_replays_the_create_in_paymongos_shape(acct):
    body = json.dumps(
        {
            "data": {
                "attributes": {
                    "amount": 2000,
                    "currency": "PHP",
                    "payment_method_allowed": ["card"],
                }
            }
        }
    )
    headers = {"HTTP_AUTHORIZATION": basic(acct.sk), "HTTP_IDEMPOTENCY_KEY": "order-42"}
    first = Client().post(
        "/paymongo/v1/payment_intents", body, content_type="application/json", **headers
    )
    again = Client().post(
        "/paymongo/v1/payment_intents", body, content_type="application/json", **headers
    )
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert PaymentIntent.objects.count() == 1


def test_a_public_key_sees_no_payments_and_cannot_list_them(acct):
    body = {
        "data": {
            "attributes": {"amount": 2000, "currency": "PHP", "payment_method_allowed": ["card"]}
        }
    }
    created = post("payment_intents", body, acct.sk).json()["data"]
    key = created["attributes"]["client_key"]
    seen = Client().get(
        f"/paymongo/v1/payment_intents/{created['id']}?client_key={key}",
        HTTP_AUTHORIZATION=basic(acct.pk),
    )
    assert seen.status_code == 200
    assert seen.json()["data"]["attributes"]["payments"] is None
    listed = Client().get("/paymongo/v1/payments", HTTP_AUTHORIZATION=basic(acct.pk))
    assert listed.status_code == 403
    assert listed.json()["errors"][0]["code"] == "secret_key_required"


INTENT = {"amount": 2000, "currency": "PHP", "payment_method_allowed": ["card"]}


@pytest.mark.parametrize(
    ("options", "attribute"),
    [
        # a falsy value that is no hash went through as "no options" while a truthy one was
        # refused, so the document could not say `type: object`
        ("", "payment_method_options"),
        ([], "payment_method_options"),
        (0, "payment_method_options"),
        (False, "payment_method_options"),
        ("learns", "payment_method_options"),
        (0.25, "payment_method_options"),
        (True, "payment_method_options"),
        ({"card": ""}, "payment_method_options.card"),
        ({"card": []}, "payment_method_options.card"),
        ({"gcash": {}}, "payment_method_options.gcash"),
        ({"card": {"installments": 3}}, "payment_method_options.card.installments"),
        (
            {"card": {"request_three_d_secure": "challenge"}},
            "payment_method_options.card.request_three_d_secure",
        ),
    ],
)
def test_payment_method_options_that_are_no_such_hash_are_refused(acct, options, attribute):
    body = {"data": {"attributes": {**INTENT, "payment_method_options": options}}}
    answer = post("payment_intents", body, acct.sk)
    assert answer.status_code == 400, answer.content
    [error] = answer.json()["errors"]
    assert error["code"] == "parameter_invalid"
    assert error["source"]["attribute"] == attribute
    assert not PaymentIntent.objects.exists()


def test_null_payment_method_options_are_refused_as_the_document_says(acct):
    body = {"data": {"attributes": {**INTENT, "payment_method_options": None}}}
    answer = post("payment_intents", body, acct.sk)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["source"]["attribute"] == "payment_method_options"


@pytest.mark.parametrize("options", [{}, {"card": {}}, {"card": {"request_three_d_secure": "any"}}])
def test_payment_method_options_as_documented_are_taken(acct, options):
    body = {"data": {"attributes": {**INTENT, "payment_method_options": options}}}
    answer = post("payment_intents", body, acct.sk)
    assert answer.status_code == 200, answer.content
    assert answer.json()["data"]["attributes"]["payment_method_options"] == (options or None)


def _request_schema(schema: dict, name: str) -> dict:
    component = schema["components"]["schemas"][name]
    return component


def _ref(schema: dict, prop: dict) -> dict:
    ref = prop.get("$ref") or prop["allOf"][0]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_document_states_the_options_hash_and_the_return_url():
    """What the face holds these two attributes to, in OpenAPI keywords: the options a hash of
    known keys (not null), the return URL an absolute http(s) URL."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = _request_schema(schema, "PayMongoIntentCreateRequest")
    prop = create["properties"]["payment_method_options"]
    assert not prop.get("nullable")
    options = _ref(schema, prop)
    assert options["type"] == "object" and options["additionalProperties"] is False
    card = _ref(schema, options["properties"]["card"])
    assert card["type"] == "object" and card["additionalProperties"] is False
    assert card["properties"]["request_three_d_secure"]["enum"] == ["any", "automatic"]
    attach = _request_schema(schema, "PayMongoIntentAttachRequest")
    return_url = attach["properties"]["return_url"]
    assert return_url["format"] == "uri"
    assert return_url["pattern"] == "^$|^[Hh][Tt][Tt][Pp][Ss]?://"  # (optional: "" is unset)


def test_a_return_url_that_is_no_url_is_refused_naming_it(acct):
    pi = post("payment_intents", {"data": {"attributes": INTENT}}, acct.sk).json()["data"]
    answer = post(
        f"payment_intents/{pi['id']}/attach",
        {"data": {"attributes": {"payment_method": "pm_x", "return_url": "flow"}}},
        acct.sk,
    )
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == "parameter_invalid"
    assert error["source"]["attribute"] == "return_url"


def test_a_create_links_to_the_operations_on_what_it_made():
    """PayMongo's answer holds the new id in `data.id`: the links say so (a stateful fuzzer
    follows them from a created intent to its attach, capture and cancel)."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    links = paths["/paymongo/v1/payment_intents"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "paymongo_retrieve_payment_intent",
        "paymongo_attach_payment_intent",
        "paymongo_capture_payment_intent",
        "paymongo_cancel_payment_intent",
    }
    assert all(link["parameters"] == {"id": "$response.body#/data/id"} for link in links.values())
    webhooks = paths["/paymongo/v1/webhooks"]["post"]["responses"]["200"]["links"]
    assert "paymongo_disable_webhook" in webhooks
