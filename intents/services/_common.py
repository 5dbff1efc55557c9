"""What the intent services share: the row locks, the state check, the one event writer, the
payment method a call names, and the charge bookkeeping more than one movement does."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from checkouts.services import checkout_record_payment_attempt
from core.errors import ResourceMissing
from core.prepared import PreparedQuery
from core.scope import Scope
from events.services import event_record, event_record_many, previous_attributes
from payments import presenters as payment_presenters
from payments.attempts import Release
from payments.models import Charge, PaymentMethod
from payments.processors.base import Decline
from payments.services import payment_method_create_from_data, payment_method_resolve

from .. import presenters
from ..exceptions import IntentUnexpectedState
from ..models import PaymentIntent

# --- locks and the state check ---------------------------------------------------------------


def _one(rows: list) -> PaymentIntent | None:
    return rows[0] if rows else None


def _intent_lock_query(variant: tuple, payment_intent_id: str, account_id: str | None = None):
    """The lock of `lock_intent`: by id (and, with a scope, account and mode); `related` rows
    read along, unlocked. Primary-key lookups: no ORDER BY, no LIMIT."""
    related, livemode = variant
    filters = {"id": payment_intent_id}
    if account_id is not None:
        filters.update(account_id=account_id, livemode=livemode)
    # FOR UPDATE OF the intent only; and no bare select_related(), which would follow every
    # foreign key and lock the account's row too, serialising all of an account's payments
    queryset = PaymentIntent.objects.select_for_update(of=("self",))
    if related:
        queryset = queryset.select_related(*related)
    return queryset.filter(**filters)


def _intent_with_charge_lock_query(variant: bool | None, payment_intent_id: str, other: str):
    """The intent and its latest charge, both locked, the charge's method read along. Variant
    None: `other` is the charge's id (phase 2, unscoped); a mode: `other` is the account's id
    (the scoped lock of a movement that runs as one transaction)."""
    filters = {"id": payment_intent_id}
    if variant is None:
        filters["latest_charge_id"] = other
    else:
        filters.update(account_id=other, livemode=variant)
    return (
        PaymentIntent.objects.select_for_update(of=("self", "latest_charge"))
        .select_related("latest_charge", "latest_charge__payment_method")
        # a condition on the charge's own column makes the join an inner one (FOR UPDATE
        # cannot lock the nullable side of an outer join)
        .filter(latest_charge__payment_intent_id=payment_intent_id, **filters)
    )


# compiled once per connection: these run two or three times in every money movement
_INTENT_LOCK = PreparedQuery(_intent_lock_query)
_INTENT_WITH_CHARGE_LOCK = PreparedQuery(_intent_with_charge_lock_query)


def lock_intent(
    payment_intent_id: str, *, scope: Scope | None = None, related: tuple[str, ...] = ()
) -> PaymentIntent:
    """`select_for_update()` the intent within the caller's `scope`. Without a scope only for an
    id already checked against one (phase 2 of a movement) or a worker's own row. `related`
    rows are read along in the same statement, unlocked."""
    if scope is None:
        pi = _one(_INTENT_LOCK.rows((tuple(related), None), payment_intent_id))
    else:
        pi = _one(
            _INTENT_LOCK.rows((tuple(related), scope.livemode), payment_intent_id, scope.account_id)
        )
    if pi is None:
        raise ResourceMissing("payment_intent", payment_intent_id)
    return pi


def lock_charge(charge_id: str, pi: PaymentIntent | None = None) -> Charge:
    """`select_for_update()` a charge (its method and intent read along, unlocked)."""
    related = ("payment_method",) if pi is not None else ("payment_method", "payment_intent")
    charge = (
        Charge.objects.select_for_update(of=("self",)).select_related(*related).get(id=charge_id)
    )
    if pi is not None:
        charge.payment_intent = pi  # the locked intent: charge_to_api reads it without a query
    return charge


def lock_intent_with_latest_charge(
    payment_intent_id: str, *, scope: Scope
) -> tuple[PaymentIntent, Charge | None]:
    """`lock_intent` within `scope` and its latest charge with it, in one statement (the
    charge's method read along); an intent without a charge is locked alone."""
    pi = _one(_INTENT_WITH_CHARGE_LOCK.rows(scope.livemode, payment_intent_id, scope.account_id))
    if pi is None:
        return lock_intent(payment_intent_id, scope=scope), None
    charge = pi.latest_charge
    charge.payment_intent = pi  # the locked intent: charge_to_api reads it without a query
    return pi, charge


def lock_intent_with_charge(
    payment_intent_id: str, charge_id: str | None
) -> tuple[PaymentIntent, Charge | None]:
    """Phase 2's lock in one statement: the intent and its latest charge `charge_id` (locked in
    that order, as `lock_intent` then `lock_charge` would), the charge's method read along.
    When the charge is no longer the intent's latest, the two locks are taken one by one."""
    pi = (
        _one(_INTENT_WITH_CHARGE_LOCK.rows(None, payment_intent_id, charge_id))
        if charge_id
        else None
    )
    if pi is None:
        pi = lock_intent(payment_intent_id)
        return pi, lock_charge(charge_id, pi) if charge_id else None
    charge = pi.latest_charge
    charge.payment_intent = pi  # the locked intent: charge_to_api reads it without a query
    return pi, charge


def check(pi: PaymentIntent, allowed: Iterable, verb: str) -> None:
    """The locked intent may be `verb`ed: its status is allowed and no processor call of
    another request is under way for it."""
    if pi.status not in allowed:
        raise IntentUnexpectedState.status(pi, verb, allowed)
    if pi.inflight_active():
        raise IntentUnexpectedState.in_progress(pi, verb, allowed)


# --- events ----------------------------------------------------------------------------------

_PRESENTERS = {
    PaymentIntent: ("payment_intent", presenters.payment_intent_to_api),
    Charge: ("charge", payment_presenters.charge_to_api),
}


def snapshot(obj: PaymentIntent | Charge) -> dict:
    """The object as the API shows it now: the `before` of an event's previous_attributes."""
    return _PRESENTERS[type(obj)][1](obj)


def emit(obj: PaymentIntent | Charge, event: str, before: dict | None = None) -> None:
    """Record the `payment_intent.<event>` or `charge.<event>` event of `obj` (in the caller's
    transaction), with the fields that changed since `before`."""
    name, present = _PRESENTERS[type(obj)]
    after = present(obj)
    event_record(
        scope=Scope.of(obj),
        type=f"{name}.{event}",
        data_object=after,
        previous_attributes=previous_attributes(before, after) if before else None,
    )


# --- the linked checkout --------------------------------------------------------------------


def record_on_checkout(
    pi: PaymentIntent, charge: Charge, status: str, decline_code: str | None = None
) -> None:
    """The outcome of attempt `charge`, recorded on the checkout the intent is linked to, in
    the caller's (phase 2) transaction. No query at all for an intent without a checkout."""
    if pi.checkout_id is None:
        return
    checkout_record_payment_attempt(
        scope=Scope.of(pi),
        checkout_id=pi.checkout_id,
        payment_intent_id=pi.id,
        charge_id=charge.id,
        status=status,
        decline_code=decline_code,
    )


def emit_many(*changes: tuple[PaymentIntent | Charge, str, dict | None]) -> None:
    """`emit` for several changes of one transaction, each `(obj, event, before)`: their events
    are written with one INSERT."""
    events = []
    for obj, event, before in changes:
        name, present = _PRESENTERS[type(obj)]
        after = present(obj)
        changed = previous_attributes(before, after) if before else None
        events.append((f"{name}.{event}", after, changed))
    event_record_many(scope=Scope.of(changes[0][0]), events=events)


# --- payment methods -------------------------------------------------------------------------


def resolve_payment_method(
    *, scope: Scope, payment_method_id: str | None = None, payment_method_data: dict | None = None
) -> PaymentMethod | None:
    """A method id (magic ids create a fresh row) or inline `payment_method_data`."""
    if payment_method_id:
        return payment_method_resolve(
            scope=scope, payment_method_id=payment_method_id, param="payment_method"
        )
    if payment_method_data:
        return payment_method_create_from_data(
            scope=scope, data=dict(payment_method_data), param="payment_method_data"
        )
    return None


# --- charges ---------------------------------------------------------------------------------


def payment_error(
    *, charge: Charge | None, pm: PaymentMethod | None, decline: Decline, type: str = "card_error"
) -> dict:
    """An intent's `last_payment_error` for a failed attempt."""
    return {
        "charge": charge.id if charge else None,
        "code": decline.code,
        "decline_code": decline.decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
        "message": decline.message,
        "payment_method": payment_presenters.payment_method_to_api(pm) if pm is not None else None,
        "type": type,
    }


def fail_pending_charge(pi: PaymentIntent, message: str) -> None:
    """The intent's latest attempt will never complete (canceled during 3-D Secure or while
    processing, replaced by a new one, abandoned): a pending charge is failed."""
    if pi.latest_charge_id:
        Charge.objects.filter(id=pi.latest_charge_id, status=Charge.Status.PENDING).update(
            status=Charge.Status.FAILED, failure_message=message, updated=timezone.now()
        )


def release_charge(pi: PaymentIntent, *, owed: bool = True) -> tuple[Release, ...]:
    """The intent's authorisation holds no money any more (canceled, expired): its charge is
    marked released, in the caller's locked transaction, and the release marked owed to the
    processor (`release_owed_at`, cleared once made; the reconciler makes it if a crash comes
    first). Returns the release to make (`Settled.release`); with `owed=False` the caller's
    processor call has already made it."""
    if not pi.latest_charge_id:
        return ()
    now = timezone.now()
    Charge.objects.filter(id=pi.latest_charge_id).update(
        authorized=False, released=True, release_owed_at=now if owed else None, updated=now
    )
    if not owed:
        return ()
    return (Release(livemode=pi.livemode, reference=pi.latest_charge_id),)


def owe_release(charge: Charge) -> None:
    """A locked charge's authorisation is to be released at the processor after commit."""
    charge.release_owed_at = timezone.now()
    charge.save(update_fields=["release_owed_at", "updated"])


def expire(pi: PaymentIntent) -> tuple[Release, ...]:
    """Cancel a locked authorisation past its expiry (reason `expired`, as `as_shown()` showed
    it) and release its charge; returns the processor release to make after commit."""
    before = snapshot(pi)
    pi.expire(at=pi.expires_at)
    pi.save()
    released = release_charge(pi)
    emit(pi, "canceled", before)
    return released
