"""The /v1/payment_intents endpoints: validate, call one service or selector, serialise."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from api.errors import SecretKeyRequired
from api.schema import CARD_DECLINED, path_id, search_query_parameter
from api.search_pagination import search_page
from api.views import StripeAPIView, validated
from core.errors import DomainError, ParameterMissing, ResourceMissing

from .. import selectors, services
from ..presenters import PUBLISHABLE_FIELDS, payment_intent_to_api
from ..search import MAX_QUERY_LENGTH, PAYMENT_INTENT_SEARCH
from .serializers import (
    PaymentIntentAttachSerializer,
    PaymentIntentBrowserConfirmSerializer,
    PaymentIntentCancelSerializer,
    PaymentIntentCaptureSerializer,
    PaymentIntentConfirmSerializer,
    PaymentIntentCreateSerializer,
    PaymentIntentIncrementSerializer,
    PaymentIntentListOutputSerializer,
    PaymentIntentListSerializer,
    PaymentIntentOutputSerializer,
    PaymentIntentRetrieveSerializer,
    PaymentIntentSearchOutputSerializer,
    PaymentIntentSearchSerializer,
    PaymentIntentUpdateSerializer,
    parse_expand,
)

LIST_URL = "/v1/payment_intents"
ID = path_id("payment intent", "pi_")

_INTENT_EXAMPLE = {
    "id": "pi_3QxV0vLkdIwHu7ix0Zl1Vh1N",
    "object": "payment_intent",
    "amount": 2000,
    "amount_capturable": 0,
    "amount_received": 0,
    "capture_method": "manual",
    "client_secret": "pi_3QxV0vLkdIwHu7ix0Zl1Vh1N_secret_9rIvqZbLQbXh2WfPqQ3wkM1uD",
    "confirmation_method": "automatic",
    "created": 1735689600,
    "currency": "usd",
    "latest_charge": None,
    "livemode": False,
    "metadata": {"order_id": "6735"},
    "payment_method": None,
    "payment_method_types": ["card"],
    "status": "requires_payment_method",
}


def _example(name: str, summary: str, **changes) -> OpenApiExample:
    return OpenApiExample(
        name, summary=summary, value={**_INTENT_EXAMPLE, **changes}, response_only=True
    )


class _IntentView(StripeAPIView):
    def expand(self, *, prefix: str = "") -> tuple:
        return parse_expand(
            self.params.get("expand"), prefix=prefix, publishable=not self.caller.is_secret
        )

    def present(self, pi, expand=()) -> dict:
        """The intent as this caller may see it, now (an authorisation past its expiry reads
        as expired even before the sweep writes it)."""
        return payment_intent_to_api(
            pi.as_shown(), publishable=not self.caller.is_secret, expand=expand
        )

    def handle_exception(self, exc):
        """A publishable key sees the publishable subset of the intent an error embeds, too."""
        caller = vars(self.request).get("_user")  # never authenticate again here
        embedded = getattr(exc, "payment_intent", None)
        if isinstance(exc, DomainError) and embedded and not getattr(caller, "is_secret", True):
            exc.payment_intent = {k: embedded[k] for k in PUBLISHABLE_FIELDS if k in embedded}
        return super().handle_exception(exc)

    def respond(self, pi, expand=()) -> Response:
        if expand:
            pi = selectors.payment_intent_get(
                scope=self.caller.scope, payment_intent_id=pi.id, expand=expand
            )
        return Response(self.present(pi, expand))

    def check_browser_access(self, intent_id: str, data: dict) -> None:
        """A publishable key reaches an intent only with its client secret (or client key)."""
        client_secret, client_key = data.pop("client_secret", None), data.pop("client_key", None)
        secret = client_secret or client_key
        if self.caller.is_secret:
            return
        if not secret:
            raise ParameterMissing(
                "client_secret",
                "Missing required param: client_secret. A publishable key can only reach a "
                "PaymentIntent together with its client_secret.",
            )
        pi = selectors.payment_intent_get(scope=self.caller.scope, payment_intent_id=intent_id)
        if not services.client_secret_matches(pi, secret):
            raise ResourceMissing("payment_intent", intent_id)


class PaymentIntentCollectionView(_IntentView):
    @extend_schema(
        operation_id="PostPaymentIntents",
        summary="Create a payment intent",
        description="Creates a PaymentIntent for `amount` in `currency`, in "
        "`requires_payment_method` (or `requires_confirmation` when a `payment_method` is "
        "given). With `confirm=true` it is confirmed in the same call and answers as confirm "
        "does: a declined card answers 402 with the intent embedded in the error. Its "
        "`client_secret` lets a browser with the publishable key retrieve and confirm it.",
        request=PaymentIntentCreateSerializer,
        responses={200: PaymentIntentOutputSerializer, 402: CARD_DECLINED},
        examples=[
            OpenApiExample(
                "Authorise now, capture later",
                summary="Create for manual capture",
                value={
                    "amount": 2000,
                    "currency": "usd",
                    "capture_method": "manual",
                    "metadata": {"order_id": "6735"},
                },
                request_only=True,
            ),
            OpenApiExample(
                "Create and confirm with a test card",
                summary="Create and confirm in one call",
                value={
                    "amount": 2000,
                    "currency": "usd",
                    "payment_method": "pm_card_visa",
                    "confirm": True,
                },
                request_only=True,
            ),
            _example(
                "Created",
                "A new intent, waiting for a payment method",
                status="requires_payment_method",
            ),
        ],
    )
    def post(self, request):
        data = validated(PaymentIntentCreateSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_create(scope=self.caller.scope, **data)
        return self.respond(pi, expand)

    @extend_schema(
        operation_id="GetPaymentIntents",
        summary="List payment intents",
        description="The payment intents of this account and mode, newest first, one page at a "
        "time (`limit`, `starting_after` / `ending_before`), optionally of one customer or "
        "created in a time range.",
        parameters=[PaymentIntentListSerializer],
        responses=PaymentIntentListOutputSerializer,
    )
    def get(self, request):
        data = validated(PaymentIntentListSerializer, self.params)
        expand = self.expand(prefix="data.")
        queryset = selectors.payment_intent_list(
            scope=self.caller.scope, customer=data.get("customer"), expand=expand
        )
        return self.paginated(
            queryset,
            params=data,
            url=LIST_URL,
            present=lambda pi: self.present(pi, expand),
            object_name="payment_intent",
        )


class PaymentIntentSearchView(_IntentView):
    @extend_schema(
        operation_id="GetPaymentIntentsSearch",
        summary="Search payment intents",
        description="Payment intents matching a query in Stripe's search language, e.g. "
        "`status:'succeeded' AND metadata['order_id']:'6735'` or `amount>1000`. Pages with "
        "`page` (the previous answer's `next_page`).",
        parameters=[
            PaymentIntentSearchSerializer,
            search_query_parameter(
                format_name=PAYMENT_INTENT_SEARCH.format,
                fields=PAYMENT_INTENT_SEARCH.kinds(),
                max_length=MAX_QUERY_LENGTH,
                example="`status:'succeeded' AND metadata['order_id']:'6735'`",
            ),
        ],
        responses=PaymentIntentSearchOutputSerializer,
    )
    def get(self, request):
        data = validated(PaymentIntentSearchSerializer, self.params)
        expand = self.expand(prefix="data.")
        queryset = selectors.payment_intent_search(
            scope=self.caller.scope, query=data["query"], expand=expand
        )
        rows, has_more, next_page = search_page(
            queryset, limit=data.get("limit"), page=data.get("page")
        )
        return Response(
            {
                "object": "search_result",
                "url": f"{LIST_URL}/search",
                "has_more": has_more,
                "next_page": next_page,
                "data": [self.present(pi, expand) for pi in rows],
            }
        )


class PaymentIntentDetailView(_IntentView):
    allow_publishable = True

    @extend_schema(
        operation_id="GetPaymentIntentsIntent",
        summary="Retrieve a payment intent",
        description="The payment intent as it is now. With a publishable key, only together "
        "with its `client_secret`, and only the fields a browser may see.",
        parameters=[ID, PaymentIntentRetrieveSerializer],
        responses=PaymentIntentOutputSerializer,
    )
    def get(self, request, id: str):
        data = validated(PaymentIntentRetrieveSerializer, self.params)
        self.check_browser_access(id, data)
        expand = self.expand()
        pi = selectors.payment_intent_get(
            scope=self.caller.scope, payment_intent_id=id, expand=expand
        )
        return Response(self.present(pi, expand))

    @extend_schema(
        operation_id="PostPaymentIntentsIntent",
        summary="Update a payment intent",
        description="Changes the parameters given, leaving the others as they are; an empty "
        "value unsets a field. Amount, currency, payment method and the other payment "
        "parameters can change only while the intent waits for a payment method, a "
        "confirmation or an action; metadata and description later too. Secret key only.",
        parameters=[ID],
        request=PaymentIntentUpdateSerializer,
        responses=PaymentIntentOutputSerializer,
    )
    def post(self, request, id: str):
        if not self.caller.is_secret:
            raise SecretKeyRequired(
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key."
            )
        data = validated(PaymentIntentUpdateSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_update(scope=self.caller.scope, payment_intent_id=id, **data)
        return self.respond(pi, expand)


class PaymentIntentConfirmView(_IntentView):
    allow_publishable = True

    @extend_schema(
        operation_id="PostPaymentIntentsIntentConfirm",
        summary="Confirm a payment intent",
        description="Asks the card's issuer to pay (with the `payment_method` given here or "
        "earlier). The intent then is `succeeded`, `requires_capture` (manual capture), "
        "`requires_action` (3-D Secure: send the customer to `next_action.redirect_to_url.url`), "
        "or `processing` (the outcome comes later, with a webhook). A declined card answers 402 "
        "with the intent, back in `requires_payment_method`, in `error.payment_intent`. A "
        "publishable key may confirm with the intent's `client_secret` and the browser "
        "parameters only.",
        parameters=[ID],
        request=PaymentIntentConfirmSerializer,
        responses={200: PaymentIntentOutputSerializer, 402: CARD_DECLINED},
        examples=[
            OpenApiExample(
                "Confirm with a test card",
                summary="Confirm with a magic test payment method",
                value={"payment_method": "pm_card_visa", "return_url": "https://shop.example/done"},
                request_only=True,
            ),
            _example(
                "Authorised",
                "Authorised, waiting for capture",
                status="requires_capture",
                amount_capturable=2000,
                payment_method="pm_1QxV0wLkdIwHu7ixkPq3aQ8B",
                latest_charge="ch_3QxV0vLkdIwHu7ix0pZy6r2T",
            ),
        ],
    )
    def post(self, request, id: str):
        serializer_class = (
            PaymentIntentConfirmSerializer
            if self.caller.is_secret
            else PaymentIntentBrowserConfirmSerializer
        )
        data = validated(serializer_class, self.params)
        self.check_browser_access(id, data)
        expand = self.expand()
        pi = services.payment_intent_confirm(
            scope=self.caller.scope, payment_intent_id=id, is_secret=self.caller.is_secret, **data
        )
        return self.respond(pi, expand)


class PaymentIntentAttachView(_IntentView):
    """PayMongo's `attach`: confirm with a payment method."""

    allow_publishable = True

    @extend_schema(
        operation_id="PostPaymentIntentsIntentAttach",
        summary="Attach a payment method (confirm)",
        description="PayMongo's name for confirm: attaches `payment_method` to the intent and "
        "confirms it, with the same outcomes as confirm (402 on a decline). A publishable key "
        "needs the intent's `client_key` (or `client_secret`).",
        parameters=[ID],
        request=PaymentIntentAttachSerializer,
        responses={200: PaymentIntentOutputSerializer, 402: CARD_DECLINED},
    )
    def post(self, request, id: str):
        data = validated(PaymentIntentAttachSerializer, self.params)
        self.check_browser_access(id, data)
        expand = self.expand()
        pi = services.payment_intent_confirm(
            scope=self.caller.scope, payment_intent_id=id, is_secret=self.caller.is_secret, **data
        )
        return self.respond(pi, expand)


