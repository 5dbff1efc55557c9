"""Twenty submits of one checkout's form at once, on PostgreSQL with real threads: one charge,
one PaymentIntent, one `checkout_intent.finished`; every other submit is told the payment is
under way or done, none is a 500."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from checkout_pages.models import CheckoutIntent
from events.models import Event
from intents.models import PaymentIntent
from payments.models import Charge
from tests.checkout_pages.conftest import Browser, create, page_path

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

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
