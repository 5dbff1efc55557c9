"""The workers' writes: the capture owed for an `automatic_async` charge, the resolution of a
`processing` attempt, the expiry of an uncaptured authorisation and the abandonment of an
untouched intent. Each claims its rows with `select_for_update(skip_locked=True)`, so sweeps
running at the same moment (beat, a task for one row, a second worker) never do a row twice,
and a claim that outlives a crashed worker goes stale (settings.INFLIGHT_TIMEOUT_SECONDS) and is
retried — with the same attempt id, so the processor does it once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.ids import attempt_id as new_attempt_id
from core.ids import derived_id
from payments import attempts
from payments.attempts import GuardedProcessor, Settled
from payments.models import Charge
from payments.processors.base import AuthorizationResult, CaptureResult

from ..models import (
    ABANDONABLE,
    InFlight,
    PaymentIntent,
    Status,
    expiry_due_q,
    inflight_stale_before,
)
from . import recovery
from ._common import emit, expire, fail_pending_charge, lock_charge, lock_intent, snapshot
from .confirm import (
    Authorization,
    apply_authorization,
    authorization_answer,
    load_authorization,
)


def _in_batches(run_batch: Callable[[int], int], *, batch_size: int, max_batches: int) -> int:
    """Run a sweep batch after batch until one comes back short; the rows done."""
    total = 0
    for _ in range(max_batches):
        done = run_batch(batch_size)
        total += done
        if done < batch_size:
            break
    return total


# --- automatic_async: the capture owed to the processor --------------------------------------


@dataclass(frozen=True)
class _Capture:
    livemode: bool
    charge_id: str
    amount: int

    @property
    def attempt_id(self) -> str:
        """A charge owed its capture is captured once: the attempt id is the charge's, so a
        capture retried after a crash (a stale claim taken over) is the same attempt."""
        return derived_id("att", "capture", self.charge_id)


def _claim_captures(*, charge_id: str | None = None, batch_size: int) -> list[_Capture]:
    """Phase 1: charges owed a capture and not claimed (or claimed by a crashed worker: a claim
    older than INFLIGHT_TIMEOUT_SECONDS is taken over). The claim is `capture_claimed_at`."""
    now = timezone.now()
    stale = inflight_stale_before(now)
    qs = Charge.objects.select_for_update(skip_locked=True).filter(
        Q(capture_claimed_at__isnull=True) | Q(capture_claimed_at__lte=stale),
        capture_pending=True,
    )
    if charge_id is not None:
        qs = qs.filter(id=charge_id)
    claimed = list(qs.order_by("created").only("id", "livemode", "amount")[:batch_size])
    Charge.objects.filter(id__in=[c.id for c in claimed]).update(
        capture_claimed_at=now, updated=now
    )
    return [_Capture(c.livemode, c.id, c.amount) for c in claimed]


def _capture(processor: GuardedProcessor, attempt: _Capture) -> CaptureResult:
    return processor.capture(
        attempt_id=attempt.attempt_id, reference=attempt.charge_id, amount=attempt.amount
    )


def _apply_capture(attempt: _Capture, result: CaptureResult) -> bool:
    """Phase 2: mark the charge captured, once, under its lock; a refused capture is given
    back to the sweep (claim released)."""
    charge = lock_charge(attempt.charge_id)
    if not charge.capture_pending:
        return False
    if not result.succeeded:
        Charge.objects.filter(id=charge.id).update(capture_claimed_at=None, updated=timezone.now())
        return False
    before = snapshot(charge)
    charge.capture_pending = False
    charge.capture_claimed_at = None
    charge.captured = True
    charge.authorized = False
    charge.amount_captured = result.amount_captured
    charge.save()
    emit(charge, "captured", before)
    return True


def _captures(*, charge_id: str | None = None, batch_size: int) -> int:
    outcomes = attempts.sweep(
        claim=lambda: _claim_captures(charge_id=charge_id, batch_size=batch_size),
        call=_capture,
        apply=_apply_capture,
    )
    return sum(1 for captured in outcomes if captured)


def charge_capture_async(*, charge_id: str) -> bool:
    """automatic_async: make the processor capture one authorised charge (the task enqueued
    when the charge succeeded). False when another worker has it or it is done."""
    return _captures(charge_id=charge_id, batch_size=1) == 1


def charges_capture_pending(*, batch_size: int = 100) -> int:
    """The sweep: captures whose enqueue was missed or failed; the charges captured."""
    return _captures(batch_size=batch_size)


# --- processing: the processor's final answer ------------------------------------------------


def _resolvable(now) -> Q:
    # A resolution left in flight by a crashed worker is the reconciler's to settle.
    return Q(status=Status.PROCESSING, processing_resolve_at__lte=now, inflight__isnull=True)


def _claim_processing(
    *, payment_intent_id: str | None = None, batch_size: int
) -> list[Authorization]:
    """Phase 1: due `processing` intents, marked in flight (RESOLVE) by this sweep."""
    qs = PaymentIntent.objects.select_for_update(skip_locked=True).filter(
        _resolvable(timezone.now())
    )
    if payment_intent_id is not None:
        qs = qs.filter(id=payment_intent_id)
    claimed = list(qs.order_by("processing_resolve_at")[:batch_size])
    for pi in claimed:
        pi.begin(InFlight.RESOLVE, new_attempt_id(InFlight.RESOLVE, pi.id))
        pi.save(update_fields=["inflight", "inflight_since", "last_attempt_id", "updated"])
    charges = Charge.objects.select_related("payment_method").in_bulk(
        [pi.latest_charge_id for pi in claimed]
    )
    return [
        Authorization(
            pi,
            charges[pi.latest_charge_id],
            charges[pi.latest_charge_id].payment_method,
            raise_decline=False,
            attempt_id=pi.last_attempt_id,
        )
        for pi in claimed
    ]


def _resolve(processor: GuardedProcessor, attempt: Authorization) -> AuthorizationResult:
    return processor.resolve_async(
        attempt_id=attempt.attempt_id,
        reference=attempt.charge.id,
        token=attempt.pm.processor_token,
        capture=attempt.pi.capture_method == "automatic",
    )


def _apply_resolution(attempt: Authorization, result: AuthorizationResult) -> Settled:
    if result.status in ("succeeded", "declined"):
        return apply_authorization(attempt, result)
    # Still processing: give the claim back and look again after the delay.
    pi = lock_intent(attempt.pi.id)
    if pi.inflight_attempt(attempt.attempt_id):
        pi.end()
        pi.processing_resolve_at = timezone.now() + timedelta(
            seconds=settings.SIMULATED_PROCESSING_DELAY_SECONDS
        )
        pi.save()
    return Settled(pi)


def _resolutions(*, payment_intent_id: str | None = None, batch_size: int) -> int:
    outcomes = attempts.sweep(
        claim=lambda: _claim_processing(payment_intent_id=payment_intent_id, batch_size=batch_size),
        call=_resolve,
        apply=_apply_resolution,
    )
    return len(outcomes)


def _load_resolution(pi: PaymentIntent, own: bool) -> Authorization:
    return load_authorization(pi, False)


def _abort_resolution(attempt: Authorization) -> None:
    """The processor never received the request for the outcome: the intent stays due, and
    the next resolution sweep asks again."""
    pi = lock_intent(attempt.pi.id)
    if pi.inflight_attempt(attempt.attempt_id):
        recovery.end(pi)


recovery.register(
    InFlight.RESOLVE,
    recovery.Kind(
        load=_load_resolution,
        apply=_apply_resolution,
        abort=_abort_resolution,
        answer=authorization_answer,
    ),
)


def payment_intent_resolve_processing(*, payment_intent_id: str) -> bool:
    """The worker's answer to one `processing` intent whose delay has passed."""
    return _resolutions(payment_intent_id=payment_intent_id, batch_size=1) == 1


