"""Confirm (and PayMongo's attach): an authorisation attempt, run by the attempt ledger
(`payments.attempts.run`). Its apply also finishes a passed 3-D Secure challenge and a
`processing` attempt the processor has resolved (`Authorize` is their base)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.enqueue import enqueue_on_commit
from core.ids import attempt_id as new_attempt_id
from core.scope import Scope
from core.values import UNSET
from core.web import absolute_http_url
from payments import attempts
from payments import presenters as payment_presenters
from payments.attempts import GuardedProcessor, Recorded, Retry, Settled
from payments.exceptions import MESSAGES, CardDeclined
from payments.models import Attempt, AttemptKind, Charge, PaymentMethod
from payments.processors.base import AuthorizationResult, Decline
from payments.services import charge_outcome_for, payment_method_keep_for_customer, token_for
from routing.health import connection_answered
from routing.models import ProcessorConnection
from routing.routes import decide
from routing.selectors import ensure_builtin, routing_from_document, routing_inputs

from .. import presenters
from ..exceptions import IntentUnexpectedState, ManualConfirmationNotPermitted
from ..models import CONFIRMABLE, PaymentIntent, Status
from ._common import (
    Held,
    IntentMovement,
    announce,
    check,
    check_payment_method_options,
    emit,
    fail_pending_charge,
    lock_intent,
    payment_error,
    resolve_payment_method,
    snapshot,
    three_d_secure_forced,
)
from .links import three_d_secure_url
from .route import (
    NO_PROCESSOR,
    active,
    chain_params,
    facts,
    first_connection,
    is_local,
    next_attempt_id,
    next_connection,
)

AUTHENTICATION_REQUIRED = Decline(
    "authentication_required", "authentication_required", MESSAGES["authentication_required"]
)
GENERIC_DECLINE = Decline("card_declined", "generic_decline", "Your card was declined.")


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
    if return_url is not None:
        absolute_http_url(return_url, param="return_url", livemode=scope.livemode)
    check_payment_method_options(payment_method_options)
    confirm = Confirm(
        scope=scope,
        payment_intent_id=payment_intent_id,
        is_secret=is_secret,
        payment_method=payment_method,
        payment_method_data=payment_method_data,
        error_on_requires_action=error_on_requires_action,
        changes={
            "return_url": return_url,
            "off_session": off_session,
            "receipt_email": receipt_email,
            "shipping": shipping,
            "setup_future_usage": setup_future_usage,
            "capture_method": capture_method,
            "payment_method_types": payment_method_types,
            "payment_method_options": payment_method_options,
        },
    )
    try:
        return attempts.run(confirm)
    except TokenizeFirst:
        # A new card and a remote connection: tokenising calls it, so before any transaction
        # (the lock found the intent in scope, and nothing was written). Then the confirm runs
        # again with the method made.
        confirm.pm = resolve_payment_method(
            scope=scope,
            payment_method_id=payment_method,
            payment_method_data=payment_method_data,
        )
        return attempts.run(confirm)


class TokenizeFirst(Exception):
    """Raised inside the confirm's first transaction (rolling it back, nothing written yet)
    when its new card must be tokenized at a remote connection first."""


class Authorize(IntentMovement):
    """What every authorisation shares once recorded: the call (`authorize`) and its apply
    (`apply_authorization`), and what a settled one answered."""

    kind = AttemptKind.AUTHORIZE
    verb = "confirmed"
    allowed = tuple(CONFIRMABLE)

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> AuthorizationResult | None:
        """The authorisation (None only for a failed 3-D Secure challenge: `Authenticate`)."""
        return authorize(processor, attempt)

    def apply(self, locked: Held, attempt: Attempt, answer: AuthorizationResult) -> Settled | Retry:
        return apply_authorization(locked, attempt, answer)

    def answer(self, locked: Held, attempt: Attempt) -> Settled:
        return authorization_answer(locked.pi)

    def abort(self, locked: Held, attempt: Attempt) -> None:
        """The processor never received the authorisation: its pending charge fails, the
        intent is where it was before the confirm (a new confirm may be made)."""
        fail_pending_charge(locked.pi, "The processor never received this attempt.")


class Confirm(Authorize):
    def __init__(
        self,
        *,
        scope: Scope | None = None,
        payment_intent_id: str = "",
        is_secret: bool = True,
        pm: PaymentMethod | None = None,
        payment_method: str | None = None,
        payment_method_data: dict | None = None,
        error_on_requires_action: bool = False,
        changes: dict | None = None,
    ):
        self.scope = scope
        self.payment_intent_id = payment_intent_id
        self.is_secret = is_secret
        self.pm = pm
        self.payment_method = payment_method
        self.payment_method_data = payment_method_data
        self.names_method = bool(payment_method or payment_method_data)
        self.error_on_requires_action = error_on_requires_action
        self.changes = changes or {}
        self.attempt_id = new_attempt_id(AttemptKind.AUTHORIZE, payment_intent_id)

    def lock(self) -> Held:
        # the intent's own method read along, for a confirm that names none
        related = () if self.names_method else ("payment_method",)
        # where it may go (the scope's connections, the intent's flow) read with the lock
        return lock_intent(self.payment_intent_id, scope=self.scope, related=related, routed=True)

    def record(self, locked: Held) -> Recorded | Settled:
        pi = locked.pi
        connections, flow = routing_from_document(getattr(pi, "routing", None))
        if not connections:  # the scope's first payment: its built-in connection
            ensure_builtin(scope=Scope.of(pi))
            connections, flow = routing_inputs(scope=Scope.of(pi), flow_id=pi.payment_flow)
        if self.names_method and self.pm is None:
            if any(not is_local(c) for c in active(connections)):
                raise TokenizeFirst()
            # One transaction (an in-process processor): the method is resolved once the
            # intent is found in scope, and a new one is rolled back with anything that fails.
            assert self.scope is not None  # only a resumed confirm has none, and it never records
            self.pm = resolve_payment_method(
                scope=self.scope,
                payment_method_id=self.payment_method,
                payment_method_data=self.payment_method_data,
                connections=active(connections),
            )
        if not self.is_secret and pi.confirmation_method == "manual":
            raise ManualConfirmationNotPermitted()
        check(pi, CONFIRMABLE, "confirmed")
        if self.pm is not None:
            pi.payment_method = self.pm
            method = self.pm
        elif pi.payment_method_id is None:
            raise IntentUnexpectedState.missing_payment_method(pi)
        else:
            assert pi.payment_method is not None  # payment_method_id is set
            method = pi.payment_method
        if pi.status == Status.REQUIRES_ACTION:
            fail_pending_charge(pi, "A new confirmation replaced this attempt.")
        _apply_confirm_changes(pi, self.changes)
        route = decide(flow, connections, facts(pi, method, connections), now=timezone.now())
        connection = first_connection(route)
        if connection is None:
            # nowhere to go (every connection disabled, or its circuit open): nothing is
            # attempted, the confirm fails as a processor error would
            return Settled(
                error=CardDeclined.from_decline(
                    NO_PROCESSOR, payment_intent=presenters.payment_intent_to_api(pi)
                )
            )
        params: dict = {"error_on_requires_action": True} if self.error_on_requires_action else {}
        if route.max_attempts > 1:
            assert self.attempt_id is not None  # a confirm always has its attempt id
            params.update(chain_params(route, connection, self.attempt_id))
        return record_attempt(
            self.kind,
            pi,
            method,
            connection,
            route.flow_id,
            route.flow_version,
            1,
            params,
            attempt_id=self.attempt_id,
            locked=locked,
        )


def _apply_confirm_changes(pi: PaymentIntent, changes: dict) -> None:
    """The intent's fields a confirm may set with it."""
    if changes.get("return_url") is not None:
        pi.return_url = changes["return_url"]
    if changes.get("off_session") is not None:
        pi.off_session = changes["off_session"]
    if changes.get("receipt_email", UNSET) is not UNSET:
        pi.receipt_email = changes["receipt_email"]
    if changes.get("shipping", UNSET) is not UNSET:
        pi.shipping = changes["shipping"]
    if changes.get("setup_future_usage", UNSET) is not UNSET:
        pi.setup_future_usage = changes["setup_future_usage"] or None
    if changes.get("capture_method"):
        pi.capture_method = changes["capture_method"]
    if changes.get("payment_method_types"):
        pi.payment_method_types = changes["payment_method_types"]
    if changes.get("payment_method_options") is not None:
        pi.payment_method_options = changes["payment_method_options"] or {}


