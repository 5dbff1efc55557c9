"""Reads of connections and flows. `routing_document` is what a confirm reads to route, in its
statement."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Aggregate, Expression, JSONField, OuterRef, Q, QuerySet, Subquery
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


class _JSONArray(Aggregate):
    """The rows' values as one JSON array (PostgreSQL's json_agg, SQLite's json_group_array)."""

    function = "JSON_AGG"
    output_field = JSONField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)


# What routing, the drivers and the health bookkeeping read of a connection.
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
    "updated",
)
_DATETIMES = ("created", "circuit_opened_at", "deleted_at", "updated")


def routing_document() -> Expression:
    """For a payment row (an outer query with `account_id`, `livemode` and `payment_flow`), a
    JSON object read along in that query's own statement: `connections`, its scope's
    connections, and `flow`, the flow it names if it is one of the scope's, else the default
    (or null). The confirm reads it with its lock: routing costs no statement of its own."""
    connections = (
        ProcessorConnection.objects.filter(
            account_id=OuterRef("account_id"), livemode=OuterRef("livemode")
        )
        .order_by()
        .values("account_id")
        .annotate(all=_JSONArray(JSONObject(**{name: name for name in ROUTED_FIELDS})))
        .values("all")
    )
    named = OuterRef("payment_flow")
    flows = (
        PaymentFlow.objects.filter(account_id=OuterRef("account_id"), livemode=OuterRef("livemode"))
        .filter(Q(id=named) | Q(is_default=True))
        .order_by("is_default")
        .values(json=JSONObject(id="id", version="version", routing="routing", retry="retry"))[:1]
    )
    return JSONObject(connections=Subquery(connections), flow=Subquery(flows))


def routing_from_document(
    document: Any,
) -> tuple[list[ProcessorConnection], dict[str, Any] | None]:
    """The connections and the flow of a `routing_document` (parsed as the backend hands it
    back: PostgreSQL parsed, SQLite as text, nested values as text too)."""
    if isinstance(document, str):
        document = json.loads(document)
    if not document:
        return [], None
    rows = document.get("connections") or []
    if isinstance(rows, str):
        rows = json.loads(rows)
    connections = []
    for row in rows:
        for name in _DATETIMES:
            if row[name] is not None:
                row[name] = _aware(row[name])
        connection = ProcessorConnection(**row)
        connection._state.adding = False  # a row read from the database, not a new one
        connection._state.db = "default"
        connections.append(connection)
    return connections, _as_dict(document.get("flow"))


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
        rows = [
            c
            for c in ProcessorConnection.objects.filter(**scope.filters, deleted_at=None)
            if c.status == ConnectionStatus.ACTIVE
        ]
        if rows or ProcessorConnection.objects.filter(**scope.filters, builtin=True).exists():
            return rows
        ensure_builtin(scope=scope)
    return []


def _as_dict(value: Any) -> dict[str, Any] | None:
    """The flow's JSON object as a dict: PostgreSQL hands it back parsed; SQLite as text, with
    its JSON columns inside as text too."""
    if value is None:
        return None
    flow: dict[str, Any] = json.loads(value) if isinstance(value, str) else dict(value)
    for name in ("routing", "retry"):
        if isinstance(flow.get(name), str):
            flow[name] = json.loads(flow[name])
    return flow
