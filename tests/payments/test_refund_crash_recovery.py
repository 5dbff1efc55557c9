"""A keyed `POST /v1/refunds` whose request dies (during the processor call, or after its commit
before its answer was stored), retried with the same Idempotency-Key once the key's lock is
stale: the retry finds the refund the first run made (its id derives from the key's claim, and
the refund id is the processor's idempotency key) and answers it. One refund, made once.

A crash is a `Killed` raised at the chosen point, as in tests/intents/test_crash_recovery.py.
"""

from __future__ import annotations

import pytest

from events.models import Event
from payments.models import Attempt, Charge, Refund, SimulatedProcessorRecord
from payments.processors.simulated import SimulatedProcessor
from payments.services import attempts_reconcile
from tests.intents.test_crash_recovery import (  # noqa: F401 (_two_phases: a fixture)
    Killed,
    _killed_after_commit,
    _time_passes,
    _two_phases,
)

URL = "/v1/refunds"


@pytest.fixture
def paid(client):
    def make(pm="pm_card_visa"):
        response = client.post(
            "/v1/payment_intents",
            {
                "amount": 1000,
                "currency": "usd",
                "payment_method": pm,
                "confirm": "true",
                "capture_method": "automatic",
            },
        )
        assert response.status_code == 200, response.json()
        return response.json()

    return make


def _killed_during_the_refund(monkeypatch, *, reached_processor: bool = True) -> None:
    refund = SimulatedProcessor.refund

    def dying(self, **kwargs):
        monkeypatch.setattr(SimulatedProcessor, "refund", refund)
        if reached_processor:
            refund(self, **kwargs)
        raise Killed()

    monkeypatch.setattr(SimulatedProcessor, "refund", dying)


def _processor_refunds(charge_id: str) -> int:
    return SimulatedProcessorRecord.objects.filter(operation="refund", reference=charge_id).count()


@pytest.mark.parametrize(
    "kill",
    ["during_call", "never_received", "after_commit"],
)
@pytest.mark.parametrize("amount", [None, 400], ids=["full", "partial"])
def test_a_retried_refund_that_died_finds_its_refund_and_makes_it_once(
    client, paid, monkeypatch, kill, amount
):
    pi = paid()
    params = {"payment_intent": pi["id"], **({"amount": amount} if amount else {})}
    if kill == "after_commit":
        _killed_after_commit(monkeypatch)
    else:
        _killed_during_the_refund(monkeypatch, reached_processor=kill == "during_call")
    with pytest.raises(Killed):
        client.post(URL, params, headers={"Idempotency-Key": "k"})
    first = Refund.objects.get()
    assert first.status == ("succeeded" if kill == "after_commit" else "pending")
    _time_passes()
    retry = client.post(URL, params, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200, retry.json()
    assert retry.json()["id"] == first.id and retry.json()["status"] == "succeeded"
    assert retry.json()["amount"] == (amount or 1000)
    replay = client.post(URL, params, headers={"Idempotency-Key": "k"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == retry.content
    assert Refund.objects.count() == 1
    charge = Charge.objects.get(id=pi["latest_charge"])
    assert charge.amount_refunded == (amount or 1000) and charge.amount_refund_pending == 0
    assert _processor_refunds(charge.id) == 1
    assert Event.objects.filter(object_id=first.id, type="refund.created").count() == 1
    assert Event.objects.filter(object_id=charge.id, type="charge.refunded").count() == 1


def test_a_retried_refund_the_reconciler_settled_first_answers_that_refund(
    client, paid, monkeypatch
):
    pi = paid()
    _killed_during_the_refund(monkeypatch)
    with pytest.raises(Killed):
        client.post(URL, {"payment_intent": pi["id"]}, headers={"Idempotency-Key": "k"})
    refund = Refund.objects.get()
    _time_passes(lock=False)  # the attempt is stale; the key's lock is not
    assert attempts_reconcile() == 1  # the reconciler takes over the dead request's refund
    attempt = Attempt.objects.get(target=refund.id, kind="refund")
    assert attempt.status == "applied" and attempt.answer["status"] == "succeeded"
    _time_passes()
    retry = client.post(URL, {"payment_intent": pi["id"]}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200 and retry.json()["status"] == "succeeded"
    assert Refund.objects.count() == 1
    assert _processor_refunds(pi["latest_charge"]) == 1


def test_a_retried_refund_answered_pending_answers_the_pending_refund(client, paid, monkeypatch):
    pi = paid(pm="pm_card_refundFail")
    _killed_after_commit(monkeypatch)
    with pytest.raises(Killed):
        client.post(URL, {"payment_intent": pi["id"]}, headers={"Idempotency-Key": "k"})
    _time_passes()
    retry = client.post(URL, {"payment_intent": pi["id"]}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200 and retry.json()["status"] == "pending"
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_the_simulated_processor_makes_a_refund_once_per_refund_id():
    processor = SimulatedProcessor()
    args = {"charge_reference": "ch_x", "token": "simtok_succeed_x", "currency": "usd"}
    first = processor.refund(reference="re_one", amount=500, **args)
    again = processor.refund(reference="re_one", amount=700, **args)
    assert first == again and first.status == "succeeded"
    assert SimulatedProcessorRecord.objects.filter(operation="refund").count() == 1
    assert processor.lookup(attempt_id="re_one").outcome == first