def record_attempt(
    kind: str,
    pi: PaymentIntent,
    method: PaymentMethod,
    connection: ProcessorConnection,
    flow_id: str | None,
    flow_version: int | None,
    number: int,
    params: dict,
    *,
    attempt_id: str | None,
    locked: Held,
) -> Recorded:
    """The pending charge of attempt `number` of a confirm at `connection`, and its attempt."""
    charge = record_charge(pi, method)
    charge.processor_id = connection.id
    Charge.processor.field.set_cached_value(charge, connection)  # as if read along, no query
    charge.payment_flow = flow_id
    charge.payment_flow_version = flow_version
    charge.attempt_number = number
    locked.charge = charge
    attempt = attempts.new_attempt(
        kind,
        target=pi,
        id=attempt_id,
        amount=charge.amount,
        currency=charge.currency,
        payment_intent_id=pi.id,
        charge_id=charge.id,
        params=params,
        connection=connection,
        payment_flow=flow_id,
    )
    attempt.charge = charge  # the call reads it (with its intent and method) from memory
    return Recorded(attempt, writes=(charge, pi))


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


def authorize(processor: GuardedProcessor, attempt: Attempt) -> AuthorizationResult:
    """The call: authorise the charge's amount. A card that wants 3-D Secure where it may not
    have it (`error_on_requires_action`, or once more after a passed challenge) is declined."""
    charge = attempt.charge
    # an authorisation's attempt names its charge, recorded with its method
    assert charge is not None and charge.payment_method is not None
    pi = charge.payment_intent
    three_d_secure_passed = attempt.kind == AttemptKind.AUTHENTICATE
    # a remote processor's own 3-D Secure page sends the customer back to ours
    remote = not (processor.in_process or three_d_secure_passed)
    challenge_return = three_d_secure_url(pi, charge.id) if remote else ""
    result = processor.authorize(
        attempt_id=attempt.id,
        reference=charge.id,
        token=token_for(charge.payment_method, attempts.connection_of(attempt)),
        processor_reference=charge.processor_reference if three_d_secure_passed else "",
        return_url=challenge_return,
        amount=charge.amount,
        currency=charge.currency,
        capture=pi.capture_method == "automatic",
        off_session=pi.off_session,
        three_d_secure_passed=three_d_secure_passed,
        request_three_d_secure=three_d_secure_forced(pi),
        livemode=pi.livemode,
    )
    if result.status == "requires_action" and (
        attempt.params.get("error_on_requires_action") or three_d_secure_passed
    ):
        return AuthorizationResult(
            status="declined",
            reference=result.reference,
            decline=AUTHENTICATION_REQUIRED,
            network_status="not_sent_to_network",
        )
    return result


