"""The workers' writes: the capture owed for an `automatic_async` charge, the resolution of a
`processing` attempt, the expiry of an uncaptured authorisation and the abandonment of an
untouched intent. Each claims its rows with `select_for_update(skip_locked=True)` and skips a
row with an attempt under way, so sweeps running at the same moment (beat, a task for one row,
a second worker) never do a row twice; the attempts a sweep records are the ledger's
(`payments.attempts.sweep`), and one whose worker died is the reconciler's to settle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from payments import attempts
from payments.attempts import Claimed, GuardedProcessor, Retry, Settled
from payments.models import Attempt, AttemptKind, Charge
from payments.processors.base import AuthorizationResult, CaptureResult
from payments.services import token_for

from ..models import ABANDONABLE, PaymentIntent, Status, expiry_due_q
from ._common import (
    Held,
    emit,
    expire,
    fail_pending_charge,
    lock_charge,
    snapshot,
)
from .confirm import Authorize, authorization_answer


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


class CaptureAsync(attempts.Movement[Charge]):
    """The capture an `automatic_async` charge owes the processor, made by a worker. A refused
    capture leaves the charge owed: a later sweep tries again, with a new attempt."""

    kind = AttemptKind.CAPTURE_ASYNC

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> CaptureResult:
        charge = attempt.charge
        return processor.capture(
            attempt_id=attempt.id,
            reference=attempt.charge_id,
            amount=attempt.amount,
            processor_reference=charge.processor_reference if charge else "",
        )

    def relock(self, attempt: Attempt) -> Charge:
        assert attempt.charge_id is not None  # a capture's attempt names its charge
        return lock_charge(attempt.charge_id)

    def apply(self, charge: Charge, attempt: Attempt, result: CaptureResult) -> bool:
        """Phase 2: mark the charge captured, once, under its lock. As Stripe does for an
        `automatic_async` payment, this is `charge.updated`: `charge.captured` belongs to the
        capture of a separately authorised charge (`capture_method=manual`), and the payment's
        `charge.succeeded` already told the merchant it was paid."""
        if not charge.capture_pending or not result.succeeded:
            attempts.mark_answered(attempt)
            return False
        before = snapshot(charge)
        charge.capture_pending = False
        charge.captured = True
        charge.authorized = False
        charge.amount_captured = result.amount_captured
        charge.save()
        emit((charge, "updated", before))
        return True


def _claim_captures(*, charge_id: str | None = None, batch_size: int) -> list[Claimed]:
    """Charges owed a capture with no attempt under way (one a dead worker left is the
    reconciler's), each with its capture attempt."""
    qs = attempts.with_recorded(
        Charge.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            capture_pending=True
        )
    ).filter(recorded_attempt_since__isnull=True)
    if charge_id is not None:
        qs = qs.filter(id=charge_id)
    claimed = list(
        qs.order_by("created").only(
            "id",
            "account_id",
            "livemode",
            "amount",
            "currency",
            "payment_intent_id",
            "processor_id",
            "processor_reference",
        )[:batch_size]
    )
    movement = CaptureAsync()
    return [
        Claimed(
            movement,
            attempts.new_attempt(
                movement.kind,
                target=charge,
                amount=charge.amount,
                currency=charge.currency,
                payment_intent_id=charge.payment_intent_id,
                charge_id=charge.id,
                connection=attempts.charge_connection(charge),
            ),
        )
        for charge in claimed
    ]


def _captures(*, charge_id: str | None = None, batch_size: int) -> int:
    outcomes = attempts.sweep(lambda: _claim_captures(charge_id=charge_id, batch_size=batch_size))
    return sum(1 for captured in outcomes if captured)


def charge_capture_async(*, charge_id: str) -> bool:
    """automatic_async: make the processor capture one authorised charge (the task enqueued
    when the charge succeeded). False when another worker has it or it is done."""
    return _captures(charge_id=charge_id, batch_size=1) == 1


def charges_capture_pending(*, batch_size: int = 100) -> int:
    """The sweep: captures whose enqueue was missed or failed; the charges captured."""
    return _captures(batch_size=batch_size)


# --- processing: the processor's final answer ------------------------------------------------


