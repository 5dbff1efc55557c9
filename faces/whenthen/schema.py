"""The operations: `startIntent`, `getIntent`, `updateIntent`, `completeIntent`, each a thin
translation over the tracked checkouts' services and selectors (`checkouts`), validated by the
same serializers as `/v1/checkouts`, answered through `checkouts.presenters`.

Who may call what (the caller is in `info.context`, `faces.whenthen.views.Caller`): a secret
key everything; a publishable key `startIntent` only; an intent's client token (its
`clientToken`, the tracked checkout's client secret) `getIntent`, `updateIntent` and
`completeIntent` of that intent only. Neither of the last two sees PII (customer email and
name, location).
"""

from __future__ import annotations

import operator
from functools import lru_cache, partial
from operator import attrgetter
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLEnumType,
    GraphQLError,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationType,
    Undefined,
    execute,
    get_nullable_type,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.language import BREAK, Visitor
from strawberry.schema.config import StrawberryConfig

from checkouts import selectors, services
from checkouts.api.serializers import (
    CheckoutCompleteSerializer,
    CheckoutStartSerializer,
    CheckoutUpdateSerializer,
)
from checkouts.presenters import checkout_to_api
from core.errors import ParameterMissing

from . import types as t
from .limits import CostLimit, DepthLimit
from .translate import arguments_to_params, forbidden, graphql_error, intent_from_checkout

MAX_TOKENS = 3000


def _validated(serializer_class, params: dict) -> dict:
    serializer = serializer_class(data=params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _present(caller, chk) -> t.Intent:
    return intent_from_checkout(checkout_to_api(chk.as_shown(), publishable=not caller.is_secret))


def _run(info: strawberry.Info, operation: str, act) -> t.Intent:
    """Run one operation for the caller: its permission first, then `act(caller)`; an error of
    the engine becomes this field's GraphQL error (the operation changed nothing)."""
    caller = info.context
    if not caller.may(operation):
        raise forbidden(caller.refusal(operation))
    try:
        return _present(caller, act(caller))
    except GraphQLError:
        raise
    except Exception as exc:
        raise graphql_error(exc) from exc


def _own(caller, intent_id: str) -> str:
    """The intent id, checked against a client token's own intent (another is not found)."""
    caller.check_intent(intent_id)
    return intent_id


@strawberry.type
class Query:
    @strawberry.field(description="An intent by its id.")
    def get_intent(self, info: strawberry.Info, id: strawberry.ID) -> t.Intent | None:
        return _run(
            info,
            "getIntent",
            lambda caller: selectors.checkout_get(
                scope=caller.scope, checkout_id=_own(caller, str(id))
            ),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "A customer landed on the checkout: starts tracking it (status INTENT). With no "
            "location, the country of the caller's IP address is used (GeoLocation)."
        )
    )
    def start_intent(
        self,
        info: strawberry.Info,
        tracking_id: strawberry.ID,
        payment_flow_id: strawberry.ID,
        amount: t.IntentAmountInput,
        customer: t.IntentCustomerInput | None = strawberry.UNSET,
        location: t.IntentLocationInput | None = strawberry.UNSET,
        cart: t.IntentCartInput | None = strawberry.UNSET,
    ) -> t.Intent | None:
        def act(caller):
            if not str(payment_flow_id).strip():  # required here: `ID!`, and not empty
                raise ParameterMissing("payment_flow", "Missing required param: paymentFlowId.")
            params = arguments_to_params(
                tracking_id=str(tracking_id),
                payment_flow=str(payment_flow_id),
                amount=amount,
                customer=customer,
                location=location,
                cart=cart,
            )
            data = _validated(CheckoutStartSerializer, params)
            return services.checkout_start(
                scope=caller.scope,
                located_country=caller.country(),
                from_browser=not caller.is_secret,
                **data,
            )

        return _run(info, "startIntent", act)

    @strawberry.mutation(
        description=(
            "The customer moved on (or back): the fields given change, each step given moves. "
            "The first update makes the intent ACTIVE; an INACTIVE one becomes ACTIVE again."
        )
    )
    def update_intent(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        tracking_id: str | None = strawberry.UNSET,
        customer: t.IntentCustomerInput | None = strawberry.UNSET,
        amount: t.IntentAmountInput | None = strawberry.UNSET,
        location: t.IntentLocationInput | None = strawberry.UNSET,
        cart: t.IntentCartInput | None = strawberry.UNSET,
        billing: t.IntentShippingInput | None = strawberry.UNSET,
        shipping: t.IntentShippingInput | None = strawberry.UNSET,
        delivery: t.IntentDeliveryInput | None = strawberry.UNSET,
    ) -> t.Intent | None:
        def act(caller):
            params = arguments_to_params(
                tracking_id=tracking_id,
                customer=customer,
                amount=amount,
                location=location,
                cart=cart,
                billing=billing,
                shipping=shipping,
                delivery=delivery,
            )
            data = _validated(CheckoutUpdateSerializer, params)
            return services.checkout_update(
                scope=caller.scope,
                checkout_id=_own(caller, str(id)),
                from_browser=not caller.is_secret,
                **data,
            )

        return _run(info, "updateIntent", act)

    @strawberry.mutation(
        description=(
            "The customer paid: the intent is COMPLETE, linked to `paymentReference` (a pi_… "
            "of this service or any processor's reference)."
        )
    )
    def complete_intent(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        payment_reference: strawberry.ID | None = strawberry.UNSET,
    ) -> t.Intent | None:
        def act(caller):
            params = arguments_to_params(payment_reference=payment_reference)
            data = _validated(CheckoutCompleteSerializer, params)
            return services.checkout_complete(
                scope=caller.scope, checkout_id=_own(caller, str(id)), **data
            )

        return _run(info, "completeIntent", act)


