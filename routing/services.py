"""Every write of processor connections and payment flows, each with its event in the same
transaction (`events.services.event_emit`).

Connections: create, update (`status` through the FSM transitions `enable()` / `disable()`
under the row's lock), delete (a soft delete: the charges a connection made may still be
captured, canceled or refunded through it; refused while a flow names it, and for the built-in
simulated connection). A `stripe` connection's API key is stored encrypted (`core.crypto`) and
never shown again; its `api_base` passes the outbound-address guard webhook URLs pass
(`events.ssrf`).

Flows: create, update (`version` + 1 under the row's lock), delete (a hard delete: a charge
keeps the flow's id and version as text). `default=true` takes the default from the scope's
previous default flow in the same transaction. Every connection a flow names is locked while
the flow is written, so a concurrent delete of that connection either waits for the flow and
then sees it, or wins and the flow is refused. After every flow write, `learns` is set on
exactly the connections a `success_rate` flow names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.crypto import encrypt
from core.errors import InvalidRequestError, ParameterMissing
from core.metadata import merge_metadata
from core.scope import Scope
from core.selectors import first_or_missing
from core.values import UNSET
from events.services import event_emit
from events.ssrf import UnsafeURL, check_url

from .exceptions import (
    BuiltinProcessor,
    DefaultFlowContention,
    ProcessorInUse,
    ProcessorKindMismatch,
    ProcessorMissing,
)
from .models import ConnectionKind, ConnectionStatus, PaymentFlow, ProcessorConnection, RoutingType
from .presenters import connection_to_api, flow_to_api, retry_to_api
from .selectors import ensure_builtin, flow_list

_T = TypeVar("_T")

# Tries of a write that makes a flow the default, when others do at the same moment (each try
# lost is another's win, so this many writers at once all succeed).
DEFAULT_RACE_ATTEMPTS = 8

# --- processor connections ---------------------------------------------------------------------


def _checked_api_base(api_base: str | None) -> str:
    """ "" (Stripe's own) or a URL the outbound-address guard allows (as a webhook URL)."""
    if not api_base:
        return ""
    try:
        check_url(api_base)
    except UnsafeURL as exc:
        raise InvalidRequestError(str(exc), code="url_invalid", param="stripe[api_base]")
    return api_base.rstrip("/")


def _set_api_key(connection: ProcessorConnection, api_key: str) -> None:
    connection.api_key_encrypted = encrypt(api_key)
    connection.api_key_last4 = api_key[-4:]


def _apply_simulated(connection: ProcessorConnection, simulated: dict[str, Any]) -> None:
    for field in ("behavior", "decline_code", "latency_ms"):
        if simulated.get(field) is not None:
            setattr(connection, field, simulated[field])


def connection_create(
    *,
    scope: Scope,
    kind: str,
    name: str,
    simulated: dict[str, Any] | None = None,
    stripe: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> ProcessorConnection:
    """A new connection of `kind` (event `processor.created`). `simulated`: `behavior`,
    `decline_code`, `latency_ms`; `stripe`: `api_key` (required), `api_base`."""
    connection = ProcessorConnection(
        account_id=scope.account_id, livemode=scope.livemode, kind=kind, name=name
    )
    if kind == ConnectionKind.SIMULATED:
        if stripe is not None:
            raise ProcessorKindMismatch("stripe", kind)
        _apply_simulated(connection, simulated or {})
    elif kind == ConnectionKind.STRIPE:
        if simulated is not None:
            raise ProcessorKindMismatch("simulated", kind)
        stripe = stripe or {}
        if not stripe.get("api_key"):
            raise ParameterMissing("stripe[api_key]")
        connection.api_base = _checked_api_base(stripe.get("api_base"))
        _set_api_key(connection, stripe["api_key"])
    else:
        raise InvalidRequestError(
            f"Invalid kind: must be one of {', '.join(ConnectionKind.values)}.",
            code="parameter_invalid_string",
            param="kind",
        )
    connection.metadata = merge_metadata({}, metadata) if metadata is not None else {}
    # the built-in connection is every scope's oldest
    ensure_builtin(scope=scope)
    with transaction.atomic():
        connection.save(force_insert=True)
        event_emit(
            scope=scope,
            changes=[("processor.created", connection_to_api(connection), None)],
        )
    return connection


def _connection_lock(scope: Scope, connection_id: str) -> ProcessorConnection:
    """`select_for_update()` the connection within `scope` (a deleted one is missing)."""
    return first_or_missing(
        ProcessorConnection.objects.filter(**scope.filters, deleted_at=None).select_for_update(),
        object_id=connection_id,
        object_name="processor",
    )


def connection_update(
    *,
    scope: Scope,
    connection_id: str,
    name: str = UNSET,
    status: str = UNSET,
    simulated: dict[str, Any] | None = UNSET,
    stripe: dict[str, Any] | None = UNSET,
    metadata: dict[str, Any] | None = UNSET,
) -> ProcessorConnection:
    """Change what is given (UNSET: leave as is); event `processor.updated` when something
    changed. `status` goes through `enable()` / `disable()`; `stripe[api_key]` replaces the
    key, an empty `stripe[api_base]` goes back to Stripe's own."""
    api_base: str = UNSET
    if stripe is not UNSET and stripe is not None and "api_base" in stripe:
        api_base = _checked_api_base(stripe["api_base"])  # resolves a name: before the lock
    with transaction.atomic():
        locked = _connection_lock(scope, connection_id)
        before = connection_to_api(locked)
        key_changed = False
        if simulated is not UNSET and simulated is not None:
            if locked.kind != ConnectionKind.SIMULATED:
                raise ProcessorKindMismatch("simulated", locked.kind, stored=True)
            _apply_simulated(locked, simulated)
        if stripe is not UNSET and stripe is not None:
            if locked.kind != ConnectionKind.STRIPE:
                raise ProcessorKindMismatch("stripe", locked.kind, stored=True)
            if stripe.get("api_key"):
                _set_api_key(locked, stripe["api_key"])
                key_changed = True
            if api_base is not UNSET:
                locked.api_base = api_base
        if name is not UNSET and name is not None:
            locked.name = name
        if metadata is not UNSET and metadata is not None:
            locked.metadata = merge_metadata(locked.metadata, metadata)
        if status is not UNSET and status is not None and status != locked.status:
            if status == ConnectionStatus.ACTIVE:
                locked.enable()
            else:
                locked.disable()
        after = connection_to_api(locked)
        if after != before or key_changed:
            locked.save()
            event_emit(scope=scope, changes=[("processor.updated", after, before)])
    return locked


def connection_delete(*, scope: Scope, connection_id: str) -> ProcessorConnection:
    """Hide the connection from the API and from routing (event `processor.deleted`). Refused
    for the built-in connection and while a flow of the scope names it."""
    with transaction.atomic():
        locked = _connection_lock(scope, connection_id)
        if locked.builtin:
            raise BuiltinProcessor(locked.id)
        naming = [flow.id for flow in flow_list(scope=scope) if locked.id in flow.connection_ids()]
        if naming:
            raise ProcessorInUse(locked.id, naming)
        locked.deleted_at = timezone.now()
        locked.save()
        event_emit(scope=scope, changes=[("processor.deleted", connection_to_api(locked), None)])
    return locked


# --- payment flows -----------------------------------------------------------------------------


def named_connections(routing: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every `(param, connection id)` a flow's `routing` names, in the order of its params."""
    for index, name in enumerate(routing.get("processors") or []):
        yield f"routing[processors][{index}]", name
    for index, item in enumerate(routing.get("split") or []):
        yield f"routing[split][{index}][processor]", item["processor"]
    for index, rule in enumerate(routing.get("rules") or []):
        for position, name in enumerate((rule.get("then") or {}).get("processors") or []):
            yield f"routing[rules][{index}][then][processors][{position}]", name
    for index, name in enumerate((routing.get("default") or {}).get("processors") or []):
        yield f"routing[default][processors][{index}]", name


def _connections_lock(scope: Scope, routing: dict[str, Any]) -> None:
    """Lock every connection `routing` names (in id order), or refuse the first that is not a
    connection of the scope (400 `resource_missing` naming its param)."""
    named = list(named_connections(routing))
    found = set(
        ProcessorConnection.objects.filter(
            **scope.filters, deleted_at=None, id__in={name for _, name in named}
        )
        .select_for_update()
        .order_by("id")
        .values_list("id", flat=True)
    )
    for param, name in named:
        if name not in found:
            raise ProcessorMissing(name, param)


def _default_take(scope: Scope, flow: PaymentFlow) -> None:
    """Make `flow` (locked) the scope's default: the previous default loses it (event
    `payment_flow.updated` for it; its version stays, its routing did not change)."""
    previous = (
        flow_list(scope=scope).filter(is_default=True).exclude(id=flow.id).select_for_update()
    )
    for other in previous:
        before = flow_to_api(other)
        other.is_default = False
        other.save()
        event_emit(scope=scope, changes=[("payment_flow.updated", flow_to_api(other), before)])
    flow.is_default = True


def learns_recompute(*, scope: Scope) -> None:
    """`learns` on exactly the connections a `success_rate` flow of the scope names (the
    others forget what they learnt)."""
    names: set[str] = set()
    for flow in flow_list(scope=scope).only("routing"):
        if (flow.routing or {}).get("type") == RoutingType.SUCCESS_RATE:
            names.update(flow.connection_ids())
    connections = ProcessorConnection.objects.filter(**scope.filters)
    connections.filter(id__in=names, learns=False).update(learns=True)
    connections.filter(learns=True).exclude(id__in=names).update(learns=False, recent_outcomes="")


def _retrying_default_race(write: Callable[[], _T], *, takes_default: bool) -> _T:
    """Run `write` in a transaction (a savepoint inside another). Two writes making different
    flows the default at once: the second meets the partial unique index; run again, it sees
    the first's default and takes it over."""
    attempts = DEFAULT_RACE_ATTEMPTS if takes_default else 1
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return write()
        except IntegrityError:
            if attempt == attempts - 1:
                if takes_default:
                    raise DefaultFlowContention() from None
                raise
    raise AssertionError("unreachable")


def flow_create(
    *,
    scope: Scope,
    name: str,
    routing: dict[str, Any],
    retry: dict[str, Any] | None = None,
    default: bool = False,
    metadata: dict[str, Any] | None = None,
) -> PaymentFlow:
    """A new flow (event `payment_flow.created`; `payment_flow.updated` for the flow that was
    the default when `default`). `routing` and `retry` as validated by the API's serializer."""

    def write() -> PaymentFlow:
        _connections_lock(scope, routing)
        flow = PaymentFlow(
            account_id=scope.account_id,
            livemode=scope.livemode,
            name=name,
            routing=routing,
            retry=retry_to_api(retry),
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
        )
        if default:
            _default_take(scope, flow)
        flow.save(force_insert=True)
        event_emit(scope=scope, changes=[("payment_flow.created", flow_to_api(flow), None)])
        learns_recompute(scope=scope)
        return flow

    return _retrying_default_race(write, takes_default=default)


def _flow_lock(scope: Scope, flow_id: str) -> PaymentFlow:
    return first_or_missing(
        flow_list(scope=scope).select_for_update(), object_id=flow_id, object_name="payment_flow"
    )


def flow_update(
    *,
    scope: Scope,
    flow_id: str,
    name: str = UNSET,
    routing: dict[str, Any] = UNSET,
    retry: dict[str, Any] | None = UNSET,
    default: bool = UNSET,
    metadata: dict[str, Any] | None = UNSET,
) -> PaymentFlow:
    """Change what is given (UNSET: leave as is): `routing` is replaced whole, `retry` merges
    into the current one, `metadata` merges (Stripe's rules). When something changed, `version`
    goes up by one and `payment_flow.updated` is written."""

    def write() -> PaymentFlow:
        locked = _flow_lock(scope, flow_id)
        before = flow_to_api(locked)
        if name is not UNSET and name is not None:
            locked.name = name
        if routing is not UNSET and routing is not None:
            _connections_lock(scope, routing)
            locked.routing = routing
        if retry is not UNSET and retry is not None:
            locked.retry = retry_to_api({**retry_to_api(locked.retry), **retry})
        if metadata is not UNSET and metadata is not None:
            locked.metadata = merge_metadata(locked.metadata, metadata)
        if default is True and not locked.is_default:
            _default_take(scope, locked)
        elif default is False:
            locked.is_default = False
        if flow_to_api(locked) != before:
            locked.version += 1
            locked.save()
            event_emit(scope=scope, changes=[("payment_flow.updated", flow_to_api(locked), before)])
            learns_recompute(scope=scope)
        return locked

    return _retrying_default_race(write, takes_default=default is True)


def flow_delete(*, scope: Scope, flow_id: str) -> PaymentFlow:
    """Delete the flow (event `payment_flow.deleted`, the flow as it was). Charges keep its id
    and the version they ran; a payment naming it afterwards is refused as a missing flow."""
    with transaction.atomic():
        locked = _flow_lock(scope, flow_id)
        shown = flow_to_api(locked)
        locked.delete()
        locked.id = shown["id"]  # Model.delete() set the primary key to None
        event_emit(scope=scope, changes=[("payment_flow.deleted", shown, None)])
        learns_recompute(scope=scope)
    return locked
