"""The objects as PayMongo shows them, translated from the service's own presenters (one shape
per object, then a renaming): `{"id", "type", "attributes": {…}}`, every attribute the client
reads present (null when empty), amounts in centavos, currencies upper-case, unix times."""

from __future__ import annotations

from core.values import unix
from intents.presenters import payment_intent_to_api
from payments.presenters import (
    charge_to_api,
    customer_to_api,
    payment_method_to_api,
    refund_to_api,
)

#: The engine's intent statuses as PayMongo names them. An intent waiting for its
#: confirmation is, to PayMongo, still waiting for a payment method to be attached.
INTENT_STATUSES = {
    "requires_payment_method": "awaiting_payment_method",
    "requires_confirmation": "awaiting_payment_method",
    "requires_action": "awaiting_next_action",
    "processing": "processing",
    "requires_capture": "awaiting_capture",
    "succeeded": "succeeded",
    "canceled": "cancelled",
}
PAYMENT_STATUSES = {"succeeded": "paid", "failed": "failed", "pending": "pending"}
#: `manual` authorises only; the other capture methods all capture on attach to PayMongo.
CAPTURE_TYPES = {"manual": "manual"}


#: PayMongo's payments are the service's charges under PayMongo's prefix: `pay_X` is `ch_X`.
PAYMENT_PREFIX, CHARGE_PREFIX = "pay_", "ch_"


def payment_id_of(charge_id: str) -> str:
    """A charge's id as PayMongo shows its payment: `ch_X` → `pay_X`."""
    return PAYMENT_PREFIX + charge_id.removeprefix(CHARGE_PREFIX)


def charge_id_of(payment_id: str) -> str:
    """A payment id given to the face as the service's charge id: `pay_X` → `ch_X` (a `ch_…`
    from the v1 API is taken as is; anything else is left to be found missing)."""
    if payment_id.startswith(PAYMENT_PREFIX):
        return CHARGE_PREFIX + payment_id.removeprefix(PAYMENT_PREFIX)
    return payment_id


def client_key_of(client_secret: str) -> str:
    """The intent's client secret as PayMongo shows its client key: `pi_…_client_…`."""
    return client_secret.replace("_secret_", "_client_", 1)


def client_secret_of(client_key: str) -> str:
    """A client key as the engine checks it (a Stripe-style client secret passes as is)."""
    return client_key.replace("_client_", "_secret_", 1)


def resource(id: str, type: str, attributes: dict) -> dict:
    return {"id": id, "type": type, "attributes": attributes}


def _metadata(value: dict | None) -> dict | None:
    return dict(value) if value else None


def _billing(details: dict | None) -> dict | None:
    """Stripe's `billing_details` → PayMongo's `billing` (null when nothing was given)."""
    details = details or {}
    address = details.get("address") or {}
    if not any(details.get(name) for name in ("name", "email", "phone")) and not any(
        address.values()
    ):
        return None
    return {
        "address": {
            name: address.get(name)
            for name in ("city", "country", "line1", "line2", "postal_code", "state")
        },
        "email": details.get("email"),
        "name": details.get("name"),
        "phone": details.get("phone"),
    }


def last_payment_error(error: dict | None) -> dict | None:
    if not error:
        return None
    return {
        "failed_code": error.get("decline_code") or error.get("code"),
        "failed_message": error.get("message"),
        "payment_method_id": (error.get("payment_method") or {}).get("id")
        if isinstance(error.get("payment_method"), dict)
        else error.get("payment_method"),
    }


def next_action(action: dict | None) -> dict | None:
    """Stripe's `redirect_to_url` → PayMongo's `{type: redirect, redirect: {url, return_url}}`."""
    if not action:
        return None
    redirect = action.get("redirect_to_url") or {}
    return {
        "type": "redirect",
        "redirect": {"url": redirect.get("url"), "return_url": redirect.get("return_url")},
    }


def refund_from_api(data: dict, *, updated_at: int | None = None) -> dict:
    """A refund as the service shows it (`refund_to_api`) → PayMongo's refund."""
    updated_at = updated_at or data["created"]
    return resource(
        data["id"],
        "refund",
        {
            "amount": data["amount"],
            "balance_transaction_id": None,
            "currency": data["currency"].upper(),
            "livemode": data["livemode"],
            "metadata": _metadata(data["metadata"]),
            "notes": data["description"],
            "payment_id": payment_id_of(data["charge"]),
            "payout_id": None,
            "reason": data["reason"] or "others",
            "status": data["status"],
            "available_at": None,
            "created_at": data["created"],
            "refunded_at": updated_at if data["status"] == "succeeded" else None,
            "updated_at": updated_at,
        },
    )


def refund_to_paymongo(refund) -> dict:
    return refund_from_api(refund_to_api(refund), updated_at=unix(refund.updated))


