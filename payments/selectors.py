"""Reads of customers, payment methods and charges, always scoped to an account and mode: an id
of another account or mode is simply not found (404 resource_missing)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import ResourceMissing
from core.scope import Scope

from .models import Charge, Customer, PaymentMethod


def customer_queryset(*, account_id: str, livemode: bool) -> QuerySet[Customer]:
    return Customer.objects.filter(account_id=account_id, livemode=livemode, deleted=False)


def customer_get(*, scope: Scope, customer_id: str, param: str = "customer") -> Customer:
    customer = customer_queryset(**scope.filters).filter(id=customer_id).first()
    if customer is None:
        raise ResourceMissing("customer", customer_id, param=param)
    return customer


def customer_list(
    *, account_id: str, livemode: bool, email: str | None = None
) -> QuerySet[Customer]:
    queryset = customer_queryset(account_id=account_id, livemode=livemode)
    if email:
        queryset = queryset.filter(email=email)
    return queryset


def payment_method_queryset(*, account_id: str, livemode: bool) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(account_id=account_id, livemode=livemode)


def payment_method_get(
    *, account_id: str, livemode: bool, payment_method_id: str, param: str = "id"
) -> PaymentMethod:
    pm = (
        payment_method_queryset(account_id=account_id, livemode=livemode)
        .filter(id=payment_method_id)
        .first()
    )
    if pm is None:
        raise ResourceMissing("payment_method", payment_method_id, param=param)
    return pm


def payment_method_list(
    *,
    account_id: str,
    livemode: bool,
    customer_id: str | None = None,
    type: str | None = None,
) -> QuerySet[PaymentMethod]:
    queryset = payment_method_queryset(account_id=account_id, livemode=livemode)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if type:
        queryset = queryset.filter(type=type)
    return queryset


def charge_queryset(*, account_id: str, livemode: bool) -> QuerySet[Charge]:
    return Charge.objects.filter(account_id=account_id, livemode=livemode).select_related(
        "payment_intent", "payment_method"
    )


def charge_get(*, account_id: str, livemode: bool, charge_id: str, param: str = "id") -> Charge:
    charge = charge_queryset(account_id=account_id, livemode=livemode).filter(id=charge_id).first()
    if charge is None:
        raise ResourceMissing("charge", charge_id, param=param)
    return charge


def charge_list(
    *,
    account_id: str,
    livemode: bool,
    payment_intent_id: str | None = None,
    customer_id: str | None = None,
) -> QuerySet[Charge]:
    queryset = charge_queryset(account_id=account_id, livemode=livemode)
    if payment_intent_id:
        queryset = queryset.filter(payment_intent_id=payment_intent_id)
    if customer_id:
        queryset = queryset.filter(customer_id=customer_id)
    return queryset
