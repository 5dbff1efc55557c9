"""Payload's endpoints over the checkout intent services and the payment selectors: each
validates, translates, calls one service or selector, and presents in Payload's shape.
Errors leave through `errors.exception_handler`; lists are `{"object": "list", "values"}`
paged by `limit` and `offset`, filtered by `attr=value`, cut to the repeated `fields`."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.geolocation import request_country
from api.parsers import StripeFormParser, StripeJSONParser
from api.schema import path_id
from api.views import StripeAPIView, validated
from checkout_pages import selectors as checkout_selectors
from checkout_pages import services as checkout_services
from core.errors import InvalidRequestError, ParameterMissing, ParameterUnknown
from payments import selectors as payment_selectors
from payments.services import customer_create

from . import presenters, serializers
from .errors import exception_handler

TAG = ["Payload"]
INTENT_ID = path_id("intent", "int_")
TRANSACTION_ID = path_id("transaction: a payment or a refund", "ch_… or re_")
CUSTOMER_ID = path_id("customer", "cus_")
PAYMENT_METHOD_ID = path_id("payment method (a saved card)", "pm_")
DEFAULT_LIMIT = 10
#: The two of Payload's six types that configure objects this service does not have.
NOT_HONOURED = {
    "processing_account_plugin": "processing accounts (sub-merchant onboarding)",
    "oauth_client_token": "OAuth client tokens (connected accounts)",
}


class DecimalJSONParser(StripeJSONParser):
    """Payload's JSON, its decimal amounts read as `Decimal` (never a float)."""

    parse_float = Decimal


class PayloadView(StripeAPIView):
    parser_classes = [DecimalJSONParser, StripeFormParser]
    #: The service's parameter names → where the attribute is in Payload's request.
    error_paths: dict = {}

    def get_exception_handler(self):
        return exception_handler

    def fields(self, params: dict) -> list[str] | None:
        """Payload's `fields` (repeated, or `fields[0]=…`): the attributes to answer with."""
        fields = params.get("fields")
        if fields is None:
            return None
        if isinstance(fields, dict):
            fields = list(fields.values())
        if isinstance(fields, str):
            fields = [fields]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise InvalidRequestError("Invalid fields.", param="fields")
        return fields

    def cut(self, obj: dict, fields: list[str] | None) -> dict:
        if fields is None:
            return obj
        unknown = [name for name in fields if name not in obj]
        if unknown:
            raise ParameterUnknown("fields", f"Unknown field: {unknown[0]}.")
        # `object` always: the client picks the class to build by it
        return {name: obj[name] for name in ["object", *fields]}

    def listed(self, queryset, present, params: dict) -> Response:
        limit = params.get("limit") or DEFAULT_LIMIT
        offset = params.get("offset") or 0
        fields = self.fields(params)
        rows = queryset.order_by("-created", "-id")[offset : offset + limit]
        return Response(
            {"object": "list", "values": [self.cut(present(row), fields) for row in rows]}
        )


# --- intents -----------------------------------------------------------------------------------


def _paths(type: str) -> dict:
    base = [type, "payment"] if type == "payment_form" else [type]
    if type == "payment_method_form":
        base = [type, "payment_method"]
    return {
        "amount": base + ["amount"],
        "currency": base + ["amount"],
        "customer": base + ["customer_id"],
        "description": base + ["description"],
        "invoice": base + ["invoice_id"],
        "order_number": base + ["order_number"],
        "amount_editable": base + ["amount_editable"],
        "redirects[completed_url]": [type, "redirects", "completed_url"],
        "redirects[return_url]": [type, "redirects", "return_url"],
        "metadata": ["attrs"],
    }


def _capture(settings: dict) -> str | None:
    status = settings.get("status")
    return presenters.CAPTURES[status] if status else None