def payment_from_api(data: dict, *, updated_at: int | None = None) -> dict:
    """A charge as the service shows it (`charge_to_api`, also what its events carry) →
    PayMongo's `payment`: the same `ch_…` the Stripe dialect shows."""
    card = (data["payment_method_details"] or {}).get("card") or {}
    updated_at = updated_at or data["created"]
    refunds = (data.get("refunds") or {}).get("data") or []
    return resource(
        payment_id_of(data["id"]),
        "payment",
        {
            "access_url": None,
            "amount": data["amount"],
            "balance_transaction_id": None,
            "billing": _billing(data["billing_details"]),
            "currency": data["currency"].upper(),
            "description": data["description"],
            "disputed": False,
            "external_reference_number": None,
            "fee": 0,
            "livemode": data["livemode"],
            "net_amount": data["amount_captured"] - data["amount_refunded"],
            "origin": "api",
            "payment_intent_id": data["payment_intent"],
            "payout": None,
            "source": {
                "id": data["payment_method"],
                "type": "card",
                "brand": card.get("brand"),
                "country": card.get("country"),
                "last4": card.get("last4"),
            },
            "statement_descriptor": data["statement_descriptor"],
            "status": PAYMENT_STATUSES.get(data["status"], data["status"]),
            "tax_amount": None,
            "metadata": _metadata(data["metadata"]),
            "refunds": [refund_from_api(refund) for refund in refunds],
            "taxes": [],
            "available_at": None,
            "created_at": data["created"],
            "credited_at": None,
            "paid_at": updated_at if data["captured"] else None,
            "updated_at": updated_at,
        },
    )


def payment_to_paymongo(charge) -> dict:
    return payment_from_api(charge_to_api(charge), updated_at=unix(charge.updated))


def setup_future_usage(data: dict) -> dict | None:
    """Stripe's `setup_future_usage` and `customer` → PayMongo's `{session_type, customer_id}`."""
    if not data["setup_future_usage"]:
        return None
    return {"session_type": data["setup_future_usage"], "customer_id": data["customer"]}


def payment_intent_to_paymongo(pi, *, payments=None, publishable: bool = False) -> dict:
    """`payments` (the intent's charges, newest first) only for a secret key, as PayMongo;
    null for a public key (the official client reads the attribute, so it is there, empty)."""
    data = payment_intent_to_api(pi)
    attributes = {
        "amount": data["amount"],
        "capture_type": CAPTURE_TYPES.get(data["capture_method"], "automatic"),
        "client_key": client_key_of(data["client_secret"]),
        "currency": data["currency"].upper(),
        "description": data["description"],
        "livemode": data["livemode"],
        "original_amount": data["amount"],
        "statement_descriptor": data["statement_descriptor"],
        "status": INTENT_STATUSES[data["status"]],
        "last_payment_error": last_payment_error(data["last_payment_error"]),
        "payment_method_allowed": data["payment_method_types"],
        "payments": [payment_to_paymongo(charge) for charge in payments or ()],
        "next_action": next_action(data["next_action"]),
        "payment_method_options": data["payment_method_options"] or None,
        "metadata": _metadata(data["metadata"]),
        "setup_future_usage": setup_future_usage(data),
        "created_at": data["created"],
        "updated_at": unix(pi.updated),
    }
    if publishable:
        attributes["payments"] = None
    return resource(data["id"], "payment_intent", attributes)


def payment_method_to_paymongo(pm) -> dict:
    data = payment_method_to_api(pm)
    card = data["card"]
    return resource(
        data["id"],
        "payment_method",
        {
            "livemode": data["livemode"],
            "type": data["type"],
            "billing": _billing(data["billing_details"]),
            "customer_id": data["customer"],
            "details": {
                "brand": card["brand"],
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "last4": card["last4"],
            },
            "metadata": _metadata(data["metadata"]),
            "created_at": data["created"],
            "updated_at": data["created"],
        },
    )


def customer_to_paymongo(customer) -> dict:
    """A customer as PayMongo shows it. A name given whole (through `/v1/`) is all
    `first_name`: it is never guessed apart."""
    data = customer_to_api(customer)
    in_parts = customer.first_name is not None or customer.last_name is not None
    return resource(
        data["id"],
        "customer",
        {
            "default_device": customer.default_device,
            "default_payment_method_id": data["invoice_settings"]["default_payment_method"],
            "deleted": customer.deleted,
            "email": data["email"],
            "first_name": customer.first_name if in_parts else data["name"],
            "last_name": customer.last_name if in_parts else None,
            "livemode": data["livemode"],
            "organization_id": None,
            "phone": data["phone"],
            "created_at": data["created"],
            "updated_at": unix(customer.updated),
        },
    )
