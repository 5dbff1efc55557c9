"""A CheckoutIntent as the API shows it (or the public subset a browser holding the client token
may see), used by views, events and errors alike. Pure functions of model rows: `attempts` are
passed in (the selector reads them), related rows are read only when `expand` names them."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse

from core.values import unix
from intents.presenters import payment_intent_to_api
from payments.models import Charge
from payments.presenters import customer_to_api

from .models import CheckoutIntent, Type

# What a publishable key with the client token may see: no metadata, customer or attempts.
PUBLIC_FIELDS = (
    "id",
    "object",
    "amount",
    "amount_editable",
    "amount_max",
    "amount_min",
    "billing_address",
    "canceled_at",
    "capture",
    "card_payments",
    "created",
    "currency",
    "description",
    "expired_at",
    "expires_at",
    "finished_at",
    "livemode",
    "order_number",
    "payment_intent",
    "payment_method",
    "redirects",
    "save_payment_method",
    "status",
    "type",
)


def page_url(client_token: str) -> str:
    """The hosted page of the intent whose client token this is."""
    path = reverse("checkout_page", kwargs={"key": client_token})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def attempt_to_api(charge: Charge) -> dict:
    """One payment attempt of a checkout: a charge of its PaymentIntent."""
    return {
        "charge": charge.id,
        "payment_intent": charge.payment_intent_id,
        "amount": charge.amount,
        "currency": charge.currency,
        "status": charge.status,
        "failure_code": charge.failure_code,
        "decline_code": (charge.outcome or {}).get("reason") if charge.failure_code else None,
        "failure_message": charge.failure_message,
        "created": unix(charge.created),
    }


def checkout_intent_to_api(
    ci: CheckoutIntent,
    *,
    attempts: Iterable[Charge] = (),
    publishable: bool = False,
    client_token: str | None = None,
    expand: tuple | list = (),
) -> dict:
    """The API representation of `ci`. `client_token` (and the page `url` built from it) only
    in the responses that issue one: the create and the rotation."""
    payment_intent = ci.payment_intent_id
    if "payment_intent" in expand and ci.payment_intent_id:
        payment_intent = payment_intent_to_api(ci.payment_intent.as_shown())
    customer = ci.customer_id
    if "customer" in expand and ci.customer_id:
        customer = customer_to_api(ci.customer)
    url = None
    if client_token and ci.type == Type.CHECKOUT_PAGE:
        url = page_url(client_token)
    data = {
        "id": ci.id,
        "object": "checkout_intent",
        "allowed_origins": list(ci.allowed_origins or []),
        "amount": ci.amount,
        "amount_editable": ci.amount_editable,
        "amount_max": ci.amount_max,
        "amount_min": ci.amount_min,
        "attempts": [attempt_to_api(charge) for charge in attempts],
        "billing_address": ci.billing_address,
        "canceled_at": unix(ci.canceled_at),
        "capture": ci.capture,
        "card_payments": ci.card_payments,
        "checkout": ci.checkout_id,
        "client_token": client_token,
        "created": unix(ci.created),
        "currency": ci.currency,
        "customer": customer,
        "description": ci.description,
        "expired_at": unix(ci.expired_at),
        "expires_at": unix(ci.expires_at),
        "finished_at": unix(ci.finished_at),
        "invoice": ci.invoice,
        "livemode": ci.livemode,
        "metadata": ci.metadata or {},
        "order_number": ci.order_number,
        "payment_flow": ci.payment_flow,
        "payment_intent": payment_intent,
        "payment_method": ci.payment_method_id,
        "redirects": {"completed_url": ci.completed_url, "return_url": ci.return_url},
        "save_payment_method": ci.save_payment_method,
        "status": ci.status,
        "type": ci.type,
        "url": url,
    }
    if publishable:
        return {key: data[key] for key in PUBLIC_FIELDS}
    return data


# --- Stripe Checkout: products, prices, sessions, payment links --------------------------------


def product_to_api(product) -> dict:
    return {
        "id": product.id,
        "object": "product",
        "active": product.active,
        "created": unix(product.created),
        "default_price": None,
        "description": product.description,
        "images": [],
        "livemode": product.livemode,
        "metadata": product.metadata or {},
        "name": product.name,
        "type": "service",
        "updated": unix(product.updated),
        "url": None,
    }


def price_to_api(price) -> dict:
    return {
        "id": price.id,
        "object": "price",
        "active": price.active,
        "billing_scheme": "per_unit",
        "created": unix(price.created),
        "currency": price.currency,
        "livemode": price.livemode,
        "lookup_key": price.lookup_key,
        "metadata": price.metadata or {},
        "nickname": price.nickname,
        "product": price.product_id,
        "recurring": None,
        "tax_behavior": "unspecified",
        "type": "one_time",
        "unit_amount": price.unit_amount,
        "unit_amount_decimal": str(price.unit_amount),
    }


def line_item_to_api(item: dict) -> dict:
    """One line of a session (stored as the API shows it when the session was made)."""
    return {
        "id": item["id"],
        "object": "item",
        "amount_discount": 0,
        "amount_subtotal": item["amount_subtotal"],
        "amount_tax": 0,
        "amount_total": item["amount_total"],
        "currency": item["currency"],
        "description": item["description"],
        "price": item["price"],
        "quantity": item["quantity"],
    }


# A session's status is its checkout intent's, as Stripe names it.
SESSION_STATUS = {"pending": "open", "finished": "complete", "expired": "expired"}
SESSION_STATUS["canceled"] = "expired"


def session_status(ci: CheckoutIntent) -> str:
    return SESSION_STATUS[ci.as_shown().status]


def session_payment_status(session, ci: CheckoutIntent) -> str:
    if session.mode == "setup":
        return "no_payment_required"
    return "paid" if ci.as_shown().status == "finished" else "unpaid"


def checkout_session_to_api(session, *, url: str | None = None, client_secret=None) -> dict:
    """A Checkout Session as Stripe shows it. `url` is the hosted page while the session is
    open (the caller decrypts the page token), `client_secret` the embedded form's."""
    ci = session.checkout_intent
    status = "complete" if session.async_submitted else session_status(ci)
    return {
        "id": session.id,
        "object": "checkout.session",
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": session.amount_subtotal,
        "amount_total": session.amount_total,
        "cancel_url": session.cancel_url,
        "client_reference_id": session.client_reference_id,
        "client_secret": client_secret
        if status == "open" and session.ui_mode == "embedded"
        else None,
        "created": unix(session.created),
        "currency": session.currency,
        "customer": ci.customer_id,
        "customer_creation": session.customer_creation,
        "customer_details": session.customer_details,
        "customer_email": session.customer_email,
        "expires_at": unix(ci.expires_at),
        "livemode": session.livemode,
        "locale": None,
        "metadata": session.metadata or {},
        "mode": session.mode,
        "payment_intent": ci.payment_intent_id if session.mode == "payment" else None,
        "payment_link": session.payment_link_id,
        "payment_method_types": list(session.payment_method_types or ["card"]),
        "payment_status": session_payment_status(session, ci),
        "return_url": session.return_url,
        "setup_intent": session.setup_intent_id,
        "status": status,
        "success_url": session.success_url,
        "ui_mode": session.ui_mode,
        "url": url if status == "open" and session.ui_mode == "hosted" else None,
    }


def payment_link_to_api(link, *, url: str) -> dict:
    return {
        "id": link.id,
        "object": "payment_link",
        "active": link.active,
        "after_completion": (
            {"type": "redirect", "redirect": {"url": link.redirect_url}}
            if link.redirect_url
            else {"type": "hosted_confirmation", "hosted_confirmation": {"custom_message": None}}
        ),
        "currency": link.currency,
        "livemode": link.livemode,
        "metadata": link.metadata or {},
        "payment_method_types": None,
        "url": url,
    }
