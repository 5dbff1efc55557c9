"""Payload's objects, translated from the service's presenters: the `intent` of Payload's API
reference (`int_…` for the service's `cint_…` checkout intent: the same object), decimal
amounts in major units (from the integer minor units, exactly), `YYYY-MM-DD HH:MM:SS` times
in UTC, the transactions (charges and refunds) as Payload's `transaction`, and the customers
and their saved cards as Payload's `customer` and `payment_method` (the same `cus_…` and `pm_…`
the Stripe dialect shows)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from checkout_pages.presenters import checkout_intent_to_api
from core.money import currency_exponent
from payments.presenters import (
    charge_to_api,
    customer_to_api,
    payment_method_to_api,
    refund_to_api,
)

ENGINE_PREFIX, FACE_PREFIX = "cint_", "int_"
#: Payload's `status` of a payment setting → the service's capture.
CAPTURES = {"authorized": "manual", "processed": "automatic"}
STATUSES = {capture: status for status, capture in CAPTURES.items()}


def intent_id(engine_id: str) -> str:
    return FACE_PREFIX + engine_id.removeprefix(ENGINE_PREFIX)


def engine_id(face_id: str) -> str:
    """`int_…` → `cint_…`; any other id stays as it is (and is not found)."""
    if face_id.startswith(FACE_PREFIX):
        return ENGINE_PREFIX + face_id.removeprefix(FACE_PREFIX)
    return face_id


def decimal_amount(amount: int | None, currency: str | None) -> float | None:
    """Minor units → Payload's decimal number. The JSON renderer writes a float; the value is
    computed exactly and has at most the currency's digits, which a float prints exactly."""
    if amount is None:
        return None
    exponent = currency_exponent(currency or "usd")
    return float(Decimal(amount).scaleb(-exponent))


def timestamp(unix_seconds: int | None) -> str | None:
    if unix_seconds is None:
        return None
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def client_token_to_payload(token: str) -> dict:
    """The nested client token, shown only when it is issued (create, `client_token`): the
    service keeps its hash only."""
    return {"id": token, "object": "access_token", "type": "client", "status": "active"}


def _settings(data: dict, ci) -> dict:
    """The type's own settings object, as Payload shows it."""
    amount = decimal_amount(data["amount"], data["currency"])
    redirects = data["redirects"]
    status = STATUSES[data["capture"]]
    customer_id = data["customer"]
    if data["type"] == "checkout_page":
        return {
            "amount": amount,
            "bank_account_payments": False,
            "billing_address": data["billing_address"],
            "card_payments": data["card_payments"],
            "customer_id": customer_id,
            "description": data["description"],
            "enable_mobile_wallets": False,
            "invoice_id": data["invoice"],
            "payment": {},
            "processing_id": None,
            "show_disclosure": False,
            "status": status,
            "redirects": redirects,
        }
    if data["type"] == "checkout_plugin":
        return {
            "amount": amount,
            "amount_editable": data["amount_editable"],
            "attrs": {},
            "auto_billing_toggle": False,
            "bank_account_payments": False,
            "billing_address": data["billing_address"],
            "card_payments": data["card_payments"],
            "conv_fee": False,
            "customer_id": customer_id,
            "description": data["description"],
            "invoice_id": data["invoice"],
            "keep_active_toggle": data["save_payment_method"],
            "order_number": data["order_number"],
            "payment_method_defaults": {},
            "payment_method_preview": False,
            "processing_id": None,
            "processing_method_id": None,
            "processing_settings_id": None,
            "status": status,
        }
    if data["type"] == "payment_form":
        return {
            "payment": {
                "amount": amount,
                "customer_id": customer_id,
                "description": data["description"],
                "order_number": data["order_number"],
                "status": status,
            }
        }
    return {"payment_method": {"customer_id": customer_id}}


TYPES = ("checkout_page", "checkout_plugin", "payment_form", "payment_method_form")


