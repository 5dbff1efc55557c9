"""Reads of payment intents, always within the caller's scope. Selectors return querysets (the
view paginates) or one row, and never write: an authorisation past its expiry is shown as
expired by `PaymentIntent.as_shown()`, and written by the expiry sweep."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import ResourceMissing
from core.prepared import PreparedQuery
from core.scope import Scope
from payments.models import Attempt, AttemptKind

from .models import PaymentIntent
from .search import search_query_to_q

EXPANDABLE_RELATED = ("latest_charge", "payment_method", "customer")


def payment_intent_queryset(*, scope: Scope, expand=()) -> QuerySet:
    """The caller's intents, with the related rows `expand` names selected along."""
    qs = PaymentIntent.objects.filter(**scope.filters)
    related = [name for name in EXPANDABLE_RELATED if name in expand]
    return qs.select_related(*related) if related else qs


def _intent_by_id(variant: tuple, payment_intent_id: str, account_id: str) -> QuerySet:
    related, livemode = variant
    return payment_intent_queryset(
        scope=Scope(account_id=account_id, livemode=livemode), expand=related
    ).filter(id=payment_intent_id)


# compiled once per connection and expansion: a retrieve is otherwise mostly the ORM's compiler
_INTENT_BY_ID = PreparedQuery(_intent_by_id)


def payment_intent_get(
    *, scope: Scope, payment_intent_id: str, expand=(), param: str = "id"
) -> PaymentIntent:
    related = tuple(name for name in EXPANDABLE_RELATED if name in expand)
    rows = _INTENT_BY_ID.rows((related, scope.livemode), payment_intent_id, scope.account_id)
    if not rows:
        raise ResourceMissing("payment_intent", payment_intent_id, param=param)
    return rows[0]


def payment_intent_list(*, scope: Scope, customer: str | None = None, expand=()) -> QuerySet:
    qs = payment_intent_queryset(scope=scope, expand=expand)
    if customer:
        qs = qs.filter(customer_id=customer)
    return qs


def payment_intent_search(*, scope: Scope, query: str, expand=()) -> QuerySet:
    """The caller's intents matching a search `query`, newest first."""
    return (
        payment_intent_queryset(scope=scope, expand=expand)
        .filter(search_query_to_q(query))
        .order_by("-created", "-id")
    )


def upstream_challenge(charge_id: str) -> str | None:
    """The processor's own 3-D Secure page for a charge whose authorisation answered
    `requires_action` with one (a `stripe` connection), else None (the simulator's challenge is
    our hosted page)."""
    attempt = (
        Attempt.objects.filter(charge_id=charge_id, kind=AttemptKind.AUTHORIZE)
        .exclude(answer__isnull=True)
        .order_by("-created")
        .first()
    )
    extra = ((attempt.answer or {}).get("extra") or {}) if attempt else {}
    url = extra.get("redirect_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def setup_upstream_challenge(attempt_id: str) -> str | None:
    """The processor's own 3-D Secure page the verification attempt `attempt_id` answered
    with (a `stripe` connection), else None (the simulator's challenge is our hosted page)."""
    attempt = Attempt.objects.filter(id=attempt_id).only("answer").first()
    extra = ((attempt.answer or {}).get("extra") or {}) if attempt else {}
    url = extra.get("redirect_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
