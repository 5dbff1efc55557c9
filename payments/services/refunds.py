"""Refunds: create, update (metadata), cancel, and the workers' resolution of pending ones.

Every processor call is a movement run by the attempt ledger (`payments.attempts`). Every
check and every write of a refund's money happens under its charge's row lock: the create
locks the charge, checks what is left to refund and inserts the pending refund with its amount
held back on the charge (`amount_refund_pending`) in one transaction, so concurrent refunds
never give back more than was paid. A refund that fails or is canceled gives its amount back.
`resolve_after` says when to ask the processor about a refund it answered `pending`.

The refund id is the processor's idempotency key for the refund: a refund's attempts are
settled by asking again (`ask_again`), and the processor makes it once. A keyed create names
its refund (and its attempt) from the Idempotency-Key's claim (`core.ids.created_id`): the
retry of a create that died finds its own attempt and finishes it instead of making a second
refund.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from core.enqueue import enqueue_on_commit
from core.errors import DomainError, InvalidRequestError, ParameterMissing, ResourceMissing
from core.ids import attempt_id as new_attempt_id
from core.ids import created_id
from core.metadata import merge_metadata
from core.scope import Scope
from core.values import UNSET
from events.services import event_emit

from .. import attempts
from ..attempts import Claimed, GuardedProcessor, Recorded, Settled
from ..exceptions import (
    ChargeAlreadyRefunded,
    ChargeNotRefundable,
    RefundAmountTooLarge,
    RefundIntentUnexpectedState,
    RefundUnexpectedState,
)
from ..models import REFUND_OPEN, Attempt, AttemptKind, Charge, Refund, RefundStatus
from ..presenters import charge_to_api, refund_to_api
from ..processors.base import RefundResult
from .payment_methods import token_for

RESOLVE_TASK = "payments.tasks.refund_resolve"


@dataclass
class RefundHeld:
    """What a refund movement locks: the charge, the refund, and the charge's refunds (for its
    `refunds` list; None until read)."""

    charge: Charge
    refund: Refund | None = None
    refunds: list[Refund] | None = None


# --- locks -----------------------------------------------------------------------------------


def _intent_status(scope: Scope, payment_intent_id: str) -> str | None:
    """The status of an intent of `scope` (None if there is none), read through the model the
    charge points at: payments sits below intents and does not import it."""
    related: Any = Charge._meta.get_field("payment_intent").related_model  # intents.PaymentIntent
    intents = related.objects
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
        .select_related("payment_intent", "payment_method", "processor")
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
        assert payment_intent_id is not None  # refund_create asks for one of the two
        status = _intent_status(scope, payment_intent_id)
        if status is None:
            raise ResourceMissing("payment_intent", payment_intent_id, param="payment_intent")
        raise RefundIntentUnexpectedState(payment_intent_id, status)
    return charge


def _lock_refund(refund_id: str, *, scope: Scope | None = None) -> RefundHeld:
    """`select_for_update()` a refund, its charge and the charge's other refunds, in one
    statement and always in the same order (so two of these never deadlock): the refund to
    change, the locked charge, and the charge's refunds for its `refunds` list. Without a
    scope only for an id already checked against one, or a worker's own row."""
    target = Refund.objects.filter(id=refund_id, **(scope.filters if scope is not None else {}))
    rows = list(
        attempts.with_recorded(
            Refund.objects.select_for_update(of=("self", "charge"))
            .select_related(
                "charge", "charge__payment_intent", "charge__payment_method", "charge__processor"
            )
            .filter(charge_id=Subquery(target.values("charge_id")[:1]))
        ).order_by("created", "id")
    )
    refund = next((row for row in rows if row.id == refund_id), None)
    if refund is None:
        raise ResourceMissing("refund", refund_id)
    charge = refund.charge
    for row in rows:
        row.charge = charge
    return RefundHeld(charge, refund, rows)


# --- events ----------------------------------------------------------------------------------


