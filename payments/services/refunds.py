"""Refunds: create, update (metadata), cancel, and the workers' resolution of pending ones.

Every processor call is the two phases of `payments.attempts`. Every check and every write of
a refund's money happens under its charge's row lock: the create locks the charge, checks what
is left to refund and inserts the pending refund with its amount held back on the charge
(`amount_refund_pending`) in one transaction, so concurrent refunds never give back more than
was paid. A refund that fails or is canceled gives its amount back.

A refund's `inflight_since` is the record of a processor call under way (the create's, a
sweep's claim, a cancel's); `resolve_after` says when to ask the processor about a refund it
answered `pending`.

A keyed create names its refund from the Idempotency-Key's claim (`core.ids.created_id`), and
the refund id is the processor's idempotency key: the retry of a create that died (during the
processor call, or after its commit but before its answer was stored) finds that refund and
finishes it, instead of making a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone

from core import context
from core.enqueue import enqueue_on_commit
from core.errors import InvalidRequestError, ParameterMissing, ResourceMissing
from core.ids import created_id
from core.metadata import merge_metadata
from core.scope import Scope
from core.values import UNSET
from events.services import event_record_many, previous_attributes

from .. import attempts
from ..attempts import GuardedProcessor, Settled
from ..exceptions import (
    ChargeAlreadyRefunded,
    ChargeNotRefundable,
    RefundAmountTooLarge,
    RefundIntentUnexpectedState,
    RefundUnexpectedState,
)
from ..models import (
    REFUND_INFLIGHT_STALE_SECONDS,
    REFUND_OPEN,
    Charge,
    Refund,
    RefundStatus,
)
from ..presenters import charge_to_api, refund_to_api
from ..processors.base import RefundResult

RESOLVE_TASK = "payments.tasks.refund_resolve"


@dataclass(frozen=True)
class RefundCall:
    """A processor call about one refund, recorded by its `inflight_since` (phase 1)."""

    livemode: bool
    refund_id: str
    charge_id: str
    amount: int
    currency: str
    token: str
    # The processor has answered about this refund before (`pending`): ask for its outcome
    # rather than send it.
    answered: bool = False


def _call_for(refund: Refund, charge: Charge, *, answered: bool = False) -> RefundCall:
    pm = charge.payment_method
    return RefundCall(
        livemode=refund.livemode,
        refund_id=refund.id,
        charge_id=charge.id,
        amount=refund.amount,
        currency=refund.currency,
        token=pm.processor_token if pm is not None else "",
        answered=answered,
    )


# --- locks -----------------------------------------------------------------------------------


def _intent_status(scope: Scope, payment_intent_id: str) -> str | None:
    """The status of an intent of `scope` (None if there is none), read through the model the
    charge points at: payments sits below intents and does not import it."""
    intents = Charge._meta.get_field("payment_intent").related_model.objects
    return (
        intents.filter(id=payment_intent_id, **scope.filters)
        .values_list("status", flat=True)
        .first()
    )


def _lock_charge_to_refund(
    scope: Scope, *, payment_intent_id: str | None, charge_id: str | None
) -> Charge:
    """`select_for_update()` the charge a refund is asked for: the one named, or the intent's
    latest (its intent and method read along, unlocked)."""
    charges = (
        Charge.objects.select_for_update(of=("self",))
        .select_related("payment_intent", "payment_method")
        .filter(**scope.filters)
    )
    if charge_id:
        charge = charges.filter(id=charge_id).first()
        if charge is None:
            raise ResourceMissing("charge", charge_id, param="charge")
        if payment_intent_id and charge.payment_intent_id != payment_intent_id:
            raise InvalidRequestError(
                f"Charge {charge_id} does not belong to PaymentIntent {payment_intent_id}.",
                code="parameter_invalid_string",
                param="charge",
            )
        return charge
    charge = charges.filter(
        payment_intent_id=payment_intent_id, payment_intent__latest_charge=F("id")
    ).first()
    if charge is None:
        status = _intent_status(scope, payment_intent_id)
        if status is None:
            raise ResourceMissing("payment_intent", payment_intent_id, param="payment_intent")
        raise RefundIntentUnexpectedState(payment_intent_id, status)
    return charge


def _lock_refund(refund_id: str, *, scope: Scope | None = None) -> tuple[Refund, Charge, list]:
    """`select_for_update()` a refund, its charge and the charge's other refunds, in one
    statement and always in the same order (so two of these never deadlock): the refund to
    change, the locked charge, and the charge's refunds for its `refunds` list. Without a
    scope only for an id already checked against one, or a worker's own row."""
    target = Refund.objects.filter(id=refund_id, **(scope.filters if scope is not None else {}))
    rows = list(
        Refund.objects.select_for_update(of=("self", "charge"))
        .select_related("charge", "charge__payment_intent", "charge__payment_method")
        .filter(charge_id=Subquery(target.values("charge_id")[:1]))
        .order_by("created", "id")
    )
    refund = next((row for row in rows if row.id == refund_id), None)
    if refund is None:
        raise ResourceMissing("refund", refund_id)
    charge = refund.charge
    for row in rows:
        row.charge = charge
    return refund, charge, rows