#: The attributes of each object as this face shows it (what `fields` may name); the tests check
#: them against the presenters' answers.
INTENT_ATTRIBUTES = (
    "id",
    "object",
    "attrs",
    "client_token_id",
    "client_token",
    "created_at",
    "modified_at",
    "status",
    "type",
    "allowed_origins",
    "payment_intent_id",
    "payment_method_id",
    *TYPES,
)
PAYMENT_ATTRIBUTES = (
    "id",
    "object",
    "type",
    "amount",
    "amount_refunded",
    "attrs",
    "created_at",
    "modified_at",
    "customer_id",
    "description",
    "payment_method_id",
    "payment_method",
    "payment_intent_id",
    "status",
    "status_code",
    "status_message",
)
REFUND_ATTRIBUTES = (
    "id",
    "object",
    "type",
    "amount",
    "attrs",
    "created_at",
    "modified_at",
    "payment_intent_id",
    "ledger",
    "status",
    "status_message",
)
#: A transaction, payment or refund: either's attributes (null where the kind has none).
TRANSACTION_ATTRIBUTES = tuple(dict.fromkeys((*PAYMENT_ATTRIBUTES, *REFUND_ATTRIBUTES)))
PAYMENT_METHOD_ATTRIBUTES = (
    "id",
    "object",
    "account_holder",
    "account_id",
    "attrs",
    "billing_address",
    "card",
    "created_at",
    "customer_id",
    "default_payment_method",
    "description",
    "email",
    "keep_active",
    "modified_at",
    "phone_number",
    "status",
    "type",
)
CUSTOMER_ATTRIBUTES = (
    "id",
    "object",
    "attrs",
    "created_at",
    "description",
    "email",
    "keep_active",
    "modified_at",
    "name",
    "payment_methods",
    "phone_number",
)
WEBHOOK_ATTRIBUTES = (
    "id",
    "object",
    "attrs",
    "created_at",
    "modified_at",
    "trigger",
    "url",
    "status",
    "oauth_params",
    "payment_link_id",
    "reference_object",
)


def intent_to_payload(ci, *, client_token: str | None = None) -> dict:
    """`client_token`: only in the answers that issue one."""
    data = checkout_intent_to_api(ci)
    out = {
        "id": intent_id(data["id"]),
        "object": "intent",
        "attrs": dict(data["metadata"]),
        "client_token_id": client_token,
        "client_token": client_token_to_payload(client_token) if client_token else None,
        "created_at": timestamp(data["created"]),
        "modified_at": timestamp(int(ci.updated.timestamp())),
        "status": data["status"],
        "type": data["type"],
        "allowed_origins": data["allowed_origins"],
        "payment_intent_id": data["payment_intent"],
        "payment_method_id": data["payment_method"],
    }
    for name in TYPES:
        out[name] = _settings(data, ci) if name == data["type"] else None
    return out


# --- transactions ------------------------------------------------------------------------------

PAYMENT_STATUSES = {"succeeded": "processed", "failed": "declined", "pending": "processing"}
REFUND_STATUSES = {"succeeded": "processed", "failed": "declined", "pending": "processing"}


def payment_status(data: dict, *, released: bool, capture_pending: bool = False) -> str:
    """A charge as the API shows it → Payload's status of the payment. One the service
    captures by itself after authorising it (`/v1/`'s `automatic_async`) is `processing` until
    captured."""
    if data["status"] == "succeeded" and not data["captured"]:
        if released:
            return "voided"
        return "processing" if capture_pending else "authorized"
    return PAYMENT_STATUSES.get(data["status"], data["status"])


