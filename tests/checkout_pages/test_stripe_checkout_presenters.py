"""Products, prices, sessions, line items, payment links and SetupIntents return exactly the
fields their OpenAPI descriptions declare (the published schema cannot drift from them)."""

from __future__ import annotations

from checkout_pages.api.stripe_checkout import (
    CheckoutSessionSchema,
    LineItemSchema,
    PaymentLinkSchema,
    PriceSchema,
    ProductSchema,
)
from intents.api.setup_intents import SetupIntentSchema
from tests.test_presenters import mismatches


def _ok(response) -> dict:
    assert response.status_code == 200, response
    return response.json()


def test_every_stripe_checkout_object_matches_its_schema(client):
    product = _ok(client.post("/v1/products", {"name": "Apron", "metadata": {"a": "1"}}))
    assert mismatches(ProductSchema(), product) == []
    price = _ok(
        client.post("/v1/prices", {"product": product["id"], "unit_amount": 900, "currency": "usd"})
    )
    assert mismatches(PriceSchema(), price) == []
    session = _ok(
        client.post(
            "/v1/checkout/sessions",
            {
                "mode": "payment",
                "line_items": [{"price": price["id"], "quantity": 2}],
                "success_url": "https://shop.example.com/ok",
            },
        )
    )
    assert mismatches(CheckoutSessionSchema(), session) == []
    items = _ok(client.get(f"/v1/checkout/sessions/{session['id']}/line_items"))
    assert mismatches(LineItemSchema(), items["data"][0]) == []
    link = _ok(
        client.post("/v1/payment_links", {"line_items": [{"price": price["id"], "quantity": 1}]})
    )
    assert mismatches(PaymentLinkSchema(), link) == []
    setup = _ok(client.post("/v1/setup_intents", {}))
    assert mismatches(SetupIntentSchema(), setup) == []
