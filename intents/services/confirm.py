"""Confirm (and PayMongo's attach): an authorisation attempt, in the two phases of
`payments.attempts`. Its call and phase 2 also finish a passed 3-D Secure challenge and a
`processing` attempt the processor has resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.enqueue import enqueue_on_commit
from core.ids import attempt_id as new_attempt_id
from core.scope import Scope
from core.values import UNSET
from payments import attempts
from payments import presenters as payment_presenters
from payments.attempts import GuardedProcessor, Release, Settled
from payments.exceptions import MESSAGES, CardDeclined
from payments.models import Charge, PaymentMethod
from payments.processors.base import AuthorizationResult, Decline
from payments.services import charge_outcome_for, is_magic_id

from .. import presenters
from ..exceptions import IntentUnexpectedState, ManualConfirmationNotPermitted
from ..models import CONFIRMABLE, InFlight, PaymentIntent, Status
from ..selectors import payment_intent_get
from . import recovery
from ._common import (
    check,
    emit,
    emit_many,
    fail_pending_charge,
    lock_intent,
    lock_intent_with_charge,
    owe_release,
    payment_error,
    record_on_checkout,
    resolve_payment_method,
    snapshot,
)
from .links import three_d_secure_url

AUTHENTICATION_REQUIRED = Decline(
    "authentication_required", "authentication_required", MESSAGES["authentication_required"]
)
GENERIC_DECLINE = Decline("card_declined", "generic_decline", "Your card was declined.")


@dataclass(frozen=True)
class Authorization:
    """An authorisation attempt phase 1 recorded: `charge`, pending, the latest of `pi`."""

    pi: PaymentIntent
    charge: Charge
    pm: PaymentMethod
    three_d_secure_passed: bool = False
    error_on_requires_action: bool = False
    raise_decline: bool = True  # a decline raises CardDeclined (an API call) or only records
    attempt_id: str = ""  # the processor's idempotency key for the call

    @property
    def livemode(self) -> bool:
        return self.pi.livemode


def payment_intent_confirm(
    *,
    scope: Scope,
    payment_intent_id: str,
    is_secret: bool = True,
    payment_method: str | None = None,
    payment_method_data: dict | None = None,
    return_url: str | None = None,
    off_session: bool | None = None,
    error_on_requires_action: bool = False,
    receipt_email=UNSET,
    shipping=UNSET,
    setup_future_usage=UNSET,
    capture_method: str | None = None,
    payment_method_types: list[str] | None = None,
    payment_method_options: dict | None = None,
) -> PaymentIntent:
    """Confirm. A decline raises `CardDeclined` with the intent embedded, after the intent is
    back in `requires_payment_method` with `last_payment_error`."""
    names_method = bool(payment_method or payment_method_data)
    in_one_transaction = attempts.answers_in_process(scope.livemode)
    pm = None
    if names_method and not in_one_transaction:
        if payment_method_data or is_magic_id(payment_method):
            # Resolving these writes a new payment method: find the intent in scope first, so
            # a confirm of another account's (or mode's) intent changes nothing.
            payment_intent_get(scope=scope, payment_intent_id=payment_intent_id)
        pm = resolve_payment_method(
            scope=scope, payment_method_id=payment_method, payment_method_data=payment_method_data
        )

    def record() -> Authorization | attempts.Recover | Settled:
        nonlocal pm
        # the intent's own method read along, for a confirm that names none
        related = () if names_method else ("payment_method",)
        pi = lock_intent(payment_intent_id, scope=scope, related=related)
        if names_method and pm is None:
            # One transaction (an in-process processor): the method is resolved once the
            # intent is found in scope, and a new one is rolled back with anything that fails.
            pm = resolve_payment_method(
                scope=scope,
                payment_method_id=payment_method,
                payment_method_data=payment_method_data,
            )
        if not is_secret and pi.confirmation_method == "manual":
            raise ManualConfirmationNotPermitted()
        attempt_id = new_attempt_id(InFlight.CONFIRM, pi.id)
        earlier = recovery.first(
            pi, InFlight.CONFIRM, attempt_id=attempt_id, verb="confirmed", allowed=CONFIRMABLE
        )
        if earlier is not None:
            return earlier
        check(pi, CONFIRMABLE, "confirmed")
        if pm is not None:
            pi.payment_method = pm
            method = pm
        elif pi.payment_method_id is None:
            raise IntentUnexpectedState.missing_payment_method(pi)
        else:
            method = pi.payment_method
        if pi.status == Status.REQUIRES_ACTION:
            fail_pending_charge(pi, "A new confirmation replaced this attempt.")
        if return_url is not None:
            pi.return_url = return_url
        if off_session is not None:
            pi.off_session = off_session
        if receipt_email is not UNSET:
            pi.receipt_email = receipt_email
        if shipping is not UNSET:
            pi.shipping = shipping
        if setup_future_usage is not UNSET:
            pi.setup_future_usage = setup_future_usage or None
        if capture_method:
            pi.capture_method = capture_method
        if payment_method_types:
            pi.payment_method_types = payment_method_types
        if payment_method_options is not None:
            pi.payment_method_options = payment_method_options or {}
        charge = record_charge(pi, method)
        pi.begin(InFlight.CONFIRM, attempt_id)
        attempts.write(charge, pi)
        return Authorization(
            pi,
            charge,
            method,
            error_on_requires_action=error_on_requires_action,
            attempt_id=attempt_id,
        )

    return attempts.two_phase(record=record, call=authorize, apply=apply_authorization)


def record_charge(pi: PaymentIntent, pm: PaymentMethod) -> Charge:
    """The pending charge of a new attempt, made the intent's latest (phase 1; the caller
    writes it, `attempts.write`)."""
    charge = Charge(
        account_id=pi.account_id,
        livemode=pi.livemode,
        payment_intent=pi,
        payment_method=pm,
        customer_id=pi.customer_id,
        amount=pi.amount,
        currency=pi.currency,
        status=Charge.Status.PENDING,
        payment_method_details=payment_presenters.payment_method_details_to_api(pm),
        description=pi.description,
        metadata=pi.metadata or {},
    )
    pi.latest_charge = charge
    return charge


def authorize(processor: GuardedProcessor, attempt: Authorization) -> AuthorizationResult:
    """The call: authorise the charge's amount. A card that wants 3-D Secure where it may not
    have it (`error_on_requires_action`, or once more after a passed challenge) is declined."""
    pi, charge = attempt.pi, attempt.charge
    result = processor.authorize(
        attempt_id=attempt.attempt_id,
        reference=charge.id,
        token=attempt.pm.processor_token,
        amount=charge.amount,
        currency=charge.currency,
        capture=pi.capture_method == "automatic",
        off_session=pi.off_session,
        three_d_secure_passed=attempt.three_d_secure_passed,
        livemode=pi.livemode,
    )
    if result.status == "requires_action" and (
        attempt.error_on_requires_action or attempt.three_d_secure_passed
    ):
        return AuthorizationResult(
            status="declined",
            reference=result.reference,
            decline=AUTHENTICATION_REQUIRED,
            network_status="not_sent_to_network",
        )
    return result


def apply_authorization(attempt: Authorization, result: AuthorizationResult) -> Settled:
    """Phase 2: apply the processor's answer to the intent and its charge, if the attempt is
    still the intent's current one; an authorisation nobody wants any more is released."""
    charge_id = attempt.charge.id
    if attempts.held():
        pi, charge = attempt.pi, attempt.charge
    else:
        pi, charge = lock_intent_with_charge(attempt.pi.id, charge_id)
    if (
        not pi.inflight_attempt(attempt.attempt_id)
        or pi.latest_charge_id != charge_id
        or pi.status not in CONFIRMABLE + [Status.PROCESSING]
    ):
        if pi.latest_charge_id == charge_id and pi.status != Status.CANCELED and charge.outcome:
            # Already applied, by the reconciler or by the request that made the attempt (this
            # is the other one, late): answer what it answered.
            return authorization_answer(pi) if attempt.raise_decline else Settled(pi)
        # The intent moved on (canceled, expired) while the processor authorised: release it.
        if result.status == "succeeded":
            owe_release(charge)
            return Settled(pi, release=(Release(livemode=pi.livemode, reference=charge_id),))
        return Settled(pi)
    before = snapshot(pi)
    charge_before = snapshot(charge)
    pi.end()
    charge.processor_reference = result.reference or charge.processor_reference
    charge.outcome = charge_outcome_for(result)
    from_processing = pi.status == Status.PROCESSING
    if result.status == "succeeded":
        _succeeded(pi, charge, before, captured=result.captured, from_processing=from_processing)
    elif result.status == "requires_action":
        charge.three_d_secure = "required"
        charge.save()
        pi.confirm_requires_action(
            next_action={
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "url": three_d_secure_url(pi, charge.id),
                    "return_url": pi.return_url,
                },
            }
        )
        pi.save()
        emit(pi, "requires_action", before)
        record_on_checkout(pi, charge, "requires_action")
    elif result.status == "processing":
        charge.save()
        delay = settings.SIMULATED_PROCESSING_DELAY_SECONDS
        pi.confirm_processing(resolve_at=timezone.now() + timedelta(seconds=delay))
        pi.save()
        emit(pi, "processing", before)
        record_on_checkout(pi, charge, "processing")
        enqueue_on_commit("intents.tasks.resolve_processing_intent", pi.id)
    else:
        decline = result.decline or GENERIC_DECLINE
        charge.status = Charge.Status.FAILED
        charge.failure_code = decline.code
        charge.failure_message = decline.message
        if charge.three_d_secure == "required":
            charge.three_d_secure = "passed"
        error = payment_error(charge=charge, pm=charge.payment_method, decline=decline)
        if from_processing:
            pi.async_declined(error=error)
        else:
            pi.decline(error=error)
        charge.save()
        pi.save()
        emit_many((charge, "failed", charge_before), (pi, "payment_failed", before))
        record_on_checkout(pi, charge, "failed", decline.decline_code or decline.code)
        if attempt.raise_decline:
            return Settled(
                pi,
                error=CardDeclined.from_decline(
                    decline, payment_intent=presenters.payment_intent_to_api(pi)
                ),
            )
    return Settled(pi)


