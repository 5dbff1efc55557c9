"""PayMongo's endpoints: each unwraps `data.attributes`, validates, calls the one service or
selector the Stripe dialect calls, and presents the result in PayMongo's shape. Success is
HTTP 200, creates included; errors leave through `errors.exception_handler`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework.response import Response

from api.errors import SecretKeyRequired
from api.pagination import keyset_page
from api.parsers import StripeJSONParser
from api.schema import path_id
from api.views import StripeAPIView, validated
from core.errors import CardError, InvalidRequestError, ParameterMissing, ResourceMissing
from core.values import UNSET
from events import selectors as event_selectors
from events import services as event_services
from intents import selectors as intent_selectors
from intents import services as intent_services
from payments import selectors as payment_selectors
from payments import services as payment_services

from . import presenters, serializers, webhooks
from .errors import exception_handler

TAG = ["PayMongo"]
PI_ID = path_id("payment intent", "pi_")
PM_ID = path_id("payment method", "pm_")
PAYMENT_ID = OpenApiParameter(
    "id",
    str,
    OpenApiParameter.PATH,
    description="The id of the payment (`pay_…`, or the `ch_…` `/v1/charges` shows for it: "
    "either is taken).",
)
REFUND_ID = path_id("refund", "re_")
WEBHOOK_ID = path_id("webhook", "we_")
CUSTOMER_ID = path_id("customer", "cus_")


def envelope(serializer_class):
    """The request as PayMongo's clients send it: the parameters in `data.attributes`."""
    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        f"{name}Body",
        {
            "data": inline_serializer(
                f"{name}Data",
                {"attributes": serializer_class(help_text="The request's parameters.")},
                help_text="JSON:API's resource object.",
            )
        },
    )


class PayMongoView(StripeAPIView):
    """A PayMongo request: the body's `data.attributes` are the parameters, in JSON only, as
    PayMongo takes them (a form body is a 415)."""

    parser_classes = [StripeJSONParser]

    def get_exception_handler(self):
        return exception_handler

    def get_params(self, request) -> dict:
        if request.method in ("GET", "DELETE", "HEAD"):
            return super().get_params(request)
        body = request.data
        if not body and (not request.body.strip() or not hasattr(self, request.method.lower())):
            # no body at all: no parameters (a JSON `{}` is a body without `data`, refused
            # below, unless the method is not one of this resource's: that is a 405)
            return {}
        unknown = sorted(set(body) - {"data"})
        if unknown:
            raise InvalidRequestError(
                f"Unknown member: {unknown[0]}. Send the attributes as "
                '{"data": {"attributes": {…}}}.',
                code="parameter_unknown",
                param=unknown[0],
            )
        data = body.get("data")
        attributes = data.get("attributes") if isinstance(data, dict) else None
        if not isinstance(attributes, dict):
            raise ParameterMissing(
                "data", 'The request body must be {"data": {"attributes": {…}}}.'
            )
        return dict(attributes)

    def require_secret(self) -> None:
        if not self.caller.is_secret:
            raise SecretKeyRequired(
                "This request needs your secret key; a public key cannot make it."
            )

    def page(self, queryset, present, object_name: str, params: dict, id_of=None) -> Response:
        """One page; `id_of` turns an `after`/`before` id as this face shows it into the
        service's (a payment's `pay_…` into its `ch_…`)."""
        after, before = params.get("after"), params.get("before")
        if id_of is not None:
            after, before = (id_of(cursor) if cursor else cursor for cursor in (after, before))
        rows, has_more = keyset_page(
            queryset,
            limit=params.get("limit"),
            starting_after=after,
            ending_before=before,
            object_name=object_name,
        )
        return Response({"data": [present(row) for row in rows], "has_more": has_more})


# --- payment intents ---------------------------------------------------------------------------


