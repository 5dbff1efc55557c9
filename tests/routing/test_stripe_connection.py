"""A `stripe` processor connection, used as a merchant would: made through our API with the
upstream's secret key, then payments through our API move money at the upstream — a second
instance of this service on its own port and database (`tests.routing.upstream`), spoken to
over real HTTP by the official `stripe` library."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe

from payments.models import Charge, PaymentMethod
from routing.models import ProcessorConnection
from tests.helpers import StripeTestClient
from tests.routing.upstream import upstream  # noqa: F401  (the fixture)

PI = "/v1/payment_intents"


@pytest.fixture
def stripe_connection(client, upstream, settings):  # noqa: F811
    # the upstream is on loopback: allowed as it is for webhook endpoints (the same guard)
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    response = client.post(
        "/v1/processors",
        {
            "kind": "stripe",
            "name": "Upstream",
            "stripe": {"api_key": upstream.secret_key, "api_base": upstream.base_url},
        },
    )
    assert response.status_code == 200, response
    connection = response.json()
    flow = client.post(
        "/v1/payment_flows",
        {
            "name": "Upstream first",
            "routing": {"type": "priority", "processors": [connection["id"]]},
            "default": "true",
        },
    )
    assert flow.status_code == 200, flow
    return connection["id"]


@pytest.fixture
def upstream_client(upstream):  # noqa: F811
    return stripe.StripeClient(upstream.secret_key, base_addresses={"api": upstream.base_url})


def _charge(pi: dict) -> Charge:
    return Charge.objects.get(id=pi["latest_charge"])


def test_the_api_key_is_stored_encrypted_and_never_shown_again(client, stripe_connection, upstream):  # noqa: F811
    shown = client.get(f"/v1/processors/{stripe_connection}").json()
    assert shown["stripe"] == {
        "api_base": upstream.base_url,
        "api_key_last4": upstream.secret_key[-4:],
    }
    assert upstream.secret_key not in str(client.get("/v1/processors").json())
    assert upstream.secret_key not in str(client.get("/v1/events").json())
    stored = ProcessorConnection.objects.get(id=stripe_connection).api_key_encrypted
    assert stored and upstream.secret_key not in stored


def test_a_payment_goes_through_the_upstream(client, stripe_connection, upstream_client):
    response = client.post(
        PI,
        {
            "amount": "2000",
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "automatic",
            "confirm": "true",
        },
    )
    assert response.status_code == 200, response
    pi = response.json()
    assert pi["status"] == "succeeded"
    charge = _charge(pi)
    assert charge.processor_id == stripe_connection
    upstream_pi = upstream_client.v1.payment_intents.retrieve(charge.processor_reference)
    assert (upstream_pi.status, upstream_pi.amount, upstream_pi.amount_received) == (
        "succeeded",
        2000,
        2000,
    )
    assert upstream_pi.metadata["payintents_charge"] == charge.id
    # the card was tokenized upstream when its method was made; no number is stored here
    method = PaymentMethod.objects.get(id=pi["payment_method"])
    assert method.tokens[stripe_connection].startswith("pm_")
    assert "4242424242424242" not in str(PaymentMethod.objects.filter(id=method.id).values())


def test_manual_capture_and_a_partial_refund_happen_upstream(
    client, stripe_connection, upstream_client
):
    pi = client.post(
        PI,
        {
            "amount": "5000",
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
            "confirm": "true",
        },
    ).json()
    assert pi["status"] == "requires_capture"
    upstream_id = _charge(pi).processor_reference
    authorised = upstream_client.v1.payment_intents.retrieve(upstream_id)
    assert authorised.status == "requires_capture"
    # asked for as Stripe wants it asked, so an increment can be made later
    options = authorised.payment_method_options["card"]
    assert options["request_incremental_authorization"] == "if_available"

    captured = client.post(f"{PI}/{pi['id']}/capture", {"amount_to_capture": "3000"}).json()
    assert (captured["status"], captured["amount_received"]) == ("succeeded", 3000)
    assert upstream_client.v1.payment_intents.retrieve(upstream_id).amount_received == 3000

    refund = client.post("/v1/refunds", {"payment_intent": pi["id"], "amount": "1000"}).json()
    assert refund["status"] == "succeeded", refund
    upstream_refunds = upstream_client.v1.refunds.list(params={"payment_intent": upstream_id})
    assert [(r.amount, r.status) for r in upstream_refunds.data] == [(1000, "succeeded")]


def test_a_decline_upstream_is_our_decline(client, stripe_connection, upstream_client):
    response = client.post(
        PI,
        {
            "amount": "2000",
            "currency": "usd",
            "payment_method": "pm_card_chargeDeclined",
            "confirm": "true",
        },
    )
    assert response.status_code == 402
    assert (response.error["code"], response.error["decline_code"]) == (
        "card_declined",
        "generic_decline",
    )
    charge = Charge.objects.get(payment_intent_id=response.error["payment_intent"]["id"])
    assert charge.status == "failed" and charge.processor_id == stripe_connection
    upstream_pi = upstream_client.v1.payment_intents.retrieve(charge.processor_reference)
    assert upstream_pi.status == "requires_payment_method"


def test_3d_secure_asked_upstream_is_our_requires_action_and_completes(
    client, stripe_connection, upstream_client
):
    pi = client.post(
        PI,
        {
            "amount": "2000",
            "currency": "usd",
            "payment_method": "pm_card_threeDSecure2Required",
            "capture_method": "automatic",
            "confirm": "true",
            "return_url": "https://shop.example/done",
        },
    ).json()
    assert pi["status"] == "requires_action"
    ours = pi["next_action"]["redirect_to_url"]["url"]
    # our page sends the customer to the upstream's challenge, which comes back to our page
    ours_url = urlsplit(ours)
    page = client.django.get(f"{ours_url.path}?{ours_url.query}")
    assert page.status_code == 302
    challenge = page.headers["Location"]
    form = requests.get(challenge, timeout=10)
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    back = requests.post(
        challenge.split("?")[0],
        data={"token": token, "outcome": "complete"},
        allow_redirects=False,
        timeout=10,
    )
    assert back.status_code == 302
    returned = urlsplit(back.headers["Location"])
    assert parse_qs(returned.query)["redirect_status"] == ["succeeded"]
    done = client.django.get(f"{returned.path}?{returned.query}")
    assert done.status_code == 302
    assert done.headers["Location"].startswith("https://shop.example/done?")
    assert client.get(f"{PI}/{pi['id']}").json()["status"] == "succeeded"
    upstream_pi = upstream_client.v1.payment_intents.retrieve(_charge(pi).processor_reference)
    assert upstream_pi.status == "succeeded"


def test_a_live_account_takes_a_live_payment_through_stripe_and_never_the_simulator(
    acct,
    upstream,  # noqa: F811
    settings,
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    live = StripeTestClient(key=acct.sk_live)
    real_card = {"number": "4111111111111111", "exp_month": "12", "exp_year": "2035", "cvc": "123"}
    payment = {"amount": "2000", "currency": "usd", "capture_method": "automatic"}

    # before any real processor: the simulator takes no live payment
    pm = live.post("/v1/payment_methods", {"type": "card", "card": real_card}).json()
    refused = live.post(PI, {**payment, "payment_method": pm["id"], "confirm": "true"})
    assert refused.status_code == 402
    assert refused.error["code"] == "processing_error"
    assert "no live payments" in refused.error["message"]

    # a live Stripe connection, tried after the simulator by a retrying default flow
    connection = live.post(
        "/v1/processors",
        {
            "kind": "stripe",
            "name": "Stripe live",
            "stripe": {"api_key": upstream.live_secret_key, "api_base": upstream.base_url},
        },
    ).json()
    assert connection["livemode"] is True
    builtin = [
        p["id"] for p in live.get("/v1/processors").json()["data"] if p["kind"] == "simulated"
    ]
    flow = live.post(
        "/v1/payment_flows",
        {
            "name": "Live",
            "routing": {"type": "priority", "processors": [*builtin, connection["id"]]},
            "retry": {"max_attempts": "2"},
            "default": "true",
        },
    )
    assert flow.status_code == 200, flow
    pm = live.post("/v1/payment_methods", {"type": "card", "card": real_card}).json()
    paid = live.post(PI, {**payment, "payment_method": pm["id"], "confirm": "true"}).json()
    assert paid["status"] == "succeeded" and paid["livemode"] is True
    charge = _charge(paid)
    assert (charge.processor_id, charge.attempt_number) == (connection["id"], 2)
    upstream_live = stripe.StripeClient(
        upstream.live_secret_key, base_addresses={"api": upstream.base_url}
    )
    upstream_pi = upstream_live.v1.payment_intents.retrieve(charge.processor_reference)
    assert (upstream_pi.livemode, upstream_pi.status, upstream_pi.amount_received) == (
        True,
        "succeeded",
        2000,
    )
    # test cards stay refused in live mode
    response = live.post(
        "/v1/payment_methods", {"type": "card", "card": {**real_card, "number": "4242424242424242"}}
    )
    assert response.status_code == 402