schema = strawberry.Schema(
    query=Query, mutation=Mutation, config=StrawberryConfig(scalar_map=t.SCALARS)
)
# The schema as graphql-core (strawberry's engine) holds it: what `run` parses, validates and
# executes against.
GRAPHQL_SCHEMA: GraphQLSchema = schema._schema


def _attribute(name: str):
    get = attrgetter(name)

    def resolve(source: Any, _info: Any) -> Any:
        return get(source)

    return resolve


# The key, in a field's `extensions`, of how `_Executor` reads a leaf field directly.
LEAF_READ = "whenthen-leaf-read"


def _read_answers_directly(graphql_schema: GraphQLSchema) -> None:
    """A field with no resolver of its own reads its attribute of the answer object (a plain
    dataclass of `types`): strawberry's general path for such a field is five Python calls
    (field lookup, properties, default resolver) to do that one `getattr`; here it is one. A
    leaf field (a scalar or an enum, not a list, no arguments) also gets `LEAF_READ`, what
    `_Executor` needs to complete it in one step. Run once, on the schema built above; fields
    with resolvers (the operations) are untouched."""
    for type_ in graphql_schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for field in type_.fields.values():
            if not getattr(field.resolve, "_is_default", False):
                continue
            name = field.extensions["strawberry-definition"].python_name
            field.resolve = _attribute(name)
            if field.args:
                continue
            named = get_nullable_type(field.type)
            leaf = isinstance(named, GraphQLScalarType | GraphQLEnumType)
            field.extensions = {
                **field.extensions,
                LEAF_READ: (
                    attrgetter(name),
                    named.coerce_output_value if leaf else None,
                    not isinstance(field.type, GraphQLNonNull),
                ),
            }


