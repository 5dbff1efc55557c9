"""Real threads on PostgreSQL, a real Celery worker on Redis, a real beat."""

import threading
import time
from collections import Counter

import pytest

from events.models import Event
from intents.models import PaymentIntent
from intents.services import charges_capture_pending, payment_intents_expire_due
from payments.models import Charge
from payments.processors.simulated import SimulatedProcessor
from tests.conftest import WorkerProcess, redis_url, wait_for
from tests.helpers import StripeTestClient

URL = "/v1/payment_intents"


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("processor_mode")
def test_twenty_concurrent_confirms_succeed_exactly_once(acct):
    client = StripeTestClient(key=acct.sk)
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "automatic",
        },
    ).json()
    results = _race(20, lambda: StripeTestClient(key=acct.sk).post(f"{URL}/{pi['id']}/confirm"))
    ok = [r for r in results if r.status_code == 200]
    others = [r for r in results if r.status_code != 200]
    assert len(ok) == 1
    assert all(r.status_code == 400 for r in others)
    assert {r.error["code"] for r in others} == {"payment_intent_unexpected_state"}
    assert Charge.objects.filter(payment_intent_id=pi["id"]).count() == 1
    assert Charge.objects.filter(payment_intent_id=pi["id"], captured=True).count() == 1
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.succeeded").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("processor_mode")
def test_twenty_concurrent_captures_capture_exactly_once(acct):
    client = StripeTestClient(key=acct.sk)
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
            "confirm": True,
        },
    ).json()
    assert pi["status"] == "requires_capture"
    results = _race(20, lambda: StripeTestClient(key=acct.sk).post(f"{URL}/{pi['id']}/capture"))
    ok = [r for r in results if r.status_code == 200]
    others = [r for r in results if r.status_code != 200]
    assert len(ok) == 1
    assert {r.error["code"] for r in others} == {"payment_intent_unexpected_state"}
    intent = PaymentIntent.objects.get(id=pi["id"])
    assert intent.status == "succeeded" and intent.amount_received == 2000
    assert Event.objects.filter(type="charge.captured", object_id=pi["latest_charge"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_sweeps_running_twice_at_once_expire_each_intent_once(acct, settings):
    client = StripeTestClient(key=acct.sk)
    ids = [
        client.post(
            URL,
            {
                "amount": 2000,
                "currency": "usd",
                "payment_method": "pm_card_visa",
                "capture_method": "manual",
                "confirm": True,
            },
        ).json()["id"]
        for _ in range(6)
    ]
    settings.AUTHORIZATION_EXPIRY_SECONDS = 0
    counts = _race(4, lambda: payment_intents_expire_due(batch_size=2))
    assert sum(counts) == 6
    assert PaymentIntent.objects.filter(id__in=ids, cancellation_reason="expired").count() == 6
    assert Event.objects.filter(object_id__in=ids, type="payment_intent.canceled").count() == 6


@pytest.mark.django_db(transaction=True)
def test_two_capture_sweeps_at_once_ask_the_processor_once_per_charge(acct, monkeypatch):
    client = StripeTestClient(key=acct.sk)
    charge_ids = [
        client.post(
            URL,
            {"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True},
        ).json()["latest_charge"]
        for _ in range(6)
    ]
    assert Charge.objects.filter(id__in=charge_ids, capture_pending=True).count() == 6
    calls = Counter()
    calls_lock = threading.Lock()
    capture = SimulatedProcessor.capture

    def counted_capture(self, *, reference, **kwargs):
        with calls_lock:
            calls[reference] += 1
        time.sleep(0.05)  # a slow processor: both sweeps are running while it answers
        return capture(self, reference=reference, **kwargs)

    monkeypatch.setattr(SimulatedProcessor, "capture", counted_capture)
    counts = _race(2, lambda: charges_capture_pending(batch_size=4))
    assert sum(counts) == 6
    assert calls == Counter({charge_id: 1 for charge_id in charge_ids})
    assert (
        Charge.objects.filter(id__in=charge_ids, captured=True, capture_pending=False).count() == 6
    )
    assert Event.objects.filter(object_id__in=charge_ids, type="charge.updated").count() == 6


@pytest.mark.redis
def test_processing_is_resolved_by_a_real_worker(celery_worker, acct, settings):
    settings.SIMULATED_PROCESSING_DELAY_SECONDS = 0
    client = StripeTestClient(key=acct.sk)
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_processing",
            "confirm": True,
        },
    ).json()
    assert pi["status"] == "processing"
    wait_for(
        lambda: PaymentIntent.objects.get(id=pi["id"]).status == "succeeded",
        timeout=30,
        message="the worker to resolve the processing intent",
    )
    # automatic_async: the worker also owes (and makes) the capture
    wait_for(
        lambda: Charge.objects.get(id=pi["latest_charge"]).captured,
        timeout=30,
        message="the worker to capture the charge",
    )


@pytest.mark.redis
def test_expiry_by_a_real_beat_run(transactional_db, acct, settings):
    from config.celery import app

    url = redis_url()
    import redis

    redis.Redis.from_url(url).flushdb()
    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    client = StripeTestClient(key=acct.sk)
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
            "confirm": True,
        },
    ).json()
    assert pi["status"] == "requires_capture"
    worker = WorkerProcess(
        broker_url=url,
        beat=True,
        extra_env={"AUTHORIZATION_EXPIRY_SECONDS": "0", "INTENTS_EXPIRY_SWEEP_SECONDS": "1"},
    ).start()
    try:
        intent = wait_for(
            lambda: PaymentIntent.objects.filter(id=pi["id"], status="canceled").first(),
            timeout=40,
            message="beat to expire the authorisation",
        )
    finally:
        worker.stop()
    assert intent.cancellation_reason == "expired"
