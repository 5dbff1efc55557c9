"""What a merchant does with an authorisation: capture it, cancel (and release) it, raise it.
Each is a movement run by the attempt ledger (`payments.attempts.run`): a second call while the
processor answers the first is `payment_intent_unexpected_state`."""

from __future__ import annotations

from django.utils import timezone

from core.errors import InvalidRequestError, for_object
from core.ids import attempt_id as new_attempt_id
from core.metadata import merge_metadata, patch_from_json, patch_to_json
from core.money import format_amount, validate_amount_for_currency
from core.scope import Scope
from payments import attempts
from payments.attempts import PROCESSING_ERROR, GuardedProcessor, Recorded, Settled
from payments.exceptions import CardDeclined
from payments.models import Attempt, AttemptKind, Charge
from payments.processors.base import (
    AuthorizationResult,
    CaptureResult,
    Decline,
    answer_from_json,
)
from payments.services import token_for

from .. import presenters
from ..exceptions import IntentUnexpectedState
from ..models import CANCELABLE, PaymentIntent, Status
from ._common import (
    Held,
    IntentMovement,
    check,
    emit,
    expire,
    fail_pending_charge,
    lock_intent,
    release_charge,
    snapshot,
)

CAPTURABLE = (Status.REQUIRES_CAPTURE,)


def _refused(pi: PaymentIntent, decline: Decline | None) -> Settled:
    """The processor refused: the intent is unchanged, and the decline is the answer (raised
    once the transaction commits; a retry of the request finds it on its attempt)."""
    return Settled(
        pi,
        error=CardDeclined.from_decline(
            decline or PROCESSING_ERROR, payment_intent=presenters.payment_intent_to_api(pi)
        ),
    )


def _stored_answer(pi: PaymentIntent, attempt: Attempt) -> Settled:
    """What a capture or increment whose attempt was settled answered: its refusal, or the
    intent."""
    answer = answer_from_json(attempt.answer)
    if isinstance(answer, CaptureResult) and not answer.succeeded:
        return _refused(pi, answer.decline)
    if isinstance(answer, AuthorizationResult) and answer.status != "succeeded":
        return _refused(pi, answer.decline)
    return Settled(pi)


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
    return attempts.run(
        Capture(
            scope=scope,
            payment_intent_id=payment_intent_id,
            amount_to_capture=amount_to_capture,
            metadata=metadata,
            statement_descriptor=statement_descriptor,
            statement_descriptor_suffix=statement_descriptor_suffix,
        )
    )


class Capture(IntentMovement):
    kind = AttemptKind.CAPTURE
    verb = "captured"
    allowed = CAPTURABLE

    def __init__(
        self,
        *,
        scope: Scope | None = None,
        payment_intent_id: str = "",
        amount_to_capture: int | None = None,
        metadata=None,
        statement_descriptor: str | None = None,
        statement_descriptor_suffix: str | None = None,
    ):
        self.scope = scope
        self.payment_intent_id = payment_intent_id
        self.amount_to_capture = amount_to_capture
        self.metadata = metadata
        self.statement_descriptor = statement_descriptor
        self.statement_descriptor_suffix = statement_descriptor_suffix
        self.attempt_id = new_attempt_id(self.kind, payment_intent_id)

    def lock(self) -> Held:
        return lock_intent(self.payment_intent_id, scope=self.scope, with_charge=True)

    def record(self, locked: Held) -> Recorded | Settled:
        pi = locked.pi
        if pi.expiry_due():  # the sweep has not got to it yet: expire it now, and refuse
            released = expire(pi)
            return Settled(
                error=IntentUnexpectedState.status(pi, "captured", CAPTURABLE), release=released
            )
        check(pi, CAPTURABLE, "captured")
        amount = pi.amount_capturable if self.amount_to_capture is None else self.amount_to_capture
        if amount > pi.amount_capturable:
            raise InvalidRequestError(
                f"The amount to capture ({format_amount(amount, pi.currency)}) must be less than "
                "or equal to the PaymentIntent's amount_capturable "
                f"({format_amount(pi.amount_capturable, pi.currency)}).",
                code=for_object("amount_too_large"),
                param="amount_to_capture",
            )
        if amount < 1:
            raise InvalidRequestError(
                "The amount to capture must be a positive integer.",
                code="amount_too_small",
                param="amount_to_capture",
            )
        if self.metadata is not None:
            pi.metadata = merge_metadata(pi.metadata, self.metadata)
        if self.statement_descriptor is not None:
            pi.statement_descriptor = self.statement_descriptor
        if self.statement_descriptor_suffix is not None:
            pi.statement_descriptor_suffix = self.statement_descriptor_suffix
        attempt = attempts.new_attempt(
            self.kind,
            target=pi,
            id=self.attempt_id,
            amount=amount,
            currency=pi.currency,
            payment_intent_id=pi.id,
            charge_id=pi.latest_charge_id,
            connection=attempts.charge_connection(locked.charge) if locked.charge else None,
        )
        attempt.charge = locked.charge
        return Recorded(attempt, writes=(pi,))

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> CaptureResult:
        return processor.capture(
            attempt_id=attempt.id,
            reference=attempt.charge_id,
            amount=attempt.amount,
            processor_reference=attempt.charge.processor_reference if attempt.charge else "",
        )

    def apply(self, locked: Held, attempt: Attempt, result: CaptureResult) -> Settled:
        pi, charge = locked.pi, locked.charge
        if pi.status != Status.REQUIRES_CAPTURE:
            attempts.mark_answered(attempt)
            return Settled(error=IntentUnexpectedState.status(pi, "captured", CAPTURABLE))
        if not result.succeeded:
            attempts.mark_answered(attempt)
            return _refused(pi, result.decline)
        assert charge is not None  # an intent awaiting capture has its authorised charge
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
        emit((charge, "captured", charge_before), (pi, "succeeded", before))
        return Settled(pi)

    def answer(self, locked: Held, attempt: Attempt) -> Settled:
        return _stored_answer(locked.pi, attempt)


