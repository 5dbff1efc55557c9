"""The customer's side: pay a checkout intent (or save a card to its customer) from the hosted
page or an embedded form, and bring the checkout up to date with its PaymentIntent.

The money moves through the PaymentIntent services, never around them: the card becomes a
PaymentMethod through `payments.services`, the checkout's one open PaymentIntent is created (or
reused for a retry) under the checkout's row lock, and `payment_intent_confirm` makes the
attempt in its own two phases. `checkout_intent_sync` then applies what the PaymentIntent says
(finished, a failed attempt to report) under the lock again; the hosted page's 3-D Secure return
and the sweep call it too.

Checkout tracking: the submit completes the tracked checkout's billing step and the PaymentIntent
it opens is linked to that checkout (`checkout=`), so the PaymentIntent services record every
attempt on it, in the attempt's own transaction, and its success completes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from checkouts.models import StepStatus
from core.errors import CardError, InvalidRequestError, UnexpectedState
from core.scope import Scope
from events.services import event_emit
from intents.models import CONFIRMABLE, PaymentIntent
from intents.models import Status as PaymentIntentStatus
from intents.services import payment_intent_confirm, payment_intent_create, payment_intent_update
from payments.models import Charge
from payments.processors.base import RawCard
from payments.services import payment_method_attach, payment_method_create

from .. import selectors
from ..exceptions import PaymentInProgress
from ..models import CheckoutIntent, Status, Type
from ._common import Change, check_pending, event_change, lock_checkout_intent, snapshot
from .checkout_intents import amount_within
from .tracking import checkout_intent_track

PAID = (PaymentIntentStatus.SUCCEEDED, PaymentIntentStatus.REQUIRES_CAPTURE)
UNDER_WAY = (PaymentIntentStatus.PROCESSING,) + PAID


@dataclass(frozen=True)
class Payment:
    """What a submit of the form led to: the checkout as it now is, and its PaymentIntent (None
    for a saved card). `next_action_url` is the 3-D Secure challenge to send the customer to."""

    checkout_intent: CheckoutIntent
    payment_intent: PaymentIntent | None = None

    @property
    def next_action_url(self) -> str | None:
        pi = self.payment_intent
        if pi is None or pi.status != PaymentIntentStatus.REQUIRES_ACTION or not pi.next_action:
            return None
        return (pi.next_action.get("redirect_to_url") or {}).get("url")


def checkout_intent_pay(
    *,
    scope: Scope,
    checkout_intent_id: str,
    card: RawCard,
    billing_details: dict | None = None,
    amount: int | None = None,
    return_url: str | None = None,
) -> Payment:
    """One submit of the form. Raises a `CardError` for a card the processor refuses or
    declines (the attempt is recorded, the page shows the reason), `PaymentInProgress` for a
    second submit while the first is under way, and `CheckoutIntentUnexpectedState` once the
    checkout is no longer pending. `return_url` is where 3-D Secure comes back to."""
    ci = selectors.checkout_intent_get(scope=scope, checkout_intent_id=checkout_intent_id)
    check_pending(ci, "paid")
    if ci.type == Type.PAYMENT_METHOD_FORM:
        pm = payment_method_create(scope=scope, card=card, billing_details=billing_details)
        return Payment(_save_payment_method(scope, ci.id, pm))
    pm = payment_method_create(scope=scope, card=card, billing_details=billing_details)
    pi = _open_payment_intent(scope, ci.id, amount)
    try:
        pi = payment_intent_confirm(
            scope=scope, payment_intent_id=pi.id, payment_method=pm.id, return_url=return_url
        )
    except CardError:
        checkout_intent_sync(scope=scope, checkout_intent_id=ci.id)
        raise
    except UnexpectedState:
        # Another submit's attempt holds the PaymentIntent (or has already paid it).
        ci = checkout_intent_sync(scope=scope, checkout_intent_id=ci.id)
        if ci.status == Status.FINISHED:
            return Payment(ci, ci.payment_intent)
        raise PaymentInProgress(ci)
    return Payment(checkout_intent_sync(scope=scope, checkout_intent_id=ci.id), pi)


def _open_payment_intent(
    scope: Scope, checkout_intent_id: str, amount: int | None
) -> PaymentIntent:
    """The checkout's one open PaymentIntent, created under the checkout's row lock on the first
    submit and reused (its amount brought up to date) for every retry. The submit completes the
    tracked checkout's billing step, and a new PaymentIntent is linked to that checkout so that
    every attempt is recorded on it."""
    with transaction.atomic():
        ci = lock_checkout_intent(checkout_intent_id, scope=scope)
        check_pending(ci, "paid")
        amount = _amount_to_charge(ci, amount)
        tracked = checkout_intent_track(
            scope=scope, checkout_intent=ci, billing=StepStatus.COMPLETE, amount=amount
        )
        pi = ci.payment_intent
        if pi is not None and (pi.status in UNDER_WAY or pi.attempt_under_way()):
            raise PaymentInProgress(ci)
        if pi is not None and pi.status in CONFIRMABLE:
            if pi.amount != amount:
                pi = payment_intent_update(scope=scope, payment_intent_id=pi.id, amount=amount)
            return pi
        assert ci.currency is not None  # a payment checkout has one (checked when it was made)
        pi = payment_intent_create(
            scope=scope,
            amount=amount,
            currency=ci.currency,
            customer=ci.customer_id,
            description=ci.description,
            metadata=_payment_intent_metadata(ci),
            capture_method="manual" if ci.capture == "manual" else "automatic",
            setup_future_usage="off_session" if ci.save_payment_method and ci.customer_id else None,
            checkout=tracked,
        )
        ci.change()
        ci.payment_intent = pi
        ci.payment_intent_ids = [*ci.payment_intent_ids, pi.id]
        ci.save()
        return pi


def _amount_to_charge(ci: CheckoutIntent, amount: int | None) -> int:
    if not ci.amount_editable or amount is None:
        if ci.amount is None:
            raise InvalidRequestError("Enter the amount to pay.", param="amount")
        return ci.amount
    if not amount_within(ci, amount) or amount <= 0:
        raise InvalidRequestError(
            "The amount is outside what this checkout accepts.",
            code="parameter_invalid_integer",
            param="amount",
        )
    return amount


def _payment_intent_metadata(ci: CheckoutIntent) -> dict:
    """The checkout's metadata, plus what names it, carried onto the PaymentIntent."""
    metadata = dict(ci.metadata or {})
    metadata["checkout_intent"] = ci.id
    for name in ("order_number", "invoice"):
        if getattr(ci, name):
            metadata[name] = getattr(ci, name)
    return dict(list(metadata.items())[:50])


