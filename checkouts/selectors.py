"""Reads of checkouts, always within the caller's scope; they never write (inactivity is shown
by `Checkout.as_shown()` and written by the sweep). Insights are in `checkouts.insights`."""

from __future__ import annotations

import hmac

from django.db.models import QuerySet
from django.utils import timezone

from core.scope import Scope
from core.selectors import first_or_missing

from .models import Checkout, shown_status_q


def checkout_get(*, scope: Scope, checkout_id: str, param: str = "id") -> Checkout:
    return first_or_missing(
        Checkout.objects.filter(**scope.filters),
        object_id=checkout_id,
        object_name="checkout",
        param=param,
    )


def checkout_list(
    *,
    scope: Scope,
    status: str | None = None,
    tracking_id: str | None = None,
    payment_flow: str | None = None,
) -> QuerySet:
    """The caller's checkouts; `status` filters on the status as shown now (a checkout left
    alone past CHECKOUT_INACTIVE_SECONDS is `inactive` even before the sweep wrote it)."""
    qs = Checkout.objects.filter(**scope.filters)
    if status:
        qs = qs.filter(shown_status_q(status, timezone.now()))
    if tracking_id:
        qs = qs.filter(tracking_id=tracking_id)
    if payment_flow:
        qs = qs.filter(payment_flow=payment_flow)
    return qs


def checkout_for_client_secret(*, client_secret: str) -> Checkout | None:
    """The checkout a client secret belongs to (the secret is the credential: it carries its own
    scope, `Scope.of` the row), or None. The secret is `chk_…_secret_…`: the row is found by
    its id and the secret compared in constant time."""
    checkout_id, sep, _ = client_secret.partition("_secret_")
    if not sep or not checkout_id.startswith("chk_"):
        return None
    chk = Checkout.objects.filter(id=checkout_id).first()
    if chk is None or not hmac.compare_digest(chk.client_secret.encode(), client_secret.encode()):
        return None
    return chk
