"""The customer's answer to a 3-D Secure challenge on the hosted page, run by the attempt
ledger: the processor records the challenge's outcome and, when it passed, authorises the
attempt (the call); phase 2 applies the authorisation or the failed challenge."""

from __future__ import annotations

from payments import attempts
from payments.attempts import GuardedProcessor, Recorded, Retry, Settled
from payments.models import Attempt, AttemptKind, Charge
from payments.processors.base import AuthorizationResult, Decline
from payments.services import token_for

from ..models import PaymentIntent, Status
from ._common import Held, announce, emit, lock_intent, payment_error, snapshot
from .confirm import Authorize, apply_authorization, authorize

AUTHENTICATION_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)
AUTHENTICATION_FAILURE = Decline(
    "payment_intent_authentication_failure", None, AUTHENTICATION_FAILURE_MESSAGE
)


def payment_intent_authenticate(
    *, payment_intent_id: str, charge_id: str, succeeded: bool
) -> PaymentIntent:
    """The customer completed (or failed) the challenge of attempt `charge_id`. Idempotent: a
    second submit finds the intent no longer waiting for this attempt and changes nothing.
    (The hosted page reaches the intent by a signed token, not by a caller's scope.)"""
    return attempts.run(
        Authenticate(payment_intent_id=payment_intent_id, charge_id=charge_id, succeeded=succeeded)
    )


class Authenticate(Authorize):
    """The authorisation of a challenged attempt, once the customer answered the challenge. A
    failed challenge is recorded as the attempt's answer (None) and fails the attempt."""

    kind = AttemptKind.AUTHENTICATE
    verb = "authenticated"
    allowed = (Status.REQUIRES_ACTION,)
    raises = False  # the page shows the intent as it is after the challenge

    def __init__(self, *, payment_intent_id: str = "", charge_id: str = "", succeeded: bool = True):
        self.payment_intent_id = payment_intent_id
        self.charge_id = charge_id
        self.succeeded = succeeded

    @classmethod
    def resume(cls, attempt: Attempt) -> Authenticate:
        # an authentication's attempt names its intent and charge
        assert attempt.payment_intent_id is not None and attempt.charge_id is not None
        return cls(payment_intent_id=attempt.payment_intent_id, charge_id=attempt.charge_id)

    def lock(self) -> Held:
        return lock_intent(self.payment_intent_id, with_charge=True)

    def in_progress(self, locked: Held) -> Settled:
        return Settled(locked.pi)  # a submit while another is under way changes nothing

    def record(self, locked: Held) -> Recorded | Settled:
        pi = locked.pi
        if pi.status != Status.REQUIRES_ACTION or pi.latest_charge_id != self.charge_id:
            return Settled(pi)
        assert locked.charge is not None  # the intent's latest, the one challenged
        attempt = attempts.new_attempt(
            self.kind,
            target=pi,
            amount=locked.charge.amount,
            currency=locked.charge.currency,
            payment_intent_id=pi.id,
            charge_id=locked.charge.id,
            connection=attempts.charge_connection(locked.charge),
        )
        attempt.charge = locked.charge
        return Recorded(attempt)

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> AuthorizationResult | None:
        """The authorisation once the challenge passed; None when it failed. (Only the
        authorisation, which moves money, is made under the attempt id.)"""
        # an authentication's attempt names the challenged charge, with its method
        assert attempt.charge is not None and attempt.charge.payment_method is not None
        passed = processor.authenticate(
            reference=attempt.charge_id,
            token=token_for(attempt.charge.payment_method, attempts.connection_of(attempt)),
            succeeded=self.succeeded,
            processor_reference=attempt.charge.processor_reference,
        )
        return authorize(processor, attempt) if passed else None

    def apply(
        self, locked: Held, attempt: Attempt, answer: AuthorizationResult | None
    ) -> Settled | Retry:
        if answer is not None:
            return apply_authorization(locked, attempt, answer)
        return _fail_authentication(locked, attempt)

    def abort(self, locked: Held, attempt: Attempt) -> None:
        """The processor never received the authorisation: the intent still waits for the
        challenge (the customer may submit it again)."""


def _fail_authentication(locked: Held, attempt: Attempt) -> Settled:
    pi, charge = locked.pi, locked.charge
    assert charge is not None  # phase 1 made it, or phase 2's lock read the attempt's
    if pi.status != Status.REQUIRES_ACTION or pi.latest_charge_id != charge.id:
        attempts.mark_answered(attempt)
        return Settled(pi)
    before = snapshot(pi)
    charge_before = snapshot(charge)
    charge.status = Charge.Status.FAILED
    charge.three_d_secure = "failed"
    charge.failure_code = "authentication_required"
    charge.failure_message = AUTHENTICATION_FAILURE_MESSAGE
    pi.fail_authentication(
        error=payment_error(
            charge=charge,
            pm=charge.payment_method,
            decline=AUTHENTICATION_FAILURE,
            type="invalid_request_error",
        )
    )
    charge.save()
    pi.save()
    emit((charge, "failed", charge_before), (pi, "payment_failed", before))
    announce(pi, charge, "failed", charge.failure_code)
    return Settled(pi)