# --- cancel ----------------------------------------------------------------------------------


def payment_intent_cancel(
    *, scope: Scope, payment_intent_id: str, cancellation_reason: str | None = None
) -> PaymentIntent:
    """Cancel. An intent holding (or about to hold) an authorisation releases it at the
    processor first (the call), then cancels (phase 2); any other cancels at once."""
    return attempts.run(
        Cancel(scope=scope, payment_intent_id=payment_intent_id, reason=cancellation_reason)
    )


class Cancel(IntentMovement):
    kind = AttemptKind.VOID
    verb = "canceled"
    allowed = tuple(CANCELABLE)

    def __init__(
        self, *, scope: Scope | None = None, payment_intent_id: str = "", reason: str | None = None
    ):
        self.scope = scope
        self.payment_intent_id = payment_intent_id
        self.reason = reason
        self.attempt_id = new_attempt_id(self.kind, payment_intent_id)

    @classmethod
    def resume(cls, attempt: Attempt) -> Cancel:
        assert attempt.payment_intent_id is not None  # an attempt on an intent names it
        return cls(payment_intent_id=attempt.payment_intent_id, reason=attempt.params.get("reason"))

    def lock(self) -> Held:
        # the charge's connection read along: a void goes back to the one that authorised it
        return lock_intent(
            self.payment_intent_id, scope=self.scope, related=("latest_charge__processor",)
        )

    def record(self, locked: Held) -> Recorded | Settled:
        pi = locked.pi
        check(pi, CANCELABLE, "canceled")
        if pi.status not in (Status.REQUIRES_CAPTURE, Status.PROCESSING):
            before = snapshot(pi)
            if pi.status == Status.REQUIRES_ACTION:
                fail_pending_charge(pi, "The PaymentIntent was canceled.")
            pi.cancel(reason=self.reason)
            pi.save()
            emit((pi, "canceled", before))
            return Settled(pi)
        attempt = attempts.new_attempt(
            self.kind,
            target=pi,
            id=self.attempt_id,
            payment_intent_id=pi.id,
            charge_id=pi.latest_charge_id,
            params={"reason": self.reason} if self.reason else {},
            connection=attempts.charge_connection(pi.latest_charge) if pi.latest_charge else None,
        )
        attempt.charge = pi.latest_charge
        return Recorded(attempt)

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> None:
        if attempt.charge_id:
            processor.void(
                attempt_id=attempt.id,
                reference=attempt.charge_id,
                processor_reference=attempt.charge.processor_reference if attempt.charge else "",
            )

    def apply(self, locked: Held, attempt: Attempt, _: None) -> Settled:
        pi = locked.pi
        if pi.status not in CANCELABLE:
            attempts.mark_answered(attempt)
            return Settled(error=IntentUnexpectedState.status(pi, "canceled", CANCELABLE))
        before = snapshot(pi)
        pi.cancel(reason=self.reason)
        pi.save()
        release_charge(pi, owed=False)  # released at the processor by the call
        fail_pending_charge(pi, "The PaymentIntent was canceled.")
        emit((pi, "canceled", before))
        return Settled(pi)

    def answer(self, locked: Held, attempt: Attempt) -> Settled:
        if locked.pi.status == Status.CANCELED:
            return Settled(locked.pi)
        return Settled(error=IntentUnexpectedState.status(locked.pi, "canceled", CANCELABLE))


