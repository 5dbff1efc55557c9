"""The official `paymongo-python` library (0.2.1), unmodified, against a live server: only its
configuration's `api_base_url` is pointed at the PayMongo face (`<base>/paymongo`). It sends
the key as HTTP Basic (`base64(key)`, no colon) and `{"data": {"attributes": …}}` bodies, and
reads each object's attributes by name (a missing one is a KeyError in the library)."""

from __future__ import annotations

import hashlib
import hmac
import json

import paymongo
import pytest
import requests
from paymongo import PaymongoConfig

from tests.conftest import make_account
from tests.faces.conftest import deliver_everything

pytestmark = pytest.mark.django_db(transaction=True)

VISA = "4242424242424242"
THREE_D_SECURE_CARD = "4000002760003184"
DECLINED_CARD = "4000000000000002"
RETURN_URL = "https://shop.example.com/return"


@pytest.fixture
def keys(transactional_db):
    return make_account("PayMongo Co")


@pytest.fixture
def base(live_server, monkeypatch) -> str:
    """The library's base URL, the one thing changed."""
    original = PaymongoConfig.__init__

    def pointed_here(self, api_key):
        original(self, api_key)
        self.api_base_url = f"{live_server.url}/paymongo"

    monkeypatch.setattr(PaymongoConfig, "__init__", pointed_here)
    return live_server.url


@pytest.fixture
def secret(base, keys, monkeypatch):
    monkeypatch.setattr(paymongo, "api_key", keys.sk)
    return paymongo


def as_public(keys, monkeypatch) -> None:
    monkeypatch.setattr(paymongo, "api_key", keys.pk)


def create_intent(**attributes):
    attributes.setdefault("amount", 10000)
    attributes.setdefault("currency", "PHP")
    attributes.setdefault("payment_method_allowed", ["card"])
    return paymongo.PaymentIntent.create(attributes)


