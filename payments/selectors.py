"""Reads of customers, payment methods and charges, always scoped to an account and mode: an id
of another account or mode is simply not found (404 resource_missing)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import ResourceMissing
from core.scope import Scope

from .models import Charge, Customer, PaymentMethod


def customer_list(*, scope: Scope, email: str | None = None) -> QuerySet[Customer]:
    queryset = Customer.objects.filter(deleted=False, **scope.filters)
    if email:
        queryset = queryset.filter(email=email)
    return queryset


def customer_get(*, scope: Scope, customer_id: str, param: str = "customer") -> Customer:
    customer = customer_list(scope=scope).filter(id=customer_id).first()
    if customer is None:
        raise ResourceMissing("customer", customer_id, param=param)
    return customer


def payment_method_list(
    *, scope: Scope, customer_id: str | None = None, type: str | None = None
) -> QuerySet[PaymentMethod]:
    queryset = PaymentMethod.objects.filter(**scope.filters)
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    if type:
        queryset = queryset.filter(type=type)
    return queryset


def payment_method_get(*, scope: Scope, payment_method_id: str, param: str = "id") -> PaymentMethod:
    pm = payment_method_list(scope=scope).filter(id=payment_method_id).first()
    if pm is None:
        raise ResourceMissing("payment_method", payment_method_id, param=param)
    return pm


def charge_list(
    *, scope: Scope, payment_intent_id: str | None = None, customer_id: str | None = None
) -> QuerySet[Charge]:
    queryset = Charge.objects.filter(**scope.filters).select_related(
        "payment_intent", "payment_method"
    )
    if payment_intent_id:
        queryset = queryset.filter(payment_intent_id=payment_intent_id)
    if customer_id:
        queryset = queryset.filter(customer_id=customer_id)
    return queryset


def charge_get(*, scope: Scope, charge_id: str, param: str = "id") -> Charge:
    charge = charge_list(scope=scope).filter(id=charge_id).first()
    if charge is None:
        raise ResourceMissing("charge", charge_id, param=param)
    return charge
