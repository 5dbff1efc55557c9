"""The attempt ledger: every call to a processor is an `Attempt` row, recorded before the call.

A money movement (a confirm, a capture, a refund, …) is a `Movement`. Its methods are its steps,
written in the order `run` takes them, so a service reads top to bottom as it runs:

    lock()                          phase 1, in a transaction: lock the target row, in scope
    record(locked)                  re-check the state *after* the lock; return the attempt to
                                    record (`Recorded`) or the movement's end (`Settled`)
    call(processor, attempt)        the processor call, with no transaction open; the processor
                                    gets the attempt's id as its idempotency key
    relock(attempt)                 phase 2, a new transaction: lock the target again
    apply(locked, attempt, answer)  apply the answer (transition, charge, events)

`run` inserts the attempt (`recorded`) with phase 1, and phase 2 settles it in one UPDATE
(`recorded → applied`, with the answer) before `apply`: the UPDATE finds the attempt still
recorded exactly once, so an answer is applied once whoever gets there (the request, a retry,
the reconciler). An apply that changes nothing (the target moved on) marks it `answered`.

Everything about how the steps are run lives here, nowhere in a service:

- **The one-transaction path.** A processor that keeps its records in our database
  (`Processor.in_process`, the simulator by default) is called inside phase 1's transaction and
  the answer applied there too, with the rows phase 1 locked: one transaction, the attempt
  inserted once, already `applied`. A crash before the commit leaves nothing on either side.
- **A target busy or left behind.** `lock()` reads the target with `with_recorded`: an attempt
  recorded on it less than INFLIGHT_TIMEOUT_SECONDS ago refuses the movement
  (`movement.in_progress`); an older one belongs to a process that died and is settled first.
- **A retry of a request that died** (it took over its Idempotency-Key: `context.resumed`)
  computes the same attempt id and finds its own attempt: still recorded, it is settled and its
  outcome answered; already settled, its answer (`movement.answer`) is answered again.
- **Settling** a recorded attempt (`settle`): ask the processor what it did with that id
  (`lookup`) and apply it as if the call had just returned; one it never received is `aborted`
  (`movement.abort`). A movement whose call is idempotent by its own reference (a refund keyed
  by its refund id, a release) is asked again instead (`ask_again`).
- **The reconciler** (`reconcile`, a periodic task) claims recorded attempts older than the
  timeout with SKIP LOCKED and settles each; it rebuilds each movement from its row
  (`Movement.resume`), its class named by settings.ATTEMPT_MOVEMENTS.
- **Releases.** A phase that stops needing an authorisation records a `release` attempt in its
  own transaction and returns it in `Settled.release`; `finish` makes the release after the
  commit, and the reconciler makes it if a crash came first.

A step never raises to report an outcome it has written (that would roll the write back): it
returns `Settled(value, error=...)`, and `run` raises the error once the transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from core import context
from core.errors import DomainError
from core.ids import derived_id, generate_id
from core.models import SavesChangedFields
from routing.health import connection_failed
from routing.models import ProcessorConnection
from routing.routes import is_soft

from .exceptions import MESSAGES
from .models import Attempt, AttemptKind, AttemptStatus, Charge, attempt_stale_before
from .processors.base import (
    AuthorizationResult,
    CaptureResult,
    Decline,
    Received,
    RefundResult,
    answer_to_json,
)
from .processors.drivers import driver_for

logger = logging.getLogger("payintents.attempts")

L = TypeVar("L")  # what a movement's lock returns
T = TypeVar("T", covariant=True)  # what a `Settled` returns (read-only: covariant)

RECORDED = AttemptStatus.RECORDED
# The partial unique index that lets one attempt per target be `recorded` (payments.models).
RECORDED_CONSTRAINT = "attempt_one_recorded_per_target"
APPLIED = AttemptStatus.APPLIED
ANSWERED = AttemptStatus.ANSWERED

# What a processor call that raised answers: the attempt failed with a processing error.
PROCESSING_ERROR = Decline("processing_error", "processing_error", MESSAGES["processing_error"])
FAILED_AUTHORIZATION = AuthorizationResult(
    status="declined",
    decline=PROCESSING_ERROR,
    network_status="not_sent_to_network",
    processor_error=True,
)
FAILED_CAPTURE = CaptureResult(
    succeeded=False, amount_captured=0, decline=PROCESSING_ERROR, processor_error=True
)
# A refund call that raised has an unknown outcome (the processor may have made it): the refund
# stays pending and the resolution sweep asks again, keyed by the refund id.
UNKNOWN_REFUND = RefundResult(status="pending")


class _LookupFailed:
    """`lookup` raised: the processor could not say; the attempt stays recorded."""

    def __repr__(self) -> str:
        return "LOOKUP_FAILED"


LOOKUP_FAILED = _LookupFailed()

# Each processor method a movement calls, and what it answers when the call raised. The
# methods' signatures are the interface's (`payments.processors.base.Processor`).
FAILED_ANSWERS: dict[str, Any] = {
    "authorize": FAILED_AUTHORIZATION,
    "verify": FAILED_AUTHORIZATION,
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
    """The driver of one connection whose calls never raise: the one place a processor's
    exception becomes an answer (logged with its traceback; an authorisation's is marked
    `processor_error`). `guarded.capture(reference=…, amount=…)` calls the driver's `capture`
    with the same arguments."""

    reraise: tuple[type[BaseException], ...] = ()

    def __init__(self, driver: Any):
        self.driver = driver
        # the driver answers in-process (its records in this database): no network call
        self.in_process = bool(getattr(driver, "in_process", False))

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method not in FAILED_ANSWERS:
            raise AttributeError(method)
        failed = FAILED_ANSWERS[method]

        def guarded(**kwargs: Any) -> Any:
            try:
                return getattr(self.driver, method)(**kwargs)
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


def connection_of(attempt: Attempt) -> ProcessorConnection | None:
    """The connection an attempt calls: the one its movement put on it in memory, else read by
    its id (None for an attempt made before connections existed)."""
    connection: ProcessorConnection | None = attempt.__dict__.get("connection")
    if connection is None and attempt.processor.startswith("proc_"):
        connection = ProcessorConnection.objects.get(id=attempt.processor)
        attempt.__dict__["connection"] = connection
    return connection


def processor(attempt: Attempt) -> GuardedProcessor:
    """The guarded driver of the connection `attempt` calls."""
    return GuardedProcessor(driver_for(connection_of(attempt)))


def answers_in_process(attempt: Attempt) -> bool:
    """The driver of the attempt's connection keeps its records in this database, on this
    connection (`Processor.in_process`): the movement then runs as one transaction."""
    return bool(getattr(driver_for(connection_of(attempt)), "in_process", False))


# --- what steps return ------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    """An authorisation to release at the processor once the phase that stopped needing it has
    committed: the `release` attempt it recorded."""

    attempt: Attempt


@dataclass(frozen=True)
class Settled(Generic[T]):
    """What a step returns when it has finished the movement: `value` to return, or `error` to
    raise, once its transaction has committed; `release` to make at the processor first."""

    value: T | None = None
    error: Exception | None = None
    release: tuple[Release, ...] = ()


def finish(outcome: Any, *, raise_error: bool = True) -> Any:
    """After the commit: make the releases a `Settled` owes, then return its value or raise its
    error (a reconciler or a sweep, `raise_error=False`, only returns the value)."""
    if not isinstance(outcome, Settled):
        return outcome
    for item in outcome.release:
        _release(item.attempt)
    if outcome.error is not None and raise_error:
        raise outcome.error
    return outcome.value


@dataclass
class Recorded:
    """Phase 1's attempt, and the rows it changed or made, in the order to write them (the
    rows the attempt points at first)."""

    attempt: Attempt
    writes: tuple[SavesChangedFields, ...] = ()


@dataclass
class Retry:
    """What an apply returns when its attempt failed and the movement goes on with another
    attempt (the next connection of a payment flow): the attempt it recorded, written with
    the failed one's outcome in the same transaction. `run` (or whoever settled the failed
    one) makes the call and applies its answer as any other."""

    recorded: Recorded


# --- the movement -----------------------------------------------------------------------------


class Movement(Generic[L]):
    """One kind of money movement (`kind`, an `AttemptKind`). Subclasses write the steps; `run`
    takes them in order. `attempt_id` is the id this request records (derived from its
    Idempotency-Key inside a keyed request, so a retry finds its own attempt)."""

    kind: ClassVar[str]
    # Settling an attempt the processor's `lookup` cannot see: call again (the call is keyed by
    # a reference of its own, so the processor does it once) instead of looking it up.
    ask_again: ClassVar[bool] = False
    # A decline the apply records is raised to the caller (an API call) or only returned.
    raises: ClassVar[bool] = True
    attempt_id: str | None = None

    def lock(self) -> L:
        raise NotImplementedError

    def target(self, locked: L) -> models.Model:
        """The locked row the attempt is recorded against (read by `with_recorded`)."""
        raise NotImplementedError

    def in_progress(self, locked: L) -> DomainError | Settled[Any]:
        """The error of a movement refused while another attempt on its target is under way
        (or, for one that then does nothing, what it answers)."""
        raise NotImplementedError

    def record(self, locked: L) -> Recorded | Settled[Any]:
        raise NotImplementedError

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> Any:
        raise NotImplementedError

    def relock(self, attempt: Attempt) -> L:
        raise NotImplementedError

    def apply(self, locked: L, attempt: Attempt, answer: Any) -> Any:
        raise NotImplementedError

    def answer(self, locked: L, attempt: Attempt) -> Any:
        """What an attempt already settled answered (for a retry that finds its own)."""
        return Settled(locked)

    def abort(self, locked: L, attempt: Attempt) -> None:
        """The processor never received the attempt: undo what phase 1 wrote."""

    @classmethod
    def resume(cls, attempt: Attempt) -> Movement[Any]:
        """The movement of a recorded attempt, rebuilt from its row (for the reconciler)."""
        return cls()


def new_attempt(
    kind: str,
    *,
    target: models.Model,
    id: str | None = None,
    amount: int | None = None,
    currency: str = "",
    params: dict[str, Any] | None = None,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    refund_id: str | None = None,
    connection: ProcessorConnection | str | None = None,
    payment_flow: str | None = None,
) -> Attempt:
    """An unsaved `recorded` attempt on `target` (a row with `account_id` and `livemode`) that
    calls `connection` (None: a charge made before connections, the simulator)."""
    livemode = target.livemode  # type: ignore[attr-defined]
    attempt = Attempt(
        id=id or generate_id("att"),
        account_id=target.account_id,  # type: ignore[attr-defined]
        livemode=livemode,
        kind=kind,
        target=target.pk,
        payment_intent_id=payment_intent_id,
        charge_id=charge_id,
        refund_id=refund_id,
        processor=(connection if isinstance(connection, str) else connection.id)
        if connection is not None
        else "simulated",
        payment_flow=payment_flow or "",
        amount=amount,
        currency=currency,
        params=params or {},
        claimed_at=timezone.now(),
    )
    if isinstance(connection, ProcessorConnection):
        attempt.__dict__["connection"] = connection
    return attempt


def charge_connection(charge: Charge) -> ProcessorConnection | str | None:
    """The connection that made `charge` (its later calls go back to it): the row when it was
    read along with the charge, else its id (read when the call is made)."""
    if charge.processor_id is None:
        return None
    cached: ProcessorConnection | None = charge._state.fields_cache.get("processor")
    return cached if cached is not None else charge.processor_id


def with_recorded(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """`queryset` with each row's recorded attempt's `claimed_at` read along, in the same
    statement, as `recorded_attempt_since` (None when nothing is recorded on it)."""
    recorded = Attempt.objects.filter(target=OuterRef("pk"), status=RECORDED)
    annotated: models.QuerySet[Any] = queryset.annotate(
        recorded_attempt_since=Subquery(recorded.values("claimed_at")[:1])
    )
    return annotated


Row = TypeVar("Row")


def _pk(row: Any) -> Any:
    return row.pk


def without_recorded(rows: list[Row], target: Callable[[Row], Any] = _pk) -> list[Row]:
    """The `rows` a sweep has just locked (SKIP LOCKED) less those with an attempt recorded on
    them, read in a statement of its own. The lock statement's `with_recorded` read is of the
    snapshot it began with, and SKIP LOCKED takes a row the moment its holder commits: a second
    sweep that began reading before the first committed its claim would claim the same rows
    again (only the partial unique index saw it, failing the sweep's whole batch). A statement
    after the lock sees every claim committed before the lock was taken."""
    if not rows:
        return rows
    taken = set(
        Attempt.objects.filter(
            status=RECORDED, target__in=[target(row) for row in rows]
        ).values_list("target", flat=True)
    )
    return [row for row in rows if target(row) not in taken] if taken else rows


def retry_id(attempt_id: str) -> str:
    """The id a request records after its own earlier attempt was aborted (never received by
    the processor): a new attempt, still derived from the request."""
    return derived_id("att", attempt_id, "again")


@cache
def movement_class(kind: str) -> type[Movement[Any]]:
    """The movement of an attempt kind, as settings.ATTEMPT_MOVEMENTS names it."""
    movement: type[Movement[Any]] = import_string(settings.ATTEMPT_MOVEMENTS[kind])
    return movement


def movement_for(attempt: Attempt) -> Movement[Any]:
    return movement_class(attempt.kind).resume(attempt)


# --- run: the protocol ------------------------------------------------------------------------


def run(movement: Movement[L]) -> Any:
    """Phase 1 → the call → phase 2 (see the module). Returns what the last step returned (a
    `Settled` is finished: released, then returned or raised)."""
    try:
        return _run(movement)
    except _Busy as busy:
        return finish(busy.outcome, raise_error=movement.raises)


class _Busy(Exception):
    """The target is busy and the movement answers without acting (`in_progress` said so)."""

    def __init__(self, outcome: Settled[Any]):
        self.outcome = outcome


def _refuse(movement: Movement[L], locked: L) -> None:
    """Another attempt on the target is under way: refuse, or answer without acting."""
    refusal = movement.in_progress(locked)
    if isinstance(refusal, Settled):
        raise _Busy(refusal)
    raise refusal


def _run(movement: Movement[L]) -> Any:
    for _ in range(3):
        recorded: Recorded | None = None
        outcome: Any = None
        try:
            with transaction.atomic():
                locked = movement.lock()
                found = _found(movement, locked)
                if found is None:
                    step = movement.record(locked)
                    if isinstance(step, Settled):
                        outcome = step
                    elif answers_in_process(step.attempt):
                        outcome = _in_one_transaction(movement, locked, step)
                    else:
                        _write(step)
                        recorded = step
                elif found.status != RECORDED:
                    outcome = movement.answer(locked, found)  # this request's own, settled
        except IntegrityError as error:
            # Another request recorded an attempt on the target while this one waited for its
            # lock: the lock statement's read of the recorded attempt (`with_recorded`) is of the
            # snapshot the statement began with, so only the partial unique index saw it. This
            # phase 1 is rolled back, and the movement refused as any other under way.
            if RECORDED_CONSTRAINT not in str(error):
                raise
            _refuse(movement, locked)
        if recorded is not None:
            answer = movement.call(processor(recorded.attempt), recorded.attempt)
            outcome = phase_two(movement, recorded.attempt, answer)
        outcome = follow(movement, outcome)
        if found is None or found.status != RECORDED:
            return finish(outcome, raise_error=movement.raises)
        # An attempt left recorded: this request's own (settled, then answered) or one a dead
        # process left on the target (settled, then this movement starts again).
        own = found.id in _own_ids(movement)
        settled = follow(movement, settle(found, movement if own else movement_for(found)))
        if settled is LOOKUP_FAILED:
            _refuse(movement, locked)
        if own and settled is not ABORTED:
            return finish(settled, raise_error=movement.raises)
        if own:
            movement.attempt_id = retry_id(found.id)
        else:
            finish(settled, raise_error=False)
    raise RuntimeError("phase 1 kept finding attempts to settle")


def _own_ids(movement: Movement[Any]) -> tuple[str, ...]:
    """The ids this request may have recorded: its attempt, the one it recorded after that was
    aborted, and the next attempts of a retry chain started by either (`chain_id`)."""
    if not movement.attempt_id:
        return ()
    firsts = (movement.attempt_id, retry_id(movement.attempt_id))
    return tuple(chain_id(first, n) for first in firsts for n in range(1, MAX_CHAIN + 1))


MAX_CHAIN = 5  # the most attempts one movement makes (a payment flow's retry[max_attempts])


def chain_id(first: str, n: int) -> str:
    """The id of the `n`th attempt of a chain whose first attempt is `first` (n=1: `first`)."""
    return first if n == 1 else derived_id("att", first, f"chain{n}")


def follow(movement: Movement[Any], outcome: Any) -> Any:
    """Make the attempts a `Retry` asks for, one after the other, until an apply settles."""
    while isinstance(outcome, Retry):
        attempt = outcome.recorded.attempt
        outcome = phase_two(movement, attempt, movement.call(processor(attempt), attempt))
    return outcome


def _found(movement: Movement[L], locked: L) -> Attempt | None:
    """An attempt to deal with before recording one: this request's own (a keyed retry of a
    request that died), or one a dead process left recorded on the target. An attempt under
    way refuses the movement."""
    if movement.attempt_id and context.current().resumed:
        own = sorted(
            Attempt.objects.filter(id__in=_own_ids(movement)),
            key=lambda attempt: attempt.created,
        )
        if own and own[-1].status != AttemptStatus.ABORTED:
            return own[-1]
        if own:  # never received by the processor: this request starts again, with a new id
            movement.attempt_id = retry_id(own[-1].id)
    since = getattr(movement.target(locked), "recorded_attempt_since", None)
    if since is None:
        return None
    if since > attempt_stale_before():
        _refuse(movement, locked)
    return Attempt.objects.get(target=movement.target(locked).pk, status=RECORDED)


def _write(recorded: Recorded) -> None:
    """Phase 1's rows, then its attempt. A row already written (by an apply in the same
    transaction) or unchanged is left alone: `has_unsaved_changes` is true of a new row too."""
    for row in recorded.writes:
        if row.has_unsaved_changes():
            row.save()
    insert(recorded.attempt)


# The attempt's INSERT, compiled once per database connection's vendor: every money movement
# writes one, and the ORM's generic insert (signals, pre_save and a prep call per field,
# compiling the statement each time) cost more than the rest of the attempt's bookkeeping.
# The values are adapted as the ORM adapts them (`connection.ops`), so the row is the same.
_INSERTS: dict[str, tuple[str, list[tuple[str, Callable[[Any], Any]]]]] = {}


def _compiled_insert(connection: Any) -> tuple[str, list[tuple[str, Callable[[Any], Any]]]]:
    compiled = _INSERTS.get(connection.vendor)
    if compiled is None:
        ops = connection.ops
        adapters: list[tuple[str, Callable[[Any], Any]]] = []
        for field in Attempt._meta.concrete_fields:
            kind = field.get_internal_type()
            if kind == "DateTimeField":
                adapt: Callable[[Any], Any] = ops.adapt_datetimefield_value
            elif kind == "JSONField":
                adapt = _json_adapter(ops)
            else:
                adapt = _as_is
            adapters.append((field.attname, adapt))
        table = connection.ops.quote_name(Attempt._meta.db_table)
        columns = ", ".join(
            connection.ops.quote_name(field.column) for field in Attempt._meta.concrete_fields
        )
        marks = ", ".join(["%s"] * len(adapters))
        compiled = _INSERTS[connection.vendor] = (
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            adapters,
        )
    return compiled


def _as_is(value: Any) -> Any:
    return value


def _json_adapter(ops: Any) -> Callable[[Any], Any]:
    def adapt(value: Any) -> Any:
        return None if value is None else ops.adapt_json_value(value, None)

    return adapt


def insert(attempt: Attempt) -> None:
    """Write a new attempt (as `attempt.save(force_insert=True)` would, in one statement)."""
    connection = connections[Attempt.objects.db]
    sql, adapters = _compiled_insert(connection)
    attempt.updated = timezone.now()  # auto_now
    values = attempt.__dict__
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(values[name]) for name, adapt in adapters])
    attempt._state.adding = False
    attempt._state.db = connection.alias


def _in_one_transaction(movement: Movement[L], locked: L, recorded: Recorded) -> Any:
    """The call and phase 2 inside phase 1's transaction, with the rows it locked: what phase 1
    changed is written once, with phase 2's changes, and the attempt inserted already applied."""
    while True:
        attempt = recorded.attempt
        answer = movement.call(InProcessProcessor(driver_for(connection_of(attempt))), attempt)
        _answered(attempt, answer)
        _count_failure(attempt, answer)
        outcome = movement.apply(locked, attempt, answer)
        _write(recorded)
        if not isinstance(outcome, Retry):
            return outcome
        recorded = outcome.recorded
        if not answers_in_process(recorded.attempt):
            # the next connection is remote: its attempt is committed recorded, and called
            # after the commit (`run` follows the Retry)
            _write(recorded)
            return outcome


