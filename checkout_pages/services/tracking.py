"""The tracked checkout a paying checkout intent drives (`source: hosted`), so that checkout
insights count hosted pages beside merchants' own.

- create: `checkout_intent_create` starts it (`tracking_id` = the `cint_…` id, `payment_flow` =
  the checkout intent's type) in the intent's own transaction (`start_tracked_checkout`);
- the page: showing the form moves `billing` to `in_progress` (when that is news: a page shown
  again to a customer still active writes nothing) and a submit to `complete`, with the amount
  being paid (`checkout_intent_track`);
- the payment: the PaymentIntent the submit opens is linked to it (`checkout=`), so the
  PaymentIntent services record every attempt on it and its success completes it;
- cancel and expiry leave it as it is: it goes inactive, then abandoned, and counts as lost.

Tracking never stands in the way of a payment: a tracked checkout that can take no more (the
merchant completed it through the API) is simply no longer told anything.
"""

from __future__ import annotations

from checkouts.models import Checkout, Source, StepStatus
from checkouts.models import Status as CheckoutStatus
from checkouts.services import checkout_start, checkout_update
from core.errors import DomainError
from core.scope import Scope

from ..models import CheckoutIntent, Status


def start_tracked_checkout(
    ci: CheckoutIntent, *, located_country: str | None = None
) -> Checkout | None:
    """The new intent's tracked checkout (None for a payment_method_form); call it in the
    transaction that saves the intent. `located_country`: the creating caller's country
    (GeoLocation), as a checkout started with no location has."""
    if not ci.pays:
        return None
    customer = {"id": ci.customer_id, "is_guest": False} if ci.customer_id else {"is_guest": True}
    return checkout_start(
        scope=Scope.of(ci),
        tracking_id=ci.id,
        amount=ci.amount,
        currency=ci.currency,
        payment_flow=ci.payment_flow,
        customer=customer,
        source=Source.HOSTED,
        located_country=located_country,
    )


def page_view_news(ci: CheckoutIntent) -> bool:
    """Whether showing the form tells the tracked checkout anything new: billing not yet under
    way, or the customer back after going quiet (read off the checkout joined to `ci`, so a
    page shown again costs no write)."""
    chk = ci.checkout
    if chk is None or chk.status == CheckoutStatus.COMPLETE:
        return False
    billing = (chk.steps or {}).get("billing") or {}
    return (
        billing.get("status") != StepStatus.IN_PROGRESS
        or chk.as_shown().status != CheckoutStatus.ACTIVE
    )


def checkout_intent_track(
    *,
    scope: Scope,
    checkout_intent: CheckoutIntent,
    billing: str,
    amount: int | None = None,
    located_country: str | None = None,
) -> str | None:
    """The customer is on the page (`billing=in_progress`: the form is shown) or submitted it
    (`complete`, with the `amount` about to be charged). Returns the tracked checkout's id while
    it is open (the one a new PaymentIntent links to), else None. Never raises for a tracked
    checkout that is gone or complete. `located_country`: the visitor's country (GeoLocation),
    given to a tracked checkout that has none yet (read off the checkout joined to the
    intent)."""
    ci = checkout_intent
    if ci.checkout_id is None or ci.as_shown().status != Status.PENDING:
        return None
    amount = ci.amount if amount is None else amount
    changes: dict = {"amount": amount, "currency": ci.currency} if amount is not None else {}
    if located_country and ci.checkout is not None and not ci.checkout.country:
        changes["location"] = {"country": located_country}
    try:
        chk = checkout_update(scope=scope, checkout_id=ci.checkout_id, billing=billing, **changes)
    except DomainError:  # complete (or deleted) meanwhile: nothing more to track
        return None
    return chk.id if chk.status != CheckoutStatus.COMPLETE else None
