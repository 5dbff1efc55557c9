"""Typed domain errors, modelled on django-oscar's `payment/exceptions.py`.

Services and selectors raise these. Each carries what Stripe's error object says about the
failure — a `code`, the `param` at fault, a `decline_code` for card declines, a message, and the
PaymentIntent (or SetupIntent) as the API shows it when the failure concerns one — but no HTTP status: `api/`
maps each class to a status and the error envelope in its one exception handler.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    `retryable`: the request changed nothing and is refused only for a moment (another
    request's processor call on the same object is under way); the same request, retried as it
    is, may succeed. Such an answer is never stored as an Idempotency-Key's final answer."""

    code: str | None = None
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        payment_intent: dict[str, Any] | None = None,
        setup_intent: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param
        self.decline_code = decline_code
        self.payment_intent = payment_intent
        self.setup_intent = setup_intent


class InvalidRequestError(DomainError):
    """The request cannot be carried out as asked (bad value, wrong state, rule broken)."""


#: Appended to a refusal's code when the refusal depends on the stored object's values (its
#: type, its current amount, what it still has to capture) and not on the request alone: the
#: same request may succeed on another object (`amount_too_small_for_object` for an
#: increment_authorization that is not above the intent's current amount). Only operations on
#: an existing object (an `{id}` in the path) answer such codes.
FOR_OBJECT = "_for_object"


def for_object(code: str) -> str:
    """`code` for a refusal that depends on the stored object's values (`FOR_OBJECT`)."""
    return code + FOR_OBJECT


class ParameterUnknown(InvalidRequestError):
    code = "parameter_unknown"

    def __init__(self, param: str, message: str | None = None) -> None:
        super().__init__(message or f"Received unknown parameter: {param}", param=param)


class ParameterMissing(InvalidRequestError):
    code = "parameter_missing"

    def __init__(self, param: str, message: str | None = None) -> None:
        super().__init__(message or f"Missing required param: {param}.", param=param)


class ParameterInvalid(InvalidRequestError):
    """`code` defaults to parameter_invalid_string; pass the precise one (…_integer, amount_too_small)."""

    code = "parameter_invalid_string"


class ResourceMissing(InvalidRequestError):
    """The object does not exist in the caller's account and mode."""

    code = "resource_missing"

    def __init__(
        self, object_name: str, object_id: str, param: str | None = "id", message: str | None = None
    ) -> None:
        super().__init__(message or f"No such {object_name}: '{object_id}'", param=param)


class UnexpectedState(InvalidRequestError):
    """A call the object's current state does not allow; payment-intent errors embed the intent."""

    code = "payment_intent_unexpected_state"


class NotPermitted(DomainError):
    """The caller's kind of key may not do this (a publishable key where a secret one is needed)."""

    code = "secret_key_required"


class CardError(DomainError):
    """The card was declined or its data is wrong (Stripe's `card_error`)."""

    code = "card_declined"
