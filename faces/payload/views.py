"""Payload's endpoints over the checkout intent, payment intent, payment and webhook endpoint
services and selectors: each validates, translates, calls the services the `/v1/` API calls,
and presents in Payload's shape.
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
from intents import selectors as intent_selectors
from intents import services as intent_services
from payments import selectors as payment_selectors
from payments import services as payment_services

from . import presenters, serializers, webhooks
from .errors import declined, exception_handler

TAG = ["Payload"]
INTENT_ID = path_id("intent", "int_")
TRANSACTION_ID = path_id("transaction: a payment or a refund", "ch_… or re_")
CUSTOMER_ID = path_id("customer", "cus_")
PAYMENT_METHOD_ID = path_id("payment method (a saved card)", "pm_")
WEBHOOK_ID = path_id("webhook", "we_")
#: The webhook dialect of Payload's webhooks (`webhooks.DIALECT`, settings.WEBHOOK_DIALECTS).
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

    #: Attributes an object shown here may lack, null when named in `fields` (a transaction's:
    #: a payment has no ledger, a refund no customer).
    optional_attributes: tuple[str, ...] = ()

    def cut(self, obj: dict, fields: list[str] | None) -> dict:
        if fields is None:
            return obj
        unknown = [n for n in fields if n not in obj and n not in self.optional_attributes]
        if unknown:
            raise ParameterUnknown("fields", f"Unknown field: {unknown[0]}.")
        # `object` always: the client picks the class to build by it
        return {name: obj.get(name) for name in ["object", *fields]}

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
    """Another type's settings object in a request to make an intent of `type`: a 400 naming
    it (the document states the rule: `x-excluded-with`)."""
    for other in presenters.TYPES:
        if other != type and other in data:
            raise InvalidRequestError(
                f"{other} settings belong to an intent of type {other}, not {type}.",
                param=other,
            )


#: A refusal of an update for the type the intent was made with, which the request cannot know
#: from itself (`type` is fixed at create): valid attributes of another type's intent. Named
#: like Stripe's `…_unexpected_state` (a refusal for what the object is, not for the request),
#: stated in the operation's description, and taken by the fuzz tests on `{id}` operations only.
UNEXPECTED_TYPE = "checkout_intent_unexpected_type"


class IntentUnexpectedType(InvalidRequestError):
    code = UNEXPECTED_TYPE


def _refuse_for_the_type(data: dict, type: str) -> None:
    """What an update may not hold for an intent of `type`: another type (the type never
    changes), another type's settings, `allowed_origins` for a checkout page (never framed)."""
    if data.get("type", type) != type:
        raise IntentUnexpectedType(
            f"An intent's type never changes: this one is {type}.", param="type"
        )
    for other in presenters.TYPES:
        if other != type and other in data:
            raise IntentUnexpectedType(
                f"{other} settings belong to an intent of type {other}, not {type}.",
                param=other,
            )
    if type == "checkout_page" and data.get("allowed_origins"):
        raise IntentUnexpectedType(
            "allowed_origins may only be set on a checkout_plugin, payment_form or "
            "payment_method_form: a checkout_page is never framed.",
            param="allowed_origins",
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
        parameters=[INTENT_ID, serializers.PayloadIntentRetrieveSerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadIntentRetrieveSerializer, self.params)
        ci = checkout_selectors.checkout_intent_get(
            scope=self.caller.scope, checkout_intent_id=presenters.engine_id(id)
        )
        return Response(self.cut(presenters.intent_to_payload(ci), self.fields(data)))

    @extend_schema(
        tags=TAG,
        operation_id="payload_update_intent",
        summary="Update an intent (Payload)",
        description="A pending intent's settings (its type's object, partly: what is given "
        "changes, the rest is kept), `attrs` and `allowed_origins`. The type never changes: "
        "`type` if given is the intent's own, the settings object is its type's, and a "
        "`checkout_page` takes no `allowed_origins`; otherwise the answer is 400 with the "
        f"code `{UNEXPECTED_TYPE}` (a refusal for the intent's type, as "
        "`checkout_intent_unexpected_state` is one for its status).",
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
        _refuse_for_the_type(data, ci.type)
        self.error_paths = _paths(ci.type)
        arguments = update_arguments(ci.type, data.get(ci.type) or {})
        if arguments.get("amount_editable") is False and "amount" not in arguments:
            if ci.amount is None:  # (the amount kept is the intent's: none to keep)
                raise InvalidRequestError(
                    "This intent has no amount, which the customer was to type: send amount "
                    "with amount_editable=false.",
                    code="checkout_intent_unexpected_state",
                    param="amount",
                )
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


def _card(card: dict) -> dict:
    """Payload's card (`card_number`, `expiry` as `MM/YY` or `MM/YYYY`, `card_code`) → the
    service's card parameters (which the service checks: number, expiry, code)."""
    if not card.get("card_number"):
        raise ParameterMissing("card[number]", "Missing required attribute: card_number.")
    if not card.get("expiry"):
        raise ParameterMissing("card[exp_month]", "Missing required attribute: expiry.")
    try:
        month, year = serializers.card_expiry(card["expiry"])
    except ValueError:
        raise InvalidRequestError("Invalid expiry: use MM/YY or MM/YYYY.", param="card[exp_month]")
    return {
        "number": "".join(card["card_number"].split()).replace("-", ""),
        "exp_month": month,
        "exp_year": year,
        "cvc": card.get("card_code"),
    }


def _billing_details(data: dict) -> dict | None:
    """The cardholder's name, email, phone and address as the service keeps them."""
    details: dict = {}
    for face, engine in (("account_holder", "name"), ("email", "email"), ("phone_number", "phone")):
        if data.get(face):
            details[engine] = data[face]
    address = data.get("billing_address")
    if address:
        details["address"] = {
            engine: address[face]
            for engine, face in presenters.BILLING_ADDRESS.items()
            if address.get(face) is not None
        }
    return details or None


def payment_method_create(scope, data: dict):
    """Payload's card → the service's payment method (tokenised: the number and code are
    never kept). Bank accounts are refused by name."""
    if data["type"] != "card":
        raise InvalidRequestError(
            "Payment methods of type bank_account cannot be made here: this service takes "
            "cards only.",
            param="type",
        )
    if "card" not in data:
        raise ParameterMissing("card", "Missing required attribute: card.")
    card = payment_services.raw_card_from_params(_card(data["card"]))
    return payment_services.payment_method_create(
        scope=scope,
        card=card,
        billing_details=_billing_details(data),
        metadata=data.get("attrs"),
    )


#: The service's parameters → Payload's names, for the errors' `details`.
CARD_PATHS = {
    "card[number]": ["card", "card_number"],
    "card[exp_month]": ["card", "expiry"],
    "card[exp_year]": ["card", "expiry"],
    "card[cvc]": ["card", "card_code"],
    "customer": ["customer_id"],
    "payment_method": ["payment_method_id"],
    "charge": ["ledger", "assoc_transaction_id"],
    "metadata": ["attrs"],
    "invoice_settings[default_payment_method]": ["default_payment_method"],
}


class TransactionsView(PayloadView):
    error_paths = CARD_PATHS
    optional_attributes = presenters.TRANSACTION_ATTRIBUTES

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_transaction",
        summary="Create a payment or a refund (Payload)",
        description="`type: payment`: charges `amount` (usd) to `payment_method_id` (a saved "
        "card) or to the card given in `payment_method`; `status: authorized` only authorises "
        "it (capture it later with `status: processed`). A declined card is "
        "`TransactionDeclined` with the declined payment in `details`. `type: refund`: refunds "
        "`amount` of the payment named in `ledger[0].assoc_transaction_id`, in its currency. A "
        "payment is a PaymentIntent and its charge in `/v1/`; a refund is a `/v1/` refund.",
        request=serializers.PayloadTransactionCreateSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadTransactionCreateSerializer, self.params)
        if data["type"] == "refund":
            return Response(presenters.refund_to_payload(self.refund(data)))
        return self.pay(data)

    def refund(self, data: dict):
        for name in ("payment_method_id", "payment_method", "customer_id", "status"):
            if name in data:
                raise InvalidRequestError(f"A refund takes no {name}.", param=name)
        if not data.get("ledger") or not data["ledger"][0].get("assoc_transaction_id"):
            raise ParameterMissing(
                "charge", "Missing required attribute: ledger (the payment refunded)."
            )
        charge = payment_selectors.charge_get(
            scope=self.caller.scope,
            charge_id=data["ledger"][0]["assoc_transaction_id"],
            param="charge",
        )
        return payment_services.refund_create(
            scope=self.caller.scope,
            charge_id=charge.id,
            amount=minor_units(data["amount"], charge.currency),
            description=data.get("description"),
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
        # checked before a card is vaulted: a bad amount or customer makes nothing
        amount = minor_units(data["amount"], serializers.CURRENCY)
        if data.get("customer_id"):
            payment_selectors.customer_get(
                scope=scope, customer_id=data["customer_id"], param="customer"
            )
        payment_method = data.get("payment_method_id")
        if payment_method is None:
            self.error_paths = {
                name: ["payment_method", *path] for name, path in CARD_PATHS.items()
            }
            payment_method = payment_method_create(scope, data["payment_method"]).id
            self.error_paths = CARD_PATHS
        try:
            pi = intent_services.payment_intent_create(
                scope=scope,
                amount=amount,
                currency=serializers.CURRENCY,
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
        # the charge the confirm just made, as it made it (read again only if it is not there)
        charge = pi.latest_charge if pi.latest_charge_id else None
        if charge is None:  # not charged (it asks for a step Payload's API has not)
            raise InvalidRequestError(
                "This payment cannot be made here; use an intent's hosted page.", param="type"
            )
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
        # both kinds, newest first: the page picked from the two tables by the database (their
        # keys, united), then its rows read (reading each table's first offset + limit rows
        # and merging them here went past bigint for a large offset: a 500, and rows unbounded)
        limit = data.get("limit") or DEFAULT_LIMIT
        offset = data.get("offset") or 0
        fields = self.fields(data)
        charges = payment_selectors.charge_list(scope=scope)
        refunds = payment_selectors.refund_list(scope=scope)
        page = [
            pk
            for _, pk in charges.order_by()
            .values_list("created", "id")
            .union(refunds.order_by().values_list("created", "id"), all=True)
            .order_by("-created", "-id")[offset : offset + limit]
        ]
        found = {row.id: row for row in charges.filter(id__in=page)}
        found.update((row.id, row) for row in refunds.filter(id__in=page))
        rows = [found[pk] for pk in page if pk in found]
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
    optional_attributes = presenters.TRANSACTION_ATTRIBUTES
    error_paths = {"amount_to_capture": ["amount"]}

    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_transaction",
        summary="Retrieve a transaction (Payload)",
        description="A payment (`ch_…`: one attempt to charge a card) or a refund (`re_…`).",
        parameters=[TRANSACTION_ID, serializers.PayloadTransactionRetrieveSerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadTransactionRetrieveSerializer, self.params)
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
            payment_selectors.refund_get(scope=scope, refund_id=id)
            raise InvalidRequestError("A refund cannot be captured or voided.", param="status")
        charge = payment_selectors.charge_get(scope=scope, charge_id=id)
        pi = intent_selectors.payment_intent_get(
            scope=scope, payment_intent_id=charge.payment_intent_id
        )
        if pi.latest_charge_id != charge.id:  # its intent was paid again, by another payment
            raise InvalidRequestError(
                f"This payment was followed by {pi.latest_charge_id}: capture or void that one.",
                param="status",
            )
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


# --- customers and their payment methods -----------------------------------------------------


def _customer(customer) -> dict:
    """The customer with its saved cards (`customer.payment_methods`, prefetched on a list by
    `payment_selectors.with_payment_methods`)."""
    return presenters.customer_to_payload(customer, customer.payment_methods.all())


CUSTOMER_PATHS = {"phone": ["phone_number"], "metadata": ["attrs"]}


class CustomersView(PayloadView):
    error_paths = CUSTOMER_PATHS

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
        customer = payment_services.customer_create(
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
    error_paths = CUSTOMER_PATHS

    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_customer",
        summary="Retrieve a customer (Payload)",
        description="The customer with its saved cards (`payment_methods`).",
        parameters=[CUSTOMER_ID, serializers.PayloadCustomerRetrieveSerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadCustomerRetrieveSerializer, self.params)
        customer = payment_selectors.customer_get(
            scope=self.caller.scope, customer_id=id, param="id"
        )
        return Response(self.cut(_customer(customer), self.fields(data)))

    @extend_schema(
        tags=TAG,
        operation_id="payload_update_customer",
        summary="Update a customer (Payload)",
        description="Only the attributes sent change (`attrs` merged). A customer's default "
        "card is chosen on the card (`default_payment_method` when it is saved).",
        parameters=[CUSTOMER_ID],
        request=serializers.PayloadCustomerUpdateSerializer,
        responses={200: dict},
    )
    def put(self, request, id: str):
        data = validated(serializers.PayloadCustomerUpdateSerializer, self.params)
        changes = {name: data[name] for name in ("email", "name", "description") if name in data}
        if "phone_number" in data:
            changes["phone"] = data["phone_number"]
        if "attrs" in data:
            changes["metadata"] = data["attrs"]
        customer = payment_services.customer_update(
            scope=self.caller.scope, customer_id=id, **changes
        )
        return Response(_customer(customer))

    @extend_schema(
        tags=TAG,
        operation_id="payload_delete_customer",
        summary="Delete a customer (Payload)",
        description="Deletes the customer (as `/v1/` does: its cards are taken off it); the "
        "answer is the customer as it was, without its cards.",
        parameters=[CUSTOMER_ID],
        request=None,
        responses={200: dict},
    )
    def delete(self, request, id: str):
        validated(serializers.PayloadEmptySerializer, self.params)
        customer = payment_services.customer_delete(scope=self.caller.scope, customer_id=id)
        return Response(presenters.customer_to_payload(customer))


class PaymentMethodsView(PayloadView):
    error_paths = CARD_PATHS

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_payment_method",
        summary="Save a card (Payload)",
        description="`type: card`, `card: {card_number, expiry, card_code}`, `account_holder`, "
        "`billing_address`, `customer_id` (the customer it is kept for; "
        "`default_payment_method: true` makes it their default). The number and code are "
        "checked and never stored. Bank accounts are refused by name.",
        request=serializers.PayloadPaymentMethodCreateSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadPaymentMethodCreateSerializer, self.params)
        scope = self.caller.scope
        customer_id = data.get("customer_id")
        make_default = data.get("default_payment_method", False)
        if make_default and not customer_id:
            raise InvalidRequestError(
                "A default payment method is its customer's: send customer_id too.",
                param="default_payment_method",
            )
        if customer_id:  # checked before the card is vaulted
            payment_selectors.customer_get(scope=scope, customer_id=customer_id, param="customer")
        pm = payment_method_create(scope, data)
        default = None
        if customer_id:
            pm = payment_services.payment_method_attach(
                scope=scope, payment_method_id=pm.id, customer_id=customer_id
            )
            customer = payment_selectors.customer_get(scope=scope, customer_id=customer_id)
            if make_default:
                customer = payment_services.customer_update(
                    scope=scope,
                    customer_id=customer_id,
                    invoice_settings={"default_payment_method": pm.id},
                )
            default = (customer.invoice_settings or {}).get("default_payment_method")
        return Response(presenters.payment_method_to_payload(pm, default_payment_method=default))

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
        parameters=[PAYMENT_METHOD_ID, serializers.PayloadPaymentMethodRetrieveSerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadPaymentMethodRetrieveSerializer, self.params)
        pm = payment_selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        default = None
        if pm.customer_id:
            customer = payment_selectors.customer_get(
                scope=self.caller.scope, customer_id=pm.customer_id
            )
            default = (customer.invoice_settings or {}).get("default_payment_method")
        obj = presenters.payment_method_to_payload(pm, default_payment_method=default)
        return Response(self.cut(obj, self.fields(data)))

    @extend_schema(
        tags=TAG,
        operation_id="payload_delete_payment_method",
        summary="Delete a payment method (Payload)",
        description="Takes the card off its customer (it can no longer be charged for them, "
        "nor be their default); the answer is the payment method as it is then.",
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


class WebhooksView(PayloadView):
    error_paths = {"metadata": ["attrs"], "enabled_events": ["trigger"]}

    @extend_schema(
        tags=TAG,
        operation_id="payload_create_webhook",
        summary="Create a webhook (Payload)",
        description="`trigger` and `url`. Each delivery is `{'object': 'webhook_trigger', "
        "'trigger', 'triggered_on': {'id', 'object', 'value'}}` in JSON, signed in "
        "`X-Payload-Signature` (hex HMAC-SHA256 of the raw body keyed with `sender_secret`). "
        "Without a `sender_secret` the service makes one and shows it in this answer only.",
        request=serializers.PayloadWebhookCreateSerializer,
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayloadWebhookCreateSerializer, self.params)
        if not data.get("url"):
            raise ParameterMissing("url", "Missing required attribute: url.")
        events = _trigger_events(data["trigger"])
        chosen = data.get("sender_secret")
        endpoint = event_services.webhook_endpoint_create(
            scope=self.caller.scope,
            url=data["url"],
            enabled_events=events,
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
    error_paths = WebhooksView.error_paths

    def webhook(self, id: str):
        return event_selectors.webhook_endpoint_get(scope=self.caller.scope, id=id, dialect=DIALECT)

    @extend_schema(
        tags=TAG,
        operation_id="payload_retrieve_webhook",
        summary="Retrieve a webhook (Payload)",
        description="Its `sender_secret` is never shown again.",
        parameters=[WEBHOOK_ID, serializers.PayloadWebhookRetrieveSerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayloadWebhookRetrieveSerializer, self.params)
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
        if "sender_secret" in data:
            raise InvalidRequestError(
                "sender_secret cannot be changed: make a new webhook.", param="sender_secret"
            )
        events = _trigger_events(data["trigger"]) if "trigger" in data else UNSET
        self.webhook(id)
        endpoint = event_services.webhook_endpoint_update(
            scope=self.caller.scope,
            webhook_endpoint_id=id,
            url=data.get("url", UNSET),
            enabled_events=events,
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
