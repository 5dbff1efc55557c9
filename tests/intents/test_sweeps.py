"""The async capture's claim (a recorded `capture_async` attempt on the charge): a charge being
captured is not captured again by a second sweep, a claim left by a crashed worker is settled by
the reconciler once stale (captured once), and a failed capture is retried."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import DateTimeField, Value
from django.utils import timezone

from events.models import Event
from intents.models import PaymentIntent
from intents.services import (
    charge_capture_async,
    charges_capture_pending,
    payment_intents_abandon_stale,
    payment_intents_expire_due,
)
from payments import attempts
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


# --- a claim committed while another sweep was reading -------------------------------------------


@pytest.fixture
def read_before_the_claim(monkeypatch):
    """The lock statement's read as a sweep makes it when it began before another sweep's claim
    committed: SKIP LOCKED takes the row the moment that claim commits, and the statement's
    snapshot shows no attempt recorded on it (two real sweeps at once hit this now and then:
    tests/e2e/test_intents_concurrency_and_workers.py)."""
    stale = Value(None, output_field=DateTimeField())
    monkeypatch.setattr(
        attempts,
        "with_recorded",
        lambda queryset: queryset.annotate(recorded_attempt_since=stale),
    )


def test_a_charge_claimed_while_the_sweep_read_is_skipped_and_the_rest_captured(
    client, create_intent, read_before_the_claim
):
    taken = _owed_capture(client, create_intent)
    free = _owed_capture(client, create_intent)
    claim = _claimed(taken, seconds_ago=0)
    assert charges_capture_pending() == 1  # not an IntegrityError failing the whole batch
    taken.refresh_from_db()
    free.refresh_from_db()
    assert taken.capture_pending and not taken.captured and _processor_captures(taken) == 0
    assert free.captured and _processor_captures(free) == 1
    assert list(Attempt.objects.filter(target=taken.id).values_list("id", "status")) == [
        (claim.id, "recorded")
    ]


def _under_way(pi_id: str, kind: str) -> Attempt:
    """A request's attempt on the intent, recorded and committed, its processor call under way."""
    pi = PaymentIntent.objects.get(id=pi_id)
    attempt = new_attempt(kind, target=pi, amount=pi.amount, payment_intent_id=pi.id)
    attempt.save(force_insert=True)
    return attempt


def test_an_authorisation_being_captured_while_the_expiry_sweep_read_is_not_expired(
    client, create_intent, read_before_the_claim, settings
):
    pi = create_intent(capture_method="manual")
    client.post(f"{URL}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    _under_way(pi["id"], "capture")
    settings.AUTHORIZATION_EXPIRY_SECONDS = 0
    assert payment_intents_expire_due() == 0
    assert PaymentIntent.objects.get(id=pi["id"]).status == "requires_capture"
    assert not Event.objects.filter(object_id=pi["id"], type="payment_intent.canceled").exists()


def test_an_intent_being_confirmed_while_the_abandonment_sweep_read_is_not_abandoned(
    client, create_intent, read_before_the_claim, settings
):
    pi = create_intent()
    _under_way(pi["id"], "authorize")
    settings.ABANDONMENT_SECONDS = 0
    assert payment_intents_abandon_stale() == 0
    assert PaymentIntent.objects.get(id=pi["id"]).status == "requires_payment_method"
