"""The customer's answer to a 3-D Secure challenge on the hosted page, in the two phases of
`payments.attempts`: the processor records the challenge's outcome and, when it passed,
authorises the attempt (the call); phase 2 applies the authorisation or the failed challenge."""

from __future__ import annotations

from core.ids import attempt_id as new_attempt_id
from payments import attempts
from payments.attempts import GuardedProcessor, Settled
from payments.models import Charge
from payments.processors.base import AuthorizationResult, Decline

from ..models import InFlight, PaymentIntent, Status
from . import recovery
from ._common import emit, lock_charge, lock_intent, payment_error, record_on_checkout, snapshot
from .confirm import (
    Authorization,
    apply_authorization,
    authorization_answer,
    authorize,
    load_authorization,
)

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

    def record() -> Authorization | attempts.Recover | Settled:
        pi = lock_intent(payment_intent_id)
        attempt_id = new_attempt_id(InFlight.AUTHENTICATE, pi.id)
        earlier = recovery.first(
            pi,
            InFlight.AUTHENTICATE,
            attempt_id=attempt_id,
            verb="authenticated",
            allowed=[Status.REQUIRES_ACTION],
        )
        if isinstance(earlier, attempts.Recover):
            return earlier  # a stale attempt (another submit's): settled, then this one runs
        if (
            pi.status != Status.REQUIRES_ACTION
            or pi.latest_charge_id != charge_id
            or pi.inflight_active()
        ):
            return Settled(pi)
        pi.begin(InFlight.AUTHENTICATE, attempt_id)
        pi.save()
        charge = Charge.objects.select_related("payment_method").get(id=charge_id)
        return Authorization(
            pi,
            charge,
            charge.payment_method,
            three_d_secure_passed=True,
            raise_decline=False,
            attempt_id=attempt_id,
        )

    def call(processor: GuardedProcessor, attempt: Authorization) -> AuthorizationResult | None:
        """The authorisation once the challenge passed; None when it failed. (Only the
        authorisation, which moves money, is made under the attempt id.)"""
        passed = processor.authenticate(
            reference=attempt.charge.id, token=attempt.pm.processor_token, succeeded=succeeded
        )
        return authorize(processor, attempt) if passed else None

    def apply(attempt: Authorization, result: AuthorizationResult | None) -> Settled:
        if result is not None:
            return apply_authorization(attempt, result)
        return _fail_authentication(attempt)

    return attempts.two_phase(record=record, call=call, apply=apply)


def _fail_authentication(attempt: Authorization) -> Settled:
    pi = lock_intent(attempt.pi.id)
    charge = lock_charge(attempt.charge.id, pi)
    if (
        not pi.inflight_attempt(attempt.attempt_id)
        or pi.status != Status.REQUIRES_ACTION
        or pi.latest_charge_id != charge.id
    ):
        return Settled(pi)
    before = snapshot(pi)
    charge_before = snapshot(charge)
    pi.end()
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
    emit(charge, "failed", charge_before)
    emit(pi, "payment_failed", before)
    record_on_checkout(pi, charge, "failed", charge.failure_code)
    return Settled(pi)


def _load(pi: PaymentIntent, own: bool) -> Authorization:
    return load_authorization(pi, own, three_d_secure_passed=True)


def _abort(attempt: Authorization) -> None:
    """The processor never received the authorisation: the intent still waits for the
    challenge (the customer may submit it again)."""
    pi = lock_intent(attempt.pi.id)
    if pi.inflight_attempt(attempt.attempt_id):
        recovery.end(pi)


recovery.register(
    InFlight.AUTHENTICATE,
    recovery.Kind(load=_load, apply=apply_authorization, abort=_abort, answer=authorization_answer),
)
