"""A publishable key with the client secret sees the publishable subset of an intent, and of the
payment method it expands, and of the intent an error embeds: never the customer, metadata,
billing details or the card's fingerprint."""

from __future__ import annotations

from tests.helpers import StripeTestClient

CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2040", "cvc": "123"}
PRIVATE_PM_FIELDS = ("customer", "metadata", "billing_details")


def _method_with_private_data(client) -> tuple[dict, dict]:
    customer = client.post("/v1/customers", {"email": "c@example.com"}).json()
    pm = client.post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card": CARD,
            "metadata": {"crm": "secret-value"},
            "billing_details": {"name": "Jane Private", "email": "jane@example.com"},
        },
    ).json()
    attached = client.post(f"/v1/payment_methods/{pm['id']}/attach", {"customer": customer["id"]})
    assert attached.status_code == 200, attached
    return customer, pm


def test_expanding_the_payment_method_with_a_publishable_key_shows_only_the_card(client, acct):
    customer, pm = _method_with_private_data(client)
    pi = client.post(
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "customer": customer["id"],
            "payment_method": pm["id"],
            "metadata": {"order": "private"},
        },
    ).json()
    # The secret key sees it all: the private data is really there.
    full = client.get(f"/v1/payment_intents/{pi['id']}", {"expand": ["payment_method"]}).json()
    assert full["payment_method"]["customer"] == customer["id"]
    assert full["payment_method"]["card"]["fingerprint"]

    browser = StripeTestClient(key=acct.pk)
    response = browser.get(
        f"/v1/payment_intents/{pi['id']}",
        {"client_secret": pi["client_secret"], "expand": ["payment_method"]},
    )
    assert response.status_code == 200, response
    shown = response.json()
    method = shown["payment_method"]
    assert method["id"] == pm["id"]
    assert method["card"]["last4"] == "4242"
    for field in PRIVATE_PM_FIELDS:
        assert field not in method, field
    assert "fingerprint" not in method["card"]
    assert "customer" not in shown and "metadata" not in shown
    body = response.content.decode()
    for secret in (
        customer["id"],
        "secret-value",
        "Jane Private",
        full["payment_method"]["card"]["fingerprint"],
    ):
        assert secret not in body


def test_a_decline_answered_to_a_publishable_key_embeds_the_publishable_intent(client, acct):
    customer, _ = _method_with_private_data(client)
    pi = client.post(
        "/v1/payment_intents",
        {"amount": 2000, "currency": "usd", "customer": customer["id"], "metadata": {"o": "p"}},
    ).json()
    browser = StripeTestClient(key=acct.pk)
    response = browser.post(
        f"/v1/payment_intents/{pi['id']}/confirm",
        {"client_secret": pi["client_secret"], "payment_method": "pm_card_chargeDeclined"},
    )
    assert response.status_code == 402, response
    embedded = response.error["payment_intent"]
    assert embedded["id"] == pi["id"]
    assert "customer" not in embedded and "metadata" not in embedded
    assert customer["id"] not in response.content.decode()