def payment_to_payload(charge) -> dict:
    """A charge as Payload's payment. Its `amount` is what was taken: once captured, the
    captured amount (a capture of less than was authorised updates it, as a PUT of `amount`
    with `status: processed` says); before, what is authorised."""
    data = charge_to_api(charge)
    status = payment_status(data, released=charge.released, capture_pending=charge.capture_pending)
    card = (data["payment_method_details"] or {}).get("card") or {}
    return {
        "id": data["id"],
        "object": "transaction",
        "type": "payment",
        "amount": decimal_amount(
            data["amount_captured"] if data["captured"] else data["amount"], data["currency"]
        ),
        "amount_refunded": decimal_amount(data["amount_refunded"], data["currency"]),
        "attrs": dict(data["metadata"]),
        "created_at": timestamp(data["created"]),
        "modified_at": timestamp(int(charge.updated.timestamp())),
        "customer_id": data["customer"],
        "description": data["description"],
        "payment_method_id": data["payment_method"],
        "payment_method": {
            "type": "card",
            "card": {
                "card_brand": card.get("brand"),
                "card_number": f"xxxxxxxxxxxx{card.get('last4') or ''}",
            },
        },
        "payment_intent_id": data["payment_intent"],
        "status": status,
        "status_code": data["failure_code"]
        or ("approved" if data["status"] == "succeeded" else None),
        "status_message": data["failure_message"],
    }


def refund_to_payload(refund) -> dict:
    data = refund_to_api(refund)
    return {
        "id": data["id"],
        "object": "transaction",
        "type": "refund",
        "amount": decimal_amount(data["amount"], data["currency"]),
        "attrs": dict(data["metadata"]),
        "created_at": timestamp(data["created"]),
        "modified_at": timestamp(int(refund.updated.timestamp())),
        "payment_intent_id": data["payment_intent"],
        "ledger": [{"assoc_transaction_id": data["charge"], "entry_type": "refund"}],
        "status": REFUND_STATUSES.get(data["status"], data["status"]),
        "status_message": data["failure_reason"],
    }


#: The service's billing address → Payload's names.
BILLING_ADDRESS = {
    "line1": "street_address",
    "line2": "unit_number",
    "city": "city",
    "state": "state_province",
    "postal_code": "postal_code",
    "country": "country_code",
}


def payment_method_to_payload(pm, *, default_payment_method: str | None = None) -> dict:
    """A saved card as Payload's `payment_method`: the number masked to its last four, the
    expiry as `MM/YYYY`; never more of the card than the Stripe dialect shows."""
    data = payment_method_to_api(pm)
    card = data["card"]
    billing = data["billing_details"]
    address = billing.get("address") or {}
    return {
        "id": data["id"],
        "object": "payment_method",
        "account_holder": billing.get("name"),
        "account_id": data["customer"],
        "attrs": dict(data["metadata"]),
        "billing_address": {
            "city": address.get("city"),
            "country_code": address.get("country"),
            "postal_code": address.get("postal_code"),
            "state_province": address.get("state"),
            "street_address": address.get("line1"),
            "unit_number": address.get("line2"),
        },
        "card": {
            "card_brand": card["brand"],
            "card_number": f"xxxxxxxxxxxx{card['last4']}",
            "card_type": card["funding"],
            "expiry": f"{card['exp_month']:02d}/{card['exp_year']}",
        },
        "created_at": timestamp(data["created"]),
        "customer_id": data["customer"],
        "default_payment_method": bool(default_payment_method)
        and default_payment_method == data["id"],
        "description": f"{(card['brand'] or 'card').title()} xxx-{card['last4']}",
        "email": billing.get("email"),
        "keep_active": data["customer"] is not None,
        "modified_at": timestamp(data["created"]),
        "phone_number": billing.get("phone"),
        "status": "active",
        "type": data["type"],
    }


def customer_to_payload(customer, payment_methods=()) -> dict:
    data = customer_to_api(customer)
    default = data["invoice_settings"]["default_payment_method"]
    return {
        "id": data["id"],
        "object": "customer",
        "attrs": dict(data["metadata"]),
        "created_at": timestamp(data["created"]),
        "description": data["description"],
        "email": data["email"],
        "keep_active": True,
        "modified_at": timestamp(int(customer.updated.timestamp())),
        "name": data["name"],
        "payment_methods": [
            payment_method_to_payload(pm, default_payment_method=default) for pm in payment_methods
        ],
        "phone_number": data["phone"],
    }
