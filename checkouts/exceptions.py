"""The checkout's typed errors (mapped to the envelope by `api.errors`, 400 each)."""

from __future__ import annotations

from core.errors import InvalidRequestError


class CheckoutUnexpectedState(InvalidRequestError):
    """An update or a completion of a checkout that is already complete."""

    code = "checkout_unexpected_state"

    @classmethod
    def complete(cls, checkout_id: str, verb: str) -> CheckoutUnexpectedState:
        return cls(
            f"This checkout ({checkout_id}) is complete and cannot be {verb}.",
            param=None,
        )


class TrackingIdInUse(InvalidRequestError):
    """Another open checkout of this account and mode already has the tracking id."""

    code = "resource_already_exists"

    def __init__(self, tracking_id: str, other_id: str | None = None):
        super().__init__(
            f"An open checkout already uses tracking_id '{tracking_id[:100]}'"
            + (f" ({other_id})" if other_id else "")
            + ". A tracking id names one checkout until that checkout is complete.",
            param="tracking_id",
        )