def _save_payment_method(scope: Scope, checkout_intent_id: str, pm) -> CheckoutIntent:
    """`payment_method_form`: the card is attached to the customer, no charge; finished."""
    with transaction.atomic():
        ci = lock_checkout_intent(checkout_intent_id, scope=scope)
        check_pending(ci, "completed")
        before = snapshot(ci)
        payment_method_attach(scope=scope, payment_method_id=pm.id, customer_id=ci.customer_id)
        ci.finish(payment_method=pm)
        ci.save()
        event_emit(scope=scope, changes=[event_change(ci, "finished", before)])
    return ci


def _keep_payment_method(ci: CheckoutIntent, pi: PaymentIntent):
    """`save_payment_method`: the card that paid is attached to the checkout's customer (one
    already attached elsewhere is left where it is). Returns the method kept, or None."""
    if not (ci.save_payment_method and ci.customer_id and pi.payment_method_id):
        return None
    pm = pi.payment_method
    assert pm is not None  # payment_method_id is set
    if pm.customer_id is None:
        payment_method_attach(
            scope=Scope.of(ci), payment_method_id=pm.id, customer_id=ci.customer_id
        )
    return pm if pm.customer_id in (None, ci.customer_id) else None


def checkout_intent_sync(*, scope: Scope | None, checkout_intent_id: str) -> CheckoutIntent:
    """Apply what the checkout's PaymentIntent says, under the checkout's lock: each failed
    attempt not yet reported gets its `checkout_intent.payment_failed`, and a PaymentIntent that
    succeeded (or is authorised, for `capture=manual`) finishes the checkout
    (`checkout_intent.finished`). Idempotent; `scope` None only for a sweep's own row."""
    with transaction.atomic():
        ci = lock_checkout_intent(checkout_intent_id, scope=scope)
        if not ci.payment_intent_ids:
            return ci
        attempts = selectors.checkout_intent_attempts(ci)
        failed = [charge for charge in attempts if charge.status == Charge.Status.FAILED]
        unreported = failed[ci.failures_reported :]
        pi = ci.payment_intent
        paid = pi is not None and pi.status in PAID and ci.status != Status.FINISHED
        if not unreported and not paid:
            return ci
        changes: list[Change] = []
        for _ in unreported:
            ci.failures_reported += 1
            changes.append(event_change(ci, "payment_failed"))
        if paid:
            assert pi is not None  # paid
            before = snapshot(ci)
            saved = _keep_payment_method(ci, pi)
            ci.finish(payment_method=saved, at=timezone.now())
            changes.append(event_change(ci, "finished", before))
        ci.save()
        event_emit(scope=Scope.of(ci), changes=changes)
    return ci
