"""What a merchant does with an authorisation: capture it, cancel (and release) it, raise it.
Each is the two phases of `payments.attempts`, with the intent's in-flight marker as the
recorded attempt: a second call while the processor answers is `payment_intent_unexpected_state`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.utils import timezone

from core.errors import InvalidRequestError
from core.ids import attempt_id as new_attempt_id
from core.metadata import merge_metadata
from core.money import validate_amount_for_currency
from core.scope import Scope
from payments import attempts
from payments.attempts import PROCESSING_ERROR, GuardedProcessor, Settled
from payments.exceptions import CardDeclined
from payments.models import Charge
from payments.processors.base import AuthorizationResult, CaptureResult, Decline

from .. import presenters
from ..exceptions import IntentUnexpectedState
from ..models import CANCELABLE, InFlight, PaymentIntent, Status
from . import recovery
from ._common import (
    check,
    emit,
    emit_many,
    expire,
    fail_pending_charge,
    lock_charge,
    lock_intent,
    lock_intent_with_charge,
    lock_intent_with_latest_charge,
    release_charge,
    snapshot,
)

CAPTURABLE = [Status.REQUIRES_CAPTURE]


@dataclass(frozen=True)
class _Call:
    """A processor call recorded by the intent's in-flight marker (phase 1), with what its
    phase 2 needs of the request (a reconciled call has only what the rows say)."""

    livemode: bool
    payment_intent_id: str
    charge_id: str | None
    attempt_id: str
    amount: int = 0
    token: str = ""
    reason: str | None = None  # cancel
    description: str | None = None  # increment
    metadata: dict | None = None  # increment
    # the locked intent of phase 1, for a phase 2 run in the same transaction (`attempts.held`)
    pi: PaymentIntent | None = field(default=None, compare=False, repr=False)
    charge: Charge | None = field(default=None, compare=False, repr=False)  # locked with it


def _load(pi: PaymentIntent, own: bool) -> _Call:
    """The call in flight on a locked intent, rebuilt from the intent."""
    return _Call(pi.livemode, pi.id, pi.latest_charge_id, pi.last_attempt_id or "")


def _answer(pi: PaymentIntent) -> Settled:
    """What a capture, cancel or increment whose attempt is the intent's latest (and applied)
    answered: the processor's refusal it recorded (raised), or the intent."""
    refusal = pi.last_attempt_refusal
    if refusal and refusal.get("attempt") == pi.last_attempt_id:
        decline = Decline(refusal["code"], refusal.get("decline_code"), refusal["message"])
        return Settled(
            pi,
            error=CardDeclined.from_decline(
                decline, payment_intent=presenters.payment_intent_to_api(pi)
            ),
        )
    return Settled(pi)


def _first(pi: PaymentIntent, operation: str, attempt_id: str, verb: str, allowed, **params):
    """`recovery.first` for these movements; this request's own attempt carries its params."""
    earlier = recovery.first(pi, operation, attempt_id=attempt_id, verb=verb, allowed=allowed)
    if isinstance(earlier, attempts.Recover) and earlier.own:
        return replace(earlier, attempt=replace(earlier.attempt, **params))
    return earlier


def _declined(pi: PaymentIntent, decline) -> Settled:
    """Phase 2 saw the processor refuse: the intent is saved unchanged (marker cleared) but for
    the refusal, recorded with its attempt (`last_attempt_refusal`, in the same UPDATE) so a
    retry of the request answers it again, and the decline raised once that commits."""
    decline = decline or PROCESSING_ERROR
    pi.last_attempt_refusal = {
        "attempt": pi.last_attempt_id,
        "code": decline.code,
        "decline_code": decline.decline_code,
        "message": decline.message,
    }
    pi.save()
    return _answer(pi)


# --- capture ---------------------------------------------------------------------------------


