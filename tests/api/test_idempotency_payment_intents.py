"""Idempotency on the real payment-intent routes: concurrent retries of a create or a confirm
execute once; a decline is replayed without a second attempt; a crashed request's key is
claimable after the lock timeout."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from api.idempotency import params_hash
from api.models import IdempotencyKey
from events.models import Event
from intents.models import PaymentIntent
from payments.models import Charge
from tests.helpers import StripeTestClient

THREADS = 30


def _race(acct, path: str, data: dict, key: str) -> list:
    barrier = threading.Barrier(THREADS)
    answers: list = []
    lock = threading.Lock()

    def send():
        client = StripeTestClient(key=acct.sk)
        try:
            barrier.wait()
            response = client.post(path, data, headers={"Idempotency-Key": key})
            with lock:
                answers.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _assert_one_answer_or_busy(answers: list) -> bytes:
    assert len(answers) == THREADS
    ok = [a for a in answers if a.status_code == 200]
    busy = [a for a in answers if a.status_code == 409]
    assert len(ok) + len(busy) == THREADS, [a for a in answers if a.status_code not in (200, 409)]
    assert ok, "no request completed"
    assert len({a.content for a in ok}) == 1
    assert {a.error["code"] for a in busy} <= {"idempotency_key_in_use"}
    assert sum("Idempotent-Replayed" not in a.headers for a in ok) == 1
    return ok[0].content


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_creates_with_one_key_make_one_intent(acct):
    data = {"amount": 2000, "currency": "usd", "metadata": {"order": "42"}}
    answers = _race(acct, "/v1/payment_intents", data, "create-race")
    body = _assert_one_answer_or_busy(answers)
    assert PaymentIntent.objects.filter(account=acct.account).count() == 1
    assert Event.objects.filter(account=acct.account, type="payment_intent.created").count() == 1
    later = StripeTestClient(key=acct.sk).post(
        "/v1/payment_intents", data, headers={"Idempotency-Key": "create-race"}
    )
    assert later.status_code == 200
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.content == body


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_confirms_with_one_key_make_one_charge(acct):
    client = StripeTestClient(key=acct.sk)
    pi = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    path = f"/v1/payment_intents/{pi['id']}/confirm"
    answers = _race(acct, path, {"payment_method": "pm_card_visa"}, "confirm-race")
    body = _assert_one_answer_or_busy(answers)
    assert Charge.objects.filter(account=acct.account).count() == 1
    assert client.get(f"/v1/payment_intents/{pi['id']}").json()["status"] == "succeeded"
    later = client.post(
        path, {"payment_method": "pm_card_visa"}, headers={"Idempotency-Key": "confirm-race"}
    )
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.content == body
    assert Charge.objects.filter(account=acct.account).count() == 1


def test_decline_replayed_returns_the_same_402_without_a_second_attempt(client, acct):
    pi = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    path = f"/v1/payment_intents/{pi['id']}/confirm"
    data = {"payment_method": "pm_card_chargeDeclined"}
    first = client.post(path, data, headers={"Idempotency-Key": "decline"})
    assert first.status_code == 402
    assert first.error["decline_code"] == "generic_decline"
    charges = Charge.objects.filter(account=acct.account).count()
    second = client.post(path, data, headers={"Idempotency-Key": "decline"})
    assert second.status_code == 402
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Charge.objects.filter(account=acct.account).count() == charges == 1


def test_replay_returns_the_original_body_even_after_the_intent_changed(client):
    created = client.post(
        "/v1/payment_intents", {"amount": 2000, "currency": "usd"}, headers={"Idempotency-Key": "c"}
    )
    pi_id = created.json()["id"]
    client.post(f"/v1/payment_intents/{pi_id}/cancel", {})
    replay = client.post(
        "/v1/payment_intents", {"amount": 2000, "currency": "usd"}, headers={"Idempotency-Key": "c"}
    )
    assert replay.content == created.content
    assert replay.json()["status"] == "requires_payment_method"


def test_invalid_create_stores_nothing_and_the_corrected_create_executes(client, acct):
    bad = client.post(
        "/v1/payment_intents", {"amount": 10, "currency": "usd"}, headers={"Idempotency-Key": "k"}
    )
    assert bad.status_code == 400
    assert bad.error["code"] == "amount_too_small"
    assert not IdempotencyKey.objects.exists()
    good = client.post(
        "/v1/payment_intents", {"amount": 2000, "currency": "usd"}, headers={"Idempotency-Key": "k"}
    )
    assert good.status_code == 200
    assert PaymentIntent.objects.filter(account=acct.account).count() == 1


def test_wrong_state_confirm_is_stored_and_replayed(client):
    pi = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    client.post(f"/v1/payment_intents/{pi['id']}/cancel", {})
    path = f"/v1/payment_intents/{pi['id']}/confirm"
    first = client.post(path, {"payment_method": "pm_card_visa"}, headers={"Idempotency-Key": "s"})
    second = client.post(path, {"payment_method": "pm_card_visa"}, headers={"Idempotency-Key": "s"})
    assert first.status_code == 400
    assert first.error["code"] == "payment_intent_unexpected_state"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content


def test_create_whose_request_crashed_is_retried_once_after_the_lock_timeout(
    client, acct, settings
):
    settings.INFLIGHT_TIMEOUT_SECONDS = 30
    data = {"amount": 2000, "currency": "usd"}
    # What a request killed after claiming its key leaves behind: a locked row, no response.
    IdempotencyKey.objects.create(
        account=acct.account,
        livemode=False,
        key="crashed",
        request_method="POST",
        request_path="/v1/payment_intents",
        request_params_hash=params_hash(data),
        locked_at=timezone.now(),
    )
    blocked = client.post("/v1/payment_intents", data, headers={"Idempotency-Key": "crashed"})
    assert blocked.status_code == 409
    IdempotencyKey.objects.update(locked_at=timezone.now() - timedelta(seconds=31))
    retry = client.post("/v1/payment_intents", data, headers={"Idempotency-Key": "crashed"})
    again = client.post("/v1/payment_intents", data, headers={"Idempotency-Key": "crashed"})
    assert retry.status_code == 200
    assert again.content == retry.content
    assert PaymentIntent.objects.filter(account=acct.account).count() == 1


def test_publishable_confirm_is_idempotent_too(client, acct):
    pi = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
    browser = StripeTestClient(key=acct.pk)
    path = f"/v1/payment_intents/{pi['id']}/confirm"
    data = {"payment_method": "pm_card_visa", "client_secret": pi["client_secret"]}
    first = browser.post(path, data, headers={"Idempotency-Key": "b"})
    second = browser.post(path, data, headers={"Idempotency-Key": "b"})
    assert first.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Charge.objects.filter(account=acct.account).count() == 1
