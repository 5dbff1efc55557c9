"""Twenty concurrent confirms of one intent under a retrying payment flow, on PostgreSQL with
real threads: the retry chain runs once, and the intent has exactly one successful charge."""

from __future__ import annotations

import pytest

from events.models import Event
from payments.models import Charge
from tests.e2e.test_intents_concurrency_and_workers import _race
from tests.helpers import StripeTestClient

URL = "/v1/payment_intents"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("processor_mode")
def test_twenty_concurrent_confirms_under_a_retry_chain_pay_once(acct):
    client = StripeTestClient(key=acct.sk)
    a = client.post(
        "/v1/processors",
        {
            "kind": "simulated",
            "name": "A",
            "simulated": {"behavior": "decline", "decline_code": "try_again_later"},
        },
    ).json()["id"]
    b = client.post("/v1/processors", {"kind": "simulated", "name": "B"}).json()["id"]
    flow = client.post(
        "/v1/payment_flows",
        {
            "name": "A then B",
            "routing": {"type": "priority", "processors": [a, b]},
            "retry": {"max_attempts": "2"},
        },
    ).json()["id"]
    pi = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "automatic",
            "payment_flow": flow,
        },
    ).json()
    results = _race(20, lambda: StripeTestClient(key=acct.sk).post(f"{URL}/{pi['id']}/confirm"))
    ok = [r for r in results if r.status_code == 200]
    others = [r for r in results if r.status_code != 200]
    assert len(ok) == 1 and ok[0].json()["status"] == "succeeded"
    assert {(r.status_code, r.error["code"]) for r in others} == {
        (400, "payment_intent_unexpected_state")
    }
    charges = Charge.objects.filter(payment_intent_id=pi["id"])
    assert sorted(charges.values_list("processor_id", "status", "attempt_number")) == sorted(
        [(a, "failed", 1), (b, "succeeded", 2)]
    )
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.succeeded").count() == 1
    assert Event.objects.filter(type="charge.failed", account_id=acct.account.id).count() == 1
