"""Customers: create (optionally attaching a method), update, delete (a tombstone)."""

from __future__ import annotations

from django.db import transaction

from core.errors import InvalidRequestError
from core.metadata import merge_metadata
from core.scope import Scope
from core.selectors import first_or_missing
from core.values import UNSET
from events.services import event_emit

from .. import presenters
from ..exceptions import PaymentMethodUnexpectedState
from ..models import Customer, PaymentMethod
from ..selectors import customer_list
from .payment_methods import (
    clean_billing_details,
    payment_method_attach_locked,
    payment_method_lock,
    payment_method_resolve,
)


def _default_payment_method_check(customer: Customer, pm_id: str | None) -> None:
    if pm_id is None:
        return
    attached = PaymentMethod.objects.filter(id=pm_id, customer_id=customer.id).exists()
    if not attached:
        raise _not_attached(pm_id)


def _not_attached(pm_id: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"The customer does not have a payment method with the ID {pm_id}. The payment "
        "method must be attached to the customer.",
        code="resource_missing",
        param="invoice_settings[default_payment_method]",
    )


def joined_name(first_name: str | None, last_name: str | None) -> str | None:
    """The whole name of a name given in two parts."""
    return " ".join(part for part in (first_name, last_name) if part) or None


def customer_create(
    *,
    scope: Scope,
    email: str | None = None,
    name: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    default_device: str | None = None,
    phone: str | None = None,
    description: str | None = None,
    address: dict | None = None,
    shipping: dict | None = None,
    metadata: dict | None = None,
    payment_method: str | None = None,
    invoice_settings: dict | None = None,
) -> Customer:
    """Create a customer (event `customer.created`), optionally attaching `payment_method`
    (a `pm_…` or magic id; event `payment_method.attached`). A name given in two parts
    (`first_name`, `last_name`) keeps them, and `name` is the two joined."""
    if first_name is not None or last_name is not None:
        name = joined_name(first_name, last_name)
    default_pm = (invoice_settings or {}).get("default_payment_method")
    if default_pm and default_pm != payment_method:
        # A new customer has no methods but the one this call attaches.
        raise _not_attached(default_pm)
    pm = None
    if payment_method:
        # May tokenise a magic id: a processor call, so before the transaction.
        pm = payment_method_resolve(
            scope=scope,
            payment_method_id=payment_method,
            param="payment_method",
        )
    with transaction.atomic():
        customer = Customer.objects.create(
            account_id=scope.account_id,
            livemode=scope.livemode,
            email=email,
            name=name,
            first_name=first_name,
            last_name=last_name,
            default_device=default_device,
            phone=phone,
            description=description,
            address=clean_billing_details({"address": address}).get("address") if address else None,
            shipping=clean_billing_details(shipping) if shipping else None,
            metadata=merge_metadata({}, metadata),
            invoice_settings={},
        )
        if pm is not None:
            locked = payment_method_lock(pm)
            if locked.customer_id is not None:
                raise PaymentMethodUnexpectedState.already_attached()
        if default_pm and pm is not None:
            customer.invoice_settings = {"default_payment_method": pm.id}
            customer.save()
        event_emit(
            scope=scope, changes=[("customer.created", presenters.customer_to_api(customer), None)]
        )
        if pm is not None:
            payment_method_attach_locked(locked, customer)
    return customer


def _lock(scope: Scope, customer_id: str) -> Customer:
    """`select_for_update()` the customer within `scope`; a deleted one is missing."""
    queryset = customer_list(scope=scope).select_for_update()
    return first_or_missing(queryset, object_id=customer_id, object_name="customer", param="id")


def customer_update(
    *,
    scope: Scope,
    customer_id: str,
    email: str | None = UNSET,
    name: str | None = UNSET,
    first_name: str | None = UNSET,
    last_name: str | None = UNSET,
    default_device: str | None = UNSET,
    phone: str | None = UNSET,
    description: str | None = UNSET,
    address: dict | None = UNSET,
    shipping: dict | None = UNSET,
    metadata=UNSET,
    invoice_settings: dict | None = UNSET,
) -> Customer:
    """Update the given fields (event `customer.updated` with previous_attributes, only when
    something changed). Metadata merges as everywhere. A part of the name given
    (`first_name`, `last_name`) makes `name` the two parts joined; a `name` given whole
    forgets the parts."""
    with transaction.atomic():
        locked = _lock(scope, customer_id)
        before = presenters.customer_to_api(locked)
        before_rest = (locked.first_name, locked.last_name, locked.default_device)
        if first_name is not UNSET or last_name is not UNSET:
            if first_name is not UNSET:
                locked.first_name = first_name
            if last_name is not UNSET:
                locked.last_name = last_name
            name = joined_name(locked.first_name, locked.last_name)
        elif name is not UNSET:
            locked.first_name = locked.last_name = None
        for field, value in (
            ("email", email),
            ("name", name),
            ("default_device", default_device),
            ("phone", phone),
            ("description", description),
        ):
            if value is not UNSET:
                setattr(locked, field, value)
        if address is not UNSET:
            locked.address = (
                clean_billing_details({"address": address}).get("address") if address else None
            )
        if shipping is not UNSET:
            locked.shipping = clean_billing_details(shipping) if shipping else None
        if metadata is not UNSET and metadata is not None:
            locked.metadata = merge_metadata(locked.metadata, metadata)
        if invoice_settings is not UNSET and invoice_settings is not None:
            if "default_payment_method" in invoice_settings:
                default_pm = invoice_settings["default_payment_method"]
                _default_payment_method_check(locked, default_pm)
                locked.invoice_settings = {
                    **(locked.invoice_settings or {}),
                    "default_payment_method": default_pm,
                }
        after = presenters.customer_to_api(locked)
        if after != before:
            locked.save()
            event_emit(scope=scope, changes=[("customer.updated", after, before)])
        elif (locked.first_name, locked.last_name, locked.default_device) != before_rest:
            locked.save()  # what only another dialect shows changed: no event of the v1 shape
    return locked


def customer_delete(*, scope: Scope, customer_id: str) -> Customer:
    """Delete (a tombstone: the row stays for charges and intents that name it, but every
    selector treats it as gone); its payment methods are detached. Event `customer.deleted`."""
    with transaction.atomic():
        locked = _lock(scope, customer_id)
        locked.deleted = True
        locked.save()
        PaymentMethod.objects.filter(customer_id=locked.id).update(customer=None)
        event_emit(
            scope=scope, changes=[("customer.deleted", presenters.customer_to_api(locked), None)]
        )
    return locked
