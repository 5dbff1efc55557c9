"""Every write to a checkout: start, update, complete, the payment attempts of linked intents
(called by the intents services inside the transaction of the attempt's outcome), the
inactivity sweep and the insights roll-up. Each locks the row (`select_for_update()`),
re-checks its state after the lock, moves it through a django-fsm transition and writes its
event in the same transaction; a row counted in the insights rollup is taken back out of it
(`rollup.unroll`) before it is saved."""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ParameterInvalid, ResourceMissing
from core.metadata import merge_metadata
from core.scope import Scope
from core.values import UNSET, unix
from events.services import event_emit, previous_attributes
from routing.selectors import payment_flow_check

from .exceptions import CheckoutUnexpectedState, TrackingIdInUse
from .models import (
    FORM_STEPS,
    Checkout,
    Source,
    Status,
    StepStatus,
    empty_steps,
    inactivity_due_q,
)
from .presenters import checkout_to_api
from .rollup import roll_up, unroll

# The outcome of a payment attempt as a linked payment shows it.
ATTEMPT_SUCCEEDED = "succeeded"
ATTEMPT_FAILED = "failed"
# Funnel columns: the first time each form step was complete.
STEP_COLUMNS = {
    "shipping": "shipping_completed_at",
    "delivery": "delivery_completed_at",
    "billing": "billing_completed_at",
}


# One event of a change, for `event_emit`: (type, the checkout as the API shows it now, as it
# was before or None).
Change = tuple[str, dict, dict | None]


def _change(chk: Checkout, event: str, before: dict | None = None) -> Change:
    """`checkout.<event>`, with the checkout as the API shows it now."""
    return (f"checkout.{event}", checkout_to_api(chk), before)


def _lock(scope: Scope, checkout_id: str, param: str = "id") -> Checkout:
    chk = Checkout.objects.select_for_update().filter(id=checkout_id, **scope.filters).first()
    if chk is None:
        raise ResourceMissing("checkout", checkout_id, param=param)
    return chk


def _check_tracking_id(scope: Scope, tracking_id: str, *, exclude: str | None = None) -> None:
    other = (
        Checkout.objects.filter(
            **scope.filters, tracking_id=tracking_id, tracking_id_from_browser=False
        )
        .exclude(status=Status.COMPLETE)
        .exclude(id=exclude)
        .values_list("id", flat=True)
        .first()
    )
    if other is not None:
        raise TrackingIdInUse(tracking_id, other)


def _save(chk: Checkout, *, force_insert: bool = False) -> None:
    """Save; a concurrent open checkout with the same tracking id (the partial unique index)
    is the same 400 as the check before it."""
    unroll(chk)
    try:
        with transaction.atomic():
            chk.save(force_insert=force_insert)
    except IntegrityError:
        raise TrackingIdInUse(chk.tracking_id)


def _wake(chk: Checkout, now: datetime) -> list[Change]:
    """Activity on an open checkout: one past its inactivity time is first written inactive (as
    the sweep would have), then an inactive one comes back (`checkout.reactivated`) and one
    still at `intent` becomes active. Records the activity time; returns the events owed."""
    changes: list[Change] = []
    if chk.inactivity_due(now):
        before = checkout_to_api(chk)
        chk.go_inactive(at=chk.inactive_since())
        changes.append(_change(chk, "inactive", before))
    if chk.status == Status.INACTIVE:
        before = checkout_to_api(chk)
        chk.reactivate(at=now)
        chk.last_activity_at = now
        changes.append(_change(chk, "reactivated", before))
    elif chk.status == Status.INTENT:
        chk.activate(at=now)
    if chk.status == Status.ACTIVE:
        started = (chk.steps or {}).get("intent_started") or {}
        if started.get("status") != StepStatus.COMPLETE:
            _set_step(chk, "intent_started", StepStatus.COMPLETE, now)
    chk.last_activity_at = now
    return changes


def _set_step(chk: Checkout, name: str, status: str, now: datetime) -> bool:
    """Move one step (forward, or back to be redone); each change is kept with its time. The
    funnel column keeps the first time the step was complete."""
    steps = dict(chk.steps or {})
    if (steps.get(name) or {}).get("status") == status:
        return False
    steps[name] = {"status": str(status), "date": unix(now)}
    chk.steps = steps
    chk.step_history = [
        *(chk.step_history or []),
        {"step": name, "status": str(status), "date": unix(now)},
    ]
    column = STEP_COLUMNS.get(name)
    if column and status == StepStatus.COMPLETE and getattr(chk, column) is None:
        setattr(chk, column, now)
    return True


def _check_payment_flow(scope: Scope, flow_id: str) -> None:
    """A tracked checkout's `payment_flow` names one of the account's payment flows."""
    payment_flow_check(scope=scope, flow_id=flow_id)


