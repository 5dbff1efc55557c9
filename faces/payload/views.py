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
from core.errors import CardError, InvalidRequestError, ParameterMissing, ParameterUnknown
from core.money import currency_exponent
from core.values import UNSET
from events import selectors as event_selectors
from events import services as event_services
from intents import services as intent_services
from payments import selectors as payment_selectors
from payments import services as payment_services

from . import presenters, serializers, webhooks
from .errors import declined, exception_handler

TAG = ["Payload"]
INTENT_ID = path_id("intent", "int_")
TRANSACTION_ID = path_id("transaction: a payment or a refund", "ch_… or re_")
CUSTOMER_ID = path_id("customer", "cus_")
PAYMENT_METHOD_ID = path_id("payment method", "pm_")
WEBHOOK_ID = path_id("webhook", "we_")
DIALECT = "payload"
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


def minor_units(amount: Decimal | None, currency: str, param: str = "amount") -> int | None:
    """A decimal amount in `currency`'s major unit → its minor units, exactly; more decimals
    than the currency has is refused naming `param`."""
    if amount is None:
        return None
    exponent = currency_exponent(currency)
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        places = "no decimal places" if not exponent else f"at most {exponent} decimal places"
        raise InvalidRequestError(
            f"Invalid amount: {currency.upper()} amounts have {places}.", param=param
        )
    return int(scaled)


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
        currency = payment.get("currency") or serializers.CURRENCY
        return {
            "amount": minor_units(payment["amount"], currency),
            "currency": currency,
            "customer": payment.get("customer_id"),
            "description": payment.get("description"),
            "order_number": payment.get("order_number"),
            "capture": _capture(payment),
        }
    currency = settings.get("currency") or serializers.CURRENCY
    out = {
        "amount": minor_units(settings.get("amount"), currency),
        "currency": currency,
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


#: Payload's settings attribute → the checkout intent service's argument (an update sends some).
UPDATABLE = {
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


def update_arguments(ci, settings: dict) -> dict:
    """The attributes of an intent's settings an update sends → the service's arguments (only
    those sent: the rest is kept)."""
    if ci.type == "payment_form":
        settings = settings.get("payment") or {}
    out = {UPDATABLE[name]: value for name, value in settings.items() if name in UPDATABLE}
    if "status" in settings:
        out["capture"] = _capture(settings)
    if "currency" in settings and "amount" not in settings:
        raise InvalidRequestError(
            "A new currency goes with its amount: send amount too.", param="currency"
        )
    if "amount" in settings:
        currency = settings.get("currency") or ci.currency or serializers.CURRENCY
        out["amount"] = minor_units(settings["amount"], currency)
        out["currency"] = currency
    return out


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
        for other in presenters.TYPES:
            if other != type and other in data:
                raise InvalidRequestError(
                    f"{other} settings belong to an intent of type {other}, not {type}.",
                    param=other,
                )
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
        description="A pending intent's settings (of its own type: the type never changes), "
        "`attrs` (merged) and `allowed_origins`. Only the attributes sent change.",
        parameters=[INTENT_ID],
        request=serializers.PayloadIntentUpdateSerializer,
        responses={200: dict},
    )
    def put(self, request, id: str):
        data = validated(serializers.PayloadIntentUpdateSerializer, self.params)
        scope = self.caller.scope
        ci = checkout_selectors.checkout_intent_get(
            scope=scope, checkout_intent_id=presenters.engine_id(id)
        )
        if data.get("type", ci.type) != ci.type:
            raise InvalidRequestError("An intent's type cannot be changed.", param="type")
        for name in presenters.TYPES:
            if name != ci.type and name in data:
                raise InvalidRequestError(
                    f"{name} settings belong to an intent of type {name}, not {ci.type}.",
                    param=name,
                )
        self.error_paths = _paths(ci.type)
        ci = checkout_services.checkout_intent_update(
            scope=scope,
            checkout_intent_id=ci.id,
            metadata=data.get("attrs", UNSET),
            allowed_origins=data.get("allowed_origins", UNSET),
            **update_arguments(ci, data.get(ci.type) or {}),
        )
        return Response(presenters.intent_to_payload(ci))

    @extend_schema(
        tags=TAG,
        operation_id="payload_delete_intent",
        summary="Delete an intent (Payload)",
        description="Cancels a pending intent (`canceled`: its page and token stop working); "
        "the answer is the intent as it ends. A payment under way is finished by its outcome, "
        "not deleted.",
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


def _card(card: dict) -> dict:
    """Payload's card (`card_number`, `expiry` as `MM/YY` or `MM/YYYY`, `card_code`) → the
    service's card parameters."""
    month, _, year = card["expiry"].strip().partition("/")
    if not (month.strip().isdigit() and year.strip().isdigit()):
        raise InvalidRequestError("Invalid expiry: use MM/YY.", param="card[expiry]")
    year_number = int(year)
    return {
        "number": "".join(card["card_number"].split()).replace("-", ""),
        "exp_month": int(month),
        "exp_year": year_number + 2000 if year_number < 100 else year_number,
        "cvc": card.get("card_code"),
    }


def _billing_details(data: dict) -> dict | None:
    address = data.get("billing_address")
    details: dict = {}
    if data.get("account_holder"):
        details["name"] = data["account_holder"]
    if address:
        details["address"] = {
            engine: address[face]
            for engine, face in presenters.BILLING_ADDRESS.items()
            if address.get(face) is not None
        }
    return details or None


def payment_method_create(scope, data: dict, *, attach: bool):
    """A Payload payment method → the service's (tokenised: the number and code are never
    kept), attached to its `customer_id` when `attach`."""
    if data["type"] != "card":
        raise InvalidRequestError(
            "Payment methods of type bank_account cannot be made here: this service takes "
            "cards only.",
            param="type",
        )
    if "card" not in data:
        raise ParameterMissing("card", "Missing required attribute: card.")
    customer_id = data.get("customer_id")
    if attach and customer_id:
        payment_selectors.customer_get(scope=scope, customer_id=customer_id, param="customer_id")
    card = payment_services.raw_card_from_params(_card(data["card"]))
    pm = payment_services.payment_method_create(
        scope=scope,
        card=card,
        billing_details=_billing_details(data),
        metadata=data.get("attrs"),
    )
    if attach and customer_id:
        pm = payment_services.payment_method_attach(
            scope=scope, payment_method_id=pm.id, customer_id=customer_id
        )
    return pm


#: The service's card parameters → Payload's names, for the errors' `details`.
CARD_PATHS = {
    "card[number]": ["card", "card_number"],
    "card[exp_month]": ["card", "expiry"],
    "card[exp_year]": ["card", "expiry"],
    "card[cvc]": ["card", "card_code"],
    "customer": ["customer_id"],
    "payment_method": ["payment_method_id"],
    "charge": ["ledger", "assoc_transaction_id"],
    "metadata": ["attrs"],
}


class TransactionsView(PayloadView):
    """Payload's transactions: a payment (captured or only authorized) or a refund, and the list."""

    error_paths = CARD_PATHS

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_transaction",
        summary="Create a payment or a refund (Payload)",
        description="`type: payment`: charges `amount` to `payment_method_id` (a saved card) or "
        "to the card given in `payment_method`; `status: authorized` only authorises it (capture "
        "it later with `status: processed`). A declined card is `TransactionDeclined` with the "
        "declined payment in `details`. `type: refund`: refunds `amount` of the payment named "
        "in `ledger[0].assoc_transaction_id`. A payment is a PaymentIntent and its charge in "
        "`/v1/`; a refund is a `/v1/` refund.",
        request=serializers.PayloadTransactionCreateSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadTransactionCreateSerializer, self.params)
        if data["type"] == "refund":
            return Response(presenters.refund_to_payload(self.refund(data)))
        return self.pay(data)

    def refund(self, data: dict):
        for name in ("payment_method_id", "payment_method", "customer_id", "status", "currency"):
            if name in data:
                raise InvalidRequestError(f"A refund takes no {name}.", param=name)
        if not data.get("ledger"):
            raise ParameterMissing(
                "ledger", "Missing required attribute: ledger (the payment refunded)."
            )
        charge_id = data["ledger"][0]["assoc_transaction_id"]
        charge = payment_selectors.charge_get(
            scope=self.caller.scope, charge_id=charge_id, param="charge"
        )
        return payment_services.refund_create(
            scope=self.caller.scope,
            charge_id=charge.id,
            amount=minor_units(data["amount"], charge.currency),
            metadata=data.get("attrs"),
        )

    def pay(self, data: dict) -> Response:
        scope = self.caller.scope
        if "ledger" in data:
            raise InvalidRequestError("A payment takes no ledger.", param="ledger")
        if ("payment_method_id" in data) == ("payment_method" in data):
            raise ParameterMissing(
                "payment_method_id",
                "Send one of payment_method_id (a saved card) or payment_method (a card).",
            )
        payment_method = data.get("payment_method_id")
        if payment_method is None:
            self.error_paths = {
                name: ["payment_method", *path] for name, path in CARD_PATHS.items()
            }
            payment_method = payment_method_create(scope, data["payment_method"], attach=False).id
            self.error_paths = CARD_PATHS
        currency = data.get("currency") or serializers.CURRENCY
        try:
            pi = intent_services.payment_intent_create(
                scope=scope,
                amount=minor_units(data["amount"], currency),
                currency=currency,
                customer=data.get("customer_id"),
                description=data.get("description"),
                metadata=data.get("attrs"),
                payment_method=payment_method,
                capture_method="manual" if data.get("status") == "authorized" else "automatic",
                confirm=True,
                error_on_requires_action=True,
            )
        except CardError as exc:
            charge = self.latest_charge((exc.payment_intent or {}).get("latest_charge"))
            if charge is None:
                raise
            return declined(exc.message, presenters.payment_to_payload(charge))
        charge = self.latest_charge(pi.latest_charge_id)
        return Response(presenters.payment_to_payload(charge))

    def latest_charge(self, charge_id):
        if not charge_id:
            return None
        return payment_selectors.charge_get(scope=self.caller.scope, charge_id=charge_id)

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
    """One Payload transaction: retrieve, or capture or void an authorized payment with `PUT`."""

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
        return Response(self.cut(self.transaction(id), self.fields(data)))

    def transaction(self, id: str) -> dict:
        if id.startswith("re_"):
            refund = payment_selectors.refund_get(scope=self.caller.scope, refund_id=id)
            return presenters.refund_to_payload(refund)
        charge = payment_selectors.charge_get(scope=self.caller.scope, charge_id=id)
        return presenters.payment_to_payload(charge)

    @extend_schema(
        tags=TAG,
        operation_id="payload_update_transaction",
        summary="Capture or void a payment (Payload)",
        description="`status: processed` captures an `authorized` payment (`amount`: at most "
        "what was authorised; the rest is released); `status: voided` releases it. The answer "
        "is the payment as it is then.",
        parameters=[TRANSACTION_ID],
        request=serializers.PayloadTransactionUpdateSerializer,
        responses={200: dict},
    )
    def put(self, request, id: str):
        data = validated(serializers.PayloadTransactionUpdateSerializer, self.params)
        scope = self.caller.scope
        if id.startswith("re_"):
            raise InvalidRequestError("A refund cannot be captured or voided.", param="status")
        charge = payment_selectors.charge_get(scope=scope, charge_id=id)
        if data["status"] == "processed":
            intent_services.payment_intent_capture(
                scope=scope,
                payment_intent_id=charge.payment_intent_id,
                amount_to_capture=minor_units(data.get("amount"), charge.currency),
            )
        else:
            if "amount" in data:
                raise InvalidRequestError("A void takes no amount.", param="amount")
            intent_services.payment_intent_cancel(
                scope=scope, payment_intent_id=charge.payment_intent_id
            )
        return Response(self.transaction(id))


# --- customers ---------------------------------------------------------------------------------


def _customer_arguments(data: dict) -> dict:
    out = {name: data[name] for name in ("name", "email", "phone") if name in data}
    if "attrs" in data:
        out["metadata"] = data["attrs"]
    if "primary_payment_method_id" in data:
        out["invoice_settings"] = {"default_payment_method": data["primary_payment_method_id"]}
    return out


CUSTOMER_PATHS = {
    "metadata": ["attrs"],
    "invoice_settings[default_payment_method]": ["primary_payment_method_id"],
}


class CustomersView(PayloadView):
    """Payload's customers: create, and list (filtered by `email`)."""

    error_paths = CUSTOMER_PATHS

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_customer",
        summary="Create a customer (Payload)",
        description="`name`, `email`, `phone`, `attrs`. The same customer as `/v1/customers`.",
        request=serializers.PayloadCustomerSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadCustomerSerializer, self.params)
        if data.get("primary_payment_method_id"):
            raise InvalidRequestError(
                "A new customer has no payment method yet: save one with its customer_id, "
                "then make it primary.",
                param="primary_payment_method_id",
            )
        data.pop("primary_payment_method_id", None)
        customer = payment_services.customer_create(
            scope=self.caller.scope, **_customer_arguments(data)
        )
        return Response(presenters.customer_to_payload(customer))

    @extend_schema(
        tags=TAG,
        operation_id="payload_list_customers",
        summary="List customers (Payload)",
        description="Newest first, `limit` (10) from `offset`; `email=` filters.",
        parameters=[serializers.PayloadCustomerListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayloadCustomerListSerializer, self.params)
        queryset = payment_selectors.customer_list(scope=self.caller.scope, email=data.get("email"))
        return self.listed(queryset, presenters.customer_to_payload, data)


class CustomerView(PayloadView):
    """One Payload customer: retrieve, update (`attrs` merged) and delete."""

    error_paths = CUSTOMER_PATHS

    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_customer",
        summary="Retrieve a customer (Payload)",
        parameters=[CUSTOMER_ID, serializers.PayloadEmptySerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadEmptySerializer, self.params)
        customer = payment_selectors.customer_get(scope=self.caller.scope, customer_id=id)
        return Response(self.cut(presenters.customer_to_payload(customer), self.fields(data)))

    @extend_schema(
        tags=TAG,
        operation_id="payload_update_customer",
        summary="Update a customer (Payload)",
        description="The attributes sent change (`attrs` merged); `primary_payment_method_id` "
        "names one of the customer's payment methods.",
        parameters=[CUSTOMER_ID],
        request=serializers.PayloadCustomerSerializer,
        responses={200: dict},
    )
    def put(self, request, id: str):
        data = validated(serializers.PayloadCustomerSerializer, self.params)
        customer = payment_services.customer_update(
            scope=self.caller.scope, customer_id=id, **_customer_arguments(data)
        )
        return Response(presenters.customer_to_payload(customer))

    @extend_schema(
        tags=TAG,
        operation_id="payload_delete_customer",
        summary="Delete a customer (Payload)",
        description="Deletes the customer (its payment methods are detached); the answer is "
        "the customer as it was.",
        parameters=[CUSTOMER_ID],
        request=None,
        responses={200: dict},
    )
    def delete(self, request, id: str):
        validated(serializers.PayloadEmptySerializer, self.params)
        customer = payment_services.customer_delete(scope=self.caller.scope, customer_id=id)
        return Response(presenters.customer_to_payload(customer))


# --- payment methods ---------------------------------------------------------------------------


class PaymentMethodsView(PayloadView):
    """Payload's saved cards: create (for a customer) and list."""

    error_paths = CARD_PATHS

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_payment_method",
        summary="Save a card (Payload)",
        description="`type: card`, `card: {card_number, expiry, card_code}`, `account_holder`, "
        "`billing_address`, `customer_id` (the customer it is kept for). The number and code "
        "are checked and never stored. Bank accounts are refused by name.",
        request=serializers.PayloadPaymentMethodSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadPaymentMethodSerializer, self.params)
        pm = payment_method_create(self.caller.scope, data, attach=True)
        return Response(presenters.payment_method_to_payload(pm))

    @extend_schema(
        tags=TAG,
        operation_id="payload_list_payment_methods",
        summary="List payment methods (Payload)",
        description="Newest first, `limit` (10) from `offset`; `customer_id=` filters.",
        parameters=[serializers.PayloadPaymentMethodListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayloadPaymentMethodListSerializer, self.params)
        queryset = payment_selectors.payment_method_list(
            scope=self.caller.scope, customer_id=data.get("customer_id")
        )
        return self.listed(queryset, presenters.payment_method_to_payload, data)


class PaymentMethodView(PayloadView):
    """One saved card: retrieve and delete."""

    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_payment_method",
        summary="Retrieve a payment method (Payload)",
        parameters=[PAYMENT_METHOD_ID, serializers.PayloadEmptySerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadEmptySerializer, self.params)
        pm = payment_selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        return Response(self.cut(presenters.payment_method_to_payload(pm), self.fields(data)))

    @extend_schema(
        tags=TAG,
        operation_id="payload_delete_payment_method",
        summary="Delete a payment method (Payload)",
        description="Takes the card off its customer (it can no longer be charged for them); "
        "the answer is the payment method as it is then.",
        parameters=[PAYMENT_METHOD_ID],
        request=None,
        responses={200: dict},
    )
    def delete(self, request, id: str):
        validated(serializers.PayloadEmptySerializer, self.params)
        pm = payment_services.payment_method_detach(scope=self.caller.scope, payment_method_id=id)
        return Response(presenters.payment_method_to_payload(pm))


# --- webhooks ----------------------------------------------------------------------------------


def _trigger_events(trigger: str) -> list[str]:
    if trigger in serializers.TRIGGERS_NOT_OFFERED:
        raise InvalidRequestError(
            f"Webhooks with the trigger {trigger} cannot be made here: this service has no "
            "bank accounts, chargebacks, credits, deposits, payment links or processing "
            f"accounts. Triggers: {', '.join(serializers.TRIGGERS)}.",
            param="trigger",
        )
    return list(webhooks.TRIGGER_EVENTS[trigger])


def _no_oauth(data: dict) -> None:
    if data.get("oauth_params"):
        raise InvalidRequestError(
            "oauth_params is not offered here: every delivery is signed instead "
            "(X-Payload-Signature, the HMAC-SHA256 of the body keyed with sender_secret).",
            param="oauth_params",
        )


class WebhooksView(PayloadView):
    """Payload's webhooks: register one trigger's URL, and list them."""

    error_paths = {"metadata": ["attrs"], "enabled_events": ["trigger"]}

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_webhook",
        summary="Create a webhook (Payload)",
        description="`trigger` and `url`. Each delivery is `{'object': 'webhook_trigger', "
        "'trigger', 'triggered_on': {'id', 'object', 'value'}}` in JSON, signed in "
        "`X-Payload-Signature` (hex HMAC-SHA256 of the raw body keyed with `sender_secret`). "
        "Without a `sender_secret` the service makes one and shows it in this answer only.",
        request=serializers.PayloadWebhookSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadWebhookSerializer, self.params)
        _no_oauth(data)
        chosen = data.get("sender_secret")
        endpoint = event_services.webhook_endpoint_create(
            scope=self.caller.scope,
            url=data["url"],
            enabled_events=_trigger_events(data["trigger"]),
            metadata=data.get("attrs"),
            dialect=DIALECT,
            secret=chosen,
        )
        shown = None if chosen else endpoint.secret
        return Response(webhooks.webhook_to_payload(endpoint, sender_secret=shown))

    @extend_schema(
        tags=TAG,
        operation_id="payload_list_webhooks",
        summary="List webhooks (Payload)",
        description="The Payload webhooks of this account and mode, newest first.",
        parameters=[serializers.PayloadListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayloadListSerializer, self.params)
        queryset = event_selectors.webhook_endpoint_list(scope=self.caller.scope, dialect=DIALECT)
        return self.listed(queryset, webhooks.webhook_to_payload, data)


class WebhookView(PayloadView):
    """One Payload webhook: retrieve and delete."""

    error_paths = WebhooksView.error_paths

    def webhook(self, id: str):
        return event_selectors.webhook_endpoint_get(scope=self.caller.scope, id=id, dialect=DIALECT)

    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_webhook",
        summary="Retrieve a webhook (Payload)",
        parameters=[WEBHOOK_ID, serializers.PayloadEmptySerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadEmptySerializer, self.params)
        return Response(self.cut(webhooks.webhook_to_payload(self.webhook(id)), self.fields(data)))

    @extend_schema(
        tags=TAG,
        operation_id="payload_update_webhook",
        summary="Update a webhook (Payload)",
        description="`url`, `trigger` and `attrs` (merged) change as sent. `sender_secret` "
        "cannot change: make a new webhook.",
        parameters=[WEBHOOK_ID],
        request=serializers.PayloadWebhookUpdateSerializer,
        responses={200: dict},
    )
    def put(self, request, id: str):
        data = validated(serializers.PayloadWebhookUpdateSerializer, self.params)
        _no_oauth(data)
        if "sender_secret" in data:
            raise InvalidRequestError(
                "sender_secret cannot be changed: make a new webhook.", param="sender_secret"
            )
        self.webhook(id)
        endpoint = event_services.webhook_endpoint_update(
            scope=self.caller.scope,
            webhook_endpoint_id=id,
            url=data.get("url", UNSET),
            enabled_events=_trigger_events(data["trigger"]) if "trigger" in data else UNSET,
            metadata=data.get("attrs", UNSET),
        )
        return Response(webhooks.webhook_to_payload(endpoint))

    @extend_schema(
        tags=TAG,
        operation_id="payload_delete_webhook",
        summary="Delete a webhook (Payload)",
        description="Nothing more is sent to it; the answer is the webhook as it was.",
        parameters=[WEBHOOK_ID],
        request=None,
        responses={200: dict},
    )
    def delete(self, request, id: str):
        validated(serializers.PayloadEmptySerializer, self.params)
        endpoint = self.webhook(id)
        event_services.webhook_endpoint_delete(scope=self.caller.scope, webhook_endpoint_id=id)
        return Response(webhooks.webhook_to_payload(endpoint))