def _count_failure(attempt: Attempt, answer: Any) -> None:
    """A call that failed at the processor counts towards its connection's circuit, whatever
    the movement (an attempt made before connections existed has none)."""
    if getattr(answer, "processor_error", False) and attempt.processor.startswith("proc_"):
        connection_failed(attempt.processor)


AUTHORIZATIONS = (AttemptKind.AUTHORIZE, AttemptKind.AUTHENTICATE, AttemptKind.RESOLVE_ASYNC)


def _answered(attempt: Attempt, answer: Any) -> None:
    attempt.status = APPLIED
    attempt.answer = answer_to_json(answer)
    attempt.answered_at = timezone.now()
    if attempt.kind in AUTHORIZATIONS:  # what the processor insights count
        attempt.outcome = authorization_outcome(answer)
        elapsed = attempt.answered_at - attempt.created
        attempt.latency_ms = max(int(elapsed.total_seconds() * 1000), 0)


def authorization_outcome(answer: Any) -> str:
    """An authorisation's answer as the processor insights count it."""
    if not isinstance(answer, AuthorizationResult):  # a failed challenge: the customer's
        return "hard_decline"
    if answer.status != "declined":
        return answer.status
    if answer.processor_error:
        return "processor_error"
    decline = answer.decline
    soft = decline is not None and is_soft(decline.decline_code, decline.code)
    return "soft_decline" if soft else "hard_decline"