class _IntentView(PayMongoView):
    def present(self, pi) -> Response:
        pi = pi.as_shown()
        secret = self.caller.is_secret
        payments: list = []
        if secret and pi.latest_charge_id:
            payments = payment_selectors.payment_intent_charges(
                scope=self.caller.scope, payment_intent_id=pi.id
            )
            for charge in payments:  # the intent in hand, not read again per charge
                charge.payment_intent = pi
        return Response(
            {
                "data": presenters.payment_intent_to_paymongo(
                    pi, payments=payments, publishable=not secret
                )
            }
        )

    def check_client_key(self, intent_id: str, client_key: str | None) -> None:
        """A public key reaches an intent only together with its client key."""
        if self.caller.is_secret:
            return
        if not client_key:
            raise ParameterMissing(
                "client_key", "client_key is required when using your public key."
            )
        pi = intent_selectors.payment_intent_get(
            scope=self.caller.scope, payment_intent_id=intent_id
        )
        if not intent_services.client_secret_matches(pi, presenters.client_secret_of(client_key)):
            raise ResourceMissing("payment_intent", intent_id)


class PaymentIntentsView(_IntentView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_create_payment_intent",
        summary="Create a PaymentIntent (PayMongo)",
        description="Creates an intent for `amount` in `currency`'s smallest unit (centavos for PHP; at least 2000 there), waiting for a payment method. `capture_type: manual` authorises only; `payment_method_options.card.request_three_d_secure: any` forces 3-D Secure. Secret key only; its `client_key` lets a browser attach with the public key.",
        request=envelope(serializers.PayMongoIntentCreateSerializer),
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayMongoIntentCreateSerializer, self.params)
        capture_type = data.pop("capture_type", None)
        future = data.get("setup_future_usage") or {}
        pi = intent_services.payment_intent_create(
            scope=self.caller.scope,
            amount=data["amount"],
            currency=data["currency"],
            payment_method_types=data["payment_method_allowed"],
            payment_method_options=data.get("payment_method_options"),
            description=data.get("description"),
            statement_descriptor=data.get("statement_descriptor"),
            metadata=data.get("metadata"),
            capture_method="manual" if capture_type == "manual" else "automatic",
            setup_future_usage=future.get("session_type"),
            customer=future.get("customer_id"),
        )
        return self.present(pi)


class PaymentIntentView(_IntentView):
    allow_publishable = True

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_retrieve_payment_intent",
        summary="Retrieve a PaymentIntent (PayMongo)",
        description="The intent as it is now. With the public key, only together with its `client_key`, and without `payments`.",
        parameters=[PI_ID, serializers.PayMongoIntentRetrieveSerializer],
        responses={200: dict},
    )
    def get(self, request, id: str):
        data = validated(serializers.PayMongoIntentRetrieveSerializer, self.params)
        self.check_client_key(id, data.get("client_key"))
        pi = intent_selectors.payment_intent_get(scope=self.caller.scope, payment_intent_id=id)
        return self.present(pi)


class PaymentIntentAttachView(_IntentView):
    allow_publishable = True

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_attach_payment_intent",
        summary="Attach a PaymentMethod to a PaymentIntent (PayMongo)",
        parameters=[PI_ID],
        description="Confirms the intent with the method. A refused card answers 200 with the "
        "intent back in `awaiting_payment_method` and `last_payment_error`, as PayMongo does; a "
        "card that needs 3-D Secure (or `request_three_d_secure: any`) answers "
        "`awaiting_next_action` with `next_action.redirect.url`.",
        request=envelope(serializers.PayMongoIntentAttachSerializer),
        responses={200: dict},
    )
    def post(self, request, id: str):
        data = validated(serializers.PayMongoIntentAttachSerializer, self.params)
        self.check_client_key(id, data.get("client_key"))
        try:
            pi = intent_services.payment_intent_confirm(
                scope=self.caller.scope,
                payment_intent_id=id,
                is_secret=self.caller.is_secret,
                payment_method=data["payment_method"],
                return_url=data.get("return_url"),
            )
        except CardError as error:
            if error.payment_intent is None:  # the card itself was refused (not the payment)
                raise
            pi = intent_selectors.payment_intent_get(scope=self.caller.scope, payment_intent_id=id)
        return self.present(pi)