def payment_intent_capture(
    *,
    scope: Scope,
    payment_intent_id: str,
    amount_to_capture: int | None = None,
    metadata=None,
    statement_descriptor: str | None = None,
    statement_descriptor_suffix: str | None = None,
) -> PaymentIntent:
    in_one_transaction = attempts.answers_in_process(scope.livemode)

    def record() -> _Call | Settled:
        if in_one_transaction:  # phase 2 runs in this transaction: its charge locked now
            pi, charge = lock_intent_with_latest_charge(payment_intent_id, scope=scope)
        else:
            pi, charge = lock_intent(payment_intent_id, scope=scope), None
        if pi.expiry_due():  # the sweep has not got to it yet: expire it now, and refuse
            released = expire(pi)
            return Settled(
                error=IntentUnexpectedState.status(pi, "captured", CAPTURABLE), release=released
            )
        attempt_id = new_attempt_id(InFlight.CAPTURE, pi.id)
        earlier = _first(pi, InFlight.CAPTURE, attempt_id, "captured", CAPTURABLE)
        if earlier is not None:
            return earlier
        check(pi, CAPTURABLE, "captured")
        amount = pi.amount_capturable if amount_to_capture is None else amount_to_capture
        if amount > pi.amount_capturable:
            raise InvalidRequestError(
                f"The amount to capture ({amount}) must be less than or equal to the "
                f"PaymentIntent's amount_capturable ({pi.amount_capturable}).",
                code="amount_too_large",
                param="amount_to_capture",
            )
        if amount < 1:
            raise InvalidRequestError(
                "The amount to capture must be a positive integer.",
                code="amount_too_small",
                param="amount_to_capture",
            )
        if metadata is not None:
            pi.metadata = merge_metadata(pi.metadata, metadata)
        if statement_descriptor is not None:
            pi.statement_descriptor = statement_descriptor
        if statement_descriptor_suffix is not None:
            pi.statement_descriptor_suffix = statement_descriptor_suffix
        pi.begin(InFlight.CAPTURE, attempt_id)
        attempts.write(pi)
        return _Call(
            pi.livemode, pi.id, pi.latest_charge_id, attempt_id, amount=amount, pi=pi, charge=charge
        )

    return attempts.two_phase(record=record, call=_capture, apply=_apply_capture)


def _capture(processor: GuardedProcessor, attempt: _Call) -> CaptureResult:
    return processor.capture(
        attempt_id=attempt.attempt_id, reference=attempt.charge_id, amount=attempt.amount
    )


def _apply_capture(attempt: _Call, result: CaptureResult) -> PaymentIntent | Settled:
    if attempts.held() and attempt.pi is not None:
        pi = attempt.pi
        charge = attempt.charge or lock_charge(attempt.charge_id, pi)
    else:
        pi, charge = lock_intent_with_charge(attempt.payment_intent_id, attempt.charge_id)
    if not pi.inflight_attempt(attempt.attempt_id) or pi.status != Status.REQUIRES_CAPTURE:
        if pi.last_attempt_id == attempt.attempt_id and not pi.inflight:
            # applied already (by the reconciler, or the request that made it): its answer
            return _answer(pi)
        raise IntentUnexpectedState.status(pi, "captured", CAPTURABLE)
    pi.end()
    if not result.succeeded:
        return _declined(pi, result.decline)
    before = snapshot(pi)
    charge_before = snapshot(charge)
    captured = result.amount_captured
    pi.capture(amount=captured)
    charge.captured = True
    charge.amount_captured = captured
    charge.authorized = False
    charge.released = captured < charge.amount
    charge.save()
    pi.save()
    emit_many((charge, "captured", charge_before), (pi, "succeeded", before))
    return pi


# --- cancel ----------------------------------------------------------------------------------


def payment_intent_cancel(
    *, scope: Scope, payment_intent_id: str, cancellation_reason: str | None = None
) -> PaymentIntent:
    """Cancel. An intent holding (or about to hold) an authorisation releases it at the
    processor first (the call), then cancels (phase 2); any other cancels at once."""

    def record() -> _Call | Settled:
        pi = lock_intent(payment_intent_id, scope=scope)
        attempt_id = new_attempt_id(InFlight.CANCEL, pi.id)
        earlier = _first(
            pi, InFlight.CANCEL, attempt_id, "canceled", CANCELABLE, reason=cancellation_reason
        )
        if earlier is not None:
            return earlier
        check(pi, CANCELABLE, "canceled")
        if pi.status not in (Status.REQUIRES_CAPTURE, Status.PROCESSING):
            before = snapshot(pi)
            if pi.status == Status.REQUIRES_ACTION:
                fail_pending_charge(pi, "The PaymentIntent was canceled.")
            pi.cancel(reason=cancellation_reason)
            pi.save()
            emit(pi, "canceled", before)
            return Settled(pi)
        pi.begin(InFlight.CANCEL, attempt_id)
        pi.save()
        return _Call(
            pi.livemode, pi.id, pi.latest_charge_id, attempt_id, reason=cancellation_reason
        )

    return attempts.two_phase(record=record, call=_void, apply=_apply_cancel)


