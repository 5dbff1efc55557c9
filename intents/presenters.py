"""A PaymentIntent as the API shows it (Stripe's shape, or the subset a publishable key sees),
used by views, events and errors alike. Pure functions of model rows: it reads no related row
unless `expand` names it (and the caller selected it)."""

from __future__ import annotations

from core.values import unix
from payments import presenters as payment_presenters

from .models import PaymentIntent

# What a publishable key (a browser holding the client secret) may see of an intent.
PUBLISHABLE_FIELDS = (
    "id",
    "object",
    "amount",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "confirmation_method",
    "created",
    "currency",
    "description",
    "last_payment_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_types",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "status",
)


def _automatic_payment_methods(stored: dict | None) -> dict | None:
    """The stored choice without the `allow_redirects: null` earlier versions kept when it was
    neither given nor implied (an enum on the wire, never null)."""
    if stored is None:
        return None
    return {key: value for key, value in stored.items() if value is not None}


def payment_intent_to_api(
    pi: PaymentIntent, *, publishable: bool = False, expand: tuple | list = ()
) -> dict:
    """The Stripe representation of `pi`. Without `expand` it reads no related rows."""
    payment_method = pi.payment_method_id
    if "payment_method" in expand and pi.payment_method_id:
        payment_method = payment_presenters.payment_method_to_api(
            pi.payment_method, publishable=publishable
        )
    customer = pi.customer_id
    if "customer" in expand and pi.customer_id:
        customer = payment_presenters.customer_to_api(pi.customer)
    latest_charge = pi.latest_charge_id
    if "latest_charge" in expand and pi.latest_charge_id:
        latest_charge = payment_presenters.charge_to_api(pi.latest_charge)
    data = {
        "id": pi.id,
        "object": "payment_intent",
        "amount": pi.amount,
        "amount_capturable": pi.amount_capturable,
        "amount_details": {"tip": {}},
        "amount_received": pi.amount_received,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": _automatic_payment_methods(pi.automatic_payment_methods),
        "canceled_at": unix(pi.canceled_at),
        "cancellation_reason": pi.cancellation_reason,
        "capture_method": pi.capture_method,
        "checkout": pi.checkout_id,
        "client_secret": pi.client_secret,
        "confirmation_method": pi.confirmation_method,
        "created": unix(pi.created),
        "currency": pi.currency,
        "customer": customer,
        "description": pi.description,
        "invoice": None,
        "last_payment_error": pi.last_payment_error,
        "latest_charge": latest_charge,
        "livemode": pi.livemode,
        "metadata": pi.metadata or {},
        "next_action": pi.next_action,
        "on_behalf_of": None,
        "payment_flow": pi.payment_flow,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": pi.payment_method_options or {},
        "payment_method_types": pi.payment_method_types or ["card"],
        "processing": None,
        "receipt_email": pi.receipt_email,
        "review": None,
        "setup_future_usage": pi.setup_future_usage,
        "shipping": pi.shipping,
        "source": None,
        "statement_descriptor": pi.statement_descriptor,
        "statement_descriptor_suffix": pi.statement_descriptor_suffix,
        "status": pi.status,
        "transfer_data": None,
        "transfer_group": None,
    }
    if publishable:
        return {key: data[key] for key in PUBLISHABLE_FIELDS}
    return data


SETUP_INTENT_PUBLISHABLE_FIELDS = (
    "id",
    "object",
    "cancellation_reason",
    "client_secret",
    "created",
    "description",
    "last_setup_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_types",
    "status",
    "usage",
)


def setup_intent_to_api(si, *, publishable: bool = False) -> dict:
    """A SetupIntent as Stripe shows it (or the subset a publishable key with its client secret
    may see)."""
    data = {
        "id": si.id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": si.cancellation_reason,
        "client_secret": si.client_secret,
        "created": unix(si.created),
        "customer": si.customer_id,
        "description": si.description,
        "last_setup_error": si.last_setup_error,
        "latest_attempt": None,
        "livemode": si.livemode,
        "mandate": None,
        "metadata": si.metadata or {},
        "next_action": si.next_action,
        "on_behalf_of": None,
        "payment_method": si.payment_method_id,
        "payment_method_types": list(si.payment_method_types or ["card"]),
        "single_use_mandate": None,
        "status": si.status,
        "usage": si.usage,
    }
    if publishable:
        return {key: data[key] for key in SETUP_INTENT_PUBLISHABLE_FIELDS}
    return data