def checkout_start(
    *,
    scope: Scope,
    tracking_id: str,
    amount: int | None = None,
    currency: str | None = None,
    payment_flow: str | None = None,
    customer: dict | None = None,
    location: dict | None = None,
    cart: dict | None = None,
    metadata=None,
    source: str = Source.TRACKED,
    located_country: str | None = None,
    from_browser: bool = False,
) -> Checkout:
    """A customer landed on a checkout page: status `intent`, `checkout.started`. With no
    `location` given, the country is `located_country` (GeoLocation: the country of the
    caller's address, `api.geolocation.request_country`; None leaves it empty). A tracking
    id `from_browser` (a publishable key) is kept but claims nothing: it is never refused as
    in use and never makes another start refused, so a page can neither block nor probe the
    merchant's ids."""
    now = timezone.now()
    country = (location or {}).get("country") if location else located_country
    if payment_flow:
        _check_payment_flow(scope, payment_flow)
    with transaction.atomic():
        if not from_browser:
            _check_tracking_id(scope, tracking_id)
        chk = Checkout(
            account_id=scope.account_id,
            livemode=scope.livemode,
            created=now,
            status_changed_at=now,
            last_activity_at=now,
            tracking_id=tracking_id,
            tracking_id_from_browser=from_browser,
            payment_flow=payment_flow,
            source=source,
            customer=customer,
            amount=amount,
            currency=currency,
            country=country,
            cart=cart,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
            steps=empty_steps(now),
        )
        chk.client_secret = f"{chk.id}_secret_{secrets.token_urlsafe(18)}"
        _save(chk, force_insert=True)
        event_emit(scope=scope, changes=[_change(chk, "started")])
    return chk


def checkout_update(
    *,
    scope: Scope,
    checkout_id: str,
    tracking_id=UNSET,
    payment_flow=UNSET,
    customer=UNSET,
    amount=UNSET,
    currency=UNSET,
    location=UNSET,
    cart=UNSET,
    metadata=UNSET,
    shipping=UNSET,
    delivery=UNSET,
    billing=UNSET,
    from_browser=False,  # (untyped like its neighbours: callers pass fields as **kwargs)
) -> Checkout:
    """The customer moved on (or back) in the checkout: the fields given change, each step given
    moves to its new status. The first update makes the checkout `active`; one that had gone
    inactive comes back. `checkout.updated` when anything changed. A tracking id given
    `from_browser` claims nothing (`checkout_start`); one the server gives claims it."""
    now = timezone.now()
    if tracking_id is None:  # `tracking_id=` or null: every checkout keeps one
        raise ParameterInvalid(
            "A checkout always has a tracking id: tracking_id can be changed, not unset.",
            param="tracking_id",
        )
    with transaction.atomic():
        if payment_flow not in (UNSET, None, ""):
            _check_payment_flow(scope, payment_flow)
        chk = _lock(scope, checkout_id)
        if chk.status == Status.COMPLETE:
            raise CheckoutUnexpectedState.complete(chk.id, "updated")
        before = checkout_to_api(chk)
        if tracking_id is not UNSET and (
            tracking_id != chk.tracking_id or from_browser != chk.tracking_id_from_browser
        ):
            if not from_browser:
                _check_tracking_id(scope, tracking_id, exclude=chk.id)
            chk.tracking_id = tracking_id
            chk.tracking_id_from_browser = from_browser
        if customer is not UNSET:
            chk.customer = {**(chk.customer or {}), **customer} if customer else None
        if location is not UNSET:
            chk.country = (location or {}).get("country")
        if metadata is not UNSET:
            chk.metadata = merge_metadata(chk.metadata or {}, metadata)
        for name, value in (
            ("payment_flow", payment_flow),
            ("amount", amount),
            ("currency", currency),
            ("cart", cart),
        ):
            if value is not UNSET:
                setattr(chk, name, value)
        changes = _wake(chk, now)
        for name, status in zip(FORM_STEPS, (shipping, delivery, billing), strict=True):
            if status is not UNSET:
                _set_step(chk, name, status, now)
        _save(chk)
        after = checkout_to_api(chk)
        if set(previous_attributes(before, after)) - {"status", "status_changed_at"}:
            changes.append(("checkout.updated", after, before))
        event_emit(scope=scope, changes=changes)
    return chk


def checkout_complete(
    *, scope: Scope, checkout_id: str, payment_reference: str | None = None
) -> Checkout:
    """The customer paid (`payment_reference`: a `pi_…` of this service or any processor's
    reference). Terminal; a checkout that had gone inactive counts as recovered."""
    now = timezone.now()
    with transaction.atomic():
        chk = _lock(scope, checkout_id)
        if chk.status == Status.COMPLETE:
            raise CheckoutUnexpectedState.complete(chk.id, "completed again")
        changes = _complete(chk, now, payment_reference)
        unroll(chk)
        chk.save()
        event_emit(scope=scope, changes=changes)
    return chk