def _emit(
    refund: Refund,
    *types: str,
    before: dict | None = None,
    refunded: tuple[Charge, list[Refund], dict] | None = None,
) -> None:
    """The refund events `types` with the fields that changed since `before`, and with
    `refunded=(charge, its refunds, the charge before)` the charge's `charge.refunded`: one
    INSERT, in the caller's transaction."""
    after = refund_to_api(refund)
    changes = [(type, after, before) for type in types]
    if refunded is not None:
        charge, refunds, charge_before = refunded
        changes.append(("charge.refunded", charge_to_api(charge, refunds=refunds), charge_before))
    event_emit(scope=Scope.of(refund), changes=changes)


UPDATED = ("refund.updated", "charge.refund.updated")


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
    description: str | None = None,
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
    return attempts.run(
        RefundCreate(
            scope=scope,
            payment_intent_id=payment_intent_id,
            charge_id=charge_id,
            amount=amount,
            reason=reason,
            description=description,
            metadata=merge_metadata({}, metadata),
        )
    )


class RefundMovement(attempts.Movement[RefundHeld]):
    """A call about one refund: keyed by the refund id, so settled by asking again."""

    ask_again = True

    def target(self, locked: RefundHeld) -> Refund | Charge:
        return locked.refund if locked.refund is not None else locked.charge

    def in_progress(self, locked: RefundHeld) -> DomainError:
        refund = locked.refund
        # a busy target is a refund: a create's charge is not read with its recorded attempt
        assert refund is not None
        return RefundUnexpectedState(refund.id, refund.status, in_progress=True)

    def relock(self, attempt: Attempt) -> RefundHeld:
        assert attempt.refund_id is not None  # a refund's attempts name it
        return _lock_refund(attempt.refund_id)

    def answer(self, locked: RefundHeld, attempt: Attempt) -> Settled[Refund]:
        """The refund as it is now (a create's retry locked only the charge: read it)."""
        if locked.refund is None:
            locked.refund = Refund.objects.get(id=attempt.refund_id)
        return Settled(locked.refund)


def _new_attempt(kind: str, refund: Refund, charge: Charge, id: str | None = None) -> Attempt:
    attempt = attempts.new_attempt(
        kind,
        target=refund,
        id=id,
        amount=refund.amount,
        currency=refund.currency,
        payment_intent_id=refund.payment_intent_id,
        charge_id=charge.id,
        refund_id=refund.id,
        connection=attempts.charge_connection(charge),
    )
    attempt.charge = charge  # the call reads its method from memory
    attempt.refund = refund
    return attempt


def _refund_reference(attempt: Attempt) -> str:
    """The refund's id at the processor (what its refund call answered)."""
    refund = attempt.refund  # set by `_new_attempt`; read for a resumed attempt
    return refund.processor_reference if refund is not None else ""


def _token(attempt: Attempt) -> str:
    """The card's token at the connection that made the charge (its refunds go back there)."""
    assert attempt.charge is not None  # a refund's attempts name its charge
    return token_for(attempt.charge.payment_method, attempts.connection_of(attempt))