def payment_intents_resolve_due(*, batch_size: int = 50) -> int:
    return _resolutions(batch_size=batch_size)


# --- expiry and abandonment ------------------------------------------------------------------


@dataclass(frozen=True)
class _Expired:
    livemode: bool
    charge_id: str | None

    @property
    def attempt_id(self) -> str:
        return attempts.release_attempt_id(self.charge_id or "")


def _expire_batch(batch_size: int) -> int:
    """Phase 1 expires a batch of due authorisations (each as `PaymentIntent.as_shown()`
    already showed it) and marks their charges released; the call releases each at the
    processor."""

    def claim() -> list[_Expired]:
        rows = (
            PaymentIntent.objects.select_for_update(skip_locked=True)
            .filter(expiry_due_q(timezone.now()))
            .order_by("updated")[:batch_size]
        )
        expired = []
        for pi in rows:
            expire(pi)
            expired.append(_Expired(pi.livemode, pi.latest_charge_id))
        return expired

    def release(processor: GuardedProcessor, attempt: _Expired) -> None:
        if attempt.charge_id:  # owed since phase 1 (`release_owed_at`): the reconciler's if we die
            attempts.release(attempt.livemode, attempt.charge_id)

    return len(attempts.sweep(claim=claim, call=release))


def payment_intents_expire_due(*, batch_size: int = 100, max_batches: int = 50) -> int:
    """Cancel (reason `expired`) uncaptured authorisations older than the expiry. Safe to run
    twice at once: each batch claims its rows with SKIP LOCKED and re-checks the filter."""
    return _in_batches(_expire_batch, batch_size=batch_size, max_batches=max_batches)


def _abandon_batch(batch_size: int) -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.ABANDONMENT_SECONDS)
    with transaction.atomic():
        rows = list(
            PaymentIntent.objects.select_for_update(skip_locked=True)
            .filter(status__in=ABANDONABLE, updated__lte=cutoff, inflight__isnull=True)
            .order_by("updated")[:batch_size]
        )
        for pi in rows:
            before = snapshot(pi)
            if pi.status == Status.REQUIRES_ACTION:
                fail_pending_charge(pi, "The PaymentIntent was abandoned.")
            pi.abandon()
            pi.save()
            emit(pi, "canceled", before)
    return len(rows)


def payment_intents_abandon_stale(*, batch_size: int = 100, max_batches: int = 50) -> int:
    """Cancel (reason `abandoned`) non-terminal intents untouched for ABANDONMENT_SECONDS."""
    return _in_batches(_abandon_batch, batch_size=batch_size, max_batches=max_batches)
