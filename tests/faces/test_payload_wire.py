"""The Payload face on the wire: the seed's intent example (Payload's API reference) asked for
as a request, answered with the seed's attributes; Payload's errors and lists."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from checkout_pages.models import CheckoutIntent

pytestmark = pytest.mark.django_db

# The seed's example intent: its top-level attributes and its checkout_page settings.
SEED_KEYS = {
    "id",
    "object",
    "attrs",
    "client_token_id",
    "created_at",
    "modified_at",
    "status",
    "type",
    "checkout_page",
    "checkout_plugin",
    "payment_form",
    "payment_method_form",
}
SEED_CHECKOUT_PAGE_KEYS = {
    "amount",
    "bank_account_payments",
    "billing_address",
    "card_payments",
    "customer_id",
    "description",
    "enable_mobile_wallets",
    "invoice_id",
    "payment",
    "processing_id",
    "show_disclosure",
    "status",
    "redirects",
}


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def post(body: dict, key: str):
    return Client().post(
        "/payload/intents", json.dumps(body), content_type="application/json", **auth(key)
    )


def test_the_seed_checkout_page_is_answered_in_the_seed_shape(acct):
    answer = post(
        {
            "type": "checkout_page",
            "attrs": {},
            "checkout_page": {
                "amount": 561.31,
                "bank_account_payments": False,
                "billing_address": False,
                "card_payments": True,
                "description": "string",
                "enable_mobile_wallets": False,
                "payment": {},
                "show_disclosure": False,
                "status": "authorized",
                "redirects": {
                    "completed_url": "https://shop.example/done",
                    "return_url": "https://shop.example/back",
                },
            },
        },
        acct.sk,
    )
    assert answer.status_code == 200, answer.content
    intent = answer.json()
    assert SEED_KEYS <= set(intent)
    assert SEED_CHECKOUT_PAGE_KEYS <= set(intent["checkout_page"])
    assert intent["object"] == "intent" and intent["status"] == "pending"
    assert intent["checkout_page"]["amount"] == 561.31
    assert intent["checkout_page"]["status"] == "authorized"
    stored = CheckoutIntent.objects.get()
    assert (stored.amount, stored.capture) == (56131, "manual")


def test_a_missing_settings_object_is_named(acct):
    answer = post({"type": "checkout_page"}, acct.sk)
    assert answer.status_code == 400
    body = answer.json()
    assert body["object"] == "error" and body["error_type"] == "InvalidAttributes"
    assert "checkout_page" in body["details"]


def test_a_missing_completed_url_is_named_where_payload_has_it(acct):
    answer = post(
        {
            "type": "checkout_page",
            "checkout_page": {
                "amount": 10,
                "redirects": {"return_url": "https://shop.example/back"},
            },
        },
        acct.sk,
    )
    assert answer.status_code == 400
    assert "completed_url" in answer.json()["details"]["checkout_page"]["redirects"]
    assert not CheckoutIntent.objects.exists()


def test_another_accounts_intent_is_not_found(acct, other_acct):
    made = post(
        {"type": "payment_form", "payment_form": {"payment": {"amount": 5}}}, other_acct.sk
    ).json()
    answer = Client().get(f"/payload/intents/{made['id']}", **auth(acct.sk))
    assert answer.status_code == 404
    assert answer.json()["error_type"] == "NotFound"


def test_the_publishable_key_is_refused(acct):
    answer = Client().get("/payload/intents", **auth(acct.pk))
    assert answer.status_code == 403
    assert answer.json()["error_type"] == "Forbidden"
