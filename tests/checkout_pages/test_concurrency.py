"""Submits of one checkout's form at once, on PostgreSQL with real threads. Twenty: one charge,
one PaymentIntent, one `checkout_intent.finished`; every other submit is told the payment is
under way or done, none is a 500. Two retries with different amounts: the payment's phase 2
(PaymentIntent locked, then the CheckoutIntent by its outcome listener) and the other submit
(CheckoutIntent locked, the PaymentIntent's amount set only after it committed) never deadlock."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from checkout_pages.models import CheckoutIntent
from events.models import Event
from intents.models import PaymentIntent
from payments.models import Charge
from tests.checkout_pages.conftest import Browser, create, page_path
from tests.helpers import StripeTestClient

pytestmark = [pytest.mark.django_db(transaction=True)]

SUBMITS = 20


def test_twenty_concurrent_submits_make_one_charge_and_one_finished_event(client):
    ci = create(client).json()
    path = page_path(ci["client_token"])
    browsers = [Browser() for _ in range(SUBMITS)]
    tokens = [b.form_token(path) for b in browsers]
    barrier = threading.Barrier(SUBMITS)
    statuses: list[int] = []

    def submit(browser: Browser, token: str) -> None:
        try:
            barrier.wait()
            statuses.append(browser.submit(path, token=token).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(browsers, tokens, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == SUBMITS
    assert 500 not in statuses
    assert statuses.count(303) >= 1  # the one that paid went on to completed_url
    assert set(statuses) <= {200, 303}  # the others: processing or finished pages
    assert Charge.objects.count() == 1
    assert Charge.objects.get().status == "succeeded"
    assert PaymentIntent.objects.count() == 1
    assert CheckoutIntent.objects.get(id=ci["id"]).status == "finished"
    assert Event.objects.filter(type="checkout_intent.finished", object_id=ci["id"]).count() == 1


def race(path: str, submits: list[dict]) -> list[int]:
    """Each of `submits` (form fields) from its own browser, started together; their statuses."""
    browsers = [Browser() for _ in submits]
    tokens = [b.form_token(path) for b in browsers]
    barrier = threading.Barrier(len(submits))
    statuses: list[int] = []

    def submit(browser: Browser, token: str, fields: dict) -> None:
        try:
            barrier.wait()
            statuses.append(browser.submit(path, fields, token=token).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=submit, args=args)
        for args in zip(browsers, tokens, submits, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


ROUNDS = 5


def test_two_retries_with_new_amounts_race_without_a_deadlock(client: StripeTestClient):
    for _ in range(ROUNDS):
        ci = client.post(
            "/v1/checkout_intents",
            {
                "type": "checkout_page",
                "currency": "usd",
                "amount_editable": "true",
                "amount_min": 500,
                "amount_max": 10000,
                "redirects": {"completed_url": "https://shop.example.com/done"},
            },
        ).json()
        path = page_path(ci["client_token"])
        # a declined first attempt: the checkout's PaymentIntent is open, and each retry brings
        # its amount up to date before confirming it
        declined = Browser().submit(path, {"number": "4000000000000002", "amount": "10.00"})
        assert declined.status_code == 402
        statuses = race(path, [{"amount": "20.00"}, {"amount": "30.00"}])

        # no deadlock (PostgreSQL aborts one of the two: a 503), no 500
        assert len(statuses) == 2 and all(status < 500 for status in statuses), statuses
        assert set(statuses) <= {200, 303}, statuses  # paid, or told it is under way / done
        row = CheckoutIntent.objects.get(id=ci["id"])
        succeeded = Charge.objects.filter(
            payment_intent_id=row.payment_intent_id, status="succeeded"
        )
        assert succeeded.count() <= 1  # at most one payment
        paid = succeeded.first()
        assert (row.status == "finished") == (paid is not None)
        finished = Event.objects.filter(type="checkout_intent.finished", object_id=ci["id"])
        assert finished.count() == (paid is not None)
        if paid is not None:
            assert paid.amount in (2000, 3000)
            assert row.payment_intent.amount_received == paid.amount
        assert row.failures_reported == 1  # the decline, reported once