# --- increment_authorization -----------------------------------------------------------------


def payment_intent_increment_authorization(
    *,
    scope: Scope,
    payment_intent_id: str,
    amount: int,
    description: str | None = None,
    metadata=None,
) -> PaymentIntent:
    return attempts.run(
        Increment(
            scope=scope,
            payment_intent_id=payment_intent_id,
            amount=amount,
            description=description,
            metadata=metadata,
        )
    )


class Increment(IntentMovement):
    kind = AttemptKind.INCREMENT
    verb = "incremented"
    allowed = CAPTURABLE

    def __init__(
        self,
        *,
        scope: Scope | None = None,
        payment_intent_id: str = "",
        amount: int = 0,
        description: str | None = None,
        metadata=None,
    ):
        self.scope = scope
        self.payment_intent_id = payment_intent_id
        self.amount = amount
        self.description = description
        self.metadata = metadata
        self.attempt_id = new_attempt_id(self.kind, payment_intent_id)

    @classmethod
    def resume(cls, attempt: Attempt) -> Increment:
        assert attempt.payment_intent_id is not None  # an attempt on an intent names it
        return cls(
            payment_intent_id=attempt.payment_intent_id,
            amount=attempt.amount or 0,
            description=attempt.params.get("description"),
            metadata=patch_from_json(attempt.params.get("metadata")),
        )

    def lock(self) -> Held:
        return lock_intent(self.payment_intent_id, scope=self.scope, with_charge=True)

    def record(self, locked: Held) -> Recorded:
        pi = locked.pi
        check(pi, CAPTURABLE, "incremented")
        # the currency's limits first: above the maximum, the request alone is refused; below
        # the minimum of the intent's currency (or off its rounding), the intent's currency
        # decides, and the code says so
        try:
            validate_amount_for_currency(self.amount, pi.currency)
        except InvalidRequestError as error:
            if error.code != "amount_too_large":
                error.code = for_object(error.code or "")
            raise
        if self.amount <= pi.amount:
            raise InvalidRequestError(
                f"The amount ({format_amount(self.amount, pi.currency)}) must be greater than "
                f"the PaymentIntent's current amount ({format_amount(pi.amount, pi.currency)}).",
                code=for_object("amount_too_small"),
                param="amount",
            )
        assert locked.charge is not None  # an intent awaiting capture has its authorised charge
        params: dict[str, object] = {}
        if self.description is not None:
            params["description"] = self.description
        if self.metadata is not None:
            params["metadata"] = patch_to_json(self.metadata)
        attempt = attempts.new_attempt(
            self.kind,
            target=pi,
            id=self.attempt_id,
            amount=self.amount,
            currency=pi.currency,
            payment_intent_id=pi.id,
            charge_id=locked.charge.id,
            params=params,
            connection=attempts.charge_connection(locked.charge),
        )
        attempt.charge = locked.charge
        return Recorded(attempt)

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> AuthorizationResult:
        # an increment's attempt names the authorised charge, with its method
        assert attempt.charge is not None and attempt.charge.payment_method is not None
        return processor.increment(
            attempt_id=attempt.id,
            reference=attempt.charge_id,
            token=token_for(attempt.charge.payment_method, attempts.connection_of(attempt)),
            new_amount=attempt.amount,
            processor_reference=attempt.charge.processor_reference,
        )

    def apply(self, locked: Held, attempt: Attempt, result: AuthorizationResult) -> Settled:
        pi = locked.pi
        if pi.status != Status.REQUIRES_CAPTURE:
            attempts.mark_answered(attempt)
            return Settled(error=IntentUnexpectedState.status(pi, "incremented", CAPTURABLE))
        if result.status != "succeeded":
            attempts.mark_answered(attempt)
            return _refused(pi, result.decline)
        # a reconciled increment knows its amount from its attempt, or the processor's answer
        amount = self.amount or int(result.extra.get("amount") or pi.amount)
        before = snapshot(pi)
        pi.increment_authorization(amount=amount)
        if self.description is not None:
            pi.description = self.description
        if self.metadata is not None:
            pi.metadata = merge_metadata(pi.metadata, self.metadata)
        pi.save()
        Charge.objects.filter(id=attempt.charge_id).update(amount=amount, updated=timezone.now())
        emit((pi, "amount_capturable_updated", before))
        return Settled(pi)

    def answer(self, locked: Held, attempt: Attempt) -> Settled:
        return _stored_answer(locked.pi, attempt)
