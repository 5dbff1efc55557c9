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
in-flight marker that goes stale, a charge still owed its capture — never a half-changed row;
the processor call is keyed by the charge id, so making it again is harmless.

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
            return processor.capture(reference=attempt.charge_id, amount=attempt.amount)

        def apply(attempt, answer):  # lock again, check the marker, apply, emit
            ...

        return attempts.two_phase(record=record, call=call, apply=apply)

A sweep claims a batch in one phase 1 (`select_for_update(skip_locked=True)` and a durable
claim marker, so a second sweep running at the same moment skips those rows and a crashed
sweep's claims go stale) and completes each claimed attempt on its own: `sweep(claim=...,
call=..., apply=...)`.

This module is generic: it knows processors, not what the money moves for. Callers (the intent
services, refunds later) pass the steps; an attempt is any object with a `livemode` (which
processor to call).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.db import transaction

from .exceptions import MESSAGES
from .processors import get_processor
from .processors.base import AuthorizationResult, CaptureResult, Decline, RefundResult

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
    """What phase 1 hands to the call and to phase 2: at least the mode it belongs to."""

    livemode: bool


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
    "refund": UNKNOWN_REFUND,
    "resolve_refund": UNKNOWN_REFUND,
    "cancel_refund": False,
}


class GuardedProcessor:
    """The processor of one mode whose calls never raise: the one place a processor's
    exception becomes an answer (logged with its traceback). `guarded.capture(reference=…,
    amount=…)` calls the processor's `capture` with the same arguments."""

    def __init__(self, livemode: bool):
        self.livemode = livemode

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in FAILED_ANSWERS:
            raise AttributeError(method)
        failed = FAILED_ANSWERS[method]

        def guarded(**kwargs: Any) -> Any:
            try:
                return getattr(get_processor(self.livemode), method)(**kwargs)
            except Exception:  # a processor failure is a failed attempt, never a 500
                logger.exception("processor %s of %s failed", method, kwargs.get("reference"))
                return failed

        return guarded


def processor(livemode: bool) -> GuardedProcessor:
    return GuardedProcessor(livemode)


@dataclass(frozen=True)
class Release:
    """An authorisation to release at the processor (`void`, keyed by the charge id) once the
    phase that stopped needing it has committed."""

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
            processor(item.livemode).void(reference=item.reference)
        if self.error is not None:
            raise self.error
        return self.value


def _finish(outcome: Any) -> Any:
    return outcome.finish() if isinstance(outcome, Settled) else outcome


def two_phase(
    *,
    record: Callable[[], Any],
    call: Callable[[GuardedProcessor, Any], Any],
    apply: Callable[[Any, Any], Any] | None = None,
) -> Any:
    """Phase 1 (`record`, in a transaction) → the processor call (`call`, no transaction) →
    phase 2 (`apply`, in a new transaction). Returns what the last step returned (a
    `Settled` is finished: released, then returned or raised)."""
    with transaction.atomic():
        attempt = record()
    if isinstance(attempt, Settled):
        return attempt.finish()
    return complete(attempt, call=call, apply=apply)


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