def create_arguments(type: str, settings: dict) -> dict:
    """A Payload type's settings → the checkout intent service's arguments."""
    if type == "payment_method_form":
        return {"customer": settings["payment_method"]["customer_id"]}
    if type == "payment_form":
        payment = settings["payment"]
        return {
            "amount": payment["amount"],
            "currency": serializers.CURRENCY,
            "customer": payment.get("customer_id"),
            "description": payment.get("description"),
            "order_number": payment.get("order_number"),
            "capture": _capture(payment),
        }
    out = {
        "amount": settings.get("amount"),
        "currency": serializers.CURRENCY,
        "customer": settings.get("customer_id"),
        "description": settings.get("description"),
        "invoice": settings.get("invoice_id"),
        "billing_address": settings.get("billing_address", False),
        "card_payments": settings.get("card_payments"),
        "capture": _capture(settings),
    }
    if type == "checkout_page":
        out["redirects"] = settings["redirects"]
    else:
        out["amount_editable"] = settings.get("amount_editable", False)
        out["save_payment_method"] = settings.get("keep_active_toggle", False)
        out["order_number"] = settings.get("order_number")
    return out


#: A type's setting → the checkout intent service's argument, for an update (what is given only).
_UPDATABLE = {
    "amount": "amount",
    "customer_id": "customer",
    "description": "description",
    "invoice_id": "invoice",
    "order_number": "order_number",
    "billing_address": "billing_address",
    "card_payments": "card_payments",
    "amount_editable": "amount_editable",
    "keep_active_toggle": "save_payment_method",
    "redirects": "redirects",
}


def update_arguments(type: str, settings: dict) -> dict:
    """The settings given in an update → the service's arguments; what is not given is kept."""
    if type == "payment_form":
        settings = settings.get("payment") or {}
    if type == "payment_method_form":
        settings = settings.get("payment_method") or {}
    out = {_UPDATABLE[key]: value for key, value in settings.items() if key in _UPDATABLE}
    if "status" in settings:
        out["capture"] = _capture(settings)
    return out


def _refuse_other_settings(data: dict, type: str) -> None:
    """Another type's settings object in a request about an intent of `type`: a 400 naming it."""
    for other in presenters.TYPES:
        if other != type and other in data:
            raise InvalidRequestError(
                f"{other} settings belong to an intent of type {other}, not {type}.",
                param=other,
            )


