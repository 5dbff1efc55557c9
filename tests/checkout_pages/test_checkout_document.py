"""What the document states of the Stripe Checkout family's and the webhook endpoints' input,
beside what the services check (found by schemathesis: data the document called valid was
refused for each of these rules, which it did not state)."""

from __future__ import annotations

import re
import time

import pytest

from tests.helpers import StripeTestClient
from tests.test_openapi import _body_schema, _component, generated


@pytest.fixture(scope="module")
def schema() -> dict:
    return generated()


def test_a_price_states_its_amount_and_its_product(schema):
    price = _body_schema(schema, "/v1/prices")
    assert "unit_amount" in price["required"]
    assert price["properties"]["unit_amount"]["minimum"] == 0
    assert price["x-required-one-of"] == [["product", "product_data"]]
    assert price["x-mutually-exclusive-parameters"] == [["product", "product_data"]]
    product = _body_schema(schema, "/v1/products")
    default_price = _component(schema, product, "default_price_data")
    assert default_price["properties"]["unit_amount"]["minimum"] == 0


def test_a_line_item_states_its_price_and_quantity(schema):
    line = _component(schema, _body_schema(schema, "/v1/checkout/sessions"), "line_items")
    assert line["required"] == ["quantity"]
    assert line["x-required-one-of"] == [["price", "price_data"]]
    assert line["x-mutually-exclusive-parameters"] == [["price", "price_data"]]
    assert _component(schema, line, "price_data")["properties"]["unit_amount"]["minimum"] == 0


@pytest.mark.parametrize("name", ["success_url", "cancel_url", "return_url"])
def test_a_sessions_urls_are_http_urls(schema, name):
    prop = _body_schema(schema, "/v1/checkout/sessions")["properties"][name]
    assert prop["format"] == "uri"
    pattern = re.compile(prop["pattern"])
    assert pattern.search("https://shop.example/done") and not pattern.search("javascript:x")


def test_a_sessions_expiry_states_its_window(schema):
    prop = _body_schema(schema, "/v1/checkout/sessions")["properties"]["expires_at"]
    assert prop["x-seconds-from-now"] == {"minimum": 1800, "maximum": 86400}


@pytest.mark.parametrize("path", ["/v1/webhook_endpoints", "/v1/webhook_endpoints/{id}"])
def test_a_webhook_endpoints_url_is_a_webhook_url(schema, path):
    assert _body_schema(schema, path)["properties"]["url"]["format"] == "webhook-url"


@pytest.mark.parametrize(
    ("ahead", "taken"), [(1800 + 60, True), (86400 - 60, True), (1700, False), (86500, False)]
)
def test_the_expiry_window_is_the_one_stated(acct, ahead, taken):
    client = StripeTestClient(key=acct.sk)
    answer = client.post(
        "/v1/checkout/sessions",
        {
            "mode": "setup",
            "success_url": "https://shop.example.com/done",
            "expires_at": int(time.time()) + ahead,
        },
    )
    assert (answer.status_code == 200) is taken, answer
    if not taken:
        assert answer.json()["error"]["code"] == "parameter_invalid_integer"