class _Executor(IncrementalExecutor):
    """graphql-core's executor (the class `execute` takes to be customised), with one shortcut:
    a field read straight off an answer object (`LEAF_READ`) is completed at once when it is a
    leaf (read, coerce) or null where it may be rather than through the general path (resolve
    info, awaitable checks, type unwrapping), which costs more than the rest of the request's
    face. Anything else (a null for a non-null field owes an error) and any exception take
    the general path, which also reports errors its own way."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        field_def = parent_type.fields.get(field_details_list[0].node.name.value)
        leaf = field_def.extensions.get(LEAF_READ) if field_def is not None else None
        if leaf is not None and len(field_details_list) == 1:
            read, coerce, nullable = leaf
            try:
                value = read(source)
                if value is None and nullable:
                    return None
                if value is not None and coerce is not None:
                    coerced = coerce(value)
                    if coerced is not None and coerced is not Undefined:
                        return coerced
            except Exception:  # noqa: BLE001 - the general path reports it
                pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


# Sub-selections collected once for all requests: (type, the nodes' ids) → (the field details,
# kept alive so no id is reused while cached; what `collect_subfields` collected).
_SUBFIELDS: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_SUBFIELDS_MAX = 20_000


class _StaticExecutor(_Executor):
    """For a document without directives, what a selection set selects depends on the document
    alone (no `@skip`/`@include` reading the variables), and the document is the same object
    for every request that sends its text (`prepared`): its sub-selections are collected once
    for all requests rather than once per request."""

    def collect_subfields(self, return_type: GraphQLObjectType, field_details_list: Any) -> Any:
        key = (return_type, *(id(details.node) for details in field_details_list))
        cached = _SUBFIELDS.get(key)
        if cached is not None:
            return cached[1]
        collected = super().collect_subfields(return_type, field_details_list)
        if len(_SUBFIELDS) >= _SUBFIELDS_MAX:
            _SUBFIELDS.clear()
        _SUBFIELDS[key] = ([details.node for details in field_details_list], collected)
        return collected


_read_answers_directly(GRAPHQL_SCHEMA)
VALIDATION_RULES = (*specified_rules, DepthLimit, CostLimit)


class _HasDirective(Visitor):
    found = False

    def enter_directive(self, *_args: Any) -> Any:
        self.found = True
        return BREAK


@lru_cache(maxsize=256)
def prepared(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...], bool]:
    """The document parsed (at most MAX_TOKENS tokens) and validated (the standard rules, the
    depth and the cost limits), or the errors that stop it, and whether it has no directive;
    kept per query text, since a client sends the same few documents with other variables."""
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return None, (error,), False
    errors = validate(GRAPHQL_SCHEMA, document, rules=VALIDATION_RULES)
    if errors:
        return None, tuple(errors), False
    directives = _HasDirective()
    visit(document, directives)
    return document, (), not directives.found


# Every resolver here is synchronous, so no value is ever awaitable: graphql-core asks a few
# times per field, and its own check inspects the value. A C-level "is it this one object?".
_never_awaitable = partial(operator.is_, object())


def is_mutation(query: str, operation_name: str | None) -> bool:
    """Whether the request would run a mutation (read off the prepared document: no parse of
    its own); a document that cannot run runs nothing."""
    document = prepared(query)[0]
    if document is None:
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation == OperationType.MUTATION


class NotAllowed(Exception):
    """The operation is not one the HTTP method may run (a mutation over GET)."""


def run(
    *,
    query: str,
    variables: dict | None,
    operation_name: str | None,
    caller: Any,
    mutations_allowed: bool,
) -> ExecutionResult:
    """Run one GraphQL request for `caller`: prepared (cached) document, then graphql-core's
    executor over the strawberry schema, `caller` as the context every resolver reads."""
    document, errors, static = prepared(query)
    if document is None:
        return ExecutionResult(data=None, errors=list(errors))
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        message = (
            f"Unknown operation named '{operation_name}'."
            if operation_name
            else "The document has several operations: name the one to run (operationName)."
        )
        return ExecutionResult(data=None, errors=[GraphQLError(message)])
    if operation.operation == OperationType.MUTATION and not mutations_allowed:
        raise NotAllowed
    result = execute(
        GRAPHQL_SCHEMA,
        document,
        context_value=caller,
        variable_values=variables,
        operation_name=operation_name,
        is_awaitable=_never_awaitable,
        executor_class=_StaticExecutor if static else _Executor,
    )
    assert isinstance(result, ExecutionResult)  # every resolver is synchronous
    return result
