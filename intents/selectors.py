"""Reads of payment intents, always scoped to the caller's account and mode."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from api.pagination import apply_created_filter, keyset_page
from core.errors import InvalidRequestError, ResourceMissing

from .models import PaymentIntent, Status


def _related(expand) -> list[str]:
    return [name for name in ("latest_charge", "payment_method", "customer") if name in expand]


def payment_intent_queryset(*, account_id: str, livemode: bool, expand=()) -> QuerySet:
    qs = PaymentIntent.objects.filter(account_id=account_id, livemode=livemode)
    related = _related(expand)
    return qs.select_related(*related) if related else qs


def _expiry_due(pi: PaymentIntent) -> bool:
    if pi.status != Status.REQUIRES_CAPTURE or pi.authorized_at is None:
        return False
    cutoff = timezone.now() - timedelta(seconds=settings.AUTHORIZATION_EXPIRY_SECONDS)
    return pi.authorized_at <= cutoff


def payment_intent_get(
    *, account_id: str, livemode: bool, intent_id: str, expand=(), param: str = "id"
) -> PaymentIntent:
    """One intent of the caller. An authorisation past its expiry is expired on read."""
    pi = (
        payment_intent_queryset(account_id=account_id, livemode=livemode, expand=expand)
        .filter(id=intent_id)
        .first()
    )
    if pi is None:
        raise ResourceMissing("payment_intent", intent_id, param=param)
    if _expiry_due(pi):
        from .services import payment_intent_expire_if_due

        payment_intent_expire_if_due(intent_id=pi.id)
        return payment_intent_get(
            account_id=account_id, livemode=livemode, intent_id=intent_id, expand=expand
        )
    return pi


def payment_intent_list(
    *,
    account_id: str,
    livemode: bool,
    created: dict | None = None,
    customer: str | None = None,
    limit: int | None = None,
    starting_after: str | None = None,
    ending_before: str | None = None,
    expand=(),
) -> tuple[list[PaymentIntent], bool]:
    qs = payment_intent_queryset(account_id=account_id, livemode=livemode, expand=expand)
    if customer:
        qs = qs.filter(customer_id=customer)
    qs = apply_created_filter(qs, created)
    return keyset_page(
        qs,
        limit=limit,
        starting_after=starting_after,
        ending_before=ending_before,
        object_name="payment_intent",
    )


# --- search --------------------------------------------------------------------------------


_PAGE_ID = re.compile(r"^pi_[A-Za-z0-9]{1,60}$")


def _encode_page(pi: PaymentIntent) -> str:
    raw = json.dumps({"c": pi.created.isoformat(), "i": pi.id}).encode()
    return "page_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page(token: str) -> tuple[str, str]:
    try:
        body = token.removeprefix("page_")
        body += "=" * (-len(body) % 4)
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        from datetime import datetime

        created, pk = datetime.fromisoformat(data["c"]), data["i"]
        if not isinstance(pk, str) or not _PAGE_ID.match(pk) or created.tzinfo is None:
            raise ValueError("bad page id")
        return created, pk
    except (ValueError, KeyError, TypeError):
        raise InvalidRequestError(
            "Invalid page: use the next_page value of a previous search result.",
            code="parameter_invalid_string",
            param="page",
        )


def payment_intent_search(
    *,
    account_id: str,
    livemode: bool,
    query: str,
    limit: int | None = None,
    page: str | None = None,
    expand=(),
) -> tuple[list[PaymentIntent], bool, str | None]:
    from .search import search_query_to_q

    condition = search_query_to_q(query)
    qs = payment_intent_queryset(account_id=account_id, livemode=livemode, expand=expand).filter(
        condition
    )
    if page:
        created, pk = _decode_page(page)
        qs = qs.filter(Q(created__lt=created) | Q(created=created, id__lt=pk))
    limit = limit or 10
    rows = list(qs.order_by("-created", "-id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_page = _encode_page(rows[-1]) if has_more and rows else None
    return rows, has_more, next_page