def _succeeded(
    pi: PaymentIntent, charge: Charge, before: dict, *, captured: bool, from_processing: bool
) -> None:
    charge.status = Charge.Status.SUCCEEDED
    if pi.capture_method == "manual":
        charge.authorized = True
        if from_processing:
            pi.async_requires_capture(amount_capturable=charge.amount)
        else:
            pi.confirm_requires_capture(amount_capturable=charge.amount)
    else:
        if pi.capture_method == "automatic" and captured:
            charge.captured = True
            charge.amount_captured = charge.amount
        else:  # automatic_async: a worker owes the processor the capture
            charge.authorized = True
            charge.capture_pending = True
            enqueue_on_commit("intents.tasks.capture_charge", charge.id)
        if from_processing:
            pi.async_succeeded(amount_received=charge.amount)
        else:
            pi.confirm_succeeded(amount_received=charge.amount)
    charge.save()
    pi.save()
    if pi.status == Status.REQUIRES_CAPTURE:
        emit_many((charge, "succeeded", None), (pi, "amount_capturable_updated", before))
    else:
        emit_many((charge, "succeeded", None), (pi, "succeeded", before))
    record_on_checkout(pi, charge, "succeeded")


# --- recovery ----------------------------------------------------------------------------------


def authorization_answer(pi: PaymentIntent) -> Settled:
    """What a confirm (or the authorisation after a challenge) whose attempt is the intent's
    latest answered: the decline it recorded (raised), or the intent."""
    error = pi.last_payment_error
    if (
        pi.status == Status.REQUIRES_PAYMENT_METHOD
        and error
        and pi.latest_charge_id
        and error.get("charge") == pi.latest_charge_id
    ):
        decline = Decline(error["code"], error.get("decline_code"), error["message"])
        return Settled(
            pi,
            error=CardDeclined.from_decline(
                decline, payment_intent=presenters.payment_intent_to_api(pi)
            ),
        )
    return Settled(pi)


def load_authorization(pi: PaymentIntent, own: bool, **flags) -> Authorization:
    """The authorisation attempt in flight on a locked intent, rebuilt from its rows."""
    charge = Charge.objects.select_related("payment_method").get(id=pi.latest_charge_id)
    return Authorization(
        pi,
        charge,
        charge.payment_method,
        raise_decline=own,
        attempt_id=pi.last_attempt_id or "",
        **flags,
    )


def abort_authorization(attempt: Authorization) -> None:
    """The processor never received the authorisation: its pending charge fails, the intent is
    where it was before the confirm (a new confirm may be made)."""
    pi = lock_intent(attempt.pi.id)
    if not pi.inflight_attempt(attempt.attempt_id):
        return
    fail_pending_charge(pi, "The processor never received this attempt.")
    recovery.end(pi)


recovery.register(
    InFlight.CONFIRM,
    recovery.Kind(
        load=load_authorization,
        apply=apply_authorization,
        abort=abort_authorization,
        answer=authorization_answer,
    ),
)
