"""Reads of customers, payment methods, charges and refunds, always scoped to an account and mode: an id
of another account or mode is simply not found (404 resource_missing)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from core.prepared import PreparedQuery
from core.scope import Scope
from core.selectors import first_or_missing

from .models import Charge, Customer, PaymentMethod, Refund
from .search import CHARGE_SEARCH, CUSTOMER_SEARCH, search_query_to_q


def customer_list(
    *, scope: Scope, email: str | None = None, phone: str | None = None
) -> QuerySet[Customer]:
    queryset = Customer.objects.filter(deleted=False, **scope.filters)
    if email:
        queryset = queryset.filter(email=email)
    if phone:
        queryset = queryset.filter(phone=phone)
    return queryset


def with_payment_methods(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """`customer.payment_methods.all()` of every customer listed (newest first) fetched in one
    more query for the page, not one per customer."""
    return customers.prefetch_related(
        Prefetch("payment_methods", queryset=PaymentMethod.objects.order_by("-created", "-id"))
    )


def customer_get(*, scope: Scope, customer_id: str, param: str = "customer") -> Customer:
    return first_or_missing(
        customer_list(scope=scope), object_id=customer_id, object_name="customer", param=param
    )


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
    return first_or_missing(
        payment_method_list(scope=scope),
        object_id=payment_method_id,
        object_name="payment_method",
        param=param,
    )


def charge_list(
    *, scope: Scope, payment_intent_id: str | None = None, customer_id: str | None = None
) -> QuerySet[Charge]:
    queryset = (
        Charge.objects.filter(**scope.filters)
        .select_related("payment_intent", "payment_method")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("-created", "-id")))
    )
    if payment_intent_id:
        queryset = queryset.filter(payment_intent_id=payment_intent_id)
    if customer_id:
        queryset = queryset.filter(customer_id=customer_id)
    return queryset


def _intent_charges(livemode: bool, payment_intent_id: str, account_id: str) -> QuerySet[Charge]:
    return (
        Charge.objects.filter(
            account_id=account_id, livemode=livemode, payment_intent_id=payment_intent_id
        )
        .select_related("payment_method")
        .order_by("-created", "-id")
    )


# compiled once per connection: an intent's answer that lists its charges (PayMongo's
# `payments`) would otherwise spend more in the ORM's compiler than in the query
_INTENT_CHARGES = PreparedQuery(_intent_charges)


def payment_intent_charges(*, scope: Scope, payment_intent_id: str) -> list[Charge]:
    """Every charge (payment attempt) of one intent, newest first, with its method."""
    return _INTENT_CHARGES.rows(scope.livemode, payment_intent_id, scope.account_id)


def charge_get(*, scope: Scope, charge_id: str, param: str = "id") -> Charge:
    return first_or_missing(
        charge_list(scope=scope), object_id=charge_id, object_name="charge", param=param
    )


def refund_list(
    *,
    scope: Scope,
    charge_id: str | None = None,
    payment_intent_id: str | None = None,
) -> QuerySet[Refund]:
    """Refunds, optionally of one charge or of one intent (the view's pagination applies
    `created`)."""
    queryset = Refund.objects.filter(**scope.filters)
    if charge_id:
        queryset = queryset.filter(charge_id=charge_id)
    if payment_intent_id:
        queryset = queryset.filter(payment_intent_id=payment_intent_id)
    return queryset


def refund_get(*, scope: Scope, refund_id: str, param: str = "id") -> Refund:
    return first_or_missing(
        refund_list(scope=scope), object_id=refund_id, object_name="refund", param=param
    )


def customer_search(*, scope: Scope, query: str) -> QuerySet[Customer]:
    """The caller's customers matching a Stripe search `query`, newest first."""
    return customer_list(scope=scope).filter(search_query_to_q(query, CUSTOMER_SEARCH))


def charge_search(*, scope: Scope, query: str) -> QuerySet[Charge]:
    """The caller's charges matching a Stripe search `query`, newest first."""
    return charge_list(scope=scope).filter(search_query_to_q(query, CHARGE_SEARCH))
