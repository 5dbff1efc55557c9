"""/v1/payment_methods, /v1/customers, /v1/charges, /v1/refunds. Each view validates input, calls one service
or selector, and serialises the result."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from api.schema import CARD_DECLINED, path_id, search_query_parameter
from api.search_pagination import search_page
from api.views import StripeAPIView, validated
from core.metadata import METADATA_CLEAR
from routing import selectors as routing_selectors
from routing.presenters import evaluation_to_api
from routing.routes import Facts, decide

from .. import insights, presenters, selectors, services
from ..search import CHARGE_SEARCH, CUSTOMER_SEARCH, MAX_QUERY_LENGTH
from . import serializers as s

PM_ID = path_id("payment method", "pm_")
CUSTOMER_ID = path_id("customer", "cus_")
CHARGE_ID = path_id("charge", "ch_")
REFUND_ID = path_id("refund", "re_")


def _pick(data: dict, *names: str) -> dict:
    """Only the params that were sent, so a service leaves the others untouched."""
    return {name: data[name] for name in names if name in data}


# --- payment methods -----------------------------------------------------------------------


class PaymentMethodsView(StripeAPIView):
    """Create (also with a publishable key, as Stripe.js does) and list."""

    publishable_methods = frozenset({"POST"})

    def initial(self, request, *args, **kwargs):
        # Only the create is open to publishable keys; decided before the permission check.
        self.allow_publishable = request.method in self.publishable_methods
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="GetPaymentMethods",
        summary="List payment methods",
        description="The payment methods of this account and mode, newest first, one page at a time; optionally of one customer.",
        parameters=[s.PaymentMethodListSerializer],
        responses=s.PaymentMethodListSchema,
    )
    def get(self, request):
        params = validated(s.PaymentMethodListSerializer, self.params)
        customer_id = params.get("customer")
        if customer_id:
            customer_id = selectors.customer_get(
                scope=self.caller.scope, customer_id=customer_id, param="customer"
            ).id
        queryset = selectors.payment_method_list(
            scope=self.caller.scope, customer_id=customer_id, type=params.get("type")
        )
        return self.paginated(
            queryset,
            params=params,
            url="/v1/payment_methods",
            present=presenters.payment_method_to_api,
            object_name="payment_method",
        )

    @extend_schema(
        operation_id="PostPaymentMethods",
        summary="Create a payment method",
        description="Vaults a card: the number is tokenised by the processor and never stored (only the brand, the last 4 digits, the expiry and a fingerprint). Also with a publishable key, as Stripe.js does. A number that fails the Luhn check, a past expiry or a malformed CVC answers 402.",
        request=s.PaymentMethodDataSerializer,
        responses={200: s.PaymentMethodSchema, 402: CARD_DECLINED},
    )
    def post(self, request):
        params = validated(s.PaymentMethodDataSerializer, self.params)
        pm = services.payment_method_create(
            scope=self.caller.scope,
            card=services.raw_card_from_params(params["card"]),
            billing_details=params.get("billing_details"),
            metadata=params.get("metadata"),
        )
        return Response(presenters.payment_method_to_api(pm))


class PaymentMethodDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetPaymentMethodsPaymentMethod",
        summary="Retrieve a payment method",
        description="The payment method as it is now.",
        parameters=[PM_ID, s.RetrieveSerializer],
        responses=s.PaymentMethodSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        pm = selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        return Response(presenters.payment_method_to_api(pm))

    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethod",
        summary="Update a payment method",
        description="Changes its billing details or metadata; the card itself cannot change.",
        parameters=[PM_ID],
        request=s.PaymentMethodUpdateSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request, id: str):
        params = validated(s.PaymentMethodUpdateSerializer, self.params)
        pm = services.payment_method_update(
            scope=self.caller.scope,
            payment_method_id=id,
            **_pick(params, "billing_details", "metadata"),
        )
        return Response(presenters.payment_method_to_api(pm))


class PaymentMethodAttachView(StripeAPIView):
    def url_id_names_no_row(self, object_id: str) -> bool:
        # In test mode a magic id (`pm_card_visa`) is attached as a new copy, as Stripe does.
        return not self.caller.livemode and services.is_magic_id(object_id)

    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethodAttach",
        summary="Attach a payment method to a customer",
        description="Attaches the payment method to `customer`, so it can be used again for that customer's payments. A payment method attached to another customer answers 400.",
        parameters=[PM_ID],
        request=s.PaymentMethodAttachSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request, id: str):
        params = validated(s.PaymentMethodAttachSerializer, self.params)
        pm = services.payment_method_attach(
            scope=self.caller.scope, payment_method_id=id, customer_id=params["customer"]
        )
        return Response(presenters.payment_method_to_api(pm))


class PaymentMethodDetachView(StripeAPIView):
    @extend_schema(
        operation_id="PostPaymentMethodsPaymentMethodDetach",
        summary="Detach a payment method from its customer",
        description="Detaches the payment method from its customer; it can no longer be used for payments.",
        parameters=[PM_ID],
        request=s.PaymentMethodDetachSerializer,
        responses=s.PaymentMethodSchema,
    )
    def post(self, request, id: str):
        validated(s.PaymentMethodDetachSerializer, self.params)
        pm = services.payment_method_detach(scope=self.caller.scope, payment_method_id=id)
        return Response(presenters.payment_method_to_api(pm))


# --- customers -----------------------------------------------------------------------------


class CustomersView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomers",
        summary="List customers",
        description="The customers of this account and mode, newest first, one page at a time; optionally only those with an email address.",
        parameters=[s.CustomerListSerializer],
        responses=s.CustomerListSchema,
    )
    def get(self, request):
        params = validated(s.CustomerListSerializer, self.params)
        queryset = selectors.customer_list(scope=self.caller.scope, email=params.get("email"))
        return self.paginated(
            queryset,
            params=params,
            url="/v1/customers",
            present=presenters.customer_to_api,
            object_name="customer",
        )

    @extend_schema(
        operation_id="PostCustomers",
        summary="Create a customer",
        description="Creates a customer; with `payment_method`, that payment method is attached to it.",
        request=s.CustomerCreateSerializer,
        responses=s.CustomerSchema,
    )
    def post(self, request):
        params = validated(s.CustomerCreateSerializer, self.params)
        customer = services.customer_create(scope=self.caller.scope, **params)
        return Response(presenters.customer_to_api(customer))


class CustomerDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomersCustomer",
        summary="Retrieve a customer",
        description="The customer as it is now.",
        parameters=[CUSTOMER_ID, s.RetrieveSerializer],
        responses=s.CustomerSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        customer = selectors.customer_get(scope=self.caller.scope, customer_id=id, param="id")
        return Response(presenters.customer_to_api(customer))

    @extend_schema(
        operation_id="PostCustomersCustomer",
        summary="Update a customer",
        description="Changes the parameters given, leaving the others as they are; an empty value unsets a field.",
        parameters=[CUSTOMER_ID],
        request=s.CustomerUpdateSerializer,
        responses=s.CustomerSchema,
    )
    def post(self, request, id: str):
        params = validated(s.CustomerUpdateSerializer, self.params)
        customer = services.customer_update(scope=self.caller.scope, customer_id=id, **params)
        return Response(presenters.customer_to_api(customer))

    @extend_schema(
        operation_id="DeleteCustomersCustomer",
        summary="Delete a customer",
        description="Deletes the customer; its payment methods are detached. Its past payments stay.",
        parameters=[CUSTOMER_ID],
        request=None,
        responses={200: s.CustomerDeletedSchema},
    )
    def delete(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        customer = services.customer_delete(scope=self.caller.scope, customer_id=id)
        return Response(presenters.customer_deleted_to_api(customer))


class CustomerPaymentMethodsView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomersCustomerPaymentMethods",
        summary="List a customer's payment methods",
        description="The payment methods attached to this customer, newest first, one page at a time.",
        parameters=[CUSTOMER_ID, s.CustomerPaymentMethodListSerializer],
        responses=s.PaymentMethodListSchema,
    )
    def get(self, request, id: str):
        params = validated(s.CustomerPaymentMethodListSerializer, self.params)
        customer = selectors.customer_get(scope=self.caller.scope, customer_id=id, param="id")
        queryset = selectors.payment_method_list(
            scope=self.caller.scope, customer_id=customer.id, type=params.get("type")
        )
        return self.paginated(
            queryset,
            params=params,
            url=f"/v1/customers/{customer.id}/payment_methods",
            present=presenters.payment_method_to_api,
            object_name="payment_method",
        )


# --- charges -------------------------------------------------------------------------------


class ChargesView(StripeAPIView):
    @extend_schema(
        operation_id="GetCharges",
        summary="List charges",
        description="The charges (one per payment attempt) of this account and mode, newest first, one page at a time; optionally of one payment intent or customer.",
        parameters=[s.ChargeListSerializer],
        responses=s.ChargeListSchema,
    )
    def get(self, request):
        params = validated(s.ChargeListSerializer, self.params)
        queryset = selectors.charge_list(
            scope=self.caller.scope,
            payment_intent_id=params.get("payment_intent"),
            customer_id=params.get("customer"),
        )
        return self.paginated(
            queryset,
            params=params,
            url="/v1/charges",
            present=presenters.charge_to_api,
            object_name="charge",
        )


class ChargeDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetChargesCharge",
        summary="Retrieve a charge",
        description="One payment attempt: its outcome, the card's details and the amounts captured and refunded.",
        parameters=[CHARGE_ID, s.RetrieveSerializer],
        responses=s.ChargeSchema,
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        charge = selectors.charge_get(scope=self.caller.scope, charge_id=id)
        return Response(presenters.charge_to_api(charge))


# --- refunds -------------------------------------------------------------------------------

REFUND_ERRORS = (
    "Errors: 400 `amount_too_large` (more than is left to refund), `charge_already_refunded`, "
    "`charge_not_refundable` (a charge that holds no captured payment; an uncaptured "
    "authorisation is released by canceling its PaymentIntent), "
    "`payment_intent_unexpected_state` (the PaymentIntent has not succeeded); 404 when the "
    "PaymentIntent or charge is not found in this account and mode."
)


class RefundsView(StripeAPIView):
    @extend_schema(
        operation_id="PostRefunds",
        summary="Create a refund",
        description=(
            "Gives back all or part of a captured payment, named by `payment_intent` (its "
            "latest charge) or `charge`. Partial refunds may be repeated until the captured "
            "amount is used up; concurrent refunds never give back more than was captured. "
            "The refund is `succeeded` at once, or `pending` when the processor answers later "
            "(a worker then settles it; a failed refund gives its amount back). The "
            "PaymentIntent stays `succeeded`; the charge's `amount_refunded`, `refunded` and "
            "`refunds` change. Events: `refund.created`, `charge.refunded` when it succeeds, "
            "`refund.failed` when it fails. " + REFUND_ERRORS
        ),
        request=s.RefundCreateSerializer,
        responses={200: s.RefundSchema},
    )
    def post(self, request):
        params = validated(s.RefundCreateSerializer, self.params)
        refund = services.refund_create(
            scope=self.caller.scope,
            payment_intent_id=params.get("payment_intent"),
            charge_id=params.get("charge"),
            amount=params.get("amount"),
            reason=params.get("reason"),
            metadata=params.get("metadata"),
        )
        return Response(presenters.refund_to_api(refund))

    @extend_schema(
        operation_id="GetRefunds",
        summary="List refunds",
        description=(
            "Refunds of this account and mode, newest first, optionally only those of one "
            "`charge` or one `payment_intent`, and within `created` bounds (unix seconds; "
            "`created[gt|gte|lt|lte]`). Keyset pagination with `limit`, `starting_after`, "
            "`ending_before`."
        ),
        parameters=[s.RefundListSerializer],
        responses={200: s.RefundListSchema},
    )
    def get(self, request):
        params = validated(s.RefundListSerializer, self.params)
        queryset = selectors.refund_list(
            scope=self.caller.scope,
            charge_id=params.get("charge"),
            payment_intent_id=params.get("payment_intent"),
        )
        return self.paginated(
            queryset,
            params=params,
            url="/v1/refunds",
            present=presenters.refund_to_api,
            object_name="refund",
        )


class RefundDetailView(StripeAPIView):
    @extend_schema(
        operation_id="GetRefundsRefund",
        summary="Retrieve a refund",
        description="The refund with this id; 404 when it is not in this account and mode.",
        parameters=[REFUND_ID, s.RetrieveSerializer],
        responses={200: s.RefundSchema},
    )
    def get(self, request, id: str):
        validated(s.RetrieveSerializer, self.params)
        refund = selectors.refund_get(scope=self.caller.scope, refund_id=id)
        return Response(presenters.refund_to_api(refund))

    @extend_schema(
        operation_id="PostRefundsRefund",
        summary="Update a refund",
        description=(
            "Changes the refund's `metadata` (merged; an empty value removes a key) and nothing "
            "else. Events: `refund.updated` and `charge.refund.updated` when it changed."
        ),
        parameters=[REFUND_ID],
        request=s.RefundUpdateSerializer,
        responses={200: s.RefundSchema},
    )
    def post(self, request, id: str):
        params = validated(s.RefundUpdateSerializer, self.params)
        refund = services.refund_update(
            scope=self.caller.scope, refund_id=id, **_pick(params, "metadata")
        )
        return Response(presenters.refund_to_api(refund))


class RefundCancelView(StripeAPIView):
    @extend_schema(
        operation_id="PostRefundsRefundCancel",
        summary="Cancel a refund",
        description=(
            "Stops a refund that has not completed: one in `requires_action`, or `pending` in "
            "test mode. It becomes `canceled` and its amount can be refunded again. Any other "
            "status (or a processor call for it still under way) is a 400 "
            "`refund_unexpected_state`. Events: `refund.updated`, `charge.refund.updated`."
        ),
        parameters=[REFUND_ID],
        request=s.RefundCancelSerializer,
        responses={200: s.RefundSchema},
    )
    def post(self, request, id: str):
        validated(s.RefundCancelSerializer, self.params)
        refund = services.refund_cancel(scope=self.caller.scope, refund_id=id)
        return Response(presenters.refund_to_api(refund))


class ChargeRefundsView(StripeAPIView):
    @extend_schema(
        operation_id="GetChargesChargeRefunds",
        summary="List a charge's refunds",
        description=(
            "The refunds of one charge, newest first, with the same pagination as "
            "`GET /v1/refunds`; 404 when the charge is not in this account and mode."
        ),
        parameters=[CHARGE_ID, s.ChargeRefundListSerializer],
        responses={200: s.RefundListSchema},
    )
    def get(self, request, id: str):
        params = validated(s.ChargeRefundListSerializer, self.params)
        charge = selectors.charge_get(scope=self.caller.scope, charge_id=id)
        queryset = selectors.refund_list(scope=self.caller.scope, charge_id=charge.id)
        return self.paginated(
            queryset,
            params=params,
            url=f"/v1/charges/{charge.id}/refunds",
            present=presenters.refund_to_api,
            object_name="refund",
        )


# --- processor insights --------------------------------------------------------------------


class ProcessorInsightsView(StripeAPIView):
    @extend_schema(
        operation_id="GetProcessorInsights",
        summary="Processor insights",
        description=(
            "How each processor connection answered this account's authorisation attempts "
            "created in `created` (default: the last 30 days), one row per connection "
            "(`group_by=processor`, the most attempts first) or per UTC day (`group_by=day`), "
            "optionally of one `payment_flow`. Per row: `attempts` and their outcomes "
            "(`succeeded`, `soft_declines`, `hard_declines`, `processor_errors`, "
            "`requires_action`, `processing`), `authorization_rate` (succeeded / the attempts "
            "that reached an answer: succeeded and declined), the calls' `latency_ms` (`p50`, "
            "`p95`) and the succeeded `volume` per currency. `recovered`: the payments that "
            "succeeded on a retry (a later attempt of one confirm), counted, and their amount "
            "per currency. Secret keys only. `created[gte]` must be before `created[lt]` "
            "(before now when `created[lt]` is not given): an empty window answers 400 "
            "(`x-less-than`)."
        ),
        # (insights.processor_insights refuses an empty window)
        extensions={"x-less-than": {"created[gte]": {"than": "created[lt]", "default": "now"}}},
        parameters=[s.ProcessorInsightsParamsSerializer],
        responses={200: s.ProcessorInsightsSchema},
    )
    def get(self, request):
        params = validated(s.ProcessorInsightsParamsSerializer, self.params)
        created = params.get("created") or {}
        return Response(
            insights.processor_insights(
                scope=self.caller.scope,
                gte=created.get("gte"),
                lt=created.get("lt"),
                payment_flow=params.get("payment_flow"),
                group_by=params.get("group_by") or "processor",
            )
        )


# --- payment flow evaluation ---------------------------------------------------------------

FLOW_ID = path_id("payment flow", "flow_")


class PaymentFlowEvaluateView(StripeAPIView):
    """Here rather than in routing.api: the facts of a payment method are payments' (routing
    sits below payments and never reads them)."""

    @extend_schema(
        operation_id="PostPaymentFlowsFlowEvaluate",
        summary="Evaluate a payment flow",
        description=(
            "Where a payment with these facts would go under the flow as it is now, without "
            "making it: the processors in the order a confirm would try them (`attempts` of "
            "them at most), the rule that matched (`rules`), and each processor the flow names "
            "that was skipped, with why (`disabled`, `circuit_open`, `no_token`: the "
            "`payment_method` holds no token there). The facts: `amount`, `currency`, "
            "`metadata`, and the card of `payment_method` or `card[brand]` / `card[country]`. "
            "A `volume_split` or `success_rate` flow draws again at each call. Nothing is "
            "written. Errors: 404 when the flow or the payment method is not in this account "
            "and mode."
        ),
        parameters=[FLOW_ID],
        request=s.PaymentFlowEvaluateSerializer,
        responses={200: s.PaymentFlowEvaluationSchema},
        examples=[
            OpenApiExample(
                "A card in euros",
                summary="Evaluate for a German Visa card",
                value={
                    "amount": 5000,
                    "currency": "eur",
                    "card": {"brand": "visa", "country": "DE"},
                },
                request_only=True,
            ),
            OpenApiExample(
                "Evaluated",
                summary="The first rule matched; one processor is disabled",
                value={
                    "object": "payment_flow_evaluation",
                    "payment_flow": "flow_9rIvqZbLQbXh2WfPqQ3wkM1u",
                    "version": 3,
                    "routing_type": "rules",
                    "processors": ["proc_builtin0000000000000"],
                    "attempts": 1,
                    "rule": 0,
                    "skipped": [
                        {"processor": "proc_1QxV0vLkdIwHu7ix0Zl1Vh1N", "reason": "disabled"}
                    ],
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request, id: str):
        params = validated(s.PaymentFlowEvaluateSerializer, self.params)
        scope = self.caller.scope
        flow_row = routing_selectors.flow_get(scope=scope, flow_id=id)
        card = params.get("card") or {}
        brand, country = card.get("brand"), card.get("country")
        pm = None
        if params.get("payment_method"):
            pm = selectors.payment_method_get(
                scope=scope, payment_method_id=params["payment_method"], param="payment_method"
            )
            brand, country = pm.card_brand, pm.card_country
        # the scope's connections as a confirm reads them; the flow as just read (the one
        # named, never the default a confirm falls back to)
        connections, _ = routing_selectors.routing_inputs(scope=scope, flow_id=flow_row.id)
        flow = {
            "id": flow_row.id,
            "version": flow_row.version,
            "routing": flow_row.routing,
            "retry": flow_row.retry,
        }
        # the connections the card has a token at, as a confirm counts them
        tokens = services.card_tokens(pm, connections) if pm is not None else None
        metadata = params.get("metadata")
        facts = Facts(
            amount=params["amount"],
            currency=params["currency"],
            card_brand=brand,
            card_country=country,
            metadata=(
                {}
                if metadata is None or metadata is METADATA_CLEAR
                else {k: v for k, v in metadata.items() if v is not None}
            ),
            tokens=tokens,
        )
        route = decide(flow, connections, facts, now=timezone.now())
        return Response(evaluation_to_api(route, flow_id=flow["id"], version=flow["version"]))


def _search_answer(queryset, params: dict, url: str, present) -> Response:
    rows, has_more, next_page = search_page(
        queryset, limit=params.get("limit"), page=params.get("page")
    )
    return Response(
        {
            "object": "search_result",
            "url": url,
            "has_more": has_more,
            "next_page": next_page,
            "data": [present(row) for row in rows],
        }
    )


class CustomerSearchView(StripeAPIView):
    @extend_schema(
        operation_id="GetCustomersSearch",
        summary="Search customers",
        description="Customers matching a query in Stripe's search language over `email`, "
        "`name`, `phone`, `created` and `metadata['key']`, e.g. `email:'jenny@example.com'`. "
        "Pages with `page` (the previous answer's `next_page`).",
        parameters=[
            s.SearchParamsSerializer,
            search_query_parameter(
                format_name=CUSTOMER_SEARCH.format,
                fields=CUSTOMER_SEARCH.kinds(),
                max_length=MAX_QUERY_LENGTH,
                example="`email:'jenny@example.com'`",
            ),
        ],
        responses=s.CustomerSearchSchema,
    )
    def get(self, request):
        params = validated(s.SearchParamsSerializer, self.params)
        queryset = selectors.customer_search(scope=self.caller.scope, query=params["query"])
        return _search_answer(queryset, params, "/v1/customers/search", presenters.customer_to_api)


class ChargeSearchView(StripeAPIView):
    @extend_schema(
        operation_id="GetChargesSearch",
        summary="Search charges",
        description="Charges matching a query in Stripe's search language over `amount`, "
        "`created`, `currency`, `status`, `customer`, `payment_intent` and `metadata['key']`, "
        "e.g. `status:'failed' AND amount>1000`.",
        parameters=[
            s.SearchParamsSerializer,
            search_query_parameter(
                format_name=CHARGE_SEARCH.format,
                fields=CHARGE_SEARCH.kinds(),
                max_length=MAX_QUERY_LENGTH,
                example="`status:'failed' AND amount>1000`",
            ),
        ],
        responses=s.ChargeSearchSchema,
    )
    def get(self, request):
        params = validated(s.SearchParamsSerializer, self.params)
        queryset = selectors.charge_search(scope=self.caller.scope, query=params["query"])
        return _search_answer(queryset, params, "/v1/charges/search", presenters.charge_to_api)