class PaymentIntentCaptureView(_IntentView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_capture_payment_intent",
        summary="Capture a PaymentIntent (PayMongo)",
        description="Captures `amount` of an intent in `awaiting_capture`; the rest is released and the intent is `succeeded`.",
        parameters=[PI_ID],
        request=envelope(serializers.PayMongoIntentCaptureSerializer),
        responses={200: dict},
    )
    def post(self, request, id: str):
        data = validated(serializers.PayMongoIntentCaptureSerializer, self.params)
        pi = intent_services.payment_intent_capture(
            scope=self.caller.scope, payment_intent_id=id, amount_to_capture=data["amount"]
        )
        return self.present(pi)


class PaymentIntentCancelView(_IntentView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_cancel_payment_intent",
        summary="Cancel a PaymentIntent (PayMongo)",
        description="Cancels an intent that is not yet paid; an authorisation it holds is released. The intent is `cancelled`.",
        parameters=[PI_ID],
        request=None,
        responses={200: dict},
    )
    def post(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        pi = intent_services.payment_intent_cancel(scope=self.caller.scope, payment_intent_id=id)
        return self.present(pi)


# --- payment methods ---------------------------------------------------------------------------


class PaymentMethodsView(PayMongoView):
    allow_publishable = True

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_create_payment_method",
        summary="Create a PaymentMethod (PayMongo)",
        description="With the public key (from the browser) or the secret key. The card "
        "number and CVC are checked and never stored.",
        request=envelope(serializers.PayMongoPaymentMethodCreateSerializer),
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayMongoPaymentMethodCreateSerializer, self.params)
        details = data["details"]
        card = payment_services.raw_card_from_params(
            {
                "number": details["card_number"],
                "exp_month": details["exp_month"],
                "exp_year": details["exp_year"],
                "cvc": details.get("cvc"),
            },
            param_prefix="details",
        )
        pm = payment_services.payment_method_create(
            scope=self.caller.scope,
            card=card,
            billing_details=data.get("billing"),
            metadata=data.get("metadata"),
            param_prefix="details",
        )
        return Response({"data": presenters.payment_method_to_paymongo(pm)})


class PaymentMethodView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_retrieve_payment_method",
        summary="Retrieve a PaymentMethod (PayMongo)",
        description="The payment method: its card's brand, last 4 digits and expiry, and its billing details.",
        parameters=[PM_ID],
        responses={200: dict},
    )
    def get(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        pm = payment_selectors.payment_method_get(scope=self.caller.scope, payment_method_id=id)
        return Response({"data": presenters.payment_method_to_paymongo(pm)})


# --- payments and refunds ----------------------------------------------------------------------


class PaymentsView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_list_payments",
        summary="List payments (PayMongo)",
        description="Every attempt to charge a card (`ch_…`, the charges the v1 API shows), newest first, `limit` at a time; `after`/`before` an id for the next or previous page.",
        parameters=[serializers.PayMongoListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayMongoListSerializer, self.params)
        queryset = payment_selectors.charge_list(scope=self.caller.scope)
        return self.page(
            queryset, presenters.payment_to_paymongo, "payment", data, presenters.charge_id_of
        )


class PaymentView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_retrieve_payment",
        summary="Retrieve a payment (PayMongo)",
        description="One payment (`ch_…`): `paid`, `failed` or `pending`, with its refunds.",
        parameters=[PAYMENT_ID],
        responses={200: dict},
    )
    def get(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        charge = payment_selectors.charge_get(
            scope=self.caller.scope, charge_id=presenters.charge_id_of(id)
        )
        return Response({"data": presenters.payment_to_paymongo(charge)})


class RefundsView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_create_refund",
        summary="Refund a payment (PayMongo)",
        description="Refunds `amount` of a paid payment (at most what is left). `reason`: `duplicate`, `fraudulent`, `requested_by_customer` or `others`.",
        request=envelope(serializers.PayMongoRefundCreateSerializer),
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayMongoRefundCreateSerializer, self.params)
        reason = data["reason"]
        refund = payment_services.refund_create(
            scope=self.caller.scope,
            charge_id=presenters.charge_id_of(data["payment_id"]),
            amount=data["amount"],
            reason=None if reason == "others" else reason,
            description=data.get("notes"),
            metadata=data.get("metadata"),
        )
        return Response({"data": presenters.refund_to_paymongo(refund)})

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_list_refunds",
        summary="List refunds (PayMongo)",
        description="Refunds, newest first, optionally of one payment (`payment_id`).",
        parameters=[serializers.PayMongoRefundListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayMongoRefundListSerializer, self.params)
        payment_id = data.get("payment_id")
        queryset = payment_selectors.refund_list(
            scope=self.caller.scope,
            charge_id=presenters.charge_id_of(payment_id) if payment_id else None,
        )
        return self.page(queryset, presenters.refund_to_paymongo, "refund", data)


