"""What a real Celery worker on Redis does with a routed payment: the capture it owes, the
outcome of a `processing` attempt and of a pending refund all go back to the connection that
made the charge (here the flow's second connection, after the first soft-declined)."""

from __future__ import annotations

import pytest

from intents.models import PaymentIntent
from payments.models import Attempt, Charge, Refund
from tests.conftest import wait_for
from tests.helpers import StripeTestClient

URL = "/v1/payment_intents"

pytestmark = pytest.mark.redis


def _flow(client) -> tuple[str, str, str]:
    a = client.post(
        "/v1/processors",
        {
            "kind": "simulated",
            "name": "A",
            "simulated": {"behavior": "decline", "decline_code": "issuer_not_available"},
        },
    ).json()["id"]
    b = client.post("/v1/processors", {"kind": "simulated", "name": "B"}).json()["id"]
    flow = client.post(
        "/v1/payment_flows",
        {
            "name": "A then B",
            "routing": {"type": "priority", "processors": [a, b]},
            "retry": {"max_attempts": "2"},
            "default": "true",
        },
    ).json()["id"]
    return a, b, flow


def test_the_worker_captures_resolves_and_refunds_at_the_charges_own_connection(
    celery_worker, acct, settings
):
    settings.SIMULATED_PROCESSING_DELAY_SECONDS = 0
    settings.REFUND_RESOLVE_DELAY_SECONDS = 0
    client = StripeTestClient(key=acct.sk)
    a, b, flow = _flow(client)

    # automatic_async (the default): authorised at B on attempt 2, captured later by the worker
    paid = client.post(
        URL, {"amount": 2000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    ).json()
    assert paid["status"] == "succeeded"
    charge = Charge.objects.get(id=paid["latest_charge"])
    assert (charge.processor_id, charge.attempt_number, charge.payment_flow) == (b, 2, flow)
    wait_for(
        lambda: Charge.objects.get(id=charge.id).captured,
        timeout=30,
        message="the worker to capture the charge",
    )
    assert Attempt.objects.get(charge_id=charge.id, kind="capture_async").processor == b

    # processing: resolved by the worker, asking B
    processing = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_processing",
            "capture_method": "automatic",
            "confirm": True,
        },
    ).json()
    assert processing["status"] == "processing"
    wait_for(
        lambda: PaymentIntent.objects.get(id=processing["id"]).status == "succeeded",
        timeout=30,
        message="the worker to resolve the processing attempt",
    )
    resolved = Attempt.objects.get(payment_intent_id=processing["id"], kind="resolve_async")
    assert resolved.processor == b

    # a refund the processor answers pending: resolved by the worker, at B
    refund_card = client.post(
        URL,
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_refundFail",
            "capture_method": "automatic",
            "confirm": True,
        },
    ).json()
    refund = client.post("/v1/refunds", {"payment_intent": refund_card["id"]}).json()
    assert refund["status"] == "pending"
    wait_for(
        lambda: Refund.objects.get(id=refund["id"]).status == "failed",
        timeout=30,
        message="the worker to resolve the refund",
    )
    kinds = dict(Attempt.objects.filter(refund_id=refund["id"]).values_list("kind", "processor"))
    assert kinds["refund"] == b and kinds["refund_resolve"] == b
    # A only ever saw the first attempt of each payment
    assert set(Attempt.objects.filter(processor=a).values_list("kind", flat=True)) == {"authorize"}
