"""Typed domain errors of checkout_pages/, subclasses of the `core.errors` classes (the one
exception handler in api/ gives each its status and envelope; the hosted page words them)."""

from __future__ import annotations

from core.errors import InvalidRequestError, UnexpectedState

from .models import CheckoutIntent


class CheckoutIntentUnexpectedState(UnexpectedState):
    """`checkout_intent_unexpected_state`: the call needs a pending intent."""

    code = "checkout_intent_unexpected_state"

    def __init__(self, ci: CheckoutIntent, verb: str, *, param: str | None = None):
        super().__init__(
            f"This checkout intent could not be {verb} because it has a status of {ci.status}. "
            f"Only a checkout intent with a status of pending may be {verb}.",
            param=param,
        )
        self.status = ci.status


class PaymentInProgress(UnexpectedState):
    """A payment for this checkout is already under way (a double submit, or the processor has
    not answered yet): nothing new is charged."""

    code = "checkout_intent_payment_in_progress"

    def __init__(self, ci: CheckoutIntent):
        super().__init__(
            "A payment for this checkout intent is already in progress. Wait for it to finish.",
        )
        self.checkout_intent_id = ci.id


class TypeImmutable(InvalidRequestError):
    code = "parameter_invalid_string"

    def __init__(self):
        super().__init__(
            "The type of a checkout intent cannot be changed after it is created. Create a new "
            "checkout intent instead.",
            param="type",
        )
