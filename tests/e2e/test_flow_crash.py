"""kill -9 of a real gunicorn worker in the middle of a payment flow's retry chain, then the
same Idempotency-Key again: exactly one successful charge.

The flow: connection A soft-declines every authorisation (`try_again_later`), connection B
authorises after `latency_ms`; retries up to 2. The simulator acts as a remote processor (two
phases), so attempt 1's failure and attempt 2's record are committed before B is called. The
worker is killed while B is being called: before B received the call (during its latency) or
after B made the authorisation (its answer on the way back). A retry with the key then either
settles attempt 2 with what B did, or — B never received it — starts the chain again.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from api.models import IdempotencyKey
from intents.models import PaymentIntent
from payments.models import Attempt, Charge, SimulatedProcessorRecord
from tests.conftest import make_account, wait_for
from tests.e2e.test_crash_recovery import TIMEOUT, Gunicorn, _post

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory):
    server = Gunicorn(tmp_path_factory.mktemp("flow-crash"))
    yield server
    server.stop()


def _setup(server: Gunicorn, sk: str) -> tuple[str, str, str]:
    a = _post(
        server,
        sk,
        "/v1/processors",
        {
            "kind": "simulated",
            "name": "A",
            "simulated[behavior]": "decline",
            "simulated[decline_code]": "try_again_later",
        },
    ).json()["id"]
    b = _post(
        server,
        sk,
        "/v1/processors",
        {"kind": "simulated", "name": "B", "simulated[latency_ms]": "1500"},
    ).json()["id"]
    flow = _post(
        server,
        sk,
        "/v1/payment_flows",
        {
            "name": "A then B",
            "routing[type]": "priority",
            "routing[processors][0]": a,
            "routing[processors][1]": b,
            "retry[max_attempts]": "2",
        },
    ).json()["id"]
    return a, b, flow


def _attempt_at(pi_id: str, processor: str) -> Attempt | None:
    return Attempt.objects.filter(payment_intent_id=pi_id, processor=processor).first()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill", ["before_b_received_it", "after_b_authorised"])
def test_a_kill_9_mid_chain_then_the_same_key_pays_once(gunicorn, kill):
    acct = make_account()
    a, b, flow = _setup(gunicorn, acct.sk)
    pi = _post(
        gunicorn,
        acct.sk,
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_flow": flow,
        },
    ).json()
    idem = f"chain-{kill}"
    path = f"/v1/payment_intents/{pi['id']}/confirm"
    lost: list = []

    def confirm():
        try:
            _post(gunicorn, acct.sk, path, idem=idem)
        except requests.RequestException as exc:  # the worker died under the request
            lost.append(exc)

    thread = threading.Thread(target=confirm)
    thread.start()
    try:
        # attempt 1 (A) failed and attempt 2 (B) is recorded: B is being called
        wait_for(
            lambda: (att := _attempt_at(pi["id"], b)) is not None and att.status == "recorded",
            message="attempt 2 to be recorded",
        )
        if kill == "after_b_authorised":
            gunicorn.slow_processor.touch()  # B's answer, once made, is held on its way back
            wait_for(
                lambda: SimulatedProcessorRecord.objects.filter(
                    attempt_id=_attempt_at(pi["id"], b).id
                ).exists(),
                message="B to make the authorisation",
            )
        gunicorn.kill_worker()
    finally:
        gunicorn.slow_processor.unlink(missing_ok=True)
        thread.join(timeout=30)
    assert lost, "the confirm was answered: the kill did not land in it"
    assert IdempotencyKey.objects.get(key=idem).response_status is None
    made = Charge.objects.filter(payment_intent_id=pi["id"])
    assert made.get(processor_id=a).status == "failed"
    assert made.get(processor_id=b).status == "pending"

    # the same key again, as a client retries (409 while the dead request's lock is fresh)
    deadline = time.time() + 8 * TIMEOUT
    while True:
        answer = _post(gunicorn, acct.sk, path, idem=idem)
        if answer.status_code != 409 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "succeeded"
    charges = Charge.objects.filter(payment_intent_id=pi["id"])
    assert charges.filter(status="succeeded").count() == 1
    assert not charges.filter(status="pending").exists()
    assert charges.get(status="succeeded").processor_id == b
    # at B, one authorisation was made in all
    authorised_at_b = SimulatedProcessorRecord.objects.filter(
        operation="authorize",
        attempt_id__in=Attempt.objects.filter(processor=b).values("id"),
    )
    assert authorised_at_b.count() == 1
    assert PaymentIntent.objects.get(id=pi["id"]).amount_received == 2000
    assert not Attempt.objects.filter(payment_intent_id=pi["id"], status="recorded").exists()
    # the answer is stored with the key: asked once more, the same answer
    again = _post(gunicorn, acct.sk, path, idem=idem)
    assert again.json()["latest_charge"] == answer.json()["latest_charge"]
