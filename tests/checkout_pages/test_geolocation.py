"""GeoLocation of the tracked checkout a paying checkout intent starts: created through
`/v1/checkout_intents` or Payload's `/payload/intents`, it has the creating caller's country;
a private or unknown address leaves it empty, and the customer opening the hosted page then
gives theirs. A country it has is never replaced."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from checkout_pages.models import CheckoutIntent
from tests.checkout_pages.conftest import COMPLETED, RETURN, page_path

pytestmark = pytest.mark.django_db

BRITISH, AMERICAN, PRIVATE = "81.2.69.160", "8.8.8.8", "10.0.0.7"


def create_v1(acct, remote_addr: str) -> dict:
    body = {
        "type": "checkout_page",
        "amount": 2000,
        "currency": "usd",
        "redirects": {"completed_url": COMPLETED, "return_url": RETURN},
    }
    response = Client().post(
        "/v1/checkout_intents",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
        REMOTE_ADDR=remote_addr,
    )
    assert response.status_code == 200, response.content
    return response.json()


def create_payload(acct, remote_addr: str) -> dict:
    body = {
        "type": "checkout_page",
        "checkout_page": {
            "amount": 20,
            "redirects": {"completed_url": COMPLETED, "return_url": RETURN},
        },
    }
    basic = base64.b64encode(f"{acct.sk}:".encode()).decode()
    response = Client().post(
        "/payload/intents",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
        REMOTE_ADDR=remote_addr,
    )
    assert response.status_code == 200, response.content
    return response.json()


def tracked_country(ci_id: str) -> str | None:
    return CheckoutIntent.objects.select_related("checkout").get(id=ci_id).checkout.country


def test_a_v1_create_from_a_public_address_has_its_country(acct):
    assert tracked_country(create_v1(acct, BRITISH)["id"]) == "GBR"


def test_a_payload_create_from_a_public_address_has_its_country(acct):
    intent = create_payload(acct, AMERICAN)
    assert tracked_country("cint_" + intent["id"].removeprefix("int_")) == "USA"


def test_a_private_creator_leaves_it_to_the_customer_opening_the_page(acct):
    ci = create_v1(acct, PRIVATE)
    assert tracked_country(ci["id"]) is None
    page = Client().get(page_path(ci["client_token"]), REMOTE_ADDR=BRITISH)
    assert page.status_code == 200
    assert tracked_country(ci["id"]) == "GBR"


def test_a_customer_at_a_private_address_leaves_it_empty(acct):
    intent = create_payload(acct, PRIVATE)
    Client().get(page_path(intent["client_token_id"]), REMOTE_ADDR="127.0.0.1")
    assert tracked_country("cint_" + intent["id"].removeprefix("int_")) is None


def test_a_country_it_has_is_not_replaced_by_the_page(acct):
    ci = create_v1(acct, AMERICAN)
    Client().get(page_path(ci["client_token"]), REMOTE_ADDR=BRITISH)
    assert tracked_country(ci["id"]) == "USA"
