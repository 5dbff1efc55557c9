"""What the intent services need to turn a processor's answer into a charge."""

from __future__ import annotations

from ..processors.base import AuthorizationResult


def charge_outcome_for(result: AuthorizationResult) -> dict:
    """Stripe's `charge.outcome` for a processor answer."""
    if result.status == "declined" and result.decline is not None:
        decline = result.decline
        reason = decline.decline_code or decline.code
        return {
            "network_status": result.network_status,
            "reason": reason,
            "risk_level": result.risk_level,
            "risk_score": 85 if result.risk_level == "highest" else 20,
            "seller_message": (
                "The bank did not return any further details with this decline."
                if reason == "generic_decline"
                else f"The bank returned the decline code `{reason}`."
            ),
            "type": "issuer_declined"
            if result.network_status == "declined_by_network"
            else "blocked",
        }
    return {
        "network_status": result.network_status,
        "reason": None,
        "risk_level": result.risk_level,
        "risk_score": 20,
        "seller_message": "Payment complete.",
        "type": "authorized",
    }
