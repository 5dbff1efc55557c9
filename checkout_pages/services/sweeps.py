"""The workers' writes: expire what is past `expires_at`, finish what its PaymentIntent paid."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.scope import Scope
from events.services import event_emit

from ..models import CheckoutIntent, Status
from ._common import Change, cancel_open_payment_intent, event_change
from .payment import PAID, UNDER_WAY, checkout_intent_sync

logger = logging.getLogger("payintents.checkout")

BATCH = 500


def checkout_intents_expire_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Expire, in one claim, the pending intents past `expires_at` (`SELECT … FOR UPDATE SKIP
    LOCKED`, so two sweeps never take the same row, and a row a payment holds locked is left
    for the next run), each with its `checkout_intent.expired` event; then cancel their
    still-open PaymentIntents. One whose payment is under way is finished, not expired.
    Returns how many expired."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = list(
            CheckoutIntent.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("payment_intent")
            .filter(status=Status.PENDING, expires_at__lte=now)
            .order_by("expires_at")[:batch]
        )
        expired, under_way = [], []
        for ci in claimed:
            pi = ci.payment_intent
            if pi is not None and (pi.attempt_under_way(now) or pi.status in UNDER_WAY):
                under_way.append(ci)
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
    for ci in expired:
        cancel_open_payment_intent(ci, ci.payment_intent)
    for ci in under_way:
        checkout_intent_sync(scope=Scope.of(ci), checkout_intent_id=ci.id)
    return len(expired)


def checkout_intents_finish_paid(*, batch: int = BATCH) -> int:
    """Finish the pending (or ended) intents whose PaymentIntent has been paid meanwhile — a
    `processing` attempt a worker resolved, a 3-D Secure challenge the customer never came
    back from, a crash between the confirm and its checkout update. Returns how many."""
    ids = list(
        CheckoutIntent.objects.exclude(status=Status.FINISHED)
        .filter(payment_intent__status__in=PAID)
        .values_list("id", "account_id", "livemode")[:batch]
    )
    done = 0
    for ci_id, account_id, livemode in ids:
        try:
            ci = checkout_intent_sync(
                scope=Scope(account_id=account_id, livemode=livemode), checkout_intent_id=ci_id
            )
            done += ci.status == Status.FINISHED
        except Exception:
            logger.exception("checkout %s: finishing failed; the next sweep retries", ci_id)
    return done
