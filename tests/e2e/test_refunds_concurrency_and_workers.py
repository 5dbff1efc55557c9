"""Refunds with real threads on PostgreSQL and a real Celery worker on Redis."""

from __future__ import annotations

import threading

import pytest

from events.models import Event
from payments.models import Charge, Refund
from tests.conftest import wait_for
from tests.helpers import StripeTestClient

URL = "/v1/refunds"


def _race(n, call):
    barrier = threading.Barrier(n)
    results = []
    lock = threading.Lock()

    def run():
        from django.db import connection

        try:
            barrier.wait()
            response = call()
            with lock:
                results.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _captured(client, amount: int, pm: str = "pm_card_visa") -> dict:
    """An intent captured in full through a manual capture."""
    pi = client.post(
        "/v1/payment_intents",
        {
            "amount": amount,
            "currency": "usd",
            "payment_method": pm,
            "capture_method": "manual",
            "confirm": True,
        },
    ).json()
    captured = client.post(f"/v1/payment_intents/{pi['id']}/capture").json()
    assert captured["status"] == "succeeded", captured
    return captured


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("processor_mode")
def test_twenty_concurrent_refunds_never_exceed_the_capture(acct):
    client = StripeTestClient(key=acct.sk)
    pi = _captured(client, 1000)
    results = _race(
        20,
        lambda: StripeTestClient(key=acct.sk).post(
            URL, {"payment_intent": pi["id"], "amount": 100}
        ),
    )
    ok = [r for r in results if r.status_code == 200]
    refused = [r for r in results if r.status_code != 200]
    assert len(ok) == 10
    assert all(r.json()["status"] == "succeeded" for r in ok)
    assert len(refused) == 10
    assert {(r.status_code, r.error["code"]) for r in refused} == {(400, "amount_too_large")}
    charge = Charge.objects.get(id=pi["latest_charge"])
    assert charge.amount_refunded == 1000
    assert charge.amount_refund_pending == 0
    assert Refund.objects.filter(charge=charge, status="succeeded").count() == 10
    assert Event.objects.filter(object_id=charge.id, type="charge.refunded").count() == 10
    shown = client.get(f"/v1/charges/{charge.id}").json()
    assert shown["refunded"] is True
    assert shown["refunds"]["total_count"] == 10


@pytest.mark.redis
def test_refund_fail_card_is_resolved_to_failed_by_a_real_worker(celery_worker, acct, settings):
    settings.REFUND_RESOLVE_DELAY_SECONDS = 0
    client = StripeTestClient(key=acct.sk)
    pi = _captured(client, 1000, pm="pm_card_refundFail")
    body = client.post(URL, {"payment_intent": pi["id"], "amount": 600}).json()
    assert body["status"] == "pending"
    charge = Charge.objects.get(id=pi["latest_charge"])
    assert charge.amount_refund_pending == 600

    wait_for(
        lambda: Refund.objects.get(id=body["id"]).status == "failed",
        timeout=30,
        message="the worker to resolve the pending refund",
    )
    shown = client.get(f"{URL}/{body['id']}").json()
    assert shown["status"] == "failed"
    assert shown["failure_reason"] == "expired_or_canceled_card"
    types = set(Event.objects.filter(object_id=body["id"]).values_list("type", flat=True))
    assert {"refund.created", "charge.refund.updated", "refund.failed"} <= types
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.amount_refund_pending) == (0, 0)
    # what the failed refund held back can be refunded again
    again = client.post(URL, {"payment_intent": pi["id"], "amount": 1000})
    assert again.status_code == 200, again
