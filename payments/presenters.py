"""Payment methods, customers, charges and refunds as the API shows them: the one place that
shapes a card, an address, a charge, a refund. Used by views, events and errors alike; reads no
related rows beyond what the caller selected (a charge's refunds: prefetched, or none read when
it never had one)."""

from __future__ import annotations

from .models import Charge, Customer, PaymentMethod, Refund

ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def address_to_api(address: dict | None) -> dict:
    address = address or {}
    return {key: address.get(key) for key in ADDRESS_KEYS}


def billing_details_to_api(details: dict | None) -> dict:
    details = details or {}
    return {
        "address": address_to_api(details.get("address")),
        "email": details.get("email"),
        "name": details.get("name"),
        "phone": details.get("phone"),
    }


def shipping_to_api(shipping: dict | None) -> dict | None:
    if not shipping:
        return None
    return {
        "address": address_to_api(shipping.get("address")),
        "name": shipping.get("name"),
        "phone": shipping.get("phone"),
    }


def card_to_api(pm: PaymentMethod) -> dict:
    return {
        "brand": pm.card_brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": None,
        },
        "country": pm.card_country,
        "display_brand": pm.card_brand,
        "exp_month": pm.card_exp_month,
        "exp_year": pm.card_exp_year,
        "fingerprint": pm.card_fingerprint,
        "funding": pm.card_funding,
        "generated_from": None,
        "last4": pm.card_last4,
        "networks": {"available": [pm.card_brand], "preferred": None},
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def payment_method_details_to_api(pm: PaymentMethod, *, three_d_secure: str | None = None) -> dict:
    """A charge's `payment_method_details`: the card as the charge saw it (`charge_to_api`
    renders `three_d_secure` from the charge itself)."""
    card = card_to_api(pm)
    return {
        "type": "card",
        "card": {
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "last4": card["last4"],
            "network": pm.card_brand,
            "three_d_secure": three_d_secure_to_api(three_d_secure),
            "wallet": card["wallet"],
        },
    }


# What a publishable key (a browser holding an intent's client secret) may see of a payment
# method, expanded on the intent: the card as a checkout page shows it; never the customer, the
# metadata, the billing details or the card's fingerprint.
PUBLISHABLE_PAYMENT_METHOD_FIELDS = (
    "id",
    "object",
    "allow_redisplay",
    "card",
    "created",
    "livemode",
    "type",
)
PUBLISHABLE_CARD_FIELDS = (
    "brand",
    "country",
    "display_brand",
    "exp_month",
    "exp_year",
    "funding",
    "last4",
    "networks",
    "three_d_secure_usage",
    "wallet",
)


def payment_method_to_api(pm: PaymentMethod, *, publishable: bool = False) -> dict:
    data = _payment_method_to_api(pm)
    if publishable:
        data = {key: data[key] for key in PUBLISHABLE_PAYMENT_METHOD_FIELDS}
        data["card"] = {key: data["card"][key] for key in PUBLISHABLE_CARD_FIELDS}
    return data


def _payment_method_to_api(pm: PaymentMethod) -> dict:
    return {
        "id": pm.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": billing_details_to_api(pm.billing_details),
        "card": card_to_api(pm),
        "created": pm.created_unix,
        "customer": pm.customer_id,
        "livemode": pm.livemode,
        "metadata": dict(pm.metadata or {}),
        "type": pm.type,
    }


def customer_to_api(customer: Customer) -> dict:
    invoice_settings = customer.invoice_settings or {}
    return {
        "id": customer.id,
        "object": "customer",
        "address": address_to_api(customer.address) if customer.address else None,
        "balance": 0,
        "created": customer.created_unix,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": customer.description,
        "email": customer.email,
        "invoice_prefix": None,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": invoice_settings.get("default_payment_method"),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": customer.livemode,
        "metadata": dict(customer.metadata or {}),
        "name": customer.name,
        "phone": customer.phone,
        "preferred_locales": [],
        "shipping": shipping_to_api(customer.shipping),
        "tax_exempt": "none",
        "test_clock": None,
    }


