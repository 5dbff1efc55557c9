"""`setup_future_usage` with a `customer`: the card that pays is kept for the customer (attached
when the payment succeeds or is authorised), as Stripe does; a refused payment keeps nothing."""

from __future__ import annotations

import pytest

from events.models import Event

pytestmark = pytest.mark.django_db


def pay(client, customer: str, payment_method: str, **params):
    return client.post(
        "/v1/payment_intents",
        {
            "amount": 1500,
            "currency": "usd",
            "customer": customer,
            "payment_method": payment_method,
            "confirm": "true",
            **params,
        },
    )


def kept(client, customer: str) -> list[str]:
    return [m["id"] for m in client.get(f"/v1/customers/{customer}/payment_methods").json()["data"]]


@pytest.mark.parametrize("capture_method", ["automatic", "manual"])
def test_the_paying_card_is_kept_for_the_customer(client, capture_method):
    customer = client.post("/v1/customers", {"email": "k@example.com"}).json()["id"]
    pi = pay(
        client,
        customer,
        "pm_card_visa",
        setup_future_usage="off_session",
        capture_method=capture_method,
    ).json()
    assert pi["status"] in ("succeeded", "requires_capture")
    assert kept(client, customer) == [pi["payment_method"]]
    attached = Event.objects.filter(type="payment_method.attached").get()
    assert attached.data["object"]["customer"] == customer


def test_without_setup_future_usage_nothing_is_kept(client):
    customer = client.post("/v1/customers", {"email": "k@example.com"}).json()["id"]
    assert pay(client, customer, "pm_card_visa").json()["status"] == "succeeded"
    assert kept(client, customer) == []


def test_a_declined_payment_keeps_no_card(client):
    customer = client.post("/v1/customers", {"email": "k@example.com"}).json()["id"]
    answer = pay(client, customer, "pm_card_chargeDeclined", setup_future_usage="on_session")
    assert answer.status_code == 402
    assert kept(client, customer) == []


def test_a_card_another_customer_holds_stays_theirs_and_the_payment_stands(client):
    first = client.post("/v1/customers", {"email": "a@example.com"}).json()["id"]
    second = client.post("/v1/customers", {"email": "b@example.com"}).json()["id"]
    pm = client.post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": 12,
            "card[exp_year]": 2034,
        },
    ).json()["id"]
    client.post(f"/v1/payment_methods/{pm}/attach", {"customer": first})
    pi = pay(client, second, pm, setup_future_usage="off_session").json()
    assert pi["status"] == "succeeded"
    assert kept(client, first) == [pm] and kept(client, second) == []
