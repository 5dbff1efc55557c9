"""Reads of checkout intents, always within a scope (or, for the hosted page, through the client
token, which names one intent). Selectors never write: a pending intent past `expires_at` is
shown expired by `CheckoutIntent.as_shown()` and written by the expiry sweep."""

from __future__ import annotations

import hmac

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.scope import Scope
from core.selectors import first_or_missing
from payments.models import Charge

from . import tokens
from .models import CheckoutIntent, CheckoutSession, PaymentLink, Price, Product

EXPANDABLE_RELATED = ("payment_intent", "customer")
PAGE_KEY_SALT = "checkout_pages.page"


def checkout_intent_queryset(*, scope: Scope, expand=()) -> QuerySet:
    qs = CheckoutIntent.objects.filter(**scope.filters)
    related = [name for name in EXPANDABLE_RELATED if name in expand]
    return qs.select_related(*related) if related else qs


def checkout_intent_get(*, scope: Scope, checkout_intent_id: str, expand=()) -> CheckoutIntent:
    return first_or_missing(
        checkout_intent_queryset(scope=scope, expand=expand),
        object_id=checkout_intent_id,
        object_name="checkout_intent",
    )


def checkout_intent_list(
    *,
    scope: Scope,
    status: str | None = None,
    type: str | None = None,
    customer: str | None = None,
    expand=(),
) -> QuerySet:
    """`status` filters on the status as shown: `expired` includes pending rows past their
    `expires_at`, `pending` excludes them."""
    qs = checkout_intent_queryset(scope=scope, expand=expand)
    if type:
        qs = qs.filter(type=type)
    if customer:
        qs = qs.filter(customer_id=customer)
    if status:
        now = timezone.now()
        if status == "pending":
            qs = qs.filter(status="pending", expires_at__gt=now)
        elif status == "expired":
            qs = qs.filter(status__in=["expired", "pending"]).exclude(
                status="pending", expires_at__gt=now
            )
        else:
            qs = qs.filter(status=status)
    return qs


def checkout_intent_attempts(ci: CheckoutIntent) -> list[Charge]:
    """Every payment attempt of the checkout, oldest first (the charges of its PaymentIntents)."""
    if not ci.payment_intent_ids:
        return []
    return list(
        Charge.objects.filter(
            payment_intent_id__in=ci.payment_intent_ids,
            account_id=ci.account_id,
            livemode=ci.livemode,
        ).order_by("created", "id")
    )


# --- the hosted page: the client token (or a signed key derived from it) names the intent -------


def page_key(ci: CheckoutIntent) -> str:
    """A key to the page that is not the client token (for the 3-D Secure return address, which
    is stored on the PaymentIntent): signed, bound to the current token, so a rotation kills it."""
    return signing.dumps([ci.id, ci.client_token_hash[:16]], salt=PAGE_KEY_SALT, compress=False)


def checkout_intent_for_page(key: str) -> CheckoutIntent | None:
    """The intent a page key (a client token, or `page_key`) opens, or None (its account and
    tracked checkout read in the same query)."""
    if tokens.is_well_formed(key):
        digest = tokens.client_token_hash(key)
        ci = (
            CheckoutIntent.objects.select_related("account", "checkout")
            .filter(client_token_hash=digest)
            .first()
        )
        return (
            ci
            if ci is not None and tokens.client_token_matches(ci.client_token_hash, key)
            else None
        )
    try:
        ci_id, hash_prefix = signing.loads(key, salt=PAGE_KEY_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    ci = CheckoutIntent.objects.select_related("account", "checkout").filter(id=ci_id).first()
    if ci is None or not hmac.compare_digest(ci.client_token_hash[:16], str(hash_prefix)):
        return None
    return ci


# --- Stripe Checkout ------------------------------------------------------------------------


def scoped_get(model, scope: Scope, object_id: str):
    """One row of `model` in `scope` (404 `id` else)."""
    return first_or_missing(
        model.objects.filter(**scope.filters),
        object_id=object_id,
        object_name=model._meta.model_name,
    )


def product_list(*, scope: Scope, active: bool | None = None) -> QuerySet:
    qs = Product.objects.filter(**scope.filters)
    return qs if active is None else qs.filter(active=active)


def price_list(
    *, scope: Scope, active: bool | None = None, product: str | None = None, currency=None
) -> QuerySet:
    qs = Price.objects.filter(**scope.filters)
    if active is not None:
        qs = qs.filter(active=active)
    if product:
        qs = qs.filter(product_id=product)
    if currency:
        qs = qs.filter(currency=currency)
    return qs


def payment_link_list(*, scope: Scope, active: bool | None = None) -> QuerySet:
    qs = PaymentLink.objects.filter(**scope.filters)
    return qs if active is None else qs.filter(active=active)


def payment_link_for_page(key: str) -> PaymentLink | None:
    """The link whose page this is (the key is the unguessable part of its url)."""
    if not key or len(key) > 64:
        return None
    return PaymentLink.objects.filter(url_key=key).first()


def checkout_session_get(*, scope: Scope, session_id: str) -> CheckoutSession:
    return first_or_missing(
        CheckoutSession.objects.filter(**scope.filters).select_related("checkout_intent"),
        object_id=session_id,
        object_name="checkout.session",
    )


def checkout_session_list(
    *,
    scope: Scope,
    payment_intent: str | None = None,
    customer: str | None = None,
    status: str | None = None,
    payment_link: str | None = None,
) -> QuerySet:
    """`status` as shown: an open session past its `expires_at` is expired."""
    qs = CheckoutSession.objects.filter(**scope.filters).select_related("checkout_intent")
    if payment_intent:
        qs = qs.filter(checkout_intent__payment_intent_id=payment_intent)
    if customer:
        qs = qs.filter(checkout_intent__customer_id=customer)
    if payment_link:
        qs = qs.filter(payment_link_id=payment_link)
    if status:
        now = timezone.now()
        if status == "open":
            qs = qs.filter(
                checkout_intent__status="pending",
                checkout_intent__expires_at__gt=now,
                async_submitted=False,
            )
        elif status == "complete":
            qs = qs.filter(Q(checkout_intent__status="finished") | Q(async_submitted=True))
        else:
            qs = qs.filter(async_submitted=False)
            qs = qs.filter(checkout_intent__status__in=["expired", "canceled", "pending"]).exclude(
                checkout_intent__status="pending", checkout_intent__expires_at__gt=now
            )
    return qs


def session_for_checkout_intent(ci: CheckoutIntent) -> CheckoutSession | None:
    return CheckoutSession.objects.filter(checkout_intent_id=ci.id).first()
