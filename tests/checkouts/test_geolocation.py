"""GeoLocation on `POST /v1/checkouts`: with no `location`, the country of the caller's address
(offline table); a private or unknown address, or a forwarding header, leaves it empty."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from core.geo import country_of_address
from tests.checkouts.test_api import create_flow
from tests.helpers import StripeTestClient


@pytest.fixture
def flow(acct) -> str:
    return create_flow(StripeTestClient(key=acct.sk), "checkout")


def start(acct, flow, remote_addr: str, **params):
    response = Client().post(
        "/v1/checkouts",
        data=json.dumps(
            {"tracking_id": "order_1", "payment_flow": flow, "amount": 100, "currency": "eur"}
            | params
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
        REMOTE_ADDR=remote_addr,
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_public_address_gives_the_country(acct, flow):
    assert start(acct, flow, "81.2.69.160")["location"] == {"country": "GBR"}


def test_a_public_ipv6_address_gives_the_country(acct, flow):
    assert start(acct, flow, "2001:4860:4860::8888")["location"] == {"country": "USA"}


@pytest.mark.parametrize("address", ["10.0.0.7", "192.168.1.1", "127.0.0.1", "::1", "100.64.0.1"])
def test_a_private_address_leaves_the_location_empty(acct, flow, address):
    assert start(acct, flow, address)["location"] is None


def test_a_location_given_is_kept(acct, flow):
    chk = start(acct, flow, "81.2.69.160", location={"country": "IRL"})
    assert chk["location"] == {"country": "IRL"}


def test_a_forwarded_for_header_is_not_believed(acct, flow):
    response = Client().post(
        "/v1/checkouts",
        data=json.dumps(
            {"tracking_id": "order_1", "payment_flow": flow, "amount": 100, "currency": "eur"}
        ),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
        REMOTE_ADDR="10.0.0.7",
        HTTP_X_FORWARDED_FOR="81.2.69.160",
    )
    assert response.json()["location"] is None


@pytest.mark.parametrize("address", ["", None, "not an address", "256.1.1.1", "0.0.0.0"])
def test_an_unknown_address_has_no_country(address):
    assert country_of_address(address) is None


def test_the_lookup_answers_alpha3_codes():
    assert country_of_address("8.8.8.8") == "USA"
    assert country_of_address("1.1.1.1") == "AUS"