def phase_two(movement: Movement[L], attempt: Attempt, answer: Any) -> Any:
    """Apply `answer` to a recorded attempt (committed): lock the target again, settle the
    attempt (one UPDATE that finds it still recorded only once), apply. An attempt someone
    else settled meanwhile answers what it recorded."""
    with transaction.atomic():
        locked = movement.relock(attempt)
        _answered(attempt, answer)
        claimed = Attempt.objects.filter(id=attempt.id, status=RECORDED).update(
            status=APPLIED,
            answer=attempt.answer,
            answered_at=attempt.answered_at,
            outcome=attempt.outcome,
            latency_ms=attempt.latency_ms,
            updated=timezone.now(),
        )
        if not claimed:
            return movement.answer(locked, Attempt.objects.get(id=attempt.id))
        _count_failure(attempt, answer)
        outcome = movement.apply(locked, attempt, answer)
        if attempt.status != APPLIED:  # the apply changed nothing: the target had moved on
            Attempt.objects.filter(id=attempt.id).update(status=attempt.status)
        if isinstance(outcome, Retry):
            _write(outcome.recorded)
        return outcome


def mark_answered(attempt: Attempt) -> None:
    """For an apply: the answer changed nothing on the target (it had moved on, or the answer
    was "not yet"); the attempt is `answered`, not `applied`."""
    attempt.status = ANSWERED


