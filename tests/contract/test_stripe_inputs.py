"""Common Stripe inputs, sent by the official `stripe` library, answered as Stripe answers them:
automatic payment methods, test tokens, the magic test ids, attaching a magic id, and the
3-D Secure return."""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from tests.conftest import make_account

pytestmark = pytest.mark.django_db(transaction=True)

RETURN_URL = "https://shop.example.com/return"


@pytest.fixture
def keys(transactional_db):
    return make_account("Inputs Co")


@pytest.fixture
def client(live_server, keys) -> stripe.StripeClient:
    return stripe.StripeClient(
        keys.sk, base_addresses={"api": live_server.url}, max_network_retries=0
    )


@pytest.fixture
def global_stripe(live_server, keys, monkeypatch):
    monkeypatch.setattr(stripe, "api_key", keys.sk)
    monkeypatch.setattr(stripe, "api_base", live_server.url)
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    return stripe


def create(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    params.setdefault("amount", 2000)
    params.setdefault("currency", "usd")
    return client.v1.payment_intents.create(params=params)


# --- automatic_payment_methods ----------------------------------------------------------------


def test_automatic_payment_methods_is_stored_and_echoed_with_card_derived(client):
    intent = create(client, automatic_payment_methods={"enabled": True})
    assert intent.automatic_payment_methods.enabled is True
    assert intent.automatic_payment_methods.allow_redirects == "always"
    assert intent.payment_method_types == ["card"]
    again = client.v1.payment_intents.retrieve(intent.id)
    assert again.automatic_payment_methods.to_dict() == {
        "allow_redirects": "always",
        "enabled": True,
    }


def test_automatic_payment_methods_with_allow_redirects_never_pays_with_a_card(client):
    intent = create(
        client,
        automatic_payment_methods={"enabled": True, "allow_redirects": "never"},
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert intent.status == "succeeded"
    assert intent.automatic_payment_methods.allow_redirects == "never"


def test_automatic_payment_methods_disabled_has_no_allow_redirects(client):
    """Neither given nor implied, `allow_redirects` is left out (an enum, never null): the long
    fuzz found the answer breaking its own schema with `"allow_redirects": null`."""
    intent = create(client, automatic_payment_methods={"enabled": False})
    assert intent.automatic_payment_methods.to_dict() == {"enabled": False}
    updated = client.v1.payment_intents.update(
        intent.id, params={"automatic_payment_methods": {"enabled": False}}
    )
    assert updated.automatic_payment_methods.to_dict() == {"enabled": False}


def test_automatic_payment_methods_on_update(client):
    intent = create(client)
    updated = client.v1.payment_intents.update(
        intent.id, params={"automatic_payment_methods": {"enabled": True}}
    )
    assert updated.automatic_payment_methods.enabled is True
    assert updated.payment_method_types == ["card"]
    typed = client.v1.payment_intents.update(intent.id, params={"payment_method_types": ["card"]})
    assert typed.automatic_payment_methods is None


def test_automatic_payment_methods_with_payment_method_types_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(client, automatic_payment_methods={"enabled": True}, payment_method_types=["card"])
    assert caught.value.http_status == 400
    assert caught.value.code == "parameters_exclusive"
    assert "automatic_payment_methods, payment_method_types" in caught.value.user_message
    assert client.v1.payment_intents.list().data == []


def test_automatic_payment_methods_needs_enabled(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(client, automatic_payment_methods={"allow_redirects": "never"})
    assert caught.value.code == "parameter_missing"
    assert caught.value.param == "automatic_payment_methods[enabled]"


# --- test tokens --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token,brand,last4",
    [
        ("tok_visa", "visa", "4242"),
        ("tok_visa_debit", "visa", "5556"),
        ("tok_mastercard", "mastercard", "4444"),
        ("tok_amex", "amex", "0005"),
    ],
)
def test_payment_method_data_with_a_token_pays_with_its_card(client, token, brand, last4):
    intent = create(
        client,
        payment_method_data={"type": "card", "card": {"token": token}},
        confirm=True,
        expand=["payment_method"],
    )
    assert intent.status == "succeeded"
    assert intent.payment_method.card.brand == brand
    assert intent.payment_method.card.last4 == last4


@pytest.mark.parametrize(
    "token,decline_code",
    [
        ("tok_chargeDeclined", "generic_decline"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("tok_visa_chargeDeclinedLostCard", "lost_card"),
    ],
)
def test_a_declining_token_declines_like_its_magic_id(client, token, decline_code):
    with pytest.raises(stripe.CardError) as caught:
        create(client, payment_method_data={"type": "card", "card": {"token": token}}, confirm=True)
    assert caught.value.http_status == 402
    assert caught.value.error.decline_code == decline_code


def test_a_payment_method_is_created_from_a_token(client):
    pm = client.v1.payment_methods.create(params={"type": "card", "card": {"token": "tok_visa"}})
    assert pm.id.startswith("pm_") and pm.card.last4 == "4242"


def test_an_unknown_token_is_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(client, payment_method_data={"type": "card", "card": {"token": "tok_nope"}})
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "payment_method_data[card][token]"


def test_a_token_with_card_details_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_methods.create(
            params={"type": "card", "card": {"token": "tok_visa", "number": "4242424242424242"}}
        )
    assert caught.value.code == "parameters_exclusive"


# --- magic ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "magic_id,code,decline_code",
    [
        ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_visa_chargeDeclinedLostCard", "card_declined", "lost_card"),
        ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
        ("pm_card_visa_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
        ("pm_card_visa_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
        ("pm_card_visa_chargeDeclinedProcessingError", "processing_error", "processing_error"),
        ("pm_card_visa_chargeDeclinedFraudulent", "card_declined", "fraudulent"),
        ("pm_card_radarBlock", "card_declined", "fraudulent"),
        (
            "pm_card_visa_chargeDeclinedVelocityLimitExceeded",
            "card_declined",
            "card_velocity_exceeded",
        ),
    ],
)
def test_the_visa_decline_magic_ids_decline_with_stripes_codes(
    client, magic_id, code, decline_code
):
    intent = create(client)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.confirm(intent.id, params={"payment_method": magic_id})
    assert caught.value.http_status == 402
    assert caught.value.code == code
    assert caught.value.error.decline_code == decline_code
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"


@pytest.mark.parametrize(
    "magic_id", ["pm_card_threeDSecure2Required", "pm_card_threeDSecureRequired"]
)
def test_the_three_d_secure_magic_ids_require_action(client, live_server, magic_id):
    intent = create(client, payment_method=magic_id, confirm=True, return_url=RETURN_URL)
    assert intent.status == "requires_action"
    assert intent.next_action.type == "redirect_to_url"
    assert intent.next_action.redirect_to_url.url.startswith(live_server.url + "/authenticate/")


def test_the_three_d_secure_return_carries_redirect_status_and_the_page_shows_money(
    client, live_server
):
    intent = create(
        client,
        amount=2500,
        payment_method="pm_card_threeDSecure2Required",
        confirm=True,
        return_url=RETURN_URL,
    )
    url = intent.next_action.redirect_to_url.url
    page = urllib.request.urlopen(url).read().decode()
    assert "$25.00" in page

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    token = parse_qs(urlsplit(url).query)["token"][0]
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(
        url.split("?")[0], data=f"token={token}&outcome=complete".encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request)
    assert redirect.value.code == 302
    query = parse_qs(urlsplit(redirect.value.headers["Location"]).query)
    assert query["redirect_status"] == ["succeeded"]
    assert query["payment_intent"] == [intent.id]
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"


# --- attaching a magic id ---------------------------------------------------------------------


def test_attaching_a_magic_id_attaches_a_new_copy_to_the_customer(global_stripe):
    customer = stripe.Customer.create(email="jenny@example.com")
    pm = stripe.PaymentMethod.attach("pm_card_visa", customer=customer.id)
    assert pm.id.startswith("pm_") and pm.id != "pm_card_visa"
    assert pm.customer == customer.id
    assert pm.card.brand == "visa" and pm.card.last4 == "4242"
    second = stripe.PaymentMethod.attach("pm_card_visa", customer=customer.id)
    assert second.id != pm.id
    listed = stripe.Customer.list_payment_methods(customer.id)
    assert sorted(p.id for p in listed.data) == sorted([pm.id, second.id])
    paid = stripe.PaymentIntent.create(
        amount=1500, currency="usd", customer=customer.id, payment_method=pm.id, confirm=True
    )
    assert paid.status == "succeeded"


def test_attaching_a_magic_id_to_an_unknown_customer_is_resource_missing(global_stripe):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe.PaymentMethod.attach("pm_card_visa", customer="cus_missing")
    assert caught.value.code == "resource_missing"
    assert caught.value.param == "customer"
    assert stripe.PaymentMethod.list().data == []
