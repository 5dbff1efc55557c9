"""The customer's side: pay a checkout intent (or save a card to its customer, through a
SetupIntent) from the hosted page or an embedded form; and the checkout intent's outcome
listeners, through which it learns what came of each payment (and each card-saving setup).

The money moves through the PaymentIntent services, never around them: the card becomes a
PaymentMethod through `payments.services`, the checkout's one open PaymentIntent is created (or
reused for a retry) under the checkout's row lock, and `payment_intent_confirm` makes the
attempt in its own two phases. The checkout intent learns the outcome the one way every feature
built on payments does: `checkout_intent_learn_payment_outcome` is listed in
settings.PAYMENT_OUTCOME_LISTENERS, and the payment core calls it inside the phase 2 transaction
that writes the outcome (a failed attempt: `checkout_intent.payment_failed`; a paid
PaymentIntent: `checkout_intent.finished`), so the checkout's update commits or rolls back with
the payment itself — on the submit, the 3-D Secure step, or a worker resolving a `processing`
attempt alike. Nothing pulls the PaymentIntent's state afterwards.

Lock order: phase 2 holds the PaymentIntent (and its charge), the listener then locks the
CheckoutIntent, and the tracked checkout's listener the Checkout after it; a submit locks the
CheckoutIntent, then the tracked Checkout, and takes a PaymentIntent's lock (the amount of a
retry, the confirm) only after the CheckoutIntent's transaction committed. No path locks a
PaymentIntent while it holds a CheckoutIntent.

Checkout tracking: the submit completes the tracked checkout's billing step and the PaymentIntent
it opens is linked to that checkout (`checkout=`), so the PaymentIntent services record every
attempt on it, in the attempt's own transaction, and its success completes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from checkouts.models import StepStatus
from core.errors import DomainError, InvalidRequestError, UnexpectedState
from core.scope import Scope
from events.services import event_emit
from intents.models import CONFIRMABLE, SETUP_OPEN, PaymentIntent, SetupIntent, SetupStatus
from intents.models import Status as PaymentIntentStatus
from intents.services import (
    payment_intent_confirm,
    payment_intent_create,
    payment_intent_update,
    setup_intent_confirm,
    setup_intent_create,
)
from payments.processors.base import RawCard
from payments.services import payment_method_attach, payment_method_create

from .. import selectors
from ..exceptions import PaymentInProgress
from ..models import CheckoutIntent, Status, Type
from ._common import check_pending, event_change, lock_checkout_intent, snapshot
from .checkout_intents import amount_within
from .session_outcomes import session_finished, session_payment_outcome
from .tracking import checkout_intent_track

if TYPE_CHECKING:
    from intents.services._common import PaymentOutcome

PAID = (PaymentIntentStatus.SUCCEEDED, PaymentIntentStatus.REQUIRES_CAPTURE)
UNDER_WAY = (PaymentIntentStatus.PROCESSING,) + PAID


@dataclass(frozen=True)
class Payment:
    """What a submit of the form led to: the checkout as it now is, and its PaymentIntent (None
    for a saved card). `next_action_url` is the 3-D Secure challenge to send the customer to."""

    checkout_intent: CheckoutIntent
    payment_intent: PaymentIntent | None = None
    setup_intent: SetupIntent | None = None

    @property
    def next_action_url(self) -> str | None:
        intent = self.payment_intent or self.setup_intent
        if intent is None or intent.status != "requires_action" or not intent.next_action:
            return None
        return (intent.next_action.get("redirect_to_url") or {}).get("url")


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
        return _save_payment_method(scope, ci.id, pm, return_url)
    pm = payment_method_create(scope=scope, card=card, billing_details=billing_details)
    pi, new_amount = _open_payment_intent(scope, ci.id, amount)
    try:
        if new_amount is not None:
            # Outside the checkout's transaction: a PaymentIntent's lock is never taken while
            # the CheckoutIntent's is held (phase 2 takes them the other way round).
            payment_intent_update(scope=scope, payment_intent_id=pi.id, amount=new_amount)
        pi = payment_intent_confirm(
            scope=scope, payment_intent_id=pi.id, payment_method=pm.id, return_url=return_url
        )
    except UnexpectedState:
        # Another submit's attempt holds the PaymentIntent (or has already paid it, and its
        # phase 2 has finished the checkout).
        ci = selectors.checkout_intent_get(scope=scope, checkout_intent_id=ci.id)
        if ci.status == Status.FINISHED:
            return Payment(ci, ci.payment_intent)
        raise PaymentInProgress(ci)
    # The confirm's phase 2 told the checkout its outcome (a decline, raised as a CardError,
    # was reported there too): read it as it now is.
    return Payment(selectors.checkout_intent_get(scope=scope, checkout_intent_id=ci.id), pi)


def _open_payment_intent(
    scope: Scope, checkout_intent_id: str, amount: int | None
) -> tuple[PaymentIntent, int | None]:
    """The checkout's one open PaymentIntent, created under the checkout's row lock on the first
    submit and reused for every retry. The submit completes the tracked checkout's billing step,
    and a new PaymentIntent is linked to that checkout so that every attempt is recorded on it.

    Returns the PaymentIntent and, for a reused one whose amount differs from the one to charge
    now, that amount (else None): the caller sets it once this transaction has committed, since
    `payment_intent_update` locks the PaymentIntent and no path takes a PaymentIntent's lock
    while holding a CheckoutIntent's (phase 2 holds the PaymentIntent's when its listener locks
    the CheckoutIntent)."""
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
            return pi, (amount if pi.amount != amount else None)
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
            payment_flow=ci.payment_flow,
        )
        ci.change()
        ci.payment_intent = pi
        ci.payment_intent_ids = [*ci.payment_intent_ids, pi.id]
        ci.save()
        return pi, None


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


def _save_payment_method(
    scope: Scope, checkout_intent_id: str, pm, return_url: str | None
) -> Payment:
    """`payment_method_form`: the card is saved through the checkout's SetupIntent, whose
    verification (the attempt ledger's, as a payment's) may decline it or ask for 3-D Secure.
    Its outcome reaches the checkout through `checkout_intent_learn_setup_outcome`, in the
    verification's own transaction; a decline is raised (a `CardError`) as a payment's is."""
    si = _open_setup_intent(scope, checkout_intent_id)
    try:
        si = setup_intent_confirm(
            scope=scope, setup_intent_id=si.id, payment_method=pm.id, return_url=return_url
        )
    except UnexpectedState:
        # Another submit's verification holds the SetupIntent (or has already finished it).
        ci = selectors.checkout_intent_get(scope=scope, checkout_intent_id=checkout_intent_id)
        if ci.status == Status.FINISHED:
            return Payment(ci, setup_intent=ci.setup_intent)
        raise PaymentInProgress(ci)
    ci = selectors.checkout_intent_get(scope=scope, checkout_intent_id=checkout_intent_id)
    return Payment(ci, setup_intent=si)


def _open_setup_intent(scope: Scope, checkout_intent_id: str) -> SetupIntent:
    """The checkout's one open SetupIntent, made under the checkout's row lock on the first
    submit and reused for every retry (a new card replaces the last one, or its challenge)."""
    with transaction.atomic():
        ci = lock_checkout_intent(checkout_intent_id, scope=scope)
        check_pending(ci, "completed")
        si = ci.setup_intent
        if si is not None and si.status in SETUP_OPEN:
            return si
        if si is not None and si.status == SetupStatus.PROCESSING:
            raise PaymentInProgress(ci)
        assert ci.customer_id is not None  # a payment_method_form has a customer (create checks)
        metadata = dict(list({**(ci.metadata or {}), "checkout_intent": ci.id}.items())[:50])
        si = setup_intent_create(
            scope=scope,
            customer=ci.customer_id,
            usage="off_session",
            description=ci.description,
            metadata=metadata,
            payment_method_types=["card"],
        )
        ci.change()
        ci.setup_intent = si
        ci.save()
        return si


def checkout_intent_learn_setup_outcome(si: SetupIntent, status: str) -> None:
    """The checkout intent's listener for SetupIntents (settings.SETUP_OUTCOME_LISTENERS),
    called inside the verification's phase 2 transaction with the SetupIntent locked: the
    checkout saving a card through it is locked; a failed verification is reported
    (`checkout_intent.payment_failed`), a succeeded one finishes the checkout
    (`checkout_intent.finished`, its card kept, `checkout.session.completed` for a session).
    A SetupIntent of no checkout costs no query (it carries the `checkout_intent` metadata)."""
    if "checkout_intent" not in (si.metadata or {}) or status == "requires_action":
        return
    ci = (
        CheckoutIntent.objects.select_for_update()
        .filter(setup_intent_id=si.id, account_id=si.account_id, livemode=si.livemode)
        .first()
    )
    if ci is None:
        return
    ci.setup_intent = si  # the locked SetupIntent, as this outcome left it
    if status == "failed":
        ci.failures_reported += 1
        ci.save()
        event_emit(scope=Scope.of(ci), changes=[event_change(ci, "payment_failed")])
    elif status == "succeeded" and ci.status != Status.FINISHED:
        before = snapshot(ci)
        ci.finish(payment_method=si.payment_method, at=timezone.now())
        ci.save()
        event_emit(scope=Scope.of(ci), changes=[event_change(ci, "finished", before)])
        session_finished(ci, payment_method=si.payment_method, setup_intent=si)


def _keep_payment_method(ci: CheckoutIntent, pi: PaymentIntent):
    """`save_payment_method`: the card that paid is attached to the checkout's customer (one
    already attached elsewhere is left where it is). Returns the method kept, or None. Called
    inside the payment's phase 2: a refused attach (attached elsewhere meanwhile) rolls back its
    own savepoint only, never the payment."""
    if not (ci.save_payment_method and ci.customer_id and pi.payment_method_id):
        return None
    pm = pi.payment_method
    assert pm is not None  # payment_method_id is set
    if pm.customer_id is None:
        try:
            pm = payment_method_attach(
                scope=Scope.of(ci), payment_method_id=pm.id, customer_id=ci.customer_id
            )
        except DomainError:
            return None
    return pm if pm.customer_id in (None, ci.customer_id) else None


def checkout_intent_learn_payment_outcome(outcome: PaymentOutcome) -> None:
    """The checkout intent's outcome listener (settings.PAYMENT_OUTCOME_LISTENERS), called by
    the payment core inside the phase 2 transaction that writes the outcome of an attempt, with
    the PaymentIntent (and the charge) locked: what it writes commits or rolls back with the
    payment.

    The checkout whose open PaymentIntent this is is locked; a failed attempt is reported
    (`checkout_intent.payment_failed`, counted in `failures_reported`), and a PaymentIntent that
    is paid (succeeded, or authorised for `capture=manual`) finishes the checkout
    (`checkout_intent.finished`) — also one that expired or was canceled while the processor
    answered: the money moved. `requires_action` and `processing` change nothing here.

    A PaymentIntent a checkout intent opened carries its tracked checkout (`checkout=`) and the
    `checkout_intent` metadata key; one with neither costs no query. (Either is enough: the link
    is left off when the tracked checkout is already complete, and both can be changed through
    the API; the lock by `payment_intent` is what decides.)"""
    pi = outcome.pi
    if pi.checkout_id is None and "checkout_intent" not in (pi.metadata or {}):
        return
    ci = (
        CheckoutIntent.objects.select_for_update()
        .filter(payment_intent_id=pi.id, account_id=pi.account_id, livemode=pi.livemode)
        .first()
    )
    if ci is None:
        return
    ci.payment_intent = pi  # the locked intent, as this outcome left it
    session_payment_outcome(ci, outcome.status)
    if outcome.status == "failed":
        ci.failures_reported += 1
        ci.save()
        event_emit(scope=Scope.of(ci), changes=[event_change(ci, "payment_failed")])
    elif pi.status in PAID and ci.status != Status.FINISHED:
        before = snapshot(ci)
        saved = _keep_payment_method(ci, pi)
        ci.finish(payment_method=saved, at=timezone.now())
        ci.save()
        event_emit(scope=Scope.of(ci), changes=[event_change(ci, "finished", before)])
        session_finished(ci)
