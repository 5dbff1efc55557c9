"""The /v1/payment_intents endpoints: validate, call one service or selector, serialise."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from api.errors import SecretKeyRequired
from api.views import StripeAPIView, validated
from core.errors import ParameterMissing, ResourceMissing

from .. import selectors, services
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
    payment_intent_to_api,
)

LIST_URL = "/v1/payment_intents"


class _IntentView(StripeAPIView):
    def expand(self, *, prefix: str = "") -> tuple:
        return parse_expand(
            self.params.get("expand"), prefix=prefix, publishable=not self.caller.is_secret
        )

    def respond(self, pi, expand=()) -> Response:
        if expand:
            pi = selectors.payment_intent_get(
                intent_id=pi.id, expand=expand, **self.caller.scope.filters
            )
        return Response(
            payment_intent_to_api(pi, publishable=not self.caller.is_secret, expand=expand)
        )

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
        pi = selectors.payment_intent_get(intent_id=intent_id, **self.caller.scope.filters)
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
        pi = services.payment_intent_create(**self.caller.scope.filters, **data)
        return self.respond(pi, expand)

    @extend_schema(
        operation_id="GetPaymentIntents",
        parameters=[PaymentIntentListSerializer],
        responses=PaymentIntentListOutputSerializer,
    )
    def get(self, request):
        data = validated(PaymentIntentListSerializer, self.params)
        expand = self.expand(prefix="data.")
        rows, has_more = selectors.payment_intent_list(
            **self.caller.scope.filters, expand=expand, **data
        )
        return Response(
            {
                "object": "list",
                "url": LIST_URL,
                "has_more": has_more,
                "data": [payment_intent_to_api(pi, expand=expand) for pi in rows],
            }
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
        rows, has_more, next_page = selectors.payment_intent_search(
            **self.caller.scope.filters, expand=expand, **data
        )
        return Response(
            {
                "object": "search_result",
                "url": f"{LIST_URL}/search",
                "has_more": has_more,
                "next_page": next_page,
                "data": [payment_intent_to_api(pi, expand=expand) for pi in rows],
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
        pi = selectors.payment_intent_get(intent_id=id, expand=expand, **self.caller.scope.filters)
        return Response(
            payment_intent_to_api(pi, publishable=not self.caller.is_secret, expand=expand)
        )

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
        pi = services.payment_intent_update(intent_id=id, params=data, **self.caller.scope.filters)
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
            intent_id=id, is_secret=self.caller.is_secret, **self.caller.scope.filters, **data
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
            intent_id=id, is_secret=self.caller.is_secret, **self.caller.scope.filters, **data
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
        pi = services.payment_intent_capture(intent_id=id, **self.caller.scope.filters, **data)
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
        pi = services.payment_intent_cancel(intent_id=id, **self.caller.scope.filters, **data)
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
            intent_id=id, **self.caller.scope.filters, **data
        )
        return self.respond(pi, expand)
