"""The one shape of every money movement: two phases around one processor call.

    phase 1  `record()`, in a transaction: lock the row, re-check its state *after* the lock,
             record the attempt (a pending Charge, an in-flight marker, a claimed charge), commit.
    call     `call(processor, attempt)`, with no transaction open: a network call never holds a
             row lock. The processor it is handed (`processor(livemode)`) maps every exception
             of every method in one place, here, to that method's own failed answer (an
             authorisation "declined: processing_error", a refused capture, a failed
             challenge): a failed call is a failed attempt, never a 500.
    phase 2  `apply(attempt, answer)`, in a new transaction: lock again, check the recorded
             attempt is still the current one, apply the answer (transition, charge, events),
             commit.

A crash between the phases leaves a visible, recoverable attempt — a pending charge, an
in-flight marker that goes stale, a charge still owed its capture or its release — never a
half-changed row. Phase 1 records the attempt's id (`att_…`, `core.ids.attempt_id`) and the
call hands it to the processor as its idempotency key: the same id asked twice is done once.

Recovery. An attempt whose process died between the phases is settled by asking the processor
what it did with that id (`lookup`): an answer is applied by the attempt's own phase 2, as if
the call had just returned; an attempt the processor never received is abandoned (`abort`:
the marker cleared, nothing happened). Two paths do it: the reconciler, a periodic
`sweep(claim=…, call=lookup, apply=…)` over attempts in flight past the timeout, and a phase 1
that meets such an attempt, its own request's earlier one (a retry with the same
Idempotency-Key) or one gone stale: it returns `Recover(...)`, and `two_phase` settles that
attempt, then answers with it (its own) or starts over (another's).

A step must not raise to report an outcome it has written (that would roll the write back): it
returns `Settled(value, error=..., release=...)` instead. `two_phase` commits, releases the
authorisations in `release` at the processor (outside any transaction), then returns `value`
or raises `error`. A phase 1 that returns `Settled` ends the movement there: nothing to ask
the processor (no call, no phase 2). Raising inside a step is right when it wrote nothing.

Each movement reads as its three steps, the skeleton is here once:

    def payment_intent_capture(...):
        def record():  # lock, check, pi.begin(InFlight.CAPTURE)
            ...
            return Capture(livemode=pi.livemode, charge_id=..., amount=...)

        def call(processor, attempt):
            return processor.capture(
                attempt_id=attempt.attempt_id, reference=attempt.charge_id, amount=attempt.amount
            )

        def apply(attempt, answer):  # lock again, check the marker, apply, emit
            ...

        return attempts.two_phase(record=record, call=call, apply=apply)

A sweep claims a batch in one phase 1 (`select_for_update(skip_locked=True)` and a durable
claim marker, so a second sweep running at the same moment skips those rows and a crashed
sweep's claims go stale) and completes each claimed attempt on its own: `sweep(claim=...,
call=..., apply=...)`.

This module is generic: it knows processors, not what the money moves for. Callers (the intent
services, refunds later) pass the steps; an attempt is any object with a `livemode` (which
processor to call) and an `attempt_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.db import DatabaseError, transaction
from django.utils import timezone

from core.ids import derived_id

from .exceptions import MESSAGES
from .models import Charge
from .processors import get_processor
from .processors.base import AuthorizationResult, CaptureResult, Decline, Received, RefundResult

logger = logging.getLogger("payintents.attempts")

T = TypeVar("T")

# What a processor call that raised answers: the attempt failed with a processing error.
PROCESSING_ERROR = Decline("processing_error", "processing_error", MESSAGES["processing_error"])
FAILED_AUTHORIZATION = AuthorizationResult(
    status="declined", decline=PROCESSING_ERROR, network_status="not_sent_to_network"
)
FAILED_CAPTURE = CaptureResult(succeeded=False, amount_captured=0, decline=PROCESSING_ERROR)
# A refund call that raised has an unknown outcome (the processor may have made it): the refund
# stays pending and the resolution sweep asks again, keyed by the refund id.
UNKNOWN_REFUND = RefundResult(status="pending")


class Attempt(Protocol):
    """What phase 1 hands to the call and to phase 2: at least the mode it belongs to and the
    attempt's id (the processor's idempotency key)."""

    livemode: bool
    attempt_id: str


class _LookupFailed:
    """`lookup` raised: the processor could not say; the attempt stays in flight."""

    def __repr__(self) -> str:
        return "LOOKUP_FAILED"


LOOKUP_FAILED = _LookupFailed()


# Each processor method a money movement calls, and what it answers when the call raised:
# an authorisation "declined: processing_error", a refused capture, a failed challenge, a
# release that lapses at the processor on its own. The methods' signatures are the interface's
# (`payments.processors.base.Processor`).
FAILED_ANSWERS: dict[str, Any] = {
    "authorize": FAILED_AUTHORIZATION,
    "authenticate": False,
    "capture": FAILED_CAPTURE,
    "void": None,
    "increment": FAILED_AUTHORIZATION,
    "resolve_async": FAILED_AUTHORIZATION,
    "lookup": LOOKUP_FAILED,
    "refund": UNKNOWN_REFUND,
    "resolve_refund": UNKNOWN_REFUND,
    "cancel_refund": False,
}


class GuardedProcessor:
    """The processor of one mode whose calls never raise: the one place a processor's
    exception becomes an answer (logged with its traceback). `guarded.capture(reference=…,
    amount=…)` calls the processor's `capture` with the same arguments."""

    reraise: tuple[type[BaseException], ...] = ()

    def __init__(self, livemode: bool):
        self.livemode = livemode

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in FAILED_ANSWERS:
            raise AttributeError(method)
        failed = FAILED_ANSWERS[method]

        def guarded(**kwargs: Any) -> Any:
            try:
                return getattr(get_processor(self.livemode), method)(**kwargs)
            except self.reraise:
                raise
            except Exception:  # a processor failure is a failed attempt, never a 500
                logger.exception(
                    "processor %s of %s failed",
                    method,
                    kwargs.get("reference") or kwargs.get("attempt_id"),
                )
                return failed

        return guarded