class ResolveAsync(Authorize):
    """The processor's final answer to a `processing` authorisation, asked by a worker once it
    is due. Still processing: the intent is looked at again after the delay."""

    kind = AttemptKind.RESOLVE_ASYNC
    raises = False

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> AuthorizationResult:
        # a processing charge was authorised with its method
        assert attempt.charge is not None and attempt.charge.payment_method is not None
        return processor.resolve_async(
            attempt_id=attempt.id,
            reference=attempt.charge_id,
            token=token_for(attempt.charge.payment_method, attempts.connection_of(attempt)),
            capture=attempt.charge.payment_intent.capture_method == "automatic",
            processor_reference=attempt.charge.processor_reference,
        )

    def apply(self, locked: Held, attempt: Attempt, result: AuthorizationResult) -> Settled | Retry:
        if result.status in ("succeeded", "declined"):
            return super().apply(locked, attempt, result)
        attempts.mark_answered(attempt)
        if locked.pi.status == Status.PROCESSING:
            locked.pi.processing_resolve_at = timezone.now() + timedelta(
                seconds=settings.SIMULATED_PROCESSING_DELAY_SECONDS
            )
            locked.pi.save()
        return Settled(locked.pi)

    def answer(self, locked: Held, attempt: Attempt) -> Settled:
        return authorization_answer(locked.pi)

    def abort(self, locked: Held, attempt: Attempt) -> None:
        """The processor never received the request for the outcome: the intent stays due,
        and the next resolution sweep asks again."""


def _claim_processing(*, payment_intent_id: str | None = None, batch_size: int) -> list[Claimed]:
    """Due `processing` intents with no attempt under way, each with its resolution attempt."""
    qs = attempts.with_recorded(
        PaymentIntent.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("latest_charge__payment_method")
        .filter(status=Status.PROCESSING, processing_resolve_at__lte=timezone.now())
    ).filter(recorded_attempt_since__isnull=True)
    if payment_intent_id is not None:
        qs = qs.filter(id=payment_intent_id)
    movement = ResolveAsync()
    claimed = []
    for pi in qs.order_by("processing_resolve_at")[:batch_size]:
        charge = pi.latest_charge
        charge.payment_intent = pi
        attempt = attempts.new_attempt(
            movement.kind,
            target=pi,
            amount=charge.amount,
            currency=charge.currency,
            payment_intent_id=pi.id,
            charge_id=charge.id,
            connection=attempts.charge_connection(charge),
        )
        attempt.charge = charge
        claimed.append(Claimed(movement, attempt))
    return claimed


def _resolutions(*, payment_intent_id: str | None = None, batch_size: int) -> int:
    claim = lambda: _claim_processing(payment_intent_id=payment_intent_id, batch_size=batch_size)  # noqa: E731
    return len(attempts.sweep(claim))


def payment_intent_resolve_processing(*, payment_intent_id: str) -> bool:
    """The worker's answer to one `processing` intent whose delay has passed."""
    return _resolutions(payment_intent_id=payment_intent_id, batch_size=1) == 1


def payment_intents_resolve_due(*, batch_size: int = 50) -> int:
    return _resolutions(batch_size=batch_size)


# --- expiry and abandonment ------------------------------------------------------------------


def _expire_batch(batch_size: int) -> int:
    """Expire a batch of due authorisations with no attempt under way (each as
    `PaymentIntent.as_shown()` already showed it), their charges marked released and their
    releases recorded in the same transaction; the releases are made once it commits (the
    reconciler makes any a crash left)."""
    with transaction.atomic():
        rows = attempts.with_recorded(
            PaymentIntent.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                expiry_due_q(timezone.now())
            )
        ).filter(recorded_attempt_since__isnull=True)
        due = attempts.without_recorded(list(rows.order_by("updated")[:batch_size]))
        released = [expire(pi) for pi in due]
    for release in released:
        attempts.finish(Settled(release=release), raise_error=False)
    return len(released)


def payment_intents_expire_due(*, batch_size: int = 100, max_batches: int = 50) -> int:
    """Cancel (reason `expired`) uncaptured authorisations older than the expiry. Safe to run
    twice at once: each batch claims its rows with SKIP LOCKED and re-checks the filter."""
    return _in_batches(_expire_batch, batch_size=batch_size, max_batches=max_batches)


def _abandon_batch(batch_size: int) -> int:
    cutoff = timezone.now() - timedelta(seconds=settings.ABANDONMENT_SECONDS)
    with transaction.atomic():
        rows = list(
            attempts.with_recorded(
                PaymentIntent.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                    status__in=ABANDONABLE, updated__lte=cutoff
                )
            )
            .filter(recorded_attempt_since__isnull=True)  # a confirm under way (or left) is not
            .order_by("updated")[:batch_size]
        )
        rows = attempts.without_recorded(rows)
        for pi in rows:
            before = snapshot(pi)
            if pi.status == Status.REQUIRES_ACTION:
                fail_pending_charge(pi, "The PaymentIntent was abandoned.")
            pi.abandon()
            pi.save()
            emit((pi, "canceled", before))
    return len(rows)


def payment_intents_abandon_stale(*, batch_size: int = 100, max_batches: int = 50) -> int:
    """Cancel (reason `abandoned`) non-terminal intents untouched for ABANDONMENT_SECONDS."""
    return _in_batches(_abandon_batch, batch_size=batch_size, max_batches=max_batches)
