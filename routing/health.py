"""A connection's health, told by the answers of its authorisations: the circuit (open after
PROCESSOR_CIRCUIT_ERRORS processor errors in a row, half open after PROCESSOR_CIRCUIT_SECONDS:
one trial call) and, for connections a `success_rate` flow names, the last outcomes it learns
from.

Written by the payment core in the transaction that applies an answer, so an opened circuit
and its event commit with the failed attempt. A healthy connection answering normally costs
nothing: the row is locked and written only when something changes (an error, the first
answer after errors, a trial), as the connection read at routing time shows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Right
from django.utils import timezone

from core.scope import Scope
from events.services import event_emit

from .models import Circuit, ProcessorConnection
from .presenters import connection_to_api

KEEP_OUTCOMES = 1000  # the longest success-rate window


def connection_answered(
    connection: ProcessorConnection, *, processor_error: bool, authorised: bool, learn: bool = True
) -> None:
    """Record one authorisation's answer of `connection` (in the caller's transaction): one
    that is not a processor error closes the circuit or clears the errors counted (the errors
    themselves are counted by the attempt ledger, `connection_failed`); `learn`: the answer is
    an outcome success-rate routing counts (authorised or declined)."""
    if connection.learns and learn:
        transaction.on_commit(lambda: _learn(connection.id, authorised))
    if not processor_error and (
        connection.consecutive_errors or connection.circuit == Circuit.OPEN
    ):
        _recovered(connection.id)


def _lock(connection_id: str) -> ProcessorConnection:
    return ProcessorConnection.objects.select_for_update().get(id=connection_id)


def connection_failed(connection_id: str) -> None:
    """A call to `connection_id` failed at its processor (outage, timeout, 5xx, no
    connection): it counts towards the circuit (in the caller's transaction). The attempt
    ledger tells every such answer, of any kind of call, once."""
    connection = _lock(connection_id)
    before = connection_to_api(connection)
    connection.consecutive_errors += 1
    now = timezone.now()
    if connection.circuit == Circuit.OPEN:
        connection.reopen_circuit(now)  # the half-open trial failed
        connection.save()
        return
    if connection.consecutive_errors >= settings.PROCESSOR_CIRCUIT_ERRORS:
        connection.open_circuit(now)
        connection.save()
        event_emit(
            scope=Scope.of(connection),
            changes=[("processor.circuit_opened", connection_to_api(connection), before)],
        )
        return
    connection.save()


def _recovered(connection_id: str) -> None:
    connection = _lock(connection_id)
    if connection.circuit == Circuit.OPEN:
        before = connection_to_api(connection)
        connection.close_circuit()
        connection.save()
        event_emit(
            scope=Scope.of(connection),
            changes=[("processor.circuit_closed", connection_to_api(connection), before)],
        )
    elif connection.consecutive_errors:
        connection.consecutive_errors = 0
        connection.save()


def _learn(connection_id: str, authorised: bool) -> None:
    """Append one outcome (after the commit, one short UPDATE: success-rate state is advice,
    and no payment waits on this row's lock)."""
    ProcessorConnection.objects.filter(id=connection_id).update(
        recent_outcomes=Right(
            Concat(F("recent_outcomes"), Value("1" if authorised else "0")), KEEP_OUTCOMES
        )
    )


def trial_claim(connection: ProcessorConnection) -> bool:
    """A half-open connection takes one trial call: the first to claim it re-arms the
    cool-down (so others skip it while the trial runs) and makes the call."""
    claimed = ProcessorConnection.objects.filter(
        id=connection.id, circuit=Circuit.OPEN, circuit_opened_at=connection.circuit_opened_at
    ).update(circuit_opened_at=timezone.now())
    return bool(claimed)
