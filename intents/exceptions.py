"""Typed domain errors of intents/, subclasses of the `core.errors` classes (the one exception
handler in api/ gives each its status and envelope). An intent's errors embed the intent as the
API shows it. A card decline is `payments.exceptions.CardDeclined`."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import NotPermitted, UnexpectedState

from . import presenters
from .models import PaymentIntent


def _statuses(statuses: Iterable) -> str:
    return ", ".join(str(s) for s in statuses)


class IntentUnexpectedState(UnexpectedState):
    """`payment_intent_unexpected_state`, with the intent embedded. Build it with one of the
    class methods, each of which words one of Stripe's messages."""

    def __init__(self, message: str, pi: PaymentIntent, *, param: str | None = None):
        super().__init__(message, param=param, payment_intent=presenters.payment_intent_to_api(pi))

    @classmethod
    def status(cls, pi: PaymentIntent, verb: str, allowed: Iterable) -> IntentUnexpectedState:
        """The call's verb is not allowed in the intent's status."""
        return cls(
            f"This PaymentIntent could not be {verb} because it has a status of {pi.status}. "
            f"Only a PaymentIntent with one of the following statuses may be {verb}: "
            f"{_statuses(allowed)}.",
            pi,
        )

    @classmethod
    def in_progress(cls, pi: PaymentIntent, verb: str, allowed: Iterable) -> IntentUnexpectedState:
        """Another request's processor call for this intent is still under way (retryable:
        a retry with the same Idempotency-Key runs again instead of replaying this)."""
        error = cls(
            f"This PaymentIntent could not be {verb} because another request for it is still "
            f"in progress (status {pi.status}). Only a PaymentIntent with one of the following "
            f"statuses and no request in progress may be {verb}: {_statuses(allowed)}.",
            pi,
        )
        error.retryable = True
        return error

    @classmethod
    def field(cls, pi: PaymentIntent, name: str, allowed: Iterable) -> IntentUnexpectedState:
        """An update of a field the intent's status no longer lets change."""
        return cls(
            f"This PaymentIntent's {name} could not be updated because it has a status "
            f"of {pi.status}. You may only update the {name} of a PaymentIntent with one "
            f"of the following statuses: {_statuses(allowed)}.",
            pi,
            param=name,
        )

    @classmethod
    def missing_payment_method(cls, pi: PaymentIntent) -> IntentUnexpectedState:
        return cls(
            "You cannot confirm this PaymentIntent because it's missing a payment method. "
            "To confirm the PaymentIntent, either update it with a payment method and then "
            "confirm it again, or confirm it again directly with a payment method.",
            pi,
        )


class ManualConfirmationNotPermitted(NotPermitted):
    """A publishable key confirming an intent whose confirmation_method is manual."""

    def __init__(self):
        super().__init__(
            "This PaymentIntent's confirmation_method is manual: it can only be confirmed "
            "with a secret key."
        )