def apply_authorization(
    locked: Held, attempt: Attempt, result: AuthorizationResult
) -> Settled | Retry:
    """Phase 2: apply the processor's answer to the intent and its charge; an authorisation
    the intent no longer wants (it moved on meanwhile) is released."""
    pi, charge = locked.pi, locked.charge
    assert charge is not None  # phase 1 made it, or phase 2's lock read the attempt's
    if pi.latest_charge_id != charge.id or pi.status not in CONFIRMABLE + [Status.PROCESSING]:
        attempts.mark_answered(attempt)
        if result.status == "succeeded":  # canceled or expired meanwhile: release it
            return Settled(pi, release=(attempts.release_recorded(charge),))
        return Settled(pi)
    connection = attempts.connection_of(attempt)
    if connection is not None:
        connection_answered(
            connection,
            processor_error=result.processor_error,
            authorised=result.status == "succeeded",
            learn=result.status in ("succeeded", "declined"),
        )
    before = snapshot(pi)
    charge_before = snapshot(charge)
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
        emit((pi, "requires_action", before))
        announce(pi, charge, "requires_action")
    elif result.status == "processing":
        charge.save()
        delay = settings.SIMULATED_PROCESSING_DELAY_SECONDS
        pi.confirm_processing(resolve_at=timezone.now() + timedelta(seconds=delay))
        pi.save()
        emit((pi, "processing", before))
        announce(pi, charge, "processing")
        enqueue_on_commit("intents.tasks.resolve_processing_intent", pi.id)
    else:
        decline = result.decline or GENERIC_DECLINE
        charge.status = Charge.Status.FAILED
        charge.failure_code = decline.code
        charge.failure_message = decline.message
        if charge.three_d_secure == "required":
            charge.three_d_secure = "passed"
        retry = _retry(locked, attempt, result, charge)
        if retry is not None:  # the flow goes on at its next connection
            charge.save()
            emit((charge, "failed", charge_before))
            return retry
        error = payment_error(charge=charge, pm=charge.payment_method, decline=decline)
        if from_processing:
            pi.async_declined(error=error)
        else:
            pi.decline(error=error)
        charge.save()
        pi.save()
        emit((charge, "failed", charge_before), (pi, "payment_failed", before))
        announce(pi, charge, "failed", decline.decline_code or decline.code)
        return Settled(
            pi,
            error=CardDeclined.from_decline(
                decline, payment_intent=presenters.payment_intent_to_api(pi)
            ),
        )
    return Settled(pi)


def _retry(
    locked: Held, attempt: Attempt, result: AuthorizationResult, charge: Charge
) -> Retry | None:
    """A failed attempt of a payment flow that retries it: the next attempt, recorded (its
    charge made the intent's latest), for `run` to call."""
    method = charge.payment_method
    if method is None:
        return None
    found = next_connection(attempt, result, method)
    if found is None:
        return None
    connection, params = found
    number = params["n"]
    recorded = record_attempt(
        AttemptKind.AUTHORIZE,
        locked.pi,
        method,
        connection,
        params.get("flow"),
        params.get("version"),
        number,
        params,
        attempt_id=next_attempt_id(attempt, number),
        locked=locked,
    )
    recorded.writes = (charge, *recorded.writes)
    return Retry(recorded)


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
    if pi.setup_future_usage and pi.customer_id and pi.payment_method_id:
        payment_method_keep_for_customer(
            payment_method_id=pi.payment_method_id, customer_id=pi.customer_id
        )
    if pi.status == Status.REQUIRES_CAPTURE:
        emit((charge, "succeeded", None), (pi, "amount_capturable_updated", before))
    else:
        emit((charge, "succeeded", None), (pi, "succeeded", before))
    announce(pi, charge, "succeeded")


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