def _complete(chk: Checkout, now: datetime, payment_reference: str | None) -> list[Change]:
    """Complete (first written inactive if it is past its inactivity time); returns the events
    owed."""
    changes: list[Change] = []
    if chk.inactivity_due(now):
        before = checkout_to_api(chk)
        chk.go_inactive(at=chk.inactive_since())
        changes.append(_change(chk, "inactive", before))
    before = checkout_to_api(chk)
    chk.complete(at=now, payment_reference=payment_reference)
    chk.last_activity_at = now
    changes.append(_change(chk, "completed", before))
    return changes


def checkout_learn_payment_outcome(outcome) -> None:
    """The payment core's outcome listener (settings.PAYMENT_OUTCOME_LISTENERS): a payment
    attempt of an intent linked to a tracked checkout is recorded on it, in the transaction
    that writes the outcome. An intent linked to none costs nothing."""
    pi = outcome.pi
    if pi.checkout_id is None:
        return
    checkout_record_payment_attempt(
        scope=Scope.of(pi),
        checkout_id=pi.checkout_id,
        payment_intent_id=pi.id,
        charge_id=outcome.charge.id,
        status=outcome.status,
        decline_code=outcome.decline_code,
    )


def checkout_record_payment_attempt(
    *,
    scope: Scope,
    checkout_id: str,
    payment_intent_id: str,
    charge_id: str,
    status: str,
    decline_code: str | None = None,
) -> None:
    """An attempt of an intent linked to this checkout has an outcome (call it in the
    transaction that writes that outcome). A new charge is a new attempt ("Payment attempt
    #n", `checkout.payment_attempted`); the same charge again (3-D Secure finished, a
    `processing` attempt resolved) updates its attempt. A success completes the checkout."""
    now = timezone.now()
    chk = Checkout.objects.select_for_update().filter(id=checkout_id, **scope.filters).first()
    if chk is None:  # the link is a nullable foreign key: nothing to record
        return
    before = checkout_to_api(chk)
    attempts = [dict(a) for a in chk.attempts or []]
    existing = next((a for a in attempts if a.get("charge") == charge_id), None)
    if existing is not None and existing["status"] == status:
        return
    declined = status == ATTEMPT_FAILED and (existing is None or existing["status"] != status)
    if existing is None:
        attempts.append(
            {
                "payment_intent": payment_intent_id,
                "charge": charge_id,
                "status": status,
                "date": unix(now),
                "decline_code": decline_code,
            }
        )
    else:
        existing.update(status=status, decline_code=decline_code)
    chk.attempts = attempts
    if declined:
        chk.declined_attempts += 1
        chk.last_decline_code = decline_code
    if chk.status != Status.COMPLETE:
        chk.payment_attempted_at = chk.payment_attempted_at or now
        changes = _wake(chk, now)
        changes.append(_change(chk, "payment_attempted", before))
        if status == ATTEMPT_SUCCEEDED:
            changes += _complete(chk, now, payment_intent_id)
    else:
        changes = [_change(chk, "payment_attempted", before)]
    unroll(chk)
    chk.save()
    event_emit(scope=scope, changes=changes)


def checkouts_mark_inactive(*, batch_size: int | None = None, max_batches: int = 20) -> int:
    """The sweep: every open checkout left alone past CHECKOUT_INACTIVE_SECONDS is written
    `inactive` with its `checkout.inactive` event. A batch is claimed `FOR UPDATE SKIP LOCKED`
    (two sweeps at once never take the same row) and written with one UPDATE."""
    batch_size = batch_size or settings.CHECKOUT_SWEEP_BATCH
    total = 0
    for _ in range(max_batches):
        now = timezone.now()
        with transaction.atomic():
            rows = list(
                Checkout.objects.select_for_update(skip_locked=True)
                .filter(inactivity_due_q(now))
                .order_by("last_activity_at")[:batch_size]
            )
            befores = []
            for chk in rows:
                befores.append(checkout_to_api(chk))
                unroll(chk)
                chk.go_inactive(at=chk.inactive_since())
            Checkout.objects.bulk_update(
                rows, ["status", "status_changed_at", "inactive_at", "was_inactive", "rolled_up"]
            )
            by_scope: defaultdict[Scope, list[Change]] = defaultdict(list)
            for chk, before in zip(rows, befores, strict=True):
                by_scope[Scope.of(chk)].append(_change(chk, "inactive", before))
            for scope, changes in by_scope.items():
                event_emit(scope=scope, changes=changes)
        total += len(rows)
        if len(rows) < batch_size:
            break
    return total


def checkouts_roll_up(*, batch_size: int | None = None, max_batches: int = 20) -> int:
    """The roll-up sweep: checkouts that can no longer change join the insights rollup
    (PostgreSQL; `checkouts/rollup.py`)."""
    return roll_up(batch_size=batch_size, max_batches=max_batches)