# --- events ----------------------------------------------------------------------------------


def _emit(
    refund: Refund,
    *types: str,
    before: dict | None = None,
    refunded: tuple[Charge, list[Refund], dict] | None = None,
) -> None:
    """Record the refund events `types` with the fields that changed since `before`, and with
    `refunded=(charge, its refunds, the charge before)` the charge's `charge.refunded`: one
    INSERT, in the caller's transaction."""
    after = refund_to_api(refund)
    changed = previous_attributes(before, after) if before else None
    events = [(type, after, changed) for type in types]
    if refunded is not None:
        charge, refunds, charge_before = refunded
        charge_after = charge_to_api(charge, refunds=refunds)
        events.append(
            ("charge.refunded", charge_after, previous_attributes(charge_before, charge_after))
        )
    event_record_many(scope=Scope.of(refund), events=events)


UPDATED = ("refund.updated", "charge.refund.updated")
# What a transition changes on a refund.
_SETTLED_FIELDS = ["status", "processor_reference", "resolve_after", "inflight_since", "updated"]


# --- create ----------------------------------------------------------------------------------


def _check_refundable(charge: Charge, amount: int | None, *, by_intent: bool) -> int:
    """The amount to refund (what is left when `amount` is None), or the error that says why
    the locked charge cannot give it back."""
    pi = charge.payment_intent
    if pi.status != "succeeded":
        if by_intent:
            raise RefundIntentUnexpectedState(pi.id, pi.status)
        why = (
            "it has not been captured; cancel its PaymentIntent to release the authorization."
            if pi.status == "requires_capture"
            else f"its PaymentIntent has a status of {pi.status}."
        )
        raise ChargeNotRefundable.for_charge(charge.id, why)
    if charge.amount_paid <= 0:
        raise ChargeNotRefundable.for_charge(charge.id, "it holds no captured payment.")
    left = charge.amount_refundable
    if amount is None:
        if left <= 0:
            raise ChargeAlreadyRefunded(charge.id)
        return left
    if amount > left:
        raise RefundAmountTooLarge(amount, left, charge.currency)
    return amount


def refund_create(
    *,
    scope: Scope,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    amount: int | None = None,
    reason: str | None = None,
    metadata=None,
) -> Refund:
    """Refund `amount` (default: what is left) of an intent's latest charge or of a charge.
    The refund answers `succeeded`, or `pending` when the processor answers later (a worker
    then resolves it)."""
    if not payment_intent_id and not charge_id:
        raise ParameterMissing(
            "payment_intent",
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
        )
    if amount is not None and amount < 1:
        raise InvalidRequestError(
            "Invalid positive integer", code="parameter_invalid_integer", param="amount"
        )
    refund_metadata = merge_metadata({}, metadata)
    refund_id = created_id("re", "refund")
    resumed = context.current().resumed

    def record() -> RefundCall | Settled:
        charge = _lock_charge_to_refund(
            scope, payment_intent_id=payment_intent_id, charge_id=charge_id
        )
        if resumed:  # an earlier run of this keyed request died: it may have made the refund
            earlier = Refund.objects.filter(id=refund_id, **scope.filters).first()
            if earlier is not None:
                return _earlier_refund(earlier, charge)
        value = _check_refundable(charge, amount, by_intent=not charge_id)
        now = timezone.now()
        refund = Refund.objects.create(
            id=refund_id,
            account_id=charge.account_id,
            livemode=charge.livemode,
            charge=charge,
            payment_intent_id=charge.payment_intent_id,
            amount=value,
            currency=charge.currency,
            reason=reason,
            metadata=refund_metadata,
            inflight_since=now,
        )
        charge.amount_refund_pending += value  # under the charge's row lock
        charge.refund_count += 1
        charge.save(update_fields=["amount_refund_pending", "refund_count", "updated"])
        return _call_for(refund, charge)

    return attempts.two_phase(record=record, call=_ask, apply=_apply)


