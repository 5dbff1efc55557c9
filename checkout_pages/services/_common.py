"""What the checkout services share: the row lock, the state check, the intent as its events
show it."""

from __future__ import annotations

import logging

from core.errors import DomainError, ResourceMissing
from core.scope import Scope
from intents.models import CANCELABLE
from intents.services import payment_intent_cancel

from .. import presenters, selectors
from ..exceptions import CheckoutIntentUnexpectedState
from ..models import CheckoutIntent, Status

logger = logging.getLogger("payintents.checkout")


def lock_checkout_intent(checkout_intent_id: str, *, scope: Scope | None) -> CheckoutIntent:
    """`select_for_update()` the intent within `scope` (None only for a row the caller already
    reached through its client token or a sweep)."""
    filters = {"id": checkout_intent_id, **(scope.filters if scope is not None else {})}
    ci = CheckoutIntent.objects.select_for_update().filter(**filters).first()
    if ci is None:
        raise ResourceMissing("checkout_intent", checkout_intent_id)
    return ci


def check_pending(ci: CheckoutIntent, verb: str, *, param: str | None = None) -> None:
    """The locked intent is pending as a reader sees it (not past `expires_at`)."""
    shown = ci.as_shown()
    if shown.status != Status.PENDING:
        raise CheckoutIntentUnexpectedState(shown, verb, param=param)


def snapshot(ci: CheckoutIntent) -> dict:
    return presenters.checkout_intent_to_api(ci, attempts=selectors.checkout_intent_attempts(ci))


# One event of a change, for `events.services.event_emit`: (type, the intent as the API shows
# it now, as it was before or None).
Change = tuple[str, dict, dict | None]


def event_change(ci: CheckoutIntent, event: str, before: dict | None = None) -> Change:
    """`checkout_intent.<event>`, with the intent as the API shows it now (its attempts
    included) and, for what changed, as it was `before`."""
    return (f"checkout_intent.{event}", snapshot(ci), before)


def cancel_open_payment_intent(ci: CheckoutIntent, payment_intent) -> None:
    """After the checkout ended (expired, canceled): its still-open PaymentIntent is canceled so
    it can take no payment. Called outside any transaction (the cancel is a two-phase movement);
    a PaymentIntent that moved on meanwhile is left as it is (a payment that succeeded finishes
    the checkout through the outcome listener, `payment.checkout_intent_learn_payment_outcome`)."""
    if payment_intent is None or payment_intent.status not in CANCELABLE:
        return
    try:
        payment_intent_cancel(
            scope=Scope.of(ci),
            payment_intent_id=payment_intent.id,
            cancellation_reason="abandoned",
        )
    except DomainError as exc:
        logger.info("checkout %s: its payment intent was not canceled: %s", ci.id, exc.message)
