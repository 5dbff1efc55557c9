"""The async capture's claim (a recorded `capture_async` attempt on the charge): a charge being
captured is not captured again by a second sweep, a claim left by a crashed worker is settled by
the reconciler once stale (captured once), and a failed capture is retried."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from events.models import Event
from intents.services import charge_capture_async, charges_capture_pending
from payments.attempts import new_attempt
from payments.models import Attempt, Charge, SimulatedProcessorRecord
from payments.processors.simulated import SimulatedProcessor
from payments.services import attempts_reconcile

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways

URL = "/v1/payment_intents"


def _capture_events(charge) -> list[str]:
    """The types of the events about `charge` after its `charge.succeeded`, oldest first."""
    return list(
        Event.objects.filter(object_id=charge.id)
        .exclude(type="charge.succeeded")
        .order_by("created", "id")
        .values_list("type", flat=True)
    )


def _owed_capture(client, create_intent) -> Charge:
    pi = create_intent()
    body = client.post(f"{URL}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"}).json()
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.capture_pending and charge.authorized and not charge.captured
    return charge


def _claimed(charge: Charge, *, seconds_ago: float) -> Attempt:
    """The ledger as a sweep leaves it while its processor call is under way: a recorded
    `capture_async` attempt on the charge, claimed `seconds_ago`."""
    attempt = new_attempt(
        "capture_async",
        target=charge,
        amount=charge.amount,
        currency=charge.currency,
        payment_intent_id=charge.payment_intent_id,
        charge_id=charge.id,
    )
    attempt.claimed_at = timezone.now() - timedelta(seconds=seconds_ago)
    attempt.save(force_insert=True)
    return attempt


def _recorded(charge: Charge) -> bool:
    return Attempt.objects.filter(target=charge.id, status="recorded").exists()


def _processor_captures(charge: Charge) -> int:
    return SimulatedProcessorRecord.objects.filter(operation="capture", reference=charge.id).count()


def test_a_charge_another_sweep_is_capturing_is_skipped(client, create_intent):
    charge = _owed_capture(client, create_intent)
    _claimed(charge, seconds_ago=1)
    assert charges_capture_pending() == 0
    assert charge_capture_async(charge_id=charge.id) is False
    charge.refresh_from_db()
    assert charge.capture_pending and not charge.captured


def test_a_claim_left_by_a_crashed_worker_is_taken_over_once_stale(client, create_intent):
    """The dead worker's capture reached the processor: the reconciler applies it, once."""
    charge = _owed_capture(client, create_intent)
    attempt = _claimed(charge, seconds_ago=1)
    SimulatedProcessor().capture(attempt_id=attempt.id, reference=charge.id, amount=charge.amount)
    assert attempts_reconcile() == 0  # not stale yet: the worker may still be at it
    Attempt.objects.filter(id=attempt.id).update(
        claimed_at=timezone.now() - timedelta(seconds=settings.INFLIGHT_TIMEOUT_SECONDS + 1)
    )
    assert charges_capture_pending() == 0  # a stale claim is the reconciler's, not the sweep's
    assert attempts_reconcile() == 1
    charge.refresh_from_db()
    assert charge.captured and not charge.capture_pending and charge.amount_captured == 2000
    attempt.refresh_from_db()
    assert attempt.status == "applied" and not _recorded(charge)
    assert charges_capture_pending() == 0
    assert _processor_captures(charge) == 1
    assert _capture_events(charge) == ["charge.updated"]  # as Stripe: no charge.captured


def test_a_stale_claim_the_processor_never_received_is_aborted_and_captured_again(
    client, create_intent
):
    charge = _owed_capture(client, create_intent)
    attempt = _claimed(charge, seconds_ago=settings.INFLIGHT_TIMEOUT_SECONDS + 1)
    assert attempts_reconcile() == 1
    attempt.refresh_from_db()
    assert attempt.status == "aborted" and not _recorded(charge)
    charge.refresh_from_db()
    assert charge.capture_pending and not charge.captured
    assert charges_capture_pending() == 1  # owed still: the next sweep captures it, once
    charge.refresh_from_db()
    assert charge.captured and not charge.capture_pending and charge.amount_captured == 2000
    assert _processor_captures(charge) == 1
    assert _capture_events(charge) == ["charge.updated"]  # as Stripe: no charge.captured


def test_a_capture_the_processor_fails_is_left_for_the_next_sweep(
    client, create_intent, monkeypatch
):
    charge = _owed_capture(client, create_intent)

    def unreachable(self, *, reference, amount, attempt_id=None):
        raise ConnectionError("processor unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(SimulatedProcessor, "capture", unreachable)
        assert charges_capture_pending() == 0
    charge.refresh_from_db()
    assert charge.capture_pending and charge.authorized and not charge.captured
    failed = Attempt.objects.get(target=charge.id, kind="capture_async")
    assert failed.status == "answered" and failed.answer["decline"]["code"] == "processing_error"
    assert not _recorded(charge)
    assert charges_capture_pending() == 1
    charge.refresh_from_db()
    assert charge.captured and not charge.capture_pending