class RefundCreate(RefundMovement):
    kind = AttemptKind.REFUND

    def __init__(
        self,
        *,
        scope: Scope | None = None,
        payment_intent_id: str | None = None,
        charge_id: str | None = None,
        amount: int | None = None,
        reason: str | None = None,
        description: str | None = None,
        metadata: dict | None = None,
    ):
        self.scope = scope
        self.payment_intent_id = payment_intent_id
        self.charge_id = charge_id
        self.amount = amount
        self.reason = reason
        self.description = description
        self.metadata = metadata or {}
        self.refund_id = created_id("re", "refund")
        self.attempt_id = new_attempt_id(self.kind, self.refund_id)

    def lock(self) -> RefundHeld:
        assert self.scope is not None  # only a resumed create has none, and it never locks
        return RefundHeld(
            _lock_charge_to_refund(
                self.scope, payment_intent_id=self.payment_intent_id, charge_id=self.charge_id
            )
        )

    def record(self, locked: RefundHeld) -> Recorded:
        charge = locked.charge
        value = _check_refundable(charge, self.amount, by_intent=not self.charge_id)
        refund = Refund(
            id=self.refund_id,
            account_id=charge.account_id,
            livemode=charge.livemode,
            charge=charge,
            payment_intent_id=charge.payment_intent_id,
            amount=value,
            currency=charge.currency,
            reason=self.reason,
            description=self.description,
            metadata=self.metadata,
        )
        locked.refund = refund
        charge.amount_refund_pending += value  # under the charge's row lock
        charge.refund_count += 1
        attempt = _new_attempt(self.kind, refund, charge, id=self.attempt_id)
        return Recorded(attempt, writes=(refund, charge))

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> RefundResult:
        # Keyed by the refund id: sent again after a crash, it is the same refund.
        return processor.refund(
            reference=attempt.refund_id,
            charge_reference=attempt.charge_id,
            token=_token(attempt),
            amount=attempt.amount,
            currency=attempt.currency,
            processor_reference=attempt.charge.processor_reference if attempt.charge else "",
        )

    def apply(self, locked: RefundHeld, attempt: Attempt, answer: RefundResult) -> Refund:
        return _apply(locked, attempt, answer, first=True)


# --- phase 2, shared by the create and the sweep ---------------------------------------------


def _refunds_of(locked: RefundHeld) -> list[Refund]:
    """The charge's refunds, the one being applied among them, for the charge's `refunds`
    list (phase 2's lock read them; a refund made and answered in one transaction reads them
    here, before its own is written)."""
    if locked.refunds is None:
        assert locked.refund is not None  # phase 1 made it, or phase 2's lock read it
        rows = list(Refund.objects.filter(charge_id=locked.charge.id).order_by("created", "id"))
        locked.refunds = [row for row in rows if row.id != locked.refund.id] + [locked.refund]
        for row in locked.refunds:
            row.charge = locked.charge
    return locked.refunds


def _apply(locked: RefundHeld, attempt: Attempt, answer: RefundResult, *, first: bool) -> Refund:
    """Apply the processor's answer under the charge's lock, with its events. The first answer
    about a refund writes `refund.created`; a later one `refund.updated` and
    `charge.refund.updated`. A succeeded refund adds `charge.refunded`, a failed one
    `refund.failed` and gives its amount back."""
    refund, charge = locked.refund, locked.charge
    assert refund is not None  # phase 1 made it, or phase 2's lock read it
    if refund.status not in REFUND_OPEN:
        attempts.mark_answered(attempt)
        return refund  # canceled meanwhile
    before = None if first else refund_to_api(refund)
    announce = ("refund.created",) if first else UPDATED
    if answer.status == "pending":
        refund.wait(
            reference=answer.reference,
            resolve_after=timezone.now() + timedelta(seconds=settings.REFUND_RESOLVE_DELAY_SECONDS),
        )
        refund.save()
        if first:  # a later "still pending" just waits for the next sweep
            _emit(refund, *announce)
            enqueue_on_commit(RESOLVE_TASK, refund.id)
        else:
            attempts.mark_answered(attempt)
        return refund
    charge_before = charge_to_api(charge, refunds=_refunds_of(locked))
    charge.amount_refund_pending -= refund.amount
    if answer.status == "succeeded":
        refund.succeed(reference=answer.reference)
        charge.amount_refunded += refund.amount
    else:
        refund.fail(reference=answer.reference, failure_reason=answer.failure_reason or "unknown")
    refund.save()
    charge.save()
    if answer.status == "succeeded":
        assert locked.refunds is not None  # read by _refunds_of above
        _emit(refund, *announce, before=before, refunded=(charge, locked.refunds, charge_before))
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
        refund.save()
        _emit(refund, *UPDATED, before=before)
    return refund


def _cancelable(refund: Refund) -> bool:
    if refund.status == RefundStatus.REQUIRES_ACTION:
        return True
    return refund.status == RefundStatus.PENDING and not refund.livemode


def refund_cancel(*, scope: Scope, refund_id: str) -> Refund:
    """Cancel a refund that has not completed (`requires_action`, or `pending` in test mode):
    the processor is asked to stop it, then it is `canceled` and its amount given back."""
    return attempts.run(RefundCancel(scope=scope, refund_id=refund_id))