class _Aborted:
    def __repr__(self) -> str:
        return "ABORTED"


ABORTED = _Aborted()  # what `settle` returns for an attempt the processor never received


def settle(attempt: Attempt, movement: Movement[Any]) -> Any:
    """Settle a recorded attempt whose answer was lost: ask the processor what it did with it
    (or, for a call keyed by its own reference, ask again) and apply that; abort one it never
    received. Returns the outcome of the apply (not yet finished), ABORTED, or LOOKUP_FAILED
    when the processor could not say (the attempt stays recorded)."""
    guarded = processor(attempt)
    if movement.ask_again or getattr(guarded.driver, "replays_by_key", False):
        return phase_two(movement, attempt, movement.call(guarded, attempt))
    received: Received | None | _LookupFailed = guarded.lookup(attempt_id=attempt.id)
    if received is LOOKUP_FAILED:
        return LOOKUP_FAILED
    if isinstance(received, Received):
        return phase_two(movement, attempt, received.outcome)
    with transaction.atomic():
        locked = movement.relock(attempt)
        aborted = Attempt.objects.filter(id=attempt.id, status=RECORDED).update(
            status=AttemptStatus.ABORTED, updated=timezone.now()
        )
        if aborted:
            movement.abort(locked, attempt)
    return ABORTED