def _void(processor: GuardedProcessor, attempt: _Call) -> None:
    if attempt.charge_id:
        processor.void(attempt_id=attempt.attempt_id, reference=attempt.charge_id)


def _apply_cancel(attempt: _Call, _: None) -> PaymentIntent:
    pi = lock_intent(attempt.payment_intent_id)
    if not pi.inflight_attempt(attempt.attempt_id) or pi.status not in CANCELABLE:
        if pi.last_attempt_id == attempt.attempt_id and pi.status == Status.CANCELED:
            return pi  # applied already
        raise IntentUnexpectedState.status(pi, "canceled", CANCELABLE)
    before = snapshot(pi)
    pi.end()
    pi.cancel(reason=attempt.reason)
    pi.save()
    release_charge(pi, owed=False)  # released at the processor by the call
    fail_pending_charge(pi, "The PaymentIntent was canceled.")
    emit(pi, "canceled", before)
    return pi


# --- increment_authorization -----------------------------------------------------------------


def payment_intent_increment_authorization(
    *,
    scope: Scope,
    payment_intent_id: str,
    amount: int,
    description: str | None = None,
    metadata=None,
) -> PaymentIntent:
    def record() -> _Call | attempts.Recover | Settled:
        pi = lock_intent(payment_intent_id, scope=scope)
        attempt_id = new_attempt_id(InFlight.INCREMENT, pi.id)
        earlier = _first(
            pi,
            InFlight.INCREMENT,
            attempt_id,
            "incremented",
            CAPTURABLE,
            amount=amount,
            description=description,
            metadata=metadata,
        )
        if earlier is not None:
            return earlier
        check(pi, CAPTURABLE, "incremented")
        if amount <= pi.amount:
            raise InvalidRequestError(
                f"The amount ({amount}) must be greater than the PaymentIntent's current "
                f"amount ({pi.amount}).",
                code="amount_too_small",
                param="amount",
            )
        validate_amount_for_currency(amount, pi.currency)
        pi.begin(InFlight.INCREMENT, attempt_id)
        pi.save()
        charge = Charge.objects.select_related("payment_method").get(id=pi.latest_charge_id)
        return _Call(
            pi.livemode,
            pi.id,
            charge.id,
            attempt_id,
            amount=amount,
            token=charge.payment_method.processor_token,
            description=description,
            metadata=metadata,
        )

    return attempts.two_phase(record=record, call=_increment, apply=_apply_increment)


def _increment(processor: GuardedProcessor, attempt: _Call) -> AuthorizationResult:
    return processor.increment(
        attempt_id=attempt.attempt_id,
        reference=attempt.charge_id,
        token=attempt.token,
        new_amount=attempt.amount,
    )


def _apply_increment(attempt: _Call, result: AuthorizationResult) -> PaymentIntent | Settled:
    pi = lock_intent(attempt.payment_intent_id)
    if not pi.inflight_attempt(attempt.attempt_id) or pi.status != Status.REQUIRES_CAPTURE:
        if pi.last_attempt_id == attempt.attempt_id and not pi.inflight:
            return _answer(pi)  # applied already: its answer
        raise IntentUnexpectedState.status(pi, "incremented", CAPTURABLE)
    pi.end()
    if result.status != "succeeded":
        return _declined(pi, result.decline)
    # A reconciled increment knows its amount from the processor's answer.
    amount = attempt.amount or int(result.extra.get("amount") or pi.amount)
    before = snapshot(pi)
    pi.increment_authorization(amount=amount)
    if attempt.description is not None:
        pi.description = attempt.description
    if attempt.metadata is not None:
        pi.metadata = merge_metadata(pi.metadata, attempt.metadata)
    pi.save()
    Charge.objects.filter(id=attempt.charge_id).update(amount=amount, updated=timezone.now())
    emit(pi, "amount_capturable_updated", before)
    return pi


def _abort(attempt: _Call) -> None:
    """The processor never received the call: the intent is as it was before it."""
    pi = lock_intent(attempt.payment_intent_id)
    if pi.inflight_attempt(attempt.attempt_id):
        recovery.end(pi)


for _operation, _apply in (
    (InFlight.CAPTURE, _apply_capture),
    (InFlight.CANCEL, _apply_cancel),
    (InFlight.INCREMENT, _apply_increment),
):
    recovery.register(
        _operation, recovery.Kind(load=_load, apply=_apply, abort=_abort, answer=_answer)
    )