class InProcessProcessor(GuardedProcessor):
    """The guarded processor inside a movement's one transaction: a database error of the
    processor's own statements is raised, not answered. The transaction is aborted, so the
    whole attempt is rolled back on both sides and the request fails as the database did."""

    reraise = (DatabaseError,)


def answers_in_process(livemode: bool) -> bool:
    """The processor of this mode keeps its records in this database, on this connection
    (`Processor.in_process`): a movement may then run as one transaction."""
    return bool(getattr(get_processor(livemode), "in_process", False))


_IN_ONE_TRANSACTION = object()
_DEFERRED: ContextVar[list | None] = ContextVar("attempts_deferred", default=None)
_HELD: ContextVar[bool] = ContextVar("attempts_held", default=False)


def write(*rows: Any) -> None:
    """Phase 1's write of the attempt's rows (the in-flight marker on the intent, a new
    pending charge), in order. Written before phase 1 commits, as `save()` would; when the
    movement runs as one transaction, they are written once, with phase 2's changes, when it
    ends (a phase 2 that saves them writes them then; `held()` tells it to use these objects).
    Outside `two_phase`'s phase 1, written at once."""
    deferred = _DEFERRED.get()
    if deferred is None:
        _write(rows)
    else:
        deferred.extend(rows)


def held() -> bool:
    """True in a phase 2 that runs in phase 1's transaction (an in-process processor): the
    rows phase 1 locked are still locked, and the objects it handed over (with its unwritten
    changes, `write`) are the rows' current state, so they need not be locked and read again."""
    return _HELD.get()


def _write(rows: Iterable[Any], *, only_changed: bool = False) -> None:
    """Save each row; with `only_changed`, a row phase 2 has already saved is left alone."""
    for row in rows:
        if only_changed and not row.has_unsaved_changes():
            continue
        row.save()


def processor(livemode: bool) -> GuardedProcessor:
    return GuardedProcessor(livemode)


def release_attempt_id(charge_id: str) -> str:
    """An authorisation is released once: the release's attempt id is the charge's."""
    return derived_id("att", "release", charge_id)


def release(livemode: bool, charge_id: str) -> None:
    """Release charge `charge_id`'s authorisation at the processor, then mark the release no
    longer owed (`Charge.release_owed_at`, set by the phase that decided it)."""
    processor(livemode).void(attempt_id=release_attempt_id(charge_id), reference=charge_id)
    Charge.objects.filter(id=charge_id, release_owed_at__isnull=False).update(
        release_owed_at=None, updated=timezone.now()
    )


@dataclass(frozen=True)
class Release:
    """An authorisation to release at the processor (`void`, keyed by the charge id) once the
    phase that stopped needing it has committed (which marked it owed on the charge)."""

    livemode: bool
    reference: str


@dataclass(frozen=True)
class Settled(Generic[T]):
    """What a step returns when it has finished the movement: `value` to return, or `error` to
    raise, once its transaction has committed; `release` to void at the processor first."""

    value: T | None = None
    error: Exception | None = None
    release: tuple[Release, ...] = ()

    def finish(self) -> T | None:
        for item in self.release:
            release(item.livemode, item.reference)
        if self.error is not None:
            raise self.error
        return self.value


def _finish(outcome: Any) -> Any:
    return outcome.finish() if isinstance(outcome, Settled) else outcome


@dataclass(frozen=True)
class Recover:
    """What phase 1 returns when the row holds an attempt to settle before anything else: this
    request's own earlier attempt (`own`: a retry with the same Idempotency-Key, whose first
    run died), or another's left in flight past the timeout. `apply` is that attempt's phase 2,
    `abort` ends an attempt the processor never received, `unresolved` is raised when the
    processor cannot say."""

    attempt: Any
    apply: Callable[[Any, Any], Any]
    abort: Callable[[Any], Any]
    unresolved: Exception
    own: bool = False


