"""/v1/processors and /v1/payment_flows: validate, call one service or selector, present.
(`POST /v1/payment_flows/{id}/evaluate` reads payment methods, so it lives in payments.api.)"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from api.schema import path_id
from api.serializers import ListParamsSerializer
from api.views import StripeAPIView, validated
from core.values import UNSET

from .. import selectors, services
from ..presenters import (
    connection_deleted_to_api,
    connection_to_api,
    flow_deleted_to_api,
    flow_to_api,
)
from . import schema  # noqa: F401  (registers the lists' extension with drf-spectacular)
from . import serializers as s

PROCESSOR_ID = path_id("processor", "proc_")
FLOW_ID = path_id("payment flow", "flow_")


def _given(params: dict, *names: str) -> dict:
    """The params that were sent; the others are UNSET for the service."""
    return {name: params.get(name, UNSET) for name in names}


# --- examples ----------------------------------------------------------------------------------

_PROCESSOR_EXAMPLE = {
    "id": "proc_1QxV0vLkdIwHu7ix0Zl1Vh1N",
    "object": "processor",
    "kind": "stripe",
    "name": "Stripe EU",
    "livemode": False,
    "created": 1735689600,
    "status": "active",
    "circuit": "closed",
    "simulated": None,
    "stripe": {"api_base": "https://api.stripe.com", "api_key_last4": "4xYz"},
    "metadata": {"region": "eu"},
}

_FLOW_EXAMPLE = {
    "id": "flow_9rIvqZbLQbXh2WfPqQ3wkM1u",
    "object": "payment_flow",
    "name": "EU cards to Stripe, the rest simulated",
    "routing": {
        "type": "rules",
        "rules": [
            {
                "if": {"currency": ["eur"], "card_country": ["DE", "FR"]},
                "then": {
                    "processors": ["proc_1QxV0vLkdIwHu7ix0Zl1Vh1N", "proc_builtin0000000000000"]
                },
            }
        ],
        "default": {"processors": ["proc_builtin0000000000000"]},
    },
    "retry": {"max_attempts": 2, "on": ["soft_decline", "processor_error"]},
    "version": 1,
    "default": True,
    "livemode": False,
    "created": 1735689600,
    "metadata": {},
}

PROCESSOR_ERRORS = (
    "Errors: 400 `parameter_missing` (`stripe[api_key]` for a `stripe` processor), "
    "`parameter_unknown` (`simulated[…]` with `kind=stripe` or the reverse; on an update, "
    "`parameter_unknown_for_object`: for the processor's kind), `url_invalid` "
    "(`stripe[api_base]` does not reach a public address)."
)

FLOW_ERRORS = (
    "Errors: 400 `parameter_missing` / `parameter_invalid_*` naming the parameter (e.g. "
    "`routing[split]` when the percents do not sum to 100), `resource_missing` naming the "
    "parameter of a processor that is not one of this account and mode (e.g. "
    "`routing[processors][1]`)."
)


# --- processors --------------------------------------------------------------------------------


class ProcessorsView(StripeAPIView):
    @extend_schema(
        operation_id="GetProcessors",
        summary="List processors",
        description="The processors (connections to a payment processor) of this account and "
        "mode, newest first, one page at a time. Every account has one built-in `simulated` "
        "processor in each mode.",
        parameters=[ListParamsSerializer],
        responses=s.ProcessorListSchema,
    )
    def get(self, request):
        params = validated(ListParamsSerializer, self.params)
        return self.paginated(
            selectors.connection_list(scope=self.caller.scope),
            params=params,
            url="/v1/processors",
            present=connection_to_api,
            object_name="processor",
        )

    @extend_schema(
        operation_id="PostProcessors",
        summary="Create a processor",
        description="Connects a processor that payment flows can route payments to: another "
        "`simulated` one (with its own behaviour: normal, declining, failing, slow) or a "
        "`stripe` one (any server speaking Stripe's v1 API, through the official library). "
        "A `stripe` processor's `api_key` is stored encrypted and never shown again. Emits "
        "`processor.created`. " + PROCESSOR_ERRORS,
        request=s.ProcessorCreateSerializer,
        responses=s.ProcessorSchema,
        examples=[
            OpenApiExample(
                "A Stripe account",
                summary="Connect a Stripe account",
                value={
                    "kind": "stripe",
                    "name": "Stripe EU",
                    "stripe": {"api_key": "sk_test_51Hxxxxxxxxxxxxxxxxxxxx4xYz"},
                    "metadata": {"region": "eu"},
                },
                request_only=True,
            ),
            OpenApiExample(
                "A failing simulator",
                summary="A simulated processor in an outage",
                value={"kind": "simulated", "name": "Flaky", "simulated": {"behavior": "outage"}},
                request_only=True,
            ),
            OpenApiExample(
                "Created",
                summary="A new Stripe processor",
                value=_PROCESSOR_EXAMPLE,
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        params = validated(s.ProcessorCreateSerializer, self.params)
        connection = services.connection_create(
            scope=self.caller.scope,
            kind=params["kind"],
            name=params["name"],
            simulated=params.get("simulated"),
            stripe=params.get("stripe"),
            metadata=params.get("metadata"),
        )
        return Response(connection_to_api(connection))


class ProcessorDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetProcessorsProcessor",
        summary="Retrieve a processor",
        description="The processor as it is now: its status, its circuit, its settings (a "
        "`stripe` processor's API key only as its last four characters).",
        parameters=[PROCESSOR_ID],
        responses=s.ProcessorSchema,
    )
    def get(self, request, id: str):
        validated(s.RoutingRetrieveSerializer, self.params)
        connection = selectors.connection_get(scope=self.caller.scope, connection_id=id)
        return Response(connection_to_api(connection))

    @extend_schema(
        operation_id="PostProcessorsProcessor",
        summary="Update a processor",
        description="Changes the parameters given, leaving the others as they are: its name, "
        "`status` (`disabled`: never chosen for a payment; its charges can still be "
        "captured, canceled and refunded), its simulator settings, or a `stripe` processor's "
        "key and address. Emits `processor.updated` when something changed. " + PROCESSOR_ERRORS,
        parameters=[PROCESSOR_ID],
        request=s.ProcessorUpdateSerializer,
        responses=s.ProcessorSchema,
        examples=[
            OpenApiExample(
                "Disable",
                summary="Stop routing payments to it",
                value={"status": "disabled"},
                request_only=True,
            ),
        ],
    )
    def post(self, request, id: str):
        params = validated(s.ProcessorUpdateSerializer, self.params)
        connection = services.connection_update(
            scope=self.caller.scope,
            connection_id=id,
            **_given(params, "name", "status", "simulated", "stripe", "metadata"),
        )
        return Response(connection_to_api(connection))

    @extend_schema(
        operation_id="DeleteProcessorsProcessor",
        summary="Delete a processor",
        description="Removes the processor: it is no longer listed nor chosen (the charges it "
        "made can still be captured, canceled and refunded through it). Refused (400 "
        "`resource_in_use_for_object`, naming the flows) while a payment flow names it, and for "
        "the built-in simulated processor (400 `processor_builtin_for_object`): disable those "
        "instead. "
        "Emits `processor.deleted`.",
        parameters=[PROCESSOR_ID],
        request=None,
        responses={200: s.ProcessorDeletedSchema},
    )
    def delete(self, request, id: str):
        validated(s.RoutingRetrieveSerializer, self.params)
        connection = services.connection_delete(scope=self.caller.scope, connection_id=id)
        return Response(connection_deleted_to_api(connection.id))


# --- payment flows -----------------------------------------------------------------------------


class PaymentFlowsView(StripeAPIView):
    @extend_schema(
        operation_id="GetPaymentFlows",
        summary="List payment flows",
        description="The payment flows of this account and mode, newest first, one page at a time.",
        parameters=[ListParamsSerializer],
        responses=s.PaymentFlowListSchema,
    )
    def get(self, request):
        params = validated(ListParamsSerializer, self.params)
        return self.paginated(
            selectors.flow_list(scope=self.caller.scope),
            params=params,
            url="/v1/payment_flows",
            present=flow_to_api,
            object_name="payment_flow",
        )

    @extend_schema(
        operation_id="PostPaymentFlows",
        summary="Create a payment flow",
        description="A payment flow says which processors a payment goes to and in which "
        "order (`routing`: `priority`, `volume_split`, `rules` or `success_rate`) and whether "
        "a failed attempt is retried on the next one within the same confirm (`retry`). A "
        "payment runs the flow it names, else the `default` flow (at most one per account "
        "and mode), else every active processor oldest first with no retry. Disabled "
        "processors and those whose circuit is open are skipped. Emits "
        "`payment_flow.created` (and `payment_flow.updated` for the flow that stops being the "
        "default). " + FLOW_ERRORS,
        request=s.PaymentFlowCreateSerializer,
        responses=s.PaymentFlowSchema,
        examples=[
            OpenApiExample(
                "Priority with retry",
                summary="One processor, then a fallback",
                value={
                    "name": "Stripe first",
                    "routing": {
                        "type": "priority",
                        "processors": [
                            "proc_1QxV0vLkdIwHu7ix0Zl1Vh1N",
                            "proc_builtin0000000000000",
                        ],
                    },
                    "retry": {"max_attempts": 2},
                    "default": True,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Volume split",
                summary="70 / 30 between two processors",
                value={
                    "name": "Split",
                    "routing": {
                        "type": "volume_split",
                        "split": [
                            {"processor": "proc_1QxV0vLkdIwHu7ix0Zl1Vh1N", "percent": 70},
                            {"processor": "proc_builtin0000000000000", "percent": 30},
                        ],
                    },
                },
                request_only=True,
            ),
            OpenApiExample(
                "Rules",
                summary="EU cards in euros to one processor",
                value={
                    "name": _FLOW_EXAMPLE["name"],
                    "routing": _FLOW_EXAMPLE["routing"],
                    "retry": {"max_attempts": 2},
                },
                request_only=True,
            ),
            OpenApiExample(
                "Created", summary="A new rules flow", value=_FLOW_EXAMPLE, response_only=True
            ),
        ],
    )
    def post(self, request):
        params = validated(s.PaymentFlowCreateSerializer, self.params)
        flow = services.flow_create(
            scope=self.caller.scope,
            name=params["name"],
            routing=params["routing"],
            retry=params.get("retry"),
            default=bool(params.get("default")),
            metadata=params.get("metadata"),
        )
        return Response(flow_to_api(flow))


class PaymentFlowDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetPaymentFlowsFlow",
        summary="Retrieve a payment flow",
        description="The payment flow as it is now, with its `version`.",
        parameters=[FLOW_ID],
        responses=s.PaymentFlowSchema,
    )
    def get(self, request, id: str):
        validated(s.RoutingRetrieveSerializer, self.params)
        return Response(flow_to_api(selectors.flow_get(scope=self.caller.scope, flow_id=id)))

    @extend_schema(
        operation_id="PostPaymentFlowsFlow",
        summary="Update a payment flow",
        description="Changes the parameters given: `routing` is replaced whole, `retry` and "
        "`metadata` merge into the current ones. When something changed, `version` goes up "
        "by one (payments already made keep the version they ran) and `payment_flow.updated` "
        "is emitted. " + FLOW_ERRORS,
        parameters=[FLOW_ID],
        request=s.PaymentFlowUpdateSerializer,
        responses=s.PaymentFlowSchema,
        examples=[
            OpenApiExample(
                "Success rate",
                summary="Route by recent success rate",
                value={
                    "routing": {
                        "type": "success_rate",
                        "processors": [
                            "proc_1QxV0vLkdIwHu7ix0Zl1Vh1N",
                            "proc_builtin0000000000000",
                        ],
                        "window": 200,
                        "exploration_percent": 5,
                    }
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request, id: str):
        params = validated(s.PaymentFlowUpdateSerializer, self.params)
        flow = services.flow_update(
            scope=self.caller.scope,
            flow_id=id,
            **_given(params, "name", "routing", "retry", "default", "metadata"),
        )
        return Response(flow_to_api(flow))

    @extend_schema(
        operation_id="DeletePaymentFlowsFlow",
        summary="Delete a payment flow",
        description="Deletes the flow. Payments made with it keep its id and version; a "
        "payment naming it afterwards is refused. Deleting the default flow leaves the "
        "account without one. Emits `payment_flow.deleted`.",
        parameters=[FLOW_ID],
        request=None,
        responses={200: s.PaymentFlowDeletedSchema},
    )
    def delete(self, request, id: str):
        validated(s.RoutingRetrieveSerializer, self.params)
        flow = services.flow_delete(scope=self.caller.scope, flow_id=id)
        return Response(flow_deleted_to_api(flow.id))