class RefundCancel(RefundMovement):
    kind = AttemptKind.REFUND_CANCEL

    def __init__(self, *, scope: Scope | None = None, refund_id: str = ""):
        self.scope = scope
        self.refund_id = refund_id

    def lock(self) -> RefundHeld:
        return _lock_refund(self.refund_id, scope=self.scope)

    def record(self, locked: RefundHeld) -> Recorded:
        refund = locked.refund
        assert refund is not None  # _lock_refund reads it
        if not _cancelable(refund):
            raise RefundUnexpectedState(refund.id, refund.status)
        return Recorded(_new_attempt(self.kind, refund, locked.charge))

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> bool:
        return processor.cancel_refund(
            reference=attempt.refund_id, processor_reference=_refund_reference(attempt)
        )

    def apply(
        self, locked: RefundHeld, attempt: Attempt, stopped: bool
    ) -> Refund | Settled[Refund]:
        refund, charge = locked.refund, locked.charge
        assert refund is not None  # _lock_refund reads it
        if refund.status not in REFUND_OPEN:
            attempts.mark_answered(attempt)
            return Settled(error=RefundUnexpectedState(refund.id, refund.status))
        if not stopped:  # the processor would not stop it: it stays as it was
            attempts.mark_answered(attempt)
            return Settled(refund, error=RefundUnexpectedState(refund.id, refund.status))
        before = refund_to_api(refund)
        refund.cancel()
        refund.save()
        charge.amount_refund_pending -= refund.amount
        charge.save()
        _emit(refund, *UPDATED, before=before)
        return Settled(refund)

    def answer(self, locked: RefundHeld, attempt: Attempt) -> Settled[Refund]:
        refund = locked.refund
        assert refund is not None  # _lock_refund reads it
        if refund.status == RefundStatus.CANCELED:
            return Settled(refund)
        return Settled(error=RefundUnexpectedState(refund.id, refund.status))


# --- the workers: resolve pending refunds ------------------------------------------------------


class RefundResolve(RefundMovement):
    """The outcome of a refund the processor answered `pending`, asked once it is due."""

    kind = AttemptKind.REFUND_RESOLVE

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> RefundResult:
        return processor.resolve_refund(
            reference=attempt.refund_id,
            token=_token(attempt),
            processor_reference=_refund_reference(attempt),
        )

    def apply(self, locked: RefundHeld, attempt: Attempt, answer: RefundResult) -> Refund:
        return _apply(locked, attempt, answer, first=False)


def _claim(*, refund_id: str | None = None, batch_size: int) -> list[Claimed]:
    """Due refunds (answered `pending` and past `resolve_after`) with no attempt under way
    (one a crashed process left is the reconciler's), claimed with SKIP LOCKED, each with its
    resolution attempt."""
    qs = attempts.with_recorded(
        Refund.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("charge__payment_method", "charge__processor")
        .filter(status__in=REFUND_OPEN, resolve_after__lte=timezone.now())
    ).filter(recorded_attempt_since__isnull=True)
    if refund_id is not None:
        qs = qs.filter(id=refund_id)
    movement = RefundResolve()
    return [
        Claimed(movement, _new_attempt(movement.kind, refund, refund.charge))
        for refund in qs.order_by("created")[:batch_size]
    ]


def _resolutions(*, refund_id: str | None = None, batch_size: int) -> int:
    outcomes = attempts.sweep(lambda: _claim(refund_id=refund_id, batch_size=batch_size))
    return sum(1 for refund in outcomes if refund is not None and refund.status not in REFUND_OPEN)


def refund_resolve(*, refund_id: str) -> bool:
    """The worker's look at one pending refund once it is due; True when it was settled."""
    return _resolutions(refund_id=refund_id, batch_size=1) == 1


def refunds_resolve_due(*, batch_size: int = 50) -> int:
    """The sweep: every due pending refund."""
    return _resolutions(batch_size=batch_size)