class _Aborted:
    def __repr__(self) -> str:
        return "ABORTED"


ABORTED = _Aborted()


def lookup(guarded: GuardedProcessor, attempt: Attempt) -> Received | None | _LookupFailed:
    """The call of a recovery: what the processor did with the attempt."""
    return guarded.lookup(attempt_id=attempt.attempt_id)


def settle(
    attempt: Any,
    received: Received | None | _LookupFailed,
    *,
    apply: Callable[[Any, Any], Any],
    abort: Callable[[Any], Any],
) -> Any:
    """Phase 2 of a recovery (in the caller's transaction): apply what the processor did, or
    abort the attempt it never received. LOOKUP_FAILED leaves the attempt as it is."""
    if received is LOOKUP_FAILED:
        return LOOKUP_FAILED
    if received is None:
        abort(attempt)
        return ABORTED
    return apply(attempt, received.outcome)


def recover(item: Recover) -> Any:
    """Settle the attempt phase 1 found: ask the processor, then apply or abort (committed).
    Returns the outcome of its phase 2 (not yet finished) or ABORTED; raises `unresolved` when
    the processor could not say."""
    received = lookup(processor(item.attempt.livemode), item.attempt)
    if received is LOOKUP_FAILED:
        raise item.unresolved
    with transaction.atomic():
        return settle(item.attempt, received, apply=item.apply, abort=item.abort)


def two_phase(
    *,
    record: Callable[[], Any],
    call: Callable[[GuardedProcessor, Any], Any],
    apply: Callable[[Any, Any], Any] | None = None,
) -> Any:
    """Phase 1 (`record`, in a transaction) → the processor call (`call`, no transaction) →
    phase 2 (`apply`, in a new transaction). Returns what the last step returned (a
    `Settled` is finished: released, then returned or raised).

    A phase 1 that returns `Recover` found an attempt to settle first: this request's own is
    settled and its outcome answered (or, if the processor never received it, the movement
    starts over); another's is settled and phase 1 runs again."""
    for _ in range(3):
        with transaction.atomic():
            deferred: list = []
            token = _DEFERRED.set(deferred)
            try:
                attempt = record()
            finally:
                _DEFERRED.reset(token)
            if (
                apply is not None
                and not isinstance(attempt, (Settled, Recover))
                and answers_in_process(attempt.livemode)
            ):
                # One transaction: the processor's record is written in it too, so a crash
                # anywhere before the commit leaves nothing of the attempt on either side.
                answer = call(InProcessProcessor(attempt.livemode), attempt)
                token = _HELD.set(True)
                try:
                    outcome = apply(attempt, answer)
                finally:
                    _HELD.reset(token)
                _write(deferred, only_changed=True)
                attempt = _IN_ONE_TRANSACTION
            else:
                _write(deferred)
        if attempt is _IN_ONE_TRANSACTION:
            return _finish(outcome)
        if isinstance(attempt, Settled):
            return attempt.finish()
        if not isinstance(attempt, Recover):
            return complete(attempt, call=call, apply=apply)
        outcome = recover(attempt)
        if attempt.own and outcome is not ABORTED:
            return _finish(outcome)
    raise RuntimeError("phase 1 kept finding attempts to recover")


def complete(
    attempt: Attempt,
    *,
    call: Callable[[GuardedProcessor, Any], Any],
    apply: Callable[[Any, Any], Any] | None = None,
) -> Any:
    """The call and phase 2 of an attempt phase 1 has recorded (and committed). Without
    `apply` the movement ends with the call (phase 1 already wrote everything, as when an
    expiry releases its authorisation): the call's answer is returned."""
    answer = call(processor(attempt.livemode), attempt)
    if apply is None:
        return answer
    with transaction.atomic():
        outcome = apply(attempt, answer)
    return _finish(outcome)


def sweep(
    *,
    claim: Callable[[], Iterable[Attempt]],
    call: Callable[[GuardedProcessor, Any], Any],
    apply: Callable[[Any, Any], Any] | None = None,
) -> list:
    """A periodic sweep: one phase 1 claims a batch (`claim` selects `FOR UPDATE SKIP LOCKED`
    and marks each row claimed durably), then each attempt is completed on its own. One failing
    attempt does not stop the batch: it is logged (as None in the list returned) and its claim
    goes stale for a later sweep. Returns each attempt's outcome, in order."""
    with transaction.atomic():
        claimed = list(claim())
    outcomes = []
    for attempt in claimed:
        try:
            outcomes.append(complete(attempt, call=call, apply=apply))
        except Exception:
            logger.exception("%s failed; a later sweep retries it", repr(attempt)[:200])
            outcomes.append(None)
    return outcomes
