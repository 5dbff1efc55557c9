"""Saving a card on the hosted page goes through a SetupIntent's verification (the processor
checks the card as it would for a payment): a declining card is refused on the page, a 3-D
Secure card goes through the challenge and comes back to the page. And a decline that comes
after the submit (after 3-D Secure, or once a `processing` payment settles) is told on the page
as one at the submit is."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from checkout_pages.models import CheckoutIntent
from events.models import Event
from intents.models import PaymentIntent, SetupIntent
from intents.services import payment_intent_resolve_processing
from payments.models import Attempt, PaymentMethod
from tests.checkout_pages.conftest import COMPLETED, page_path

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways


@pytest.fixture
def card_form(client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()["id"]
    ci = client.post(
        "/v1/checkout_intents",
        {
            "type": "payment_method_form",
            "customer": customer,
            "redirects": {"completed_url": COMPLETED},
        },
    ).json()
    return ci, customer


def _types(object_id: str) -> list[str]:
    return list(
        Event.objects.filter(object_id=object_id)
        .order_by("created", "id")
        .values_list("type", flat=True)
    )


def _challenge(browser_client, location: str, outcome: str):
    page = browser_client.get(location)
    token = page.content.decode().split('name="token" value="')[1].split('"')[0]
    return browser_client.client.post(location.split("?")[0], {"token": token, "outcome": outcome})


def test_a_declined_card_is_not_saved_and_a_good_one_then_is(client, card_form, browser_client):
    ci, customer = card_form
    path = page_path(ci["client_token"])
    declined = browser_client.submit(path, {"number": "4000 0000 0000 0002"})
    assert declined.status_code == 402
    assert b"Your card was declined" in declined.content
    assert not PaymentMethod.objects.filter(customer_id=customer).exists()
    row = CheckoutIntent.objects.get(id=ci["id"])
    assert row.status == "pending" and row.failures_reported == 1
    si = row.setup_intent
    assert si.status == "requires_payment_method"
    assert si.last_setup_error["decline_code"] == "generic_decline"
    done = browser_client.submit(path)
    assert done.status_code == 200 and b"Card saved" in done.content
    row = CheckoutIntent.objects.get(id=ci["id"])
    assert row.status == "finished" and row.setup_intent_id == si.id  # the same SetupIntent
    assert SetupIntent.objects.get(id=si.id).status == "succeeded"
    assert PaymentMethod.objects.get(id=row.payment_method_id).customer_id == customer
    assert _types(si.id) == [
        "setup_intent.created",
        "setup_intent.setup_failed",
        "setup_intent.succeeded",
    ]
    assert _types(ci["id"]) == [
        "checkout_intent.created",
        "checkout_intent.payment_failed",
        "checkout_intent.finished",
    ]
    assert list(Attempt.objects.filter(target=si.id).values_list("kind", flat=True)) == [
        "verify",
        "verify",
    ]


def test_a_3d_secure_card_is_saved_after_the_challenge(client, card_form, browser_client):
    ci, customer = card_form
    path = page_path(ci["client_token"])
    challenge = browser_client.submit(path, {"number": "4000 0027 6000 3184"})
    assert challenge.status_code == 303
    assert "/authenticate/setup_intents/seti_" in challenge["Location"]
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "pending"
    back = _challenge(browser_client, challenge["Location"], "complete")
    assert back.status_code == 302 and "/checkout/" in back["Location"]
    assert "redirect_status=succeeded" in back["Location"]
    # the challenge's own phase 2 finished the checkout: the return only reads it
    row = CheckoutIntent.objects.get(id=ci["id"])
    assert row.status == "finished"
    assert PaymentMethod.objects.get(id=row.payment_method_id).customer_id == customer
    done = browser_client.get(back["Location"])
    assert b"Card saved" in done.content


def test_a_failed_challenge_is_told_on_the_page(client, card_form, browser_client):
    ci, _ = card_form
    path = page_path(ci["client_token"])
    challenge = browser_client.submit(path, {"number": "4000 0027 6000 3184"})
    back = _challenge(browser_client, challenge["Location"], "fail")
    page = browser_client.get(back["Location"]).content.decode()
    assert 'role="alert" id="decline"' in page and "Your bank could not confirm" in page
    assert 'aria-describedby="decline"' in page  # the form is described by it
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "pending"


def test_a_decline_after_3d_secure_is_told_when_the_page_is_opened_again(checkout, browser_client):
    path = page_path(checkout["client_token"])
    challenge = browser_client.submit(path, {"number": "4000 0082 6000 3178"})
    _challenge(browser_client, challenge["Location"], "complete")
    page = browser_client.get(path).content.decode()
    assert "Your card has insufficient funds" in page
    assert 'data-event="declined"' in page and 'aria-describedby="decline"' in page


def test_a_payment_declined_once_it_settles_is_told_on_the_page(checkout, browser_client):
    path = page_path(checkout["client_token"])
    assert browser_client.submit(path, {"number": "4000 0000 0000 0259"}).status_code == 200
    pi_id = CheckoutIntent.objects.get(id=checkout["id"]).payment_intent_id
    PaymentIntent.objects.filter(id=pi_id).update(processing_resolve_at=timezone.now())
    assert payment_intent_resolve_processing(payment_intent_id=pi_id)
    page = browser_client.get(path).content.decode()
    assert 'id="decline"' in page and "Your card was declined" in page


def test_a_decline_about_a_card_field_is_shown_at_that_field(checkout, browser_client):
    path = page_path(checkout["client_token"])
    declined = browser_client.submit(path, {"number": "4000 0000 0000 0127"})
    assert declined.status_code == 402
    html = declined.content.decode()
    assert re.search(
        r'<input id="cvc"[^>]*aria-invalid="true" aria-describedby="cvc-error-1"', html
    )
    assert "The security code (CVC) is incorrect" in html
    # opened again, the same decline at the same field
    again = browser_client.get(path).content.decode()
    assert re.search(r'<input id="cvc"[^>]*aria-invalid="true"', again)


def test_a_framed_card_form_runs_3d_secure_in_its_own_window_and_follows_it(client, browser_client):
    customer = client.post("/v1/customers", {"email": "f@example.com"}).json()["id"]
    ci = client.post(
        "/v1/checkout_intents",
        {
            "type": "payment_method_form",
            "customer": customer,
            "allowed_origins": ["https://shop.example.com"],
            "redirects": {"completed_url": COMPLETED},
        },
    ).json()
    path = page_path(ci["client_token"])
    page = browser_client.submit(path, {"number": "4000 0027 6000 3184"})
    assert page.status_code == 200
    html = page.content.decode()
    challenge = html.split('id="authenticate" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "/authenticate/setup_intents/seti_" in challenge
    status = html.split('data-status-url="')[1].split('"')[0]
    assert browser_client.get(status).json() == {"waiting": True}
    back = _challenge(browser_client, challenge, "complete")
    assert "window=challenge" in back["Location"]
    assert browser_client.get(status).json() == {"waiting": False}
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "finished"
