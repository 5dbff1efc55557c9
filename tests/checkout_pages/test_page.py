"""The hosted page and the embedded forms through HTTP: what the customer's browser sends and
gets (the real-browser tests are in test_browser.py)."""

from __future__ import annotations

import logging
import re

import pytest
from django.utils import timezone

from checkout_pages.models import CheckoutIntent
from checkout_pages.services import (
    checkout_intent_learn_payment_outcome,
    checkout_intent_pay,
    checkout_intents_expire_due,
    sweeps,
)
from checkouts.models import Checkout
from core.scope import Scope
from events.models import Event
from intents.models import PaymentIntent
from intents.services import payment_intent_confirm, payment_intent_resolve_processing
from intents.services._common import PaymentOutcome, _listeners
from payments.models import Charge, PaymentMethod
from payments.processors.base import RawCard
from tests.checkout_pages.conftest import COMPLETED, create, page_path

# The checkout learns each outcome inside phase 2: with the simulator in-process (one
# transaction) and as a remote processor (two phases) alike.
BOTH_WAYS = pytest.mark.usefixtures("processor_mode")


def types_of(ci_id: str) -> list[str]:
    return list(
        Event.objects.filter(object_id=ci_id).order_by("created").values_list("type", flat=True)
    )


def test_page_shows_the_form_with_the_money_and_the_security_headers(checkout, browser_client):
    response = browser_client.get(page_path(checkout["client_token"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "$20.00" in html and "Two tickets" in html and "Acme" in html
    assert 'name="number"' in html and 'name="cvc"' in html and 'name="exp"' in html
    assert 'name="line1"' not in html and 'name="amount"' not in html
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in html and "<style>" not in html  # nothing inline: the CSP forbids it
    # its own (empty) icon, allowed by `img-src data:`: no request for a /favicon.ico that 404s
    assert '<link rel="icon" href="data:,">' in html and "img-src 'self' data:" in csp


def test_plugin_page_is_frameable_by_its_allowed_origins_only(client, browser_client):
    ci = client.post(
        "/v1/checkout_intents",
        {
            "type": "checkout_plugin",
            "amount": 1000,
            "currency": "usd",
            "allowed_origins": ["https://shop.example.com", "http://localhost:8001"],
        },
    ).json()
    response = browser_client.get(
        page_path(ci["client_token"]) + "?origin=https://shop.example.com"
    )
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors https://shop.example.com http://localhost:8001" in csp
    assert "X-Frame-Options" not in response
    assert 'data-parent-origin="https://shop.example.com"' in response.content.decode()
    foreign = browser_client.get(page_path(ci["client_token"]) + "?origin=https://evil.example")
    assert 'data-parent-origin=""' in foreign.content.decode()


def test_page_render_query_count(checkout, browser_client, django_assert_max_num_queries):
    browser_client.get(page_path(checkout["client_token"]))  # the first view tracks billing
    with django_assert_max_num_queries(2):  # shown again: nothing new to track, no write
        response = browser_client.get(page_path(checkout["client_token"]))
    assert response.status_code == 200


def test_unknown_token_is_a_plain_404_page(db, browser_client):
    response = browser_client.get(page_path("ctok_" + "a" * 32))
    assert response.status_code == 404 and b"not valid" in response.content
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("origin", ["null", "https://evil.example", None])
def test_a_post_from_anywhere_but_the_page_is_refused(checkout, browser_client, origin):
    response = browser_client.submit(page_path(checkout["client_token"]), origin=origin)
    assert response.status_code == 403
    assert not Charge.objects.exists() and not PaymentMethod.objects.exists()


def test_a_post_without_the_form_token_is_refused(checkout, browser_client):
    response = browser_client.submit(page_path(checkout["client_token"]), token="forged")
    assert response.status_code == 403
    assert not Charge.objects.exists()


def test_pay_finishes_and_redirects_with_the_parameters(client, checkout, browser_client):
    response = browser_client.submit(page_path(checkout["client_token"]))
    assert response.status_code == 303
    assert response["Location"] == f"{COMPLETED}?checkout_intent={checkout['id']}&status=finished"
    body = client.get(f"/v1/checkout_intents/{checkout['id']}").json()
    assert body["status"] == "finished" and body["finished_at"]
    pi = client.get(f"/v1/payment_intents/{body['payment_intent']}").json()
    assert (pi["status"], pi["amount"], pi["description"]) == ("succeeded", 2000, "Two tickets")
    assert types_of(checkout["id"]) == ["checkout_intent.created", "checkout_intent.finished"]
    again = browser_client.get(page_path(checkout["client_token"]))
    assert b"Payment complete" in again.content and b'id="checkout-form"' not in again.content


@BOTH_WAYS
def test_decline_then_success_are_two_attempts_on_one_payment_intent(
    client, checkout, browser_client
):
    path = page_path(checkout["client_token"])
    declined = browser_client.submit(path, {"number": "4000000000000002"})
    assert declined.status_code == 402
    assert b"Your card was declined. Try another card" in declined.content
    assert b'id="checkout-form"' in declined.content
    insufficient = browser_client.submit(path, {"number": "4000000000009995"})
    assert b"insufficient funds" in insufficient.content
    paid = browser_client.submit(path)
    assert paid.status_code == 303
    body = client.get(f"/v1/checkout_intents/{checkout['id']}").json()
    assert [(a["status"], a["decline_code"]) for a in body["attempts"]] == [
        ("failed", "generic_decline"),
        ("failed", "insufficient_funds"),
        ("succeeded", None),
    ]
    assert {a["payment_intent"] for a in body["attempts"]} == {body["payment_intent"]}
    assert PaymentIntent.objects.count() == 1
    assert types_of(checkout["id"]) == [
        "checkout_intent.created",
        "checkout_intent.payment_failed",
        "checkout_intent.payment_failed",
        "checkout_intent.finished",
    ]


def test_card_errors_show_inline_at_their_field(checkout, browser_client):
    path = page_path(checkout["client_token"])
    bad_number = browser_client.submit(path, {"number": "4242424242424241"})
    assert bad_number.status_code == 402 and b"Your card number is" in bad_number.content
    missing = browser_client.submit(path, {"cvc": "", "exp": "13"})
    assert missing.status_code == 400
    assert b"Enter the security code." in missing.content
    assert b"Enter the expiry date" in missing.content
    assert not Charge.objects.exists()


def test_card_data_is_never_logged(checkout, browser_client, caplog):
    caplog.set_level(logging.DEBUG)
    browser_client.submit(
        page_path(checkout["client_token"]), {"number": "4000000000000002", "cvc": "987"}
    )
    browser_client.submit(page_path(checkout["client_token"]), {"cvc": "987"})
    text = caplog.text
    assert "4000000000000002" not in text and "4242424242424242" not in text
    # The CVC as a value of its own: "987" may well be part of a timestamp or an id.
    assert not re.search(r"(?<![0-9A-Za-z])987(?![0-9A-Za-z])", text), text
    stored = str(list(PaymentMethod.objects.values())) + str(list(Charge.objects.values()))
    assert "4000000000000002" not in stored and "4242424242424242" not in stored


@BOTH_WAYS
def test_3d_secure_comes_back_to_the_page(client, checkout, browser_client):
    path = page_path(checkout["client_token"])
    challenge = browser_client.submit(path, {"number": "4000002760003184"})
    assert (
        challenge.status_code == 303 and "/authenticate/payment_intents/" in challenge["Location"]
    )
    three_ds = browser_client.get(challenge["Location"])
    token = three_ds.content.decode().split('name="token" value="')[1].split('"')[0]
    back = browser_client.client.post(
        challenge["Location"].split("?")[0], {"token": token, "outcome": "fail"}
    )
    assert back.status_code == 302 and "/checkout/" in back["Location"]
    page = browser_client.get(back["Location"])
    assert page.status_code == 200 and b"Your bank could not confirm this payment" in page.content
    challenge = browser_client.submit(path, {"number": "4000002760003184"})
    three_ds = browser_client.get(challenge["Location"])
    token = three_ds.content.decode().split('name="token" value="')[1].split('"')[0]
    back = browser_client.client.post(
        challenge["Location"].split("?")[0], {"token": token, "outcome": "complete"}
    )
    # the challenge's own phase 2 finished the checkout: the return only reads it
    assert CheckoutIntent.objects.get(id=checkout["id"]).status == "finished"
    done = browser_client.get(back["Location"])
    assert done.status_code == 303
    assert done["Location"] == f"{COMPLETED}?checkout_intent={checkout['id']}&status=finished"
    body = client.get(f"/v1/checkout_intents/{checkout['id']}").json()
    assert [a["status"] for a in body["attempts"]] == ["failed", "succeeded"]
    assert browser_client.get(back["Location"]).status_code == 303  # again: nothing new
    assert types_of(checkout["id"]) == [
        "checkout_intent.created",
        "checkout_intent.payment_failed",  # the failed challenge, reported once
        "checkout_intent.finished",
    ]


def test_amount_editable_charges_what_the_customer_typed_within_the_bounds(client, browser_client):
    ci = client.post(
        "/v1/checkout_intents",
        {
            "type": "checkout_page",
            "currency": "usd",
            "amount_editable": "true",
            "amount_min": 500,
            "amount_max": 10000,
            "redirects": {"completed_url": COMPLETED},
        },
    ).json()
    path = page_path(ci["client_token"])
    assert b'name="amount"' in browser_client.get(path).content
    too_much = browser_client.submit(path, {"amount": "150.00"})
    assert too_much.status_code == 400 and b"outside what this checkout accepts" in too_much.content
    not_money = browser_client.submit(path, {"amount": "12.345"})
    assert not_money.status_code == 400
    paid = browser_client.submit(path, {"amount": "42.50"})
    assert paid.status_code == 303
    pi = PaymentIntent.objects.get()
    assert (pi.amount, pi.amount_received) == (4250, 4250)


def test_billing_address_when_asked(client, browser_client):
    ci = create(client, billing_address="true").json()
    path = page_path(ci["client_token"])
    missing = browser_client.submit(path)
    assert missing.status_code == 400 and b"Complete the billing address." in missing.content
    address = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
    assert browser_client.submit(path, address).status_code == 303
    pm = PaymentMethod.objects.get()
    assert pm.billing_details["address"]["city"] == "Springfield"


def test_payment_method_form_saves_a_card_without_charging(client, browser_client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    ci = client.post(
        "/v1/checkout_intents",
        {
            "type": "payment_method_form",
            "customer": customer["id"],
            "redirects": {"completed_url": COMPLETED},
        },
    ).json()
    page = browser_client.get(page_path(ci["client_token"]))
    assert b"Save card" in page.content
    done = browser_client.submit(page_path(ci["client_token"]))
    assert done.status_code == 200 and b"Card saved" in done.content
    assert b"status=finished" in done.content
    body = client.get(f"/v1/checkout_intents/{ci['id']}").json()
    assert body["status"] == "finished" and body["payment_method"]
    pm = client.get(f"/v1/payment_methods/{body['payment_method']}").json()
    assert pm["customer"] == customer["id"]
    assert not Charge.objects.exists() and not PaymentIntent.objects.exists()


def test_canceled_and_expired_show_a_status_page_that_cannot_pay(client, checkout, browser_client):
    path = page_path(checkout["client_token"])
    token = browser_client.form_token(path)
    CheckoutIntent.objects.filter(id=checkout["id"]).update(expires_at=timezone.now())
    page = browser_client.get(path)
    assert (
        b"This checkout has expired" in page.content and b'id="checkout-form"' not in page.content
    )
    late = browser_client.submit(path, token=token)
    assert b"This checkout has expired" in late.content
    assert not Charge.objects.exists() and not PaymentMethod.objects.exists()
    other = create(client).json()
    client.post(f"/v1/checkout_intents/{other['id']}/cancel")
    assert (
        b"This checkout was canceled"
        in browser_client.get(page_path(other["client_token"])).content
    )


# --- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_expires_emits_and_cancels_the_open_payment_intent(
    client, checkout, browser_client
):
    browser_client.submit(page_path(checkout["client_token"]), {"number": "4000000000000002"})
    fresh = create(client).json()
    CheckoutIntent.objects.filter(id=checkout["id"]).update(expires_at=timezone.now())
    assert checkout_intents_expire_due() == 1
    ci = CheckoutIntent.objects.get(id=checkout["id"])
    assert ci.status == "expired" and ci.expired_at == ci.expires_at
    assert ci.payment_intent.status == "canceled"
    assert types_of(checkout["id"])[-1] == "checkout_intent.expired"
    assert CheckoutIntent.objects.get(id=fresh["id"]).status == "pending"
    assert checkout_intents_expire_due() == 0  # nothing twice


@BOTH_WAYS
def test_a_payment_in_flight_at_expiry_is_finished_not_lost(client, checkout, browser_client):
    path = page_path(checkout["client_token"])
    assert browser_client.submit(path, {"number": "4000000000000077"}).status_code == 200
    ci = CheckoutIntent.objects.get(id=checkout["id"])
    assert ci.payment_intent.status == "processing"
    refused = client.post(f"/v1/checkout_intents/{ci.id}/expire")
    assert refused.error["code"] == "checkout_intent_payment_in_progress"
    CheckoutIntent.objects.filter(id=ci.id).update(expires_at=timezone.now())
    assert checkout_intents_expire_due() == 0  # under way: left pending, nothing pulled
    assert CheckoutIntent.objects.get(id=ci.id).status == "pending"
    # the worker resolves the processing attempt: its phase 2 finishes the checkout
    PaymentIntent.objects.filter(id=ci.payment_intent_id).update(
        processing_resolve_at=timezone.now()
    )
    assert payment_intent_resolve_processing(payment_intent_id=ci.payment_intent_id)
    assert PaymentIntent.objects.get(id=ci.payment_intent_id).status == "succeeded"
    assert CheckoutIntent.objects.get(id=ci.id).status == "finished"
    assert types_of(ci.id) == ["checkout_intent.created", "checkout_intent.finished"]
    assert checkout_intents_expire_due() == 0


@BOTH_WAYS
def test_a_payment_that_succeeds_after_the_expiry_still_finishes(
    client, checkout, browser_client, monkeypatch
):
    path = page_path(checkout["client_token"])
    assert browser_client.submit(path, {"number": "4000000000000002"}).status_code == 402
    ci = CheckoutIntent.objects.get(id=checkout["id"])
    cancel = sweeps.cancel_open_payment_intent

    def confirmed_first(ci, pi):
        # the customer's retry, past its submit's check, reaches the processor between the
        # sweep's commit and its cancel of the open PaymentIntent
        paid = payment_intent_confirm(
            scope=Scope.of(ci), payment_intent_id=pi.id, payment_method="pm_card_visa"
        )
        assert paid.status == "succeeded"
        cancel(ci, pi)  # refused now (logged): the PaymentIntent moved on

    monkeypatch.setattr(sweeps, "cancel_open_payment_intent", confirmed_first)
    CheckoutIntent.objects.filter(id=ci.id).update(expires_at=timezone.now())
    assert checkout_intents_expire_due() == 1
    ci = CheckoutIntent.objects.get(id=ci.id)
    assert ci.status == "finished" and ci.expired_at and ci.finished_at  # the money moved
    assert ci.payment_intent.status == "succeeded"
    assert types_of(ci.id)[-3:] == [
        "checkout_intent.payment_failed",
        "checkout_intent.expired",
        "checkout_intent.finished",
    ]


# --- the outcome, learned in the payment's own transaction --------------------------------------


SEEN_IN_PHASE_2: list[str] = []


def fail_after_announce(outcome):
    """A listener after the checkout's: it notes the checkout intent as phase 2's transaction
    sees it, then that transaction fails once the outcome was told."""
    if outcome.status == "succeeded":
        SEEN_IN_PHASE_2.append(CheckoutIntent.objects.get(payment_intent_id=outcome.pi.id).status)
        raise RuntimeError("phase 2 failed after the outcome was announced")


@pytest.fixture
def failing_phase_2(settings):
    settings.PAYMENT_OUTCOME_LISTENERS = [
        *settings.PAYMENT_OUTCOME_LISTENERS,
        "tests.checkout_pages.test_page.fail_after_announce",
    ]
    _listeners.cache_clear()
    SEEN_IN_PHASE_2.clear()
    yield
    _listeners.cache_clear()  # read again from the settings, restored after this fixture


@BOTH_WAYS
def test_the_checkout_finishes_in_the_transaction_that_writes_the_payment(
    client, checkout, failing_phase_2
):
    ci = CheckoutIntent.objects.get(id=checkout["id"])
    card = RawCard(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123")
    with pytest.raises(RuntimeError, match="after the outcome was announced"):
        checkout_intent_pay(scope=Scope.of(ci), checkout_intent_id=ci.id, card=card)
    # the checkout was finished inside the payment's phase 2 transaction...
    assert SEEN_IN_PHASE_2 == ["finished"]
    # ...and rolled back with it: the payment's outcome, the checkout's finish and the tracked
    # checkout's completion
    pi = PaymentIntent.objects.get()
    assert pi.status != "succeeded" and pi.amount_received == 0
    assert not Charge.objects.filter(status="succeeded").exists()
    ci = CheckoutIntent.objects.get(id=ci.id)
    assert (ci.status, ci.finished_at, ci.failures_reported) == ("pending", None, 0)
    assert types_of(ci.id) == ["checkout_intent.created"]
    assert Checkout.objects.get(id=ci.checkout_id).status != "complete"
    assert not Event.objects.filter(type="payment_intent.succeeded").exists()


def test_a_payment_intent_of_no_checkout_costs_the_listener_no_query(
    client, django_assert_num_queries
):
    pi = client.post(
        "/v1/payment_intents",
        {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true"},
    ).json()
    pi = PaymentIntent.objects.select_related("latest_charge").get(id=pi["id"])
    outcome = PaymentOutcome(pi, pi.latest_charge, "succeeded")
    with django_assert_num_queries(0):
        checkout_intent_learn_payment_outcome(outcome)


@BOTH_WAYS
def test_save_payment_method_keeps_the_paying_card_on_the_customer(client, browser_client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    ci = create(client, customer=customer["id"], save_payment_method="true").json()
    assert browser_client.submit(page_path(ci["client_token"])).status_code == 303
    body = client.get(f"/v1/checkout_intents/{ci['id']}").json()
    pm = client.get(f"/v1/payment_methods/{body['payment_method']}").json()
    assert pm["customer"] == customer["id"]
    pi = client.get(f"/v1/payment_intents/{body['payment_intent']}").json()
    assert pi["setup_future_usage"] == "off_session"