def _earlier_refund(refund: Refund, charge: Charge) -> RefundCall | Settled:
    """The refund an earlier run of this keyed request made before it died (found under its
    charge's lock). Its processor call still unanswered (in flight since the create, never
    answered): ask again, keyed by the refund id (the processor makes it once), and apply the
    answer as the create would have. Otherwise the refund as it is now is the answer."""
    if (
        refund.status in REFUND_OPEN
        and refund.inflight_since is not None
        and refund.resolve_after is None
    ):
        return _call_for(refund, charge)
    return Settled(refund)


# --- the call and phase 2, shared by the create and the sweep ---------------------------------


def _ask(processor: GuardedProcessor, attempt: RefundCall) -> RefundResult:
    if attempt.answered:
        return processor.resolve_refund(reference=attempt.refund_id, token=attempt.token)
    # Keyed by the refund id: sent again after a crash, it is the same refund.
    return processor.refund(
        reference=attempt.refund_id,
        charge_reference=attempt.charge_id,
        token=attempt.token,
        amount=attempt.amount,
        currency=attempt.currency,
    )


def _apply(attempt: RefundCall, answer: RefundResult) -> Refund:
    """Phase 2: apply the processor's answer under the charge's lock, with its events. The
    first answer about a refund writes `refund.created`; a later one `refund.updated` and
    `charge.refund.updated`. A succeeded refund adds `charge.refunded`, a failed one
    `refund.failed` and gives its amount back."""
    refund, charge, refunds = _lock_refund(attempt.refund_id)
    if refund.status not in REFUND_OPEN or refund.inflight_since is None:
        return refund  # another process applied an answer (or canceled it) meanwhile
    before = None if not attempt.answered else refund_to_api(refund)
    announce = UPDATED if attempt.answered else ("refund.created",)
    if answer.status == "pending":
        refund.wait(
            reference=answer.reference,
            resolve_after=timezone.now() + timedelta(seconds=settings.REFUND_RESOLVE_DELAY_SECONDS),
        )
        refund.save(update_fields=_SETTLED_FIELDS)
        if not attempt.answered:  # a later "still pending" just waits for the next sweep
            _emit(refund, *announce)
            enqueue_on_commit(RESOLVE_TASK, refund.id)
        return refund
    charge_before = charge_to_api(charge, refunds=refunds)
    charge.amount_refund_pending -= refund.amount
    if answer.status == "succeeded":
        refund.succeed(reference=answer.reference)
        charge.amount_refunded += refund.amount
    else:
        refund.fail(reference=answer.reference, failure_reason=answer.failure_reason or "unknown")
    refund.save(update_fields=[*_SETTLED_FIELDS, "failure_reason"])
    charge.save(update_fields=["amount_refund_pending", "amount_refunded", "updated"])
    if answer.status == "succeeded":
        _emit(refund, *announce, before=before, refunded=(charge, refunds, charge_before))
    else:
        _emit(refund, *announce, "refund.failed", before=before)
    return refund


# --- update and cancel -----------------------------------------------------------------------