def create_card(number: str = VISA):
    return paymongo.PaymentMethod.create(
        {
            "type": "card",
            "details": {"card_number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
            "billing": {
                "name": "Juan dela Cruz",
                "email": "juan@example.com",
                "address": {"line1": "1 Ayala Ave", "city": "Makati", "country": "PH"},
            },
        }
    )


def complete_challenge(url: str) -> None:
    """The customer on the hosted 3-D Secure page presses "complete"."""
    answer = requests.post(url, data={"outcome": "complete"}, allow_redirects=False, timeout=10)
    assert answer.status_code in (200, 302), answer.text


def test_create_answers_the_seed_shape_with_client_key_and_updated_at(secret):
    intent = create_intent(description="Order # 20190604", metadata={"reference_number": "X1999"})
    assert intent.id.startswith("pi_")
    assert intent.status == "awaiting_payment_method"
    assert intent.amount == 10000
    assert intent.currency == "PHP"
    assert intent.client_key.startswith(f"{intent.id}_client_")
    assert intent.payment_method_allowed == ["card"]
    assert intent.payments == []
    assert intent.next_action is None
    assert intent.capture_type == "automatic"
    assert intent.metadata == {"reference_number": "X1999"}
    assert isinstance(intent.created_at, int) and intent.updated_at >= intent.created_at


def test_attach_with_the_public_key_and_client_key_pays(secret, keys, monkeypatch):
    intent = create_intent()
    as_public(keys, monkeypatch)
    method = create_card()
    assert method.id.startswith("pm_")
    assert method.details["last4"] == "4242"
    assert method.billing["name"] == "Juan dela Cruz"
    paid = paymongo.PaymentIntent.attach(
        intent.id, {"payment_method": method.id, "client_key": intent.client_key}
    )
    assert paid.status == "succeeded"
    assert paid.payments is None  # only a secret key sees the payments

    monkeypatch.setattr(paymongo, "api_key", keys.sk)
    again = paymongo.PaymentIntent.retrieve(intent.id)
    assert again.status == "succeeded"
    [payment] = again.payments
    assert payment["type"] == "payment" and payment["id"].startswith("pay_")
    assert payment["attributes"]["status"] == "paid"
    assert payment["attributes"]["amount"] == 10000
    fetched = paymongo.Payment.retrieve(payment["id"])
    assert fetched.payment_intent_id == intent.id
    assert fetched.status == "paid"
    assert fetched.billing.name == "Juan dela Cruz"


def test_public_key_without_the_client_key_is_refused(secret, keys, monkeypatch):
    intent = create_intent()
    as_public(keys, monkeypatch)
    method = create_card()
    with pytest.raises(paymongo.InvalidRequestException) as info:
        paymongo.PaymentIntent.attach(intent.id, {"payment_method": method.id})
    assert info.value.errors[0].code == "parameter_required"
    with pytest.raises(paymongo.ResourceNotFoundException):
        paymongo.PaymentIntent.attach(
            intent.id, {"payment_method": method.id, "client_key": "pi_x_client_wrong"}
        )
    monkeypatch.setattr(paymongo, "api_key", keys.sk)
    assert paymongo.PaymentIntent.retrieve(intent.id).status == "awaiting_payment_method"


def test_public_key_cannot_create_an_intent(secret, keys, monkeypatch):
    as_public(keys, monkeypatch)
    with pytest.raises(paymongo.StandardException) as info:
        create_intent()
    assert info.value.errors[0].code == "secret_key_required"


def test_three_d_secure_card_waits_for_the_challenge_then_succeeds(secret):
    intent = create_intent()
    method = create_card(THREE_D_SECURE_CARD)
    waiting = paymongo.PaymentIntent.attach(
        intent.id, {"payment_method": method.id, "return_url": RETURN_URL}
    )
    assert waiting.status == "awaiting_next_action"
    assert waiting.next_action["type"] == "redirect"
    assert waiting.next_action["redirect"]["return_url"] == RETURN_URL
    complete_challenge(waiting.next_action["redirect"]["url"])
    assert paymongo.PaymentIntent.retrieve(intent.id).status == "succeeded"


def test_request_three_d_secure_any_forces_the_challenge_on_a_card_that_needs_none(secret):
    intent = create_intent(payment_method_options={"card": {"request_three_d_secure": "any"}})
    assert intent.payment_method_options == {"card": {"request_three_d_secure": "any"}}
    method = create_card(VISA)
    waiting = paymongo.PaymentIntent.attach(
        intent.id, {"payment_method": method.id, "return_url": RETURN_URL}
    )
    assert waiting.status == "awaiting_next_action"
    complete_challenge(waiting.next_action["redirect"]["url"])
    assert paymongo.PaymentIntent.retrieve(intent.id).status == "succeeded"


def test_request_three_d_secure_automatic_lets_a_plain_card_through(secret):
    intent = create_intent(payment_method_options={"card": {"request_three_d_secure": "automatic"}})
    paid = paymongo.PaymentIntent.attach(intent.id, {"payment_method": create_card(VISA).id})
    assert paid.status == "succeeded"


def test_an_unknown_request_three_d_secure_is_refused_naming_it(secret):
    with pytest.raises(paymongo.InvalidRequestException) as info:
        create_intent(payment_method_options={"card": {"request_three_d_secure": "bogus"}})
    [error] = info.value.errors
    assert error.code == "parameter_invalid"
    assert error.source["attribute"] == "payment_method_options.card.request_three_d_secure"


def test_manual_capture_then_refund(secret):
    intent = create_intent(capture_type="manual", amount=5000)
    assert intent.capture_type == "manual"
    held = paymongo.PaymentIntent.attach(intent.id, {"payment_method": create_card().id})
    assert held.status == "awaiting_capture"
    captured = paymongo.PaymentIntent.capture(intent.id, {"amount": 5000})
    assert captured.status == "succeeded"
    payment_id = captured.payments[0]["id"]
    refund = paymongo.Refund.create(
        {
            "amount": 2000,
            "payment_id": payment_id,
            "reason": "requested_by_customer",
            "notes": "Customer kept one of two",
        }
    )
    assert refund.id.startswith("re_")
    assert refund.status == "succeeded"
    assert refund.payment_id == payment_id
    assert refund.notes == "Customer kept one of two"
    assert refund.reason == "requested_by_customer"
    assert refund.currency == "PHP"
    assert paymongo.Refund.retrieve(refund.id).amount == 2000
    payment = paymongo.Payment.retrieve(payment_id)
    assert [r.id for r in payment.refunds] == [refund.id]
    assert payment.net_amount == 3000


def test_customer_create_retrieve_update_delete(secret, base, keys):
    customer = paymongo.Customer.create(
        {
            "first_name": "Juan",
            "last_name": "dela Cruz",
            "email": "juan@example.com",
            "phone": "+639171234567",
            "default_device": "phone",
        }
    )
    assert customer.id.startswith("cus_")
    assert (customer.first_name, customer.last_name) == ("Juan", "dela Cruz")
    assert customer.default_device == "phone" and customer.deleted is False
    assert paymongo.Customer.retrieve(customer.id).email == "juan@example.com"
    updated = paymongo.Customer.update(customer.id, {"email": "jdc@example.com"})
    assert updated.email == "jdc@example.com" and updated.last_name == "dela Cruz"
    shown = requests.get(
        f"{base}/v1/customers/{customer.id}", auth=(keys.sk, ""), timeout=10
    ).json()
    assert shown["name"] == "Juan dela Cruz" and shown["email"] == "jdc@example.com"
    assert paymongo.Customer.delete(customer.id).deleted is True
    with pytest.raises(paymongo.ResourceNotFoundException):
        paymongo.Customer.retrieve(customer.id)


def test_refund_more_than_paid_is_refused_and_changes_nothing(secret):
    intent = create_intent(amount=3000)
    paid = paymongo.PaymentIntent.attach(intent.id, {"payment_method": create_card().id})
    payment_id = paid.payments[0]["id"]
    with pytest.raises(paymongo.InvalidRequestException):
        paymongo.Refund.create({"amount": 9000, "payment_id": payment_id, "reason": "others"})
    assert paymongo.Payment.retrieve(payment_id).refunds == []


def test_a_declined_card_leaves_the_intent_awaiting_a_method_with_the_error(secret):
    intent = create_intent()
    answer = paymongo.PaymentIntent.attach(
        intent.id, {"payment_method": create_card(DECLINED_CARD).id}
    )
    assert answer.status == "awaiting_payment_method"
    assert answer.last_payment_error["failed_code"] == "generic_decline"
    [payment] = answer.payments
    assert payment["attributes"]["status"] == "failed"


def test_cancel(secret):
    intent = create_intent()
    assert paymongo.PaymentIntent.cancel(intent.id).status == "cancelled"


def test_an_unknown_id_and_a_bad_key_answer_as_paymongo_does(secret, monkeypatch):
    with pytest.raises(paymongo.ResourceNotFoundException) as info:
        paymongo.PaymentIntent.retrieve("pi_doesnotexist")
    assert info.value.errors[0].code == "resource_not_found"
    monkeypatch.setattr(paymongo, "api_key", "sk_test_notakey000000000000")
    with pytest.raises(paymongo.AuthenticationException):
        paymongo.PaymentIntent.retrieve("pi_doesnotexist")


def paid_through_v1(base, keys, **extra) -> dict:
    """A ₱25.00 intent made and confirmed with a card through `/v1/`."""
    data = {"amount": 2500, "currency": "php", "payment_method": "pm_card_visa", "confirm": "true"}
    return requests.post(
        f"{base}/v1/payment_intents", data={**data, **extra}, auth=(keys.sk, ""), timeout=10
    ).json()


def test_an_intent_made_here_is_the_one_the_stripe_dialect_shows(secret, base, keys):
    intent = create_intent(capture_type="manual")
    paymongo.PaymentIntent.attach(intent.id, {"payment_method": create_card().id})
    shown = requests.get(
        f"{base}/v1/payment_intents/{intent.id}", auth=(keys.sk, ""), timeout=10
    ).json()
    assert shown["id"] == intent.id
    assert shown["status"] == "requires_capture"
    assert shown["amount_capturable"] == 10000
    assert shown["currency"] == "php"
    # the one secret, named as each dialect names it
    assert shown["client_secret"] == intent.client_key.replace("_client_", "_secret_")
    # and one made there is read here
    made = paid_through_v1(base, keys)
    read = paymongo.PaymentIntent.retrieve(made["id"])
    assert read.status == "succeeded"
    # its charge is the payment, under PayMongo's prefix
    assert read.payments[0]["id"] == "pay_" + made["latest_charge"].removeprefix("ch_")


# --- webhooks ----------------------------------------------------------------------------------

ALL_EVENTS = ["payment.paid", "payment.failed", "payment.refunded"]


def verified(request: dict, secret: str, *, livemode: bool = False) -> dict:
    """PayMongo's documented check: split `t`, `te`, `li`; HMAC-SHA256 `<t>.<raw body>` with
    the webhook's secret key; compare with `te` in test mode (`li` in live mode)."""
    parts = dict(item.split("=", 1) for item in request["headers"]["paymongo-signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(expected, parts["li" if livemode else "te"])
    assert parts["te" if livemode else "li"] == ""
    return json.loads(request["body"])


def test_webhook_create_list_retrieve_disable_enable_update(secret, receiver):
    hook = paymongo.Webhook.create({"url": receiver.url, "events": ALL_EVENTS})
    assert hook.id.startswith("we_")
    assert hook.status == "enabled"
    assert hook.events == ALL_EVENTS
    assert hook.secret_key
    assert [h.id for h in paymongo.Webhook.all().data] == [hook.id]
    assert paymongo.Webhook.retrieve(hook.id).url == receiver.url
    assert paymongo.Webhook.disable(hook.id).status == "disabled"
    assert paymongo.Webhook.enable(hook.id).status == "enabled"
    updated = paymongo.Webhook.update(hook.id, {"events": ["payment.paid"]})
    assert updated.events == ["payment.paid"]
    assert paymongo.Webhook.retrieve(hook.id).events == ["payment.paid"]


def test_an_unknown_webhook_event_is_refused_and_nothing_is_made(secret, receiver):
    with pytest.raises(paymongo.InvalidRequestException) as info:
        paymongo.Webhook.create({"url": receiver.url, "events": ["source.chargeable"]})
    assert info.value.errors[0].source["attribute"].startswith("events")
    assert paymongo.Webhook.all().data == []


def test_paid_failed_and_refunded_payments_are_posted_signed_as_paymongo_documents(
    secret, receiver
):
    hook = paymongo.Webhook.create({"url": receiver.url, "events": ALL_EVENTS})
    paid = paymongo.PaymentIntent.attach(
        create_intent(amount=4000).id, {"payment_method": create_card().id}
    )
    payment_id = paid.payments[0]["id"]
    paymongo.PaymentIntent.attach(
        create_intent().id, {"payment_method": create_card(DECLINED_CARD).id}
    )
    paymongo.Refund.create({"amount": 4000, "payment_id": payment_id, "reason": "duplicate"})
    deliver_everything()

    events = [verified(request, hook.secret_key) for request in receiver.requests]
    by_type = {e["data"]["attributes"]["type"]: e["data"] for e in events}
    assert sorted(by_type) == sorted(ALL_EVENTS)
    for event in by_type.values():
        assert event["type"] == "event" and event["id"].startswith("evt_")
        assert event["attributes"]["data"]["type"] == "payment"
        assert event["attributes"]["livemode"] is False
    paid_payment = by_type["payment.paid"]["attributes"]["data"]
    assert paid_payment["id"] == payment_id
    assert paid_payment["attributes"]["status"] == "paid"
    assert paid_payment["attributes"]["payment_intent_id"] == paid.id
    assert by_type["payment.failed"]["attributes"]["data"]["attributes"]["status"] == "failed"
    refunded = by_type["payment.refunded"]["attributes"]["data"]["attributes"]
    assert [r["attributes"]["amount"] for r in refunded["refunds"]] == [4000]
    assert [r["attributes"]["payment_id"] for r in refunded["refunds"]] == [payment_id]


def test_a_manual_capture_is_paid_when_captured_not_when_authorised(secret, receiver):
    paymongo.Webhook.create({"url": receiver.url, "events": ["payment.paid"]})
    intent = create_intent(capture_type="manual")
    paymongo.PaymentIntent.attach(intent.id, {"payment_method": create_card().id})
    deliver_everything()
    assert receiver.requests == []
    paymongo.PaymentIntent.capture(intent.id, {"amount": 10000})
    deliver_everything()
    [request] = receiver.requests
    assert json.loads(request["body"])["data"]["attributes"]["type"] == "payment.paid"


def test_a_disabled_webhook_is_sent_nothing(secret, receiver):
    hook = paymongo.Webhook.create({"url": receiver.url, "events": ["payment.paid"]})
    paymongo.Webhook.disable(hook.id)
    paymongo.PaymentIntent.attach(create_intent().id, {"payment_method": create_card().id})
    deliver_everything()
    assert receiver.requests == []


def test_the_library_verifies_a_live_mode_event(base, keys, receiver, settings, monkeypatch):
    """paymongo-python's `Webhook.construct_event` compares with the `li` signature (it reads
    `te` first, then always overwrites it with `li`), so it can check live-mode events only."""
    settings.SIMULATED_LIVE_PAYMENTS = True
    monkeypatch.setattr(paymongo, "api_key", keys.sk_live)
    hook = paymongo.Webhook.create({"url": receiver.url, "events": ["payment.paid"]})
    # a real card's number: test cards are refused in live mode
    live_card = create_card("4111111111111111")
    paid = paymongo.PaymentIntent.attach(create_intent().id, {"payment_method": live_card.id})
    assert paid.livemode is True and paid.status == "succeeded"
    deliver_everything()
    [request] = receiver.requests
    header = request["headers"]["paymongo-signature"]
    event = paymongo.Webhook.construct_event(
        payload=request["body"].decode(),
        signature_header=header,
        webhook_secret_key=hook.secret_key,
    )
    assert event.type == "payment.paid"
    assert event.resource["id"] == paid.payments[0]["id"]
    # a mismatch: the library means to raise SignatureVerificationException, whose constructor
    # (0.2.1) then fails on its string argument with a TypeError; either way it refuses
    with pytest.raises((paymongo.SignatureVerificationException, TypeError)):
        paymongo.Webhook.construct_event(
            payload=request["body"].decode().replace("paid", "PAID"),
            signature_header=header,
            webhook_secret_key=hook.secret_key,
        )


def test_capturing_more_than_authorised_is_paymongos_above_maximum(secret, base, keys):
    """A refusal for the stored intent's values (more than it holds) keeps PayMongo's code, with
    a header that tells it from a refusal for the request alone."""
    made = paid_through_v1(base, keys, capture_method="manual")
    answer = requests.post(
        f"{base}/paymongo/v1/payment_intents/{made['id']}/capture",
        json={"data": {"attributes": {"amount": 99999}}},
        auth=(keys.sk, ""),
        timeout=10,
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["code"] == "parameter_above_maximum"
    assert answer.json()["errors"][0]["source"]["attribute"] == "amount"  # as it was sent
    # and says it is the intent's values that refuse it, not the request alone
    assert answer.headers["Payintents-Refused-For"] == "object"
