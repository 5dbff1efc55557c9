"""The data migration that finishes the checkout intents paid before the outcome listener."""

from __future__ import annotations

import importlib

from django.apps import apps

from checkout_pages.models import CheckoutIntent
from events.models import Event
from tests.checkout_pages.conftest import create, page_path

finish_paid = importlib.import_module(
    "checkout_pages.migrations.0003_finish_paid_checkout_intents"
).finish_paid


def test_rows_paid_before_the_listener_are_finished_without_events(client, browser_client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    paid = create(client, customer=customer["id"], save_payment_method="true").json()
    assert browser_client.submit(page_path(paid["client_token"])).status_code == 303
    declined = create(client).json()
    browser_client.submit(page_path(declined["client_token"]), {"number": "4000000000000002"})
    # as a row written before this change could be: paid, yet its checkout still pending
    CheckoutIntent.objects.filter(id=paid["id"]).update(
        status="pending", finished_at=None, payment_method=None
    )
    events = Event.objects.count()

    finish_paid(apps, None)

    row = CheckoutIntent.objects.get(id=paid["id"])
    assert row.status == "finished" and row.finished_at is not None
    assert row.payment_method_id == row.payment_intent.payment_method_id  # attached: kept
    assert CheckoutIntent.objects.get(id=declined["id"]).status == "pending"
    assert Event.objects.count() == events  # a migration emits nothing
    finish_paid(apps, None)  # again: nothing left to do
    assert CheckoutIntent.objects.get(id=paid["id"]).finished_at == row.finished_at