class RefundView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_retrieve_refund",
        summary="Retrieve a refund (PayMongo)",
        description="One refund: `pending`, `succeeded` or `failed`.",
        parameters=[REFUND_ID],
        responses={200: dict},
    )
    def get(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        refund = payment_selectors.refund_get(scope=self.caller.scope, refund_id=id)
        return Response({"data": presenters.refund_to_paymongo(refund)})


# --- customers ---------------------------------------------------------------------------------


def _customer(customer) -> Response:
    return Response({"data": presenters.customer_to_paymongo(customer)})


class CustomersView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_create_customer",
        summary="Create a customer (PayMongo)",
        description="The same customer (`cus_…`) `/v1/customers` shows, its `name` the first "
        "and last names joined.",
        request=envelope(serializers.PayMongoCustomerCreateSerializer),
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayMongoCustomerCreateSerializer, self.params)
        return _customer(payment_services.customer_create(scope=self.caller.scope, **data))

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_list_customers",
        summary="List or find customers (PayMongo)",
        description="Customers, newest first, `limit` at a time; `email` and `phone` find "
        "the customers that have them, as PayMongo's customer lookup does.",
        parameters=[serializers.PayMongoCustomerListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayMongoCustomerListSerializer, self.params)
        queryset = payment_selectors.customer_list(
            scope=self.caller.scope, email=data.get("email"), phone=data.get("phone")
        )
        return self.page(queryset, presenters.customer_to_paymongo, "customer", data)


class CustomerView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_retrieve_customer",
        summary="Retrieve a customer (PayMongo)",
        description="One customer, with its names, email, phone and default payment method.",
        parameters=[CUSTOMER_ID],
        responses={200: dict},
    )
    def get(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        return _customer(
            payment_selectors.customer_get(scope=self.caller.scope, customer_id=id, param="id")
        )

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_update_customer",
        summary="Update a customer (PayMongo)",
        description="Changes the attributes given; `default_payment_method_id` must be one of "
        "the customer's payment methods.",
        parameters=[CUSTOMER_ID],
        request=envelope(serializers.PayMongoCustomerUpdateSerializer),
        responses={200: dict},
    )
    def put(self, request, id: str):
        data = validated(serializers.PayMongoCustomerUpdateSerializer, self.params)
        if "default_payment_method_id" in data:
            data["invoice_settings"] = {
                "default_payment_method": data.pop("default_payment_method_id")
            }
        customer = payment_services.customer_update(scope=self.caller.scope, customer_id=id, **data)
        return _customer(customer)

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_delete_customer",
        summary="Delete a customer (PayMongo)",
        description="The customer is gone (`deleted: true` in the answer) and its payment "
        "methods are detached; the payments that name it keep it.",
        parameters=[CUSTOMER_ID],
        request=None,
        responses={200: dict},
    )
    def delete(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        return _customer(payment_services.customer_delete(scope=self.caller.scope, customer_id=id))


# --- webhooks ----------------------------------------------------------------------------------

DIALECT = "paymongo"


class WebhooksView(PayMongoView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_create_webhook",
        summary="Create a webhook (PayMongo)",
        description="Each event is POSTed with `Paymongo-Signature: t=…,te=…,li=…`: the hex "
        "HMAC-SHA256 of `<t>.<body>` keyed with the webhook's `secret_key`, in `te` for test "
        "mode and `li` for live mode.",
        request=envelope(serializers.PayMongoWebhookCreateSerializer),
        responses={200: dict},
    )
    def post(self, request):
        data = validated(serializers.PayMongoWebhookCreateSerializer, self.params)
        endpoint = event_services.webhook_endpoint_create(
            scope=self.caller.scope,
            url=data["url"],
            enabled_events=webhooks.engine_events(data["events"]),
            description=data.get("description"),
            dialect=DIALECT,
        )
        return Response({"data": webhooks.webhook_to_paymongo(endpoint)})

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_list_webhooks",
        summary="List webhooks (PayMongo)",
        description="The PayMongo webhooks of this account and mode, newest first.",
        parameters=[serializers.PayMongoListSerializer],
        responses={200: dict},
    )
    def get(self, request):
        data = validated(serializers.PayMongoListSerializer, self.params)
        queryset = event_selectors.webhook_endpoint_list(scope=self.caller.scope, dialect=DIALECT)
        return self.page(queryset, webhooks.webhook_to_paymongo, "webhook", data)


