"""The /v1/payment_intents endpoints: validate, call one service or selector, serialise."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.errors import SecretKeyRequired
from api.views import StripeAPIView, validated
from core.errors import DomainError, ParameterMissing, ResourceMissing

from .. import selectors, services
from ..presenters import PUBLISHABLE_FIELDS, payment_intent_to_api
from .pagination import search_page
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
        request=PaymentIntentCreateSerializer,
        responses=PaymentIntentOutputSerializer,
    )
    def post(self, request):
        data = validated(PaymentIntentCreateSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_create(scope=self.caller.scope, **data)
        return self.respond(pi, expand)

    @extend_schema(
        operation_id="GetPaymentIntents",
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
        parameters=[PaymentIntentSearchSerializer],
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
        parameters=[PaymentIntentRetrieveSerializer],
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
        request=PaymentIntentConfirmSerializer,
        responses=PaymentIntentOutputSerializer,
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
        request=PaymentIntentAttachSerializer,
        responses=PaymentIntentOutputSerializer,
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
        request=PaymentIntentCaptureSerializer,
        responses=PaymentIntentOutputSerializer,
    )
    def post(self, request, id: str):
        data = validated(PaymentIntentCaptureSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_capture(scope=self.caller.scope, payment_intent_id=id, **data)
        return self.respond(pi, expand)


class PaymentIntentCancelView(_IntentView):
    @extend_schema(
        operation_id="PostPaymentIntentsIntentCancel",
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
        request=PaymentIntentIncrementSerializer,
        responses=PaymentIntentOutputSerializer,
    )
    def post(self, request, id: str):
        data = validated(PaymentIntentIncrementSerializer, self.params)
        expand = self.expand()
        pi = services.payment_intent_increment_authorization(
            scope=self.caller.scope, payment_intent_id=id, **data
        )
        return self.respond(pi, expand)
