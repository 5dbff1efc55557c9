"""Reads of connections and flows. `routing_document` is what a confirm reads to route, in its
statement."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import JSONField, Q, QuerySet, Subquery
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL
from django.db.models.functions import JSONObject

from core.errors import InvalidRequestError
from core.prepared import PreparedQuery
from core.scope import Scope
from core.selectors import first_or_missing

from .models import ConnectionKind, ConnectionStatus, PaymentFlow, ProcessorConnection

BUILTIN_NAME = "Simulated"


def connection_list(*, scope: Scope) -> QuerySet[ProcessorConnection]:
    """The scope's connections (deleted ones hidden)."""
    ensure_builtin(scope=scope)
    return ProcessorConnection.objects.filter(**scope.filters, deleted_at=None)


def connection_get(*, scope: Scope, connection_id: str) -> ProcessorConnection:
    return first_or_missing(
        ProcessorConnection.objects.filter(**scope.filters, deleted_at=None),
        object_id=connection_id,
        object_name="processor",
    )


def flow_list(*, scope: Scope) -> QuerySet[PaymentFlow]:
    return PaymentFlow.objects.filter(**scope.filters)


def flow_get(*, scope: Scope, flow_id: str, param: str | None = "id") -> PaymentFlow:
    return first_or_missing(
        flow_list(scope=scope), object_id=flow_id, object_name="payment_flow", param=param
    )


def flow_exists(*, scope: Scope, flow_id: str) -> bool:
    return flow_list(scope=scope).filter(id=flow_id).exists()


def payment_flow_check(*, scope: Scope, flow_id: str, param: str = "payment_flow") -> None:
    """A payment flow a payment or a checkout names must be one of the caller's: else 400
    `resource_missing` on that parameter (the object named is not the one in the URL)."""
    if not flow_exists(scope=scope, flow_id=flow_id):
        raise InvalidRequestError(
            f"No such payment_flow: '{flow_id}'", code="resource_missing", param=param
        )


def ensure_builtin(*, scope: Scope) -> None:
    """Every account starts with one simulated connection per mode: made the first time the
    scope's connections are read (an account made before connections existed too)."""
    if ProcessorConnection.objects.filter(**scope.filters, builtin=True).exists():
        return
    try:
        with transaction.atomic():
            ProcessorConnection.objects.create(
                **scope.filters,
                kind=ConnectionKind.SIMULATED,
                name=BUILTIN_NAME,
                builtin=True,
            )
    except IntegrityError:  # made by a concurrent first read
        pass


def routing_queryset(*, account_id: str, livemode: bool, named: Any = None) -> QuerySet[Any]:
    """The connections of a scope, each with the flow that routes a payment riding along as
    `flow` (a JSON object): the flow `named` (an id, or an expression giving one: a payment's
    own column) if it is one of the scope's, else the scope's default flow."""
    flows = PaymentFlow.objects.filter(account_id=account_id, livemode=livemode)
    if named is not None:
        # the named flow before the default (a named flow that is the default is both)
        flows = flows.filter(Q(id=named) | Q(is_default=True)).order_by("is_default")
    else:
        flows = flows.filter(is_default=True)
    flow = Subquery(
        flows.values(json=JSONObject(id="id", version="version", routing="routing", retry="retry"))[
            :1
        ]
    )
    return (
        ProcessorConnection.objects.filter(account_id=account_id, livemode=livemode)
        .annotate(flow=flow)
        .defer(*UNUSED_BY_ROUTING)
    )


# what routing and the drivers never read of a connection (left unread on the hot path)
UNUSED_BY_ROUTING = ("name", "metadata", "api_key_last4")


def _routing_query(variant: tuple[bool, bool], account_id: str, flow_id: str = "") -> Any:
    livemode, named = variant
    return routing_queryset(
        account_id=account_id, livemode=livemode, named=flow_id if named else None
    )


# compiled once per database connection
_ROUTING = PreparedQuery(_routing_query)


def routing_inputs(
    *, scope: Scope, flow_id: str | None = None
) -> tuple[list[ProcessorConnection], dict[str, Any] | None]:
    """The scope's connections and the flow that routes a payment naming `flow_id` (that flow
    if it is one of the scope's, else the default flow, else None), in one statement."""
    if flow_id:
        rows = _ROUTING.rows((scope.livemode, True), scope.account_id, flow_id)
    else:
        rows = _ROUTING.rows((scope.livemode, False), scope.account_id)
    return rows, flow_of(rows)


# What routing, the drivers and the health bookkeeping read of a connection, in the order the
# routing document lists them.
ROUTED_FIELDS = (
    "id",
    "account_id",
    "livemode",
    "created",
    "kind",
    "builtin",
    "status",
    "behavior",
    "decline_code",
    "latency_ms",
    "api_key_encrypted",
    "api_base",
    "circuit",
    "consecutive_errors",
    "circuit_opened_at",
    "learns",
    "recent_outcomes",
    "deleted_at",
)
_DATETIMES = ("created", "circuit_opened_at", "deleted_at")
_BOOLEANS = ("livemode", "builtin", "learns")
_FLOW_FIELDS = ("id", "version", "routing", "retry")


