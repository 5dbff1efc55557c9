"""The workers' writes: expire what is past `expires_at`. (Finishing what its PaymentIntent paid
is no sweep's: the outcome listener finishes the checkout in the transaction that writes the
payment, `payment.checkout_intent_learn_payment_outcome`.)"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.scope import Scope
from events.services import event_emit

from ..models import CheckoutIntent, Status
from ._common import Change, cancel_open_payment_intent, event_change
from .payment import UNDER_WAY
from .session_outcomes import sessions_expired

BATCH = 500


def checkout_intents_expire_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Expire, in one claim, the pending intents past `expires_at` (`SELECT … FOR UPDATE SKIP
    LOCKED`, so two sweeps never take the same row, and a row a payment holds locked is left
    for the next run), each with its `checkout_intent.expired` event; then cancel their
    still-open PaymentIntents. One whose payment is under way is left pending: the payment's
    outcome finishes it (or, declined, leaves it to the next run). Returns how many expired."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            CheckoutIntent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("payment_intent")
            .filter(status=Status.PENDING, expires_at__lte=now)
            .order_by("expires_at")[:batch]
        )
        expired = []
        for ci in claimed:
            pi = ci.payment_intent
            if pi is not None and (pi.attempt_under_way(now) or pi.status in UNDER_WAY):
                continue
            ci.expire(at=ci.expires_at)
            ci.updated = now
            expired.append(ci)
        CheckoutIntent.objects.bulk_update(expired, ["status", "expired_at", "updated"])
        by_scope: defaultdict[Scope, list[Change]] = defaultdict(list)
        for ci in expired:
            by_scope[Scope.of(ci)].append(event_change(ci, "expired"))
        for scope, changes in by_scope.items():
            event_emit(scope=scope, changes=changes)
        sessions_expired(expired)
    for ci in expired:
        cancel_open_payment_intent(ci, ci.payment_intent)
    return len(expired)
