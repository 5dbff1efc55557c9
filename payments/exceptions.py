"""Typed domain errors of payments/, subclasses of the `core.errors` classes (the one exception
handler in api/ gives each its status and envelope)."""

from __future__ import annotations

from core.errors import CardError, InvalidRequestError, UnexpectedState
from core.money import format_amount

from .processors.base import Decline

# Stripe's customer-facing wording, per error or decline code.
MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "fraudulent": "Your card was declined.",
    "card_velocity_exceeded": "Your card was declined for making repeated attempts too frequently "
    "or exceeding its amount limit.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
    "test_mode_live_card": (
        "Your card was declined. Your request was in live mode, but used a known test card."
    ),
    "incorrect_number": "Your card number is incorrect.",
    "invalid_number": "Your card number is invalid.",
    "invalid_expiry_month": "Your card's expiration month is invalid.",
    "invalid_expiry_year": "Your card's expiration year is invalid.",
    "invalid_cvc": "Your card's security code is invalid.",
}


class CardDeclined(CardError):
    """A decline by the (simulated) issuer: 402 card_error with `decline_code`."""

    code = "card_declined"

    @classmethod
    def from_decline(
        cls,
        decline: Decline,
        *,
        param: str | None = None,
        payment_intent: dict | None = None,
        setup_intent: dict | None = None,
    ) -> CardDeclined:
        return cls(
            decline.message,
            code=decline.code,
            decline_code=decline.decline_code,
            param=param,
            payment_intent=payment_intent,
            setup_intent=setup_intent,
        )


class InvalidCard(CardError):
    """The card data itself is wrong (number, expiry, CVC): 402 with the field as `param`."""

    def with_param_prefix(self, prefix: str | None) -> InvalidCard:
        """`number` → `card[number]` (or `payment_method_data[card][number]`)."""
        if prefix and self.param:
            self.param = f"{prefix}[{self.param}]"
        return self


class IncorrectNumber(InvalidCard):
    code = "incorrect_number"

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("param", "number")
        super().__init__(message or MESSAGES["incorrect_number"], **kwargs)


class InvalidExpiryMonth(InvalidCard):
    code = "invalid_expiry_month"

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("param", "exp_month")
        super().__init__(message or MESSAGES["invalid_expiry_month"], **kwargs)


class InvalidExpiryYear(InvalidCard):
    code = "invalid_expiry_year"

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("param", "exp_year")
        super().__init__(message or MESSAGES["invalid_expiry_year"], **kwargs)


class InvalidCvc(InvalidCard):
    code = "invalid_cvc"

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("param", "cvc")
        super().__init__(message or MESSAGES["invalid_cvc"], **kwargs)


class TestCardInLiveMode(InvalidCard):
    """Live mode refuses the simulator's known test numbers (docs/testing.md)."""

    __test__ = False  # not a pytest class
    code = "card_declined"

    def __init__(self, message: str | None = None, **kwargs):
        kwargs.setdefault("decline_code", "test_mode_live_card")
        super().__init__(message or MESSAGES["test_mode_live_card"], **kwargs)


class PaymentMethodUnexpectedState(InvalidRequestError):
    """Attach to a second customer, detach when not attached, …"""

    code = "payment_method_unexpected_state"

    @classmethod
    def already_attached(cls) -> PaymentMethodUnexpectedState:
        return cls(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )


# --- refunds ---------------------------------------------------------------------------------


class ChargeNotRefundable(InvalidRequestError):
    """The charge holds no captured money: failed, pending, or an authorisation not captured
    (that one is released by canceling its PaymentIntent, not refunded)."""

    code = "charge_not_refundable"

    @classmethod
    def for_charge(cls, charge_id: str, why: str, *, param: str = "charge") -> ChargeNotRefundable:
        return cls(f"Charge {charge_id} cannot be refunded: {why}", param=param)


class ChargeAlreadyRefunded(InvalidRequestError):
    code = "charge_already_refunded"

    def __init__(self, charge_id: str, *, param: str | None = None):
        super().__init__(f"Charge {charge_id} has already been refunded.", param=param)


class RefundAmountTooLarge(InvalidRequestError):
    """More than is left to refund (captured, less refunded, less what pending refunds hold)."""

    code = "amount_too_large"

    def __init__(self, amount: int, left: int, currency: str):
        super().__init__(
            f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded "
            f"amount on charge ({format_amount(left, currency)}).",
            param="amount",
        )


class RefundIntentUnexpectedState(UnexpectedState):
    """A refund of a PaymentIntent that has not succeeded."""

    def __init__(self, payment_intent_id: str, status: str):
        super().__init__(
            f"This PaymentIntent ({payment_intent_id}) could not be refunded because it has a "
            f"status of {status}. Only a PaymentIntent with one of the following statuses may "
            "be refunded: succeeded.",
            param="payment_intent",
        )


class RefundUnexpectedState(InvalidRequestError):
    """A cancel of a refund that is no longer pending, or whose processor call is under way."""

    code = "refund_unexpected_state"

    def __init__(self, refund_id: str, status: str, *, in_progress: bool = False):
        why = (
            "another request for it is still in progress"
            if in_progress
            else f"it has a status of {status}"
        )
        super().__init__(
            f"Refund {refund_id} could not be canceled because {why}. Only a refund with one "
            "of the following statuses may be canceled: pending, requires_action.",
        )
        # another request's call is under way: refused for a moment, changed nothing, so not
        # stored as an Idempotency-Key's answer (a retry with the key runs again)
        self.retryable = in_progress