# --- sweeps and the reconciler ----------------------------------------------------------------


@dataclass
class Claimed:
    """An attempt a sweep recorded in its claiming transaction, with its movement."""

    movement: Movement[Any]
    attempt: Attempt
    writes: tuple[SavesChangedFields, ...] = field(default=())


def sweep(claim: Callable[[], Iterable[Claimed]]) -> list[Any]:
    """A periodic sweep: one transaction claims a batch (`claim` selects `FOR UPDATE SKIP
    LOCKED`, skips rows with an attempt under way, and returns an attempt for each row it
    takes, which this records once `without_recorded` has dropped the rows another sweep
    claimed while this one read), then each attempt's call and phase 2 run on their own. One
    failing attempt does not stop the batch: it is logged (None in the list returned) and its
    attempt, still recorded, goes to the reconciler. Returns each attempt's outcome."""
    with transaction.atomic():
        claimed = without_recorded(list(claim()), lambda item: item.attempt.target)
        for item in claimed:
            _write(Recorded(item.attempt, item.writes))
    outcomes = []
    for item in claimed:
        try:
            answer = item.movement.call(processor(item.attempt), item.attempt)
            outcome = follow(item.movement, phase_two(item.movement, item.attempt, answer))
            outcomes.append(finish(outcome, raise_error=False))
        except Exception:
            logger.exception("attempt %s failed; the reconciler settles it", item.attempt.id)
            outcomes.append(None)
    return outcomes


