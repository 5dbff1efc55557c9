"""The beat lease: take or renew it, give it up. Each is one statement in autocommit (no session
state, no advisory lock), so it works through PgBouncer in transaction pooling, and every time
is the database's own (`now()`), so the beats' clocks never have to agree."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Q, Value, When
from django.db.models.functions import Now

from .models import BEAT, BeatLease


def _until(seconds: float) -> ExpressionWrapper:
    return ExpressionWrapper(
        Now() + Value(timedelta(seconds=seconds)), output_field=DateTimeField()
    )


def beat_lease_take(*, holder: str, host: str, pid: int, seconds: float, name: str = BEAT) -> bool:
    """Take the lease if it is free or expired, or renew it if `holder` has it: True when
    `holder` holds it for `seconds` from now. Two takers at once: the row lock of the UPDATE
    orders them and the second one's WHERE, re-read after the first committed, no longer
    matches, so exactly one gets it."""
    taken = (
        BeatLease.objects.filter(name=name)
        .filter(Q(holder=holder) | Q(expires_at__lte=Now()))
        .update(
            acquired_at=Case(When(holder=holder, then=F("acquired_at")), default=Now()),
            holder=holder,
            host=host,
            pid=pid,
            expires_at=_until(seconds),
        )
    )
    if taken:
        return True
    try:
        with transaction.atomic():
            BeatLease.objects.create(
                name=name,
                holder=holder,
                host=host,
                pid=pid,
                acquired_at=Now(),
                expires_at=_until(seconds),
            )
    except IntegrityError:  # someone holds it (or took it first)
        return False
    return True


def beat_lease_release(*, holder: str, name: str = BEAT) -> bool:
    """Give the lease up now (a beat that stops cleanly), so another beat takes it at its next
    look instead of waiting out the lease. True if `holder` had it."""
    return bool(BeatLease.objects.filter(name=name, holder=holder).update(expires_at=Now()))