def routing_document(outer: str) -> RawSQL:
    """For a payment row of the outer query (its table `outer`, quoted, with `account_id`,
    `livemode` and `payment_flow`), one JSON array read along in that query's own statement:
    [its scope's connections (each an array of ROUTED_FIELDS), the flow it names if it is one of
    the scope's, else the default (an array of id, version, routing, retry; or null)]. The
    confirm reads it with its lock, so routing costs no statement of its own. Written by hand,
    arrays rather than objects: the ORM's JSON objects pass every key as a parameter, which
    the driver quotes into the statement on every run."""
    array, rows = "JSONB_BUILD_ARRAY", "JSONB_AGG"
    connections = ProcessorConnection._meta.db_table
    flows = PaymentFlow._meta.db_table
    scope = f"account_id = {outer}.account_id AND livemode = {outer}.livemode"
    return RawSQL(
        f"SELECT {array}("
        f"(SELECT {rows}({array}({', '.join(ROUTED_FIELDS)})) FROM {connections} "
        f"WHERE {scope}), "
        f"(SELECT {array}({', '.join(_FLOW_FIELDS)}) FROM {flows} WHERE {scope} "
        f"AND (id = {outer}.payment_flow OR is_default) ORDER BY is_default LIMIT 1))",
        (),
        output_field=JSONField(),
    )


# What a connection's driver is made of (payments.processors.drivers.driver_for).
DRIVER_FIELDS = ("kind", "behavior", "decline_code", "latency_ms", "api_key_encrypted", "api_base")
_TABLE = ProcessorConnection._meta.db_table


def driver_row(connection_id_column: str) -> RawSQL:
    """The fields a driver is made of, of the connection whose id is in the outer query's
    column `connection_id_column` (a quoted "table"."column"), as one short JSON array read
    along in that query: a lock that needs a charge's driver reads it in its own statement and
    keeps its SQL short. (Written by hand: psycopg caches the parsing of a statement only up to
    4 kB, and the ORM's subquery, or a join of the connection, takes the capture's lock past
    it — tests/perf/test_query_counts.py holds the locks under it.)"""
    return RawSQL(
        f"SELECT JSONB_BUILD_ARRAY({', '.join(DRIVER_FIELDS)}) FROM {_TABLE} WHERE id = {connection_id_column}",
        (),
        output_field=JSONField(),
    )


def connection_from_driver_row(connection_id: str, row: Any) -> ProcessorConnection:
    """The connection as `driver_row` read it (only what its driver is made of)."""
    if isinstance(row, str):
        row = json.loads(row)
    values = dict(zip(DRIVER_FIELDS, row, strict=True))
    values["id"] = connection_id
    return _read(values)


def _read(values: dict[str, Any]) -> ProcessorConnection:
    """A connection of these values as read from the database, the way `Model.from_db` makes
    one but without running `__init__` over the fields not read (their defaults, a clock read
    for `created`): the hot path reads a connection twice per payment and never saves it. A
    field not read stays deferred (read from the database if ever asked for)."""
    connection = ProcessorConnection.__new__(ProcessorConnection)
    connection.__dict__.update(values)
    connection._state = ModelState()
    connection._state.adding = False
    connection._state.db = "default"
    return connection


def routing_from_document(
    document: Any,
) -> tuple[list[ProcessorConnection], dict[str, Any] | None]:
    """The connections and the flow of a `routing_document`, as PostgreSQL hands it back
    (parsed; its timestamps as ISO text)."""
    if not document:
        return [], None
    rows, flow = document
    connections = []
    for values in rows or ():
        row = dict(zip(ROUTED_FIELDS, values, strict=True))
        for name in _DATETIMES:
            if row[name] is not None:
                row[name] = _aware(row[name])
        for name in _BOOLEANS:
            row[name] = bool(row[name])
        connections.append(_read(row))
    if flow is None:
        return connections, None
    return connections, dict(zip(_FLOW_FIELDS, flow, strict=True))


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def flow_of(rows: list[ProcessorConnection]) -> dict[str, Any] | None:
    """The flow read along with the connections (`routing_queryset`). No connection at all (a
    scope never routed before): None, and nothing is made here — the caller makes the
    built-in connection once it knows the payment is the caller's (`ensure_builtin`)."""
    return _as_dict(getattr(rows[0], "flow", None)) if rows else None


def active_connections(*, scope: Scope) -> list[ProcessorConnection]:
    """The connections a new card is tokenized at."""
    for _ in range(2):
        rows = list(
            ProcessorConnection.objects.filter(
                **scope.filters, deleted_at=None, status=ConnectionStatus.ACTIVE
            )
        )
        if rows or ProcessorConnection.objects.filter(**scope.filters, builtin=True).exists():
            return rows
        ensure_builtin(scope=scope)
    return []


def _as_dict(value: Any) -> dict[str, Any] | None:
    """The flow's JSON object (PostgreSQL hands it back parsed) as a dict."""
    return None if value is None else dict(value)