def reconcile(*, batch_size: int = 50) -> int:
    """The reconciler: claim the attempts recorded longer ago than INFLIGHT_TIMEOUT_SECONDS
    (SKIP LOCKED; renewing `claimed_at` is the claim, so a second reconciler skips them until
    that goes stale too) and settle each. Returns the attempts settled (applied or aborted)."""
    now = timezone.now()
    with transaction.atomic():
        stale = list(
            Attempt.objects.select_for_update(skip_locked=True)
            .filter(status=RECORDED, claimed_at__lte=attempt_stale_before(now))
            .order_by("claimed_at")[:batch_size]
        )
        Attempt.objects.filter(id__in=[a.id for a in stale]).update(claimed_at=now)
    settled = 0
    for attempt in stale:
        try:
            movement = movement_for(attempt)
            outcome = follow(movement, settle(attempt, movement))
        except Exception:
            logger.exception("reconciling %s failed; a later round retries it", attempt.id)
            continue
        if outcome is LOOKUP_FAILED:
            continue
        finish(outcome, raise_error=False)
        settled += 1
    return settled


# --- releases ---------------------------------------------------------------------------------


def release_recorded(charge: Charge) -> Release:
    """Record the release of `charge`'s authorisation (in the caller's locked transaction,
    which marked it released); `finish` makes it at the processor after the commit."""
    attempt = new_attempt(
        AttemptKind.RELEASE,
        target=charge,
        charge_id=charge.pk,
        payment_intent_id=charge.payment_intent_id,
        connection=charge_connection(charge),
    )
    insert(attempt)
    return Release(attempt)


class ReleaseAuthorization(Movement[Charge]):
    """A release an earlier phase recorded: `void` at the processor, keyed by the attempt id
    (asked again after a crash, the processor releases once). Nothing to apply here: the charge
    was marked released when the release was decided."""

    kind = AttemptKind.RELEASE
    ask_again = True

    def call(self, processor: GuardedProcessor, attempt: Attempt) -> None:
        charge = Charge.objects.filter(id=attempt.charge_id).only("processor_reference").first()
        processor.void(
            attempt_id=attempt.id,
            reference=attempt.charge_id,
            processor_reference=charge.processor_reference if charge else "",
        )

    def relock(self, attempt: Attempt) -> Charge:
        return Charge.objects.select_for_update().get(id=attempt.charge_id)

    def apply(self, locked: Charge, attempt: Attempt, answer: None) -> None:
        return None


def _release(attempt: Attempt) -> None:
    movement = ReleaseAuthorization()
    movement.call(processor(attempt), attempt)  # answers None
    phase_two(movement, attempt, None)
