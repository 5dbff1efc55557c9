"""`payment_method_options[card][request_three_d_secure]` on the Stripe dialect: `any` (and
Stripe's `challenge`) asks for 3-D Secure on any card, `automatic` follows the card, anything
else is refused and changes nothing."""

from __future__ import annotations

import pytest

from intents.models import PaymentIntent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("processor_mode")]


def create(client, **params):
    return client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd", **params})


@pytest.mark.parametrize("value", ["any", "challenge"])
def test_a_forced_challenge_stops_a_plain_card_at_requires_action(client, value):
    pi = create(
        client,
        payment_method_options={"card": {"request_three_d_secure": value}},
        payment_method="pm_card_visa",
        confirm="true",
        return_url="https://shop.example/done",
    ).json()
    assert pi["status"] == "requires_action"
    assert pi["next_action"]["type"] == "redirect_to_url"


def test_automatic_lets_a_plain_card_through(client):
    pi = create(
        client,
        payment_method_options={"card": {"request_three_d_secure": "automatic"}},
        payment_method="pm_card_visa",
        confirm="true",
    ).json()
    assert pi["status"] == "succeeded"


def test_an_unknown_value_is_refused_on_create_and_nothing_is_made(client):
    answer = create(client, payment_method_options={"card": {"request_three_d_secure": "bogus"}})
    assert answer.status_code == 400
    assert answer.error["param"] == "payment_method_options[card][request_three_d_secure]"
    assert not PaymentIntent.objects.exists()


def test_an_unknown_value_is_refused_on_update_and_confirm(client):
    pi = create(client).json()
    bad = {"payment_method_options": {"card": {"request_three_d_secure": "sometimes"}}}
    updated = client.post(f"/v1/payment_intents/{pi['id']}", bad)
    assert updated.status_code == 400
    confirmed = client.post(
        f"/v1/payment_intents/{pi['id']}/confirm", {"payment_method": "pm_card_visa", **bad}
    )
    assert confirmed.status_code == 400
    after = client.get(f"/v1/payment_intents/{pi['id']}").json()
    assert after["status"] == "requires_payment_method"
    assert after["payment_method_options"] == {}
