"""SetupIntents: save a card to a customer for later payments, without charging it.

Each write locks the SetupIntent (`select_for_update()`), re-checks its state after the lock,
applies a django-fsm transition and writes its `setup_intent.*` event in the same transaction.
A card is turned into a PaymentMethod by `payments.services` (the processor's vault checks the
number and expiry) before the lock is taken. A confirm is a verification attempt run by the
attempt ledger (`Verify`: recorded under the SetupIntent's lock, then the processor's
`verify`, then the outcome applied in a new locked transaction), so declining cards fail the
setup and 3-D Secure cards ask for the challenge (`VerifyAuthenticated` after the hosted page),
as on Stripe; success attaches the card to the customer in the outcome's transaction.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core.errors import CardError, DomainError, InvalidRequestError, UnexpectedState
from core.ids import attempt_id as new_attempt_id
from core.ids import random_base62
from core.metadata import merge_metadata
from core.scope import Scope
from core.selectors import first_or_missing
from core.values import UNSET
from core.web import absolute_http_url
from events.services import event_emit
from payments import attempts
from payments.attempts import Recorded, Settled
from payments.exceptions import CardDeclined
from payments.models import Attempt, AttemptKind, Customer, PaymentMethod
from payments.presenters import payment_method_to_api
from payments.processors.base import AuthorizationResult, Decline
from payments.selectors import customer_get
from payments.services import (
    card_tokens,
    payment_method_attach_locked,
    payment_method_resolve,
    token_for,
)
from routing.models import ProcessorConnection
from routing.routes import Facts, decide
from routing.selectors import ensure_builtin, routing_inputs

from ..models import SETUP_OPEN, SetupIntent, SetupStatus
from ..presenters import setup_intent_to_api
from .links import setup_three_d_secure_url
from .route import NO_PROCESSOR, first_connection


class SetupIntentUnexpectedState(UnexpectedState):
    code = "setup_intent_unexpected_state"

    def __init__(self, si: SetupIntent, verb: str) -> None:
        super().__init__(
            f"You cannot {verb} this SetupIntent because it has a status of {si.status}.",
            param=None,
        )


def setup_intent_client_secret_matches(si: SetupIntent, secret: str | None) -> bool:
    return bool(secret) and hmac.compare_digest(str(secret), si.client_secret)


def _lock(scope: Scope, setup_intent_id: str) -> SetupIntent:
    return first_or_missing(
        SetupIntent.objects.select_for_update().filter(**scope.filters),
        object_id=setup_intent_id,
        object_name="setup_intent",
    )


def _resolve_method(scope: Scope, payment_method: str | None) -> PaymentMethod | None:
    if not payment_method:
        return None
    return payment_method_resolve(scope=scope, payment_method_id=payment_method)


def setup_intent_create(
    *,
    scope: Scope,
    customer: str | None = None,
    payment_method: str | None = None,
    confirm: bool = False,
    usage: str | None = None,
    description: str | None = None,
    metadata=None,
    payment_method_types: list[str] | None = None,
    return_url: str | None = None,
) -> SetupIntent:
    """A new SetupIntent (`setup_intent.created`); with `confirm`, confirmed at once."""
    if return_url is not None:
        # checked when given, as a payment intent's is, not only once it is used
        absolute_http_url(return_url, param="return_url", livemode=scope.livemode)
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    pm = _resolve_method(scope, payment_method)
    if payment_method_types and set(payment_method_types) - {"card"}:
        raise InvalidRequestError(
            "The only payment method type available is card.",
            code="payment_method_type_invalid",
            param="payment_method_types",
        )
    with transaction.atomic():
        si = SetupIntent(
            account_id=scope.account_id,
            livemode=scope.livemode,
            customer=customer_obj,
            usage=usage or "off_session",
            description=description,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
            payment_method_types=list(payment_method_types or ["card"]),
            return_url=return_url,
        )
        si.client_secret = f"{si.id}_secret_{random_base62(25)}"
        if pm is not None:
            si.attach_method(pm)
        si.save(force_insert=True)
        event_emit(scope=scope, changes=[("setup_intent.created", setup_intent_to_api(si), None)])
    if confirm:
        return setup_intent_confirm(scope=scope, setup_intent_id=si.id, return_url=return_url)
    return si


def setup_intent_update(
    *,
    scope: Scope,
    setup_intent_id: str,
    customer=UNSET,
    payment_method=UNSET,
    description=UNSET,
    metadata=UNSET,
) -> SetupIntent:
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    pm = _resolve_method(scope, payment_method) if payment_method is not UNSET else None
    with transaction.atomic():
        si = _lock(scope, setup_intent_id)
        if si.status not in SETUP_OPEN:
            raise SetupIntentUnexpectedState(si, "update")
        before = setup_intent_to_api(si)
        if customer is not UNSET:
            if si.customer_id and customer != si.customer_id:
                raise InvalidRequestError(
                    "A SetupIntent's customer cannot be changed once set.", param="customer"
                )
            si.customer = customer_obj
        if payment_method is not UNSET:
            if pm is not None:
                si.attach_method(pm)
            else:
                si.change()
                si.payment_method = None
        if description is not UNSET:
            si.description = description or None
        if metadata is not UNSET:
            si.metadata = merge_metadata(si.metadata, metadata)
        si.save()
        after = setup_intent_to_api(si)
        if after != before:
            event_emit(scope=scope, changes=[("setup_intent.updated", after, before)])
    return si


def setup_intent_confirm(
    *,
    scope: Scope,
    setup_intent_id: str,
    payment_method: str | None = None,
    return_url: str | None = None,
) -> SetupIntent:
    """Confirm with its (or the given) PaymentMethod: a verification attempt, run by the
    attempt ledger like a payment's authorisation (recorded, then the processor checks the card
    without charging it). Verified: the method is attached to the customer
    (`payment_method.attached`, `setup_intent.succeeded`). The issuer asks for 3-D Secure:
    `requires_action` with `next_action` (`setup_intent.requires_action`), finished on the
    hosted 3-D Secure page. Declined: `setup_intent.setup_failed` with `last_setup_error`, and
    the decline raised (402, the SetupIntent embedded). A method attached to another customer
    fails the setup the same way, as an `invalid_request_error`."""
    if return_url is not None:
        absolute_http_url(return_url, param="return_url", livemode=scope.livemode)
    pm = _resolve_method(scope, payment_method)
    return attempts.run(
        Verify(scope=scope, setup_intent_id=setup_intent_id, pm=pm, return_url=return_url)
    )


def setup_intent_authenticate(
    *, setup_intent_id: str, attempt_id: str, succeeded: bool
) -> SetupIntent:
    """The customer completed (or failed) the 3-D Secure challenge that attempt `attempt_id`
    asked for. Idempotent: a second submit finds the SetupIntent no longer waiting for that
    challenge and changes nothing. (The hosted page reaches it by a signed token.)"""
    return attempts.run(
        VerifyAuthenticated(
            setup_intent_id=setup_intent_id, challenged=attempt_id, succeeded=succeeded
        )
    )


# --- the verification: the attempt ledger's movement ----------------------------------------------


@cache
def _listeners() -> tuple[Callable[[SetupIntent, str], None], ...]:
    return tuple(import_string(path) for path in settings.SETUP_OUTCOME_LISTENERS)


def announce_setup(si: SetupIntent, status: str) -> None:
    """Tell the features built on SetupIntents (settings.SETUP_OUTCOME_LISTENERS: the hosted
    checkout's card-saving forms) a verification's outcome (`succeeded`, `requires_action`,
    `failed`) in the phase 2 transaction that writes it, as `_common.announce` does for
    payments: what they record commits or rolls back with the outcome."""
    for listener in _listeners():
        listener(si, status)


def _lock_for_attempt(setup_intent_id: str, scope: Scope | None = None) -> SetupIntent:
    """The SetupIntent locked (in scope, when acting for a caller), the attempt recorded on it
    read along (`attempts.with_recorded`)."""
    queryset = SetupIntent.objects.select_for_update(of=("self",))
    if scope is not None:
        queryset = queryset.filter(**scope.filters)
    return first_or_missing(
        attempts.with_recorded(queryset),
        object_id=setup_intent_id,
        object_name="setup_intent",
    )


class Verify(attempts.Movement[SetupIntent]):
    """A SetupIntent's confirm: the card checked by the processor of the scope's first usable
    connection, nothing charged. The method is named in the attempt's params, so a reconciler
    rebuilds the movement from the row alone."""

    kind = AttemptKind.VERIFY

    def __init__(
        self,
        *,
        scope: Scope | None = None,
        setup_intent_id: str = "",
        pm: PaymentMethod | None = None,
        return_url: str | None = None,
    ):
        self.scope = scope
        self.setup_intent_id = setup_intent_id
        self.pm = pm
        self.return_url = return_url
        self.attempt_id = new_attempt_id(self.kind, setup_intent_id)

    @classmethod
    def resume(cls, attempt: Attempt) -> Verify:
        return cls(setup_intent_id=attempt.target)

    def lock(self) -> SetupIntent:
        return _lock_for_attempt(self.setup_intent_id, self.scope)

    def target(self, locked: SetupIntent) -> SetupIntent:
        return locked

    def in_progress(self, locked: SetupIntent) -> DomainError | Settled:
        error = SetupIntentUnexpectedState(locked, "confirm")
        error.retryable = True
        return error

    def relock(self, attempt: Attempt) -> SetupIntent:
        return _lock_for_attempt(attempt.target)

    def record(self, locked: SetupIntent) -> Recorded | Settled:
        si = locked
        if si.status not in SETUP_OPEN:
            raise SetupIntentUnexpectedState(si, "confirm")
        if self.pm is not None:
            si.attach_method(self.pm)
            method = self.pm
        elif si.payment_method_id is None:
            raise InvalidRequestError(
                "You cannot confirm this SetupIntent because it's missing a payment method. "
                "Update it with a payment_method, or pass one to confirm.",
                code="setup_intent_unexpected_state",
                param="payment_method",
            )
        else:
            method = PaymentMethod.objects.get(pk=si.payment_method_id)
            if si.status == SetupStatus.REQUIRES_ACTION:
                si.attach_method(method)  # a new confirm replaces the pending challenge
        if self.return_url:
            si.return_url = self.return_url
        connection = _connection_for(si, method)
        if connection is None:
            return _declined(si, NO_PROCESSOR, attempt=None)
        attempt = attempts.new_attempt(
            self.kind,
            target=si,
            id=self.attempt_id,
            params={"payment_method": method.id, "usage": si.usage},
            connection=connection,
        )
        attempt.__dict__["method"] = method
        return Recorded(attempt, writes=(si,))

    def call(self, processor: attempts.GuardedProcessor, attempt: Attempt) -> Any:
        return self._verify(processor, attempt, passed=False)

    @staticmethod
    def _verify(
        processor: attempts.GuardedProcessor, attempt: Attempt, *, passed: bool
    ) -> AuthorizationResult:
        method = attempt.__dict__.get("method") or PaymentMethod.objects.get(
            pk=attempt.params["payment_method"]
        )
        si_id = attempt.target
        connection = attempts.connection_of(attempt)
        remote = not (processor.in_process or passed)
        return processor.verify(
            attempt_id=attempt.id,
            reference=si_id,
            token=token_for(method, connection),
            usage=attempt.params.get("usage") or "off_session",
            three_d_secure_passed=passed,
            livemode=attempt.livemode,
            processor_reference=attempt.params.get("processor_reference", "") if passed else "",
            # a remote processor's own 3-D Secure page sends the customer back to ours
            return_url=setup_three_d_secure_url(si_id, attempt.id) if remote else "",
        )

    def apply(self, locked: SetupIntent, attempt: Attempt, answer: Any) -> Settled:
        si = locked
        if si.status not in SETUP_OPEN or si.payment_method_id != attempt.params.get(
            "payment_method"
        ):
            attempts.mark_answered(attempt)  # canceled, or confirmed again, meanwhile
            return Settled(si)
        result: AuthorizationResult = answer
        if result.status == "succeeded":
            return _succeeded(si)
        if result.status == "requires_action":
            before = setup_intent_to_api(si)
            si.require_action(
                next_action={
                    "type": "redirect_to_url",
                    "redirect_to_url": {
                        "url": setup_three_d_secure_url(si.id, attempt.id),
                        "return_url": si.return_url,
                    },
                },
                attempt_id=attempt.id,
            )
            si.save()
            event_emit(
                scope=Scope.of(si),
                changes=[("setup_intent.requires_action", setup_intent_to_api(si), before)],
            )
            announce_setup(si, "requires_action")
            return Settled(si)
        return _declined(si, result.decline or GENERIC_DECLINE, attempt=attempt)

    def answer(self, locked: SetupIntent, attempt: Attempt) -> Settled:
        """What a settled verification answered: the decline it recorded (raised), or the
        SetupIntent."""
        error = locked.last_setup_error
        if locked.status == SetupStatus.REQUIRES_PAYMENT_METHOD and error:
            decline = Decline(error["code"], error.get("decline_code"), error["message"])
            return Settled(locked, error=_card_error(locked, decline))
        return Settled(locked)


class VerifyAuthenticated(Verify):
    """The verification once the customer answered the 3-D Secure challenge: the processor
    records the challenge's outcome and, when it passed, checks the card again (the call). A
    failed challenge fails the setup (`setup_intent_authentication_failure`)."""

    kind = AttemptKind.VERIFY_AUTHENTICATE
    raises = False  # the page shows the SetupIntent as it is after the challenge

    def __init__(self, *, setup_intent_id: str = "", challenged: str = "", succeeded: bool = True):
        super().__init__(setup_intent_id=setup_intent_id)
        self.challenged = challenged
        self.succeeded = succeeded

    @classmethod
    def resume(cls, attempt: Attempt) -> VerifyAuthenticated:
        return cls(setup_intent_id=attempt.target, challenged=attempt.params["challenged"])

    def in_progress(self, locked: SetupIntent) -> Settled:
        return Settled(locked)  # a submit while another is under way changes nothing

    def record(self, locked: SetupIntent) -> Recorded | Settled:
        si = locked
        if si.status != SetupStatus.REQUIRES_ACTION or si.challenged_attempt != self.challenged:
            return Settled(si)
        challenged = Attempt.objects.get(id=self.challenged)
        attempt = attempts.new_attempt(
            self.kind,
            target=si,
            id=self.attempt_id,
            params={
                "payment_method": si.payment_method_id,
                "usage": si.usage,
                "challenged": challenged.id,
                "processor_reference": (challenged.answer or {}).get("reference", ""),
            },
            connection=challenged.processor,
        )
        return Recorded(attempt)

    def call(self, processor: attempts.GuardedProcessor, attempt: Attempt) -> Any:
        """The check once the challenge passed; None when it failed."""
        method = PaymentMethod.objects.get(pk=attempt.params["payment_method"])
        attempt.__dict__["method"] = method
        passed = processor.authenticate(
            reference=attempt.target,
            token=token_for(method, attempts.connection_of(attempt)),
            succeeded=self.succeeded,
            processor_reference=attempt.params.get("processor_reference", ""),
        )
        if not passed:
            return None
        result = self._verify(processor, attempt, passed=True)
        if result.status == "requires_action":  # asked again after a passed challenge
            return AuthorizationResult(
                status="declined", reference=result.reference, decline=AUTHENTICATION_FAILURE
            )
        return result

    def apply(self, locked: SetupIntent, attempt: Attempt, answer: Any) -> Settled:
        si = locked
        if si.status != SetupStatus.REQUIRES_ACTION or si.challenged_attempt != attempt.params.get(
            "challenged"
        ):
            attempts.mark_answered(attempt)
            return Settled(si)
        if answer is None:
            return _declined(si, AUTHENTICATION_FAILURE, attempt=attempt)
        return super().apply(locked, attempt, answer)


AUTHENTICATION_FAILURE = Decline(
    "setup_intent_authentication_failure",
    None,
    "The latest attempt to set up the payment method has failed because authentication failed.",
)
GENERIC_DECLINE = Decline("card_declined", "generic_decline", "Your card was declined.")


def _connection_for(si: SetupIntent, method: PaymentMethod) -> ProcessorConnection | None:
    """The connection a verification calls: the scope's default route (as a payment with no
    flow of its own goes), its first connection that holds a token for the card."""
    scope = Scope.of(si)
    connections, flow = routing_inputs(scope=scope)
    if not connections:  # the scope's first call: its built-in connection
        ensure_builtin(scope=scope)
        connections, flow = routing_inputs(scope=scope)
    facts = Facts(
        amount=0,
        currency="",
        card_brand=method.card_brand,
        card_country=method.card_country,
        metadata=si.metadata or {},
        tokens=card_tokens(method, connections),
    )
    return first_connection(decide(flow, connections, facts, now=timezone.now()))


def _card_error(si: SetupIntent, decline: Decline) -> DomainError:
    """The error a failed verification raises, the SetupIntent embedded: a decline (402), or
    a failed challenge (400, as Stripe answers it)."""
    shown = setup_intent_to_api(si)
    if decline.code == "setup_intent_authentication_failure":
        return InvalidRequestError(decline.message, code=decline.code, setup_intent=shown)
    error: CardError = CardDeclined.from_decline(decline, setup_intent=shown)
    return error


def _succeeded(si: SetupIntent) -> Settled:
    """Verified: the method attached to the customer (refused when it belongs to another: the
    setup fails instead), `setup_intent.succeeded`."""
    scope = Scope.of(si)
    before = setup_intent_to_api(si)
    method = PaymentMethod.objects.select_for_update().get(pk=si.payment_method_id)
    if si.customer_id is not None:
        customer = Customer.objects.select_for_update().get(pk=si.customer_id)
        try:
            with transaction.atomic():
                payment_method_attach_locked(method, customer)
        except DomainError as exc:
            si.fail(
                error={
                    "code": exc.code,
                    "message": exc.message,
                    "param": "payment_method",
                    "type": "invalid_request_error",
                }
            )
            si.save()
            event_emit(
                scope=scope,
                changes=[("setup_intent.setup_failed", setup_intent_to_api(si), before)],
            )
            announce_setup(si, "failed")
            refused = InvalidRequestError(
                exc.message,
                code=exc.code,
                param="payment_method",
                setup_intent=setup_intent_to_api(si),
            )
            return Settled(si, error=refused)
    si.payment_method = method
    si.succeed()
    si.save()
    event_emit(scope=scope, changes=[("setup_intent.succeeded", setup_intent_to_api(si), before)])
    announce_setup(si, "succeeded")
    return Settled(si)


def _declined(si: SetupIntent, decline: Decline, *, attempt: Attempt | None) -> Settled:
    """The card was refused (or the challenge failed): `setup_intent.setup_failed` with
    `last_setup_error`, the method detached from the SetupIntent, the decline raised."""
    before = setup_intent_to_api(si)
    method = si.payment_method
    error = {
        "code": decline.code,
        "decline_code": decline.decline_code,
        "message": decline.message,
        "payment_method": payment_method_to_api(method) if method is not None else None,
        "type": "invalid_request_error"
        if decline.code == "setup_intent_authentication_failure"
        else "card_error",
    }
    si.fail(error=error)
    si.save()
    event_emit(
        scope=Scope.of(si), changes=[("setup_intent.setup_failed", setup_intent_to_api(si), before)]
    )
    announce_setup(si, "failed")
    return Settled(si, error=_card_error(si, decline))


def setup_intent_cancel(
    *, scope: Scope, setup_intent_id: str, cancellation_reason: str | None = None
) -> SetupIntent:
    with transaction.atomic():
        si = _lock(scope, setup_intent_id)
        if si.status not in SETUP_OPEN:
            raise SetupIntentUnexpectedState(si, "cancel")
        si.cancel(reason=cancellation_reason)
        si.save()
        event_emit(scope=scope, changes=[("setup_intent.canceled", setup_intent_to_api(si), None)])
    return si


__all__ = [
    "SetupIntentUnexpectedState",
    "SetupStatus",
    "Verify",
    "VerifyAuthenticated",
    "announce_setup",
    "setup_intent_authenticate",
    "setup_intent_cancel",
    "setup_intent_client_secret_matches",
    "setup_intent_confirm",
    "setup_intent_create",
    "setup_intent_update",
]