class PaymentIntentCaptureView(_IntentView):
    @extend_schema(
        operation_id="PostPaymentIntentsIntentCapture",
        summary="Capture a payment intent",
        description="Captures the funds of an intent in `requires_capture`: all of "
        "`amount_capturable`, or `amount_to_capture` (then the rest is released). The intent "
        "becomes `succeeded`. An authorisation not captured in time expires and the intent is "
        "canceled.",
        parameters=[ID],
        request=PaymentIntentCaptureSerializer,
        responses={200: PaymentIntentOutputSerializer, 402: CARD_DECLINED},
        examples=[
            OpenApiExample(
                "Capture part",
                summary="Capture less than authorised",
                value={"amount_to_capture": 1500},
                request_only=True,
            ),
            _example(
                "Captured",
                "Captured",
                status="succeeded",
                amount_received=1500,
                payment_method="pm_1QxV0wLkdIwHu7ixkPq3aQ8B",
                latest_charge="ch_3QxV0vLkdIwHu7ix0pZy6r2T",
            ),
        ],
    )
    def post(self, request, id: str):
        data = validated(PaymentIntentCaptureSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_capture(scope=self.caller.scope, payment_intent_id=id, **data)
        return self.respond(pi, expand)


class PaymentIntentCancelView(_IntentView):
    @extend_schema(
        operation_id="PostPaymentIntentsIntentCancel",
        summary="Cancel a payment intent",
        description="Cancels an intent in `requires_payment_method`, `requires_confirmation`, "
        "`requires_action`, `requires_capture` or `processing`; an authorisation it holds is "
        "released. The intent becomes `canceled` with `cancellation_reason`. A `succeeded` or "
        "`canceled` intent answers 400.",
        parameters=[ID],
        request=PaymentIntentCancelSerializer,
        responses=PaymentIntentOutputSerializer,
    )
    def post(self, request, id: str):
        data = validated(PaymentIntentCancelSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_cancel(scope=self.caller.scope, payment_intent_id=id, **data)
        return self.respond(pi, expand)


class PaymentIntentIncrementView(_IntentView):
    @extend_schema(
        operation_id="PostPaymentIntentsIntentIncrementAuthorization",
        summary="Increment an authorisation",
        description="Raises the authorised amount of an intent in `requires_capture` to "
        "`amount` (the new total, higher than the current one). The issuer may decline the "
        "increase (402); the original authorisation then stands.",
        parameters=[ID],
        request=PaymentIntentIncrementSerializer,
        responses={200: PaymentIntentOutputSerializer, 402: CARD_DECLINED},
    )
    def post(self, request, id: str):
        data = validated(PaymentIntentIncrementSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_increment_authorization(
            scope=self.caller.scope, payment_intent_id=id, **data
        )
        return self.respond(pi, expand)