def refund_update(*, scope: Scope, refund_id: str, metadata=UNSET) -> Refund:
    """Only `metadata` changes (merged; an empty value removes a key)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().filter(id=refund_id, **scope.filters).first()
        if refund is None:
            raise ResourceMissing("refund", refund_id)
        if metadata is UNSET or metadata is None:
            return refund
        before = refund_to_api(refund)
        refund.metadata = merge_metadata(refund.metadata, metadata)
        if refund.metadata == before["metadata"]:
            return refund
        refund.save(update_fields=["metadata", "updated"])
        _emit(refund, *UPDATED, before=before)
    return refund


def _cancelable(refund: Refund) -> bool:
    if refund.status == RefundStatus.REQUIRES_ACTION:
        return True
    return refund.status == RefundStatus.PENDING and not refund.livemode


def refund_cancel(*, scope: Scope, refund_id: str) -> Refund:
    """Cancel a refund that has not completed (`requires_action`, or `pending` in test mode):
    the processor is asked to stop it, then it is `canceled` and its amount given back."""

    def record() -> RefundCall:
        refund, charge, _ = _lock_refund(refund_id, scope=scope)
        if not _cancelable(refund):
            raise RefundUnexpectedState(refund.id, refund.status)
        if _inflight_active(refund):
            raise RefundUnexpectedState(refund.id, refund.status, in_progress=True)
        refund.inflight_since = timezone.now()
        refund.save(update_fields=["inflight_since", "updated"])
        return _call_for(refund, charge, answered=refund.resolve_after is not None)

    def call(processor: GuardedProcessor, attempt: RefundCall) -> bool:
        return processor.cancel_refund(reference=attempt.refund_id)

    def apply(attempt: RefundCall, stopped: bool) -> Refund | Settled:
        refund, charge, _ = _lock_refund(attempt.refund_id)
        if refund.status not in REFUND_OPEN or refund.inflight_since is None:
            return Settled(error=RefundUnexpectedState(refund.id, refund.status))
        if not stopped:  # the processor would not stop it: it stays as it was
            refund.inflight_since = None
            refund.save(update_fields=["inflight_since", "updated"])
            return Settled(refund, error=RefundUnexpectedState(refund.id, refund.status))
        before = refund_to_api(refund)
        refund.cancel()
        refund.save(update_fields=_SETTLED_FIELDS)
        charge.amount_refund_pending -= refund.amount
        charge.save(update_fields=["amount_refund_pending", "updated"])
        _emit(refund, *UPDATED, before=before)
        return refund

    return attempts.two_phase(record=record, call=call, apply=apply)


def _inflight_active(refund: Refund) -> bool:
    if refund.inflight_since is None:
        return False
    stale = timezone.now() - timedelta(seconds=REFUND_INFLIGHT_STALE_SECONDS)
    return refund.inflight_since > stale


# --- the workers: resolve pending refunds ------------------------------------------------------


def _due(now) -> Q:
    stale = now - timedelta(seconds=REFUND_INFLIGHT_STALE_SECONDS)
    return Q(status__in=REFUND_OPEN) & (
        Q(inflight_since__isnull=True, resolve_after__lte=now) | Q(inflight_since__lt=stale)
    )


def _claim(*, refund_id: str | None = None, batch_size: int) -> list[RefundCall]:
    """Phase 1 of the sweep: due refunds (answered `pending` and past `resolve_after`, or left
    in flight by a crashed process), claimed with SKIP LOCKED and marked in flight."""
    now = timezone.now()
    qs = (
        Refund.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("charge__payment_method")
        .filter(_due(now))
    )
    if refund_id is not None:
        qs = qs.filter(id=refund_id)
    claimed = list(qs.order_by("created")[:batch_size])
    Refund.objects.filter(id__in=[r.id for r in claimed]).update(inflight_since=now, updated=now)
    return [_call_for(r, r.charge, answered=r.resolve_after is not None) for r in claimed]


def _resolutions(*, refund_id: str | None = None, batch_size: int) -> int:
    outcomes = attempts.sweep(
        claim=lambda: _claim(refund_id=refund_id, batch_size=batch_size),
        call=_ask,
        apply=_apply,
    )
    return sum(1 for refund in outcomes if refund is not None and refund.status not in REFUND_OPEN)


def refund_resolve(*, refund_id: str) -> bool:
    """The worker's look at one pending refund once it is due; True when it was settled."""
    return _resolutions(refund_id=refund_id, batch_size=1) == 1


def refunds_resolve_due(*, batch_size: int = 50) -> int:
    """The sweep: every due pending refund (and any a crashed process left in flight)."""
    return _resolutions(batch_size=batch_size)
