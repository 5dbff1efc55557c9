"""The async capture's claim: a charge being captured is not captured again by a second sweep,
a claim left by a crashed worker is taken over once stale, and a failed capture is retried."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from events.models import Event
from intents.services import charge_capture_async, charges_capture_pending
from payments.models import Charge
from payments.processors.simulated import SimulatedProcessor

URL = "/v1/payment_intents"


def _owed_capture(client, create_intent) -> Charge:
    pi = create_intent()
    body = client.post(f"{URL}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"}).json()
    charge = Charge.objects.get(id=body["latest_charge"])
    assert charge.capture_pending and charge.authorized and not charge.captured
    return charge


def _claimed(charge: Charge, *, seconds_ago: float) -> None:
    """The row as a sweep leaves it while its processor call is under way."""
    Charge.objects.filter(id=charge.id).update(
        capture_claimed_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def test_a_charge_another_sweep_is_capturing_is_skipped(client, create_intent):
    charge = _owed_capture(client, create_intent)
    _claimed(charge, seconds_ago=1)
    assert charges_capture_pending() == 0
    assert charge_capture_async(charge_id=charge.id) is False
    charge.refresh_from_db()
    assert charge.capture_pending and not charge.captured


def test_a_claim_left_by_a_crashed_worker_is_taken_over_once_stale(client, create_intent):
    charge = _owed_capture(client, create_intent)
    _claimed(charge, seconds_ago=settings.INFLIGHT_TIMEOUT_SECONDS + 1)
    assert charges_capture_pending() == 1
    charge.refresh_from_db()
    assert charge.captured and not charge.capture_pending and charge.amount_captured == 2000
    assert charge.capture_claimed_at is None
    assert Event.objects.filter(type="charge.captured", object_id=charge.id).count() == 1


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
    assert charge.capture_claimed_at is None
    assert charges_capture_pending() == 1
    charge.refresh_from_db()
    assert charge.captured and not charge.capture_pending