def customer_deleted_to_api(customer: Customer) -> dict:
    return {"id": customer.id, "object": "customer", "deleted": True}


THREE_D_SECURE_RESULTS = {
    "passed": "authenticated",
    "failed": "failed",
    "required": None,
}


def three_d_secure_to_api(state: str | None) -> dict | None:
    if not state:
        return None
    return {
        "authentication_flow": "challenge",
        "result": THREE_D_SECURE_RESULTS.get(state),
        "result_reason": None,
        "version": "2.2.0",
    }


# How many refunds a charge shows inline; the rest are a `GET /v1/refunds?charge=` away.
CHARGE_REFUNDS_SHOWN = 10


def refund_to_api(refund: Refund) -> dict:
    return {
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": None,
        "charge": refund.charge_id,
        "created": refund.created_unix,
        "currency": refund.currency,
        "description": refund.description,
        "destination_details": None,
        "failure_balance_transaction": None,
        "failure_reason": refund.failure_reason,
        "livemode": refund.livemode,
        "metadata": dict(refund.metadata or {}),
        "next_action": None,
        "payment_intent": refund.payment_intent_id,
        "reason": refund.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": refund.status,
        "transfer_reversal": None,
    }


def charge_refunds_to_api(charge: Charge, refunds: list[Refund] | None = None) -> dict:
    """A charge's `refunds`: a list object, newest first. `refunds` are the charge's refunds
    when the caller has them; otherwise they are read from `charge.refunds` (prefetched by the
    selectors) unless the charge never had one."""
    if refunds is None:
        refunds = list(charge.refunds.all()) if charge.refund_count else []
    ordered = sorted(refunds, key=lambda r: (r.created, r.id), reverse=True)
    return {
        "object": "list",
        "data": [refund_to_api(refund) for refund in ordered[:CHARGE_REFUNDS_SHOWN]],
        "has_more": len(ordered) > CHARGE_REFUNDS_SHOWN,
        "total_count": len(ordered),
        "url": f"/v1/charges/{charge.id}/refunds",
    }


def charge_to_api(charge: Charge, *, refunds: list[Refund] | None = None) -> dict:
    details = dict(charge.payment_method_details or {}) or None
    if details and isinstance(details.get("card"), dict):
        card = dict(details["card"])
        card["three_d_secure"] = three_d_secure_to_api(charge.three_d_secure)
        details["card"] = card
    intent = charge.payment_intent if charge.payment_intent_id else None
    billing_details = (
        billing_details_to_api(charge.payment_method.billing_details)
        if charge.payment_method_id and charge.payment_method
        else billing_details_to_api(None)
    )
    return {
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount_captured,
        "amount_refunded": charge.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": billing_details,
        "calculated_statement_descriptor": None,
        "captured": charge.captured,
        "created": charge.created_unix,
        "currency": charge.currency,
        "customer": charge.customer_id,
        "description": charge.description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": charge.failure_code,
        "failure_message": charge.failure_message,
        "fraud_details": {},
        "livemode": charge.livemode,
        "metadata": dict(charge.metadata or {}),
        "on_behalf_of": None,
        "outcome": charge.outcome,
        "paid": charge.status == Charge.Status.SUCCEEDED,
        "payment_intent": charge.payment_intent_id,
        "payment_flow": charge.payment_flow,
        "payment_flow_version": charge.payment_flow_version,
        "payment_method": charge.payment_method_id,
        "payment_method_details": details,
        "processor": charge.processor_id,
        "attempt": charge.attempt_number,
        "receipt_email": getattr(intent, "receipt_email", None),
        "receipt_url": None,
        "refunded": charge.refunded,
        "refunds": charge_refunds_to_api(charge, refunds),
        "review": None,
        "shipping": shipping_to_api(getattr(intent, "shipping", None)),
        "source": None,
        "statement_descriptor": getattr(intent, "statement_descriptor", None),
        "statement_descriptor_suffix": getattr(intent, "statement_descriptor_suffix", None),
        "status": charge.status,
        "transfer_data": None,
        "transfer_group": None,
    }