class IntentsView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_create_intent",
        summary="Create an intent (Payload)",
        description="`type` and that type's settings object. Amounts are decimal dollars. The "
        "answer carries the client token once (`client_token_id` and `client_token`): a "
        "`checkout_page` is paid at `/checkout/{client_token_id}`; the embedded types with "
        "`checkout.js`. `processing_account_plugin` and `oauth_client_token` are refused by "
        "name (this service has no processing accounts or OAuth clients).",
        request=serializers.PayloadIntentCreateSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadIntentCreateSerializer, self.params)
        type = data["type"]
        if type in NOT_HONOURED:
            raise InvalidRequestError(
                f"Intents of type {type} cannot be made here: this service has no "
                f"{NOT_HONOURED[type]}.",
                param="type",
            )
        _refuse_other_settings(data, type)
        if type not in data:
            raise ParameterMissing(type, f"Missing required attribute: {type}.")
        self.error_paths = _paths(type)
        ci, client_token = checkout_services.checkout_intent_create(
            scope=self.caller.scope,
            type=type,
            metadata=data.get("attrs"),
            allowed_origins=data.get("allowed_origins"),
            located_country=request_country(request),
            **create_arguments(type, data[type]),
        )
        return Response(presenters.intent_to_payload(ci, client_token=client_token))

    @extend_schema(
        tags=TAG,
        operation_id="payload_list_intents",
        summary="List intents (Payload)",
        description="Newest first, `limit` (10) at a time from `offset`; `type=` and `status=` "
        "filter; `fields` cuts each intent to the attributes named.",
        parameters=[serializers.PayloadIntentListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayloadIntentListSerializer, self.params)
        queryset = checkout_selectors.checkout_intent_list(
            scope=self.caller.scope, type=data.get("type"), status=data.get("status")
        )
        return self.listed(queryset, presenters.intent_to_payload, data)


class IntentView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_intent",
        summary="Retrieve an intent (Payload)",
        description="The intent as it is now (`finished` once paid or its card saved). The "
        "client token is shown only when issued.",
        parameters=[INTENT_ID, serializers.PayloadEmptySerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadEmptySerializer, self.params)
        ci = checkout_selectors.checkout_intent_get(
            scope=self.caller.scope, checkout_intent_id=presenters.engine_id(id)
        )
        return Response(self.cut(presenters.intent_to_payload(ci), self.fields(data)))

    @extend_schema(
        tags=TAG,
        operation_id="payload_update_intent",
        summary="Update an intent (Payload)",
        description="A pending intent's settings (its type's object, partly: what is given "
        "changes, the rest is kept), `attrs` and `allowed_origins`. The type never changes.",
        parameters=[INTENT_ID],
        request=serializers.PayloadIntentUpdateSerializer,
        responses={200: dict},
    )
    def put(self, request, id: str):
        serializer = serializers.PayloadIntentUpdateSerializer(data=self.params, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        scope = self.caller.scope
        ci = checkout_selectors.checkout_intent_get(
            scope=scope, checkout_intent_id=presenters.engine_id(id)
        )
        if data.get("type", ci.type) != ci.type:
            raise InvalidRequestError(
                f"An intent's type never changes: this one is {ci.type}.", param="type"
            )
        _refuse_other_settings(data, ci.type)
        self.error_paths = _paths(ci.type)
        arguments = update_arguments(ci.type, data.get(ci.type) or {})
        if "attrs" in data:
            arguments["metadata"] = data["attrs"]
        if "allowed_origins" in data:
            arguments["allowed_origins"] = data["allowed_origins"]
        ci = checkout_services.checkout_intent_update(
            scope=scope, checkout_intent_id=ci.id, **arguments
        )
        return Response(presenters.intent_to_payload(ci))

    @extend_schema(
        tags=TAG,
        operation_id="payload_delete_intent",
        summary="Delete an intent (Payload)",
        description="Cancels a pending intent: its page and client token stop working, and it "
        "shows `canceled`; a finished intent cannot be deleted.",
        parameters=[INTENT_ID],
        request=None,
        responses={200: dict},
    )
    def delete(self, request, id: str):
        validated(serializers.PayloadEmptySerializer, self.params)
        ci = checkout_services.checkout_intent_cancel(
            scope=self.caller.scope, checkout_intent_id=presenters.engine_id(id)
        )
        return Response(presenters.intent_to_payload(ci))


class IntentClientTokenView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_intent_client_token",
        summary="Issue an intent's client token (Payload)",
        description="A new client token for a pending intent; the previous one stops working.",
        parameters=[INTENT_ID],
        request=None,
        responses={200: dict},
    )
    def post(self, request, id: str):
        validated(serializers.PayloadEmptySerializer, self.params)
        ci, client_token = checkout_services.checkout_intent_rotate_client_token(
            scope=self.caller.scope, checkout_intent_id=presenters.engine_id(id)
        )
        return Response(presenters.client_token_to_payload(client_token))


# --- transactions ------------------------------------------------------------------------------


class TransactionsView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_list_transactions",
        summary="List transactions (Payload)",
        description="Payments (each attempt to charge a card) and refunds, newest first; "
        "`type=payment` or `type=refund` for one kind.",
        parameters=[serializers.PayloadTransactionListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayloadTransactionListSerializer, self.params)
        scope = self.caller.scope
        if data.get("type") == "refund":
            queryset = payment_selectors.refund_list(scope=scope)
            return self.listed(queryset, presenters.refund_to_payload, data)
        if data.get("type") == "payment":
            queryset = payment_selectors.charge_list(scope=scope)
            return self.listed(queryset, presenters.payment_to_payload, data)
        # both kinds, newest first: the page's worth of each, merged
        limit = data.get("limit") or DEFAULT_LIMIT
        offset = data.get("offset") or 0
        fields = self.fields(data)
        charges = payment_selectors.charge_list(scope=scope).order_by("-created", "-id")
        refunds = payment_selectors.refund_list(scope=scope).order_by("-created", "-id")
        rows = sorted(
            list(charges[: offset + limit]) + list(refunds[: offset + limit]),
            key=lambda row: (row.created, row.id),
            reverse=True,
        )[offset : offset + limit]
        present = {"ch": presenters.payment_to_payload, "re": presenters.refund_to_payload}
        return Response(
            {
                "object": "list",
                "values": [
                    self.cut(present[row.id.partition("_")[0]](row), fields) for row in rows
                ],
            }
        )


class TransactionView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_transaction",
        summary="Retrieve a transaction (Payload)",
        description="A payment (`ch_…`: one attempt to charge a card) or a refund (`re_…`).",
        parameters=[TRANSACTION_ID, serializers.PayloadEmptySerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadEmptySerializer, self.params)
        if id.startswith("re_"):
            refund = payment_selectors.refund_get(scope=self.caller.scope, refund_id=id)
            obj = presenters.refund_to_payload(refund)
        else:
            charge = payment_selectors.charge_get(scope=self.caller.scope, charge_id=id)
            obj = presenters.payment_to_payload(charge)
        return Response(self.cut(obj, self.fields(data)))


# --- customers and their payment methods -----------------------------------------------------


def _customer(customer) -> dict:
    """The customer with its saved cards (`customer.payment_methods`, prefetched on a list by
    `payment_selectors.with_payment_methods`)."""
    return presenters.customer_to_payload(customer, customer.payment_methods.all())


class CustomersView(PayloadView):
    error_paths = {"phone": ["phone_number"], "metadata": ["attrs"]}

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_customer",
        summary="Create a customer (Payload)",
        description="`email` and `name` required; the same customer (`cus_…`) the Stripe "
        "dialect's `/v1/customers` shows.",
        request=serializers.PayloadCustomerCreateSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadCustomerCreateSerializer, self.params)
        customer = customer_create(
            scope=self.caller.scope,
            email=data["email"],
            name=data["name"],
            description=data.get("description"),
            phone=data.get("phone_number"),
            metadata=data.get("attrs"),
        )
        return Response(_customer(customer))

    @extend_schema(
        tags=TAG,
        operation_id="payload_list_customers",
        summary="List customers (Payload)",
        description="Newest first, `limit` (10) at a time from `offset`; `email=` filters; each "
        "with its `payment_methods`.",
        parameters=[serializers.PayloadCustomerListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayloadCustomerListSerializer, self.params)
        queryset = payment_selectors.with_payment_methods(
            payment_selectors.customer_list(scope=self.caller.scope, email=data.get("email"))
        )
        return self.listed(queryset, _customer, data)


class CustomerView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_customer",
        summary="Retrieve a customer (Payload)",
        description="The customer with its saved cards (`payment_methods`).",
        parameters=[CUSTOMER_ID, serializers.PayloadEmptySerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadEmptySerializer, self.params)
        customer = payment_selectors.customer_get(
            scope=self.caller.scope, customer_id=id, param="id"
        )
        return Response(self.cut(_customer(customer), self.fields(data)))


class PaymentMethodsView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_list_payment_methods",
        summary="List payment methods (Payload)",
        description="Saved cards, newest first; `customer_id=` for one customer's.",
        parameters=[serializers.PayloadPaymentMethodListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayloadPaymentMethodListSerializer, self.params)
        queryset = payment_selectors.payment_method_list(
            scope=self.caller.scope, customer_id=data.get("customer_id"), type=data.get("type")
        )
        return self.listed(queryset, presenters.payment_method_to_payload, data)


class PaymentMethodView(PayloadView):
    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_payment_method",
        summary="Retrieve a payment method (Payload)",
        description="A saved card: its number masked to the last four, its expiry `MM/YYYY`.",
        parameters=[PAYMENT_METHOD_ID, serializers.PayloadEmptySerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadEmptySerializer, self.params)
        pm = payment_selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        default = None
        if pm.customer_id:
            customer = payment_selectors.customer_get(
                scope=self.caller.scope, customer_id=pm.customer_id
            )
            default = (customer.invoice_settings or {}).get("default_payment_method")
        obj = presenters.payment_method_to_payload(pm, default_payment_method=default)
        return Response(self.cut(obj, self.fields(data)))
