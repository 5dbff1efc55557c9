"""The /v1/checkout_intents endpoints: validate, call one service or selector, present."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from api.errors import SecretKeyRequired
from api.geolocation import request_country
from api.views import StripeAPIView, validated
from core.errors import ParameterMissing, ResourceMissing

from .. import selectors, services, tokens
from ..presenters import checkout_intent_to_api
from .serializers import (
    EXPANDABLE,
    CheckoutIntentCreateSerializer,
    CheckoutIntentListSchema,
    CheckoutIntentListSerializer,
    CheckoutIntentRetrieveSerializer,
    CheckoutIntentSchema,
    CheckoutIntentUpdateSerializer,
    EmptySerializer,
    parse_expand,
)

LIST_URL = "/v1/checkout_intents"


def _expand_parameter(prefix: str = "") -> OpenApiParameter:
    """`expand[]`, each item one of the paths this operation expands (a `pattern`, not an
    enum, so generated clients take a plain string)."""
    paths = [f"{prefix}{name}" for name in EXPANDABLE]
    return OpenApiParameter(
        "expand",
        {
            "type": "array",
            "items": {
                "type": "string",
                "pattern": "^" + re.escape(prefix) + "(" + "|".join(EXPANDABLE) + ")$",
            },
        },
        description="Related objects to include whole: "
        + ", ".join(f"`{path}`" for path in paths)
        + " (secret key only); anything else answers 400 `parameter_invalid_expand`.",
    )


EXPAND = _expand_parameter()
LIST_EXPAND = _expand_parameter("data.")
ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The checkout intent (cint_…).")


class _CheckoutIntentView(StripeAPIView):
    def expand(self, *, prefix: str = "") -> tuple:
        return parse_expand(
            self.params.get("expand"), prefix=prefix, publishable=not self.caller.is_secret
        )

    def present(self, ci, expand=(), *, client_token: str | None = None) -> dict:
        """The intent as this caller may see it now (pending past `expires_at` reads expired)."""
        publishable = not self.caller.is_secret
        return checkout_intent_to_api(
            ci.as_shown(),
            attempts=() if publishable else selectors.checkout_intent_attempts(ci),
            publishable=publishable,
            client_token=client_token,
            expand=expand,
        )

    def respond(self, ci, expand=(), *, client_token: str | None = None) -> Response:
        if expand:
            ci = selectors.checkout_intent_get(
                scope=self.caller.scope, checkout_intent_id=ci.id, expand=expand
            )
        return Response(self.present(ci, expand, client_token=client_token))


class CheckoutIntentCollectionView(_CheckoutIntentView):
    @extend_schema(
        operation_id="PostCheckoutIntents",
        summary="Create a checkout intent",
        description=(
            "Creates a pending checkout intent for the customer to finish in the browser: a "
            "hosted page (`checkout_page`, at `url`), the same page in a modal on your site "
            "(`checkout_plugin`), or an embeddable form that pays (`payment_form`) or saves a "
            "card to `customer` (`payment_method_form`). The response carries the "
            "`client_token` (and, for a checkout_page, the `url`) once: keep it to send the "
            "customer, or rotate it later. Emits `checkout_intent.created`."
        ),
        parameters=[EXPAND],
        request=CheckoutIntentCreateSerializer,
        responses=CheckoutIntentSchema,
    )
    def post(self, request):
        data = validated(CheckoutIntentCreateSerializer, self.params)
        expand = self.expand()
        ci, client_token = services.checkout_intent_create(
            scope=self.caller.scope, located_country=request_country(request), **data
        )
        return self.respond(ci, expand, client_token=client_token)

    @extend_schema(
        operation_id="GetCheckoutIntents",
        summary="List checkout intents",
        description=(
            "Your checkout intents, newest first, in pages (`limit`, `starting_after`, "
            "`ending_before`), filtered by `status` (as shown: a pending intent past its "
            "`expires_at` is expired), `type`, `customer` and `created`."
        ),
        parameters=[CheckoutIntentListSerializer, LIST_EXPAND],
        responses=CheckoutIntentListSchema,
    )
    def get(self, request):
        data = validated(CheckoutIntentListSerializer, self.params)
        expand = self.expand(prefix="data.")
        queryset = selectors.checkout_intent_list(
            scope=self.caller.scope,
            status=data.get("status"),
            type=data.get("type"),
            customer=data.get("customer"),
            expand=expand,
        )
        return self.paginated(
            queryset,
            params=data,
            url=LIST_URL,
            present=lambda ci: self.present(ci, expand),
            object_name="checkout_intent",
        )


class CheckoutIntentDetailView(_CheckoutIntentView):
    allow_publishable = True

    @extend_schema(
        operation_id="GetCheckoutIntentsIntent",
        summary="Retrieve a checkout intent",
        description=(
            "The checkout intent with its attempts. With a publishable key, `client_token` is "
            "required and only the public subset is returned (no metadata, customer, invoice, "
            "allowed_origins or attempts); a token of another intent or account is a 404."
        ),
        parameters=[ID, CheckoutIntentRetrieveSerializer, EXPAND],
        responses=CheckoutIntentSchema,
    )
    def get(self, request, id: str):
        data = validated(CheckoutIntentRetrieveSerializer, self.params)
        client_token = data.get("client_token")
        expand = self.expand()
        if not self.caller.is_secret and not client_token:
            raise ParameterMissing(
                "client_token",
                "Missing required param: client_token. A publishable key can only reach a "
                "checkout intent together with its client_token.",
            )
        ci = selectors.checkout_intent_get(
            scope=self.caller.scope, checkout_intent_id=id, expand=expand
        )
        if not self.caller.is_secret and not tokens.client_token_matches(
            ci.client_token_hash, client_token
        ):
            raise ResourceMissing("checkout_intent", id)
        return Response(self.present(ci, expand))

    @extend_schema(
        operation_id="PostCheckoutIntentsIntent",
        summary="Update a checkout intent",
        description=(
            "Changes the given fields of a pending checkout intent; the others are kept. "
            "`type` cannot change (given, it is refused), and an intent that is finished, "
            "expired (its `expires_at` "
            "passed) or canceled cannot be updated (`checkout_intent_unexpected_state`). Emits "
            "`checkout_intent.updated`."
        ),
        parameters=[ID, EXPAND],
        request=CheckoutIntentUpdateSerializer,
        responses=CheckoutIntentSchema,
    )
    def post(self, request, id: str):
        if not self.caller.is_secret:
            raise SecretKeyRequired(
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key."
            )
        data = validated(CheckoutIntentUpdateSerializer, self.params)
        expand = self.expand()
        ci = services.checkout_intent_update(scope=self.caller.scope, checkout_intent_id=id, **data)
        return self.respond(ci, expand)


class CheckoutIntentCancelView(_CheckoutIntentView):
    @extend_schema(
        operation_id="PostCheckoutIntentsIntentCancel",
        summary="Cancel a checkout intent",
        description=(
            "Cancels a pending checkout intent: its page shows that it was canceled and can "
            "take no payment, and its open PaymentIntent is canceled. Refused while a payment "
            "is under way. Emits `checkout_intent.canceled`."
        ),
        parameters=[ID, EXPAND],
        request=EmptySerializer,
        responses=CheckoutIntentSchema,
    )
    def post(self, request, id: str):
        validated(EmptySerializer, self.params)
        expand = self.expand()
        ci = services.checkout_intent_cancel(scope=self.caller.scope, checkout_intent_id=id)
        return self.respond(ci, expand)


class CheckoutIntentExpireView(_CheckoutIntentView):
    @extend_schema(
        operation_id="PostCheckoutIntentsIntentExpire",
        summary="Expire a checkout intent now",
        description=(
            "Expires a pending checkout intent at once instead of at its `expires_at`: its "
            "page shows that it expired, and its open PaymentIntent is canceled. Refused while "
            "a payment is under way. Emits `checkout_intent.expired`."
        ),
        parameters=[ID, EXPAND],
        request=EmptySerializer,
        responses=CheckoutIntentSchema,
    )
    def post(self, request, id: str):
        validated(EmptySerializer, self.params)
        expand = self.expand()
        ci = services.checkout_intent_expire(scope=self.caller.scope, checkout_intent_id=id)
        return self.respond(ci, expand)


class CheckoutIntentClientTokenView(_CheckoutIntentView):
    @extend_schema(
        operation_id="PostCheckoutIntentsIntentClientToken",
        summary="Rotate a checkout intent's client token",
        description=(
            "Issues a new `client_token` (and, for a checkout_page, a new `url`) for a pending "
            "checkout intent. The previous token, and every page link made from it, stops "
            "working at once."
        ),
        parameters=[ID, EXPAND],
        request=EmptySerializer,
        responses=CheckoutIntentSchema,
    )
    def post(self, request, id: str):
        validated(EmptySerializer, self.params)
        expand = self.expand()
        ci, client_token = services.checkout_intent_rotate_client_token(
            scope=self.caller.scope, checkout_intent_id=id
        )
        return self.respond(ci, expand, client_token=client_token)