class WebhookView(PayMongoView):
    def webhook(self, id: str):
        return event_selectors.webhook_endpoint_get(scope=self.caller.scope, id=id, dialect=DIALECT)

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_retrieve_webhook",
        summary="Retrieve a webhook (PayMongo)",
        description="One webhook, its `secret_key` included.",
        parameters=[WEBHOOK_ID],
        responses={200: dict},
    )
    def get(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        return Response({"data": webhooks.webhook_to_paymongo(self.webhook(id))})

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_update_webhook",
        summary="Update a webhook (PayMongo)",
        description="Changes its `url`, `events` or `description`.",
        parameters=[WEBHOOK_ID],
        request=envelope(serializers.PayMongoWebhookUpdateSerializer),
        responses={200: dict},
    )
    def put(self, request, id: str):
        data = validated(serializers.PayMongoWebhookUpdateSerializer, self.params)
        self.webhook(id)
        events = data.get("events")
        endpoint = event_services.webhook_endpoint_update(
            scope=self.caller.scope,
            webhook_endpoint_id=id,
            url=data.get("url", UNSET),
            enabled_events=webhooks.engine_events(events) if events else UNSET,
            description=data.get("description", UNSET),
        )
        return Response({"data": webhooks.webhook_to_paymongo(endpoint)})


class _WebhookSwitchView(PayMongoView):
    disabled = False

    def webhook(self, id: str):
        return event_selectors.webhook_endpoint_get(scope=self.caller.scope, id=id, dialect=DIALECT)

    def post(self, request, id: str):
        validated(serializers.PayMongoEmptySerializer, self.params)
        self.webhook(id)
        endpoint = event_services.webhook_endpoint_update(
            scope=self.caller.scope, webhook_endpoint_id=id, disabled=self.disabled
        )
        return Response({"data": webhooks.webhook_to_paymongo(endpoint)})


class WebhookEnableView(_WebhookSwitchView):
    @extend_schema(
        tags=TAG,
        operation_id="paymongo_enable_webhook",
        summary="Enable a webhook (PayMongo)",
        description="Sends it events again.",
        parameters=[WEBHOOK_ID],
        request=None,
        responses={200: dict},
    )
    def post(self, request, id: str):
        return super().post(request, id)


class WebhookDisableView(_WebhookSwitchView):
    disabled = True

    @extend_schema(
        tags=TAG,
        operation_id="paymongo_disable_webhook",
        summary="Disable a webhook (PayMongo)",
        description="Sends it no more events until enabled.",
        parameters=[WEBHOOK_ID],
        request=None,
        responses={200: dict},
    )
    def post(self, request, id: str):
        return super().post(request, id)
