"""/v1/checkouts and /v1/checkout_insights: validate, call one service or selector, present."""

from __future__ import annotations

import hmac

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from api.errors import SecretKeyRequired
from api.geolocation import request_country
from api.schema import path_id
from api.serializers import ListParamsSerializer
from api.views import StripeAPIView, validated
from core.errors import ParameterMissing, ResourceMissing

from .. import insights, selectors, services
from ..presenters import checkout_to_api
from . import serializers as s

LIST_URL = "/v1/checkouts"
ERRORS = {
    400: OpenApiResponse(description="Invalid parameters, or a state that forbids the call."),
    401: OpenApiResponse(description="No valid API key."),
    404: OpenApiResponse(description="No such checkout in this account and mode."),
}
BROWSER = (
    " A browser may call this with a publishable key and the checkout's `client_secret`; the "
    "answer then omits `customer.email`, `customer.name`, `location` and `metadata`."
)


class _CheckoutView(StripeAPIView):
    def present(self, chk) -> dict:
        """The checkout as this caller may see it, now (one left alone past the inactivity
        time reads as `inactive` even before the sweep writes it)."""
        return checkout_to_api(chk.as_shown(), publishable=not self.caller.is_secret)

    def check_browser_access(self, checkout_id: str, data: dict) -> None:
        """A publishable key reaches a checkout only with its client secret."""
        secret = data.pop("client_secret", None)
        if self.caller.is_secret:
            return
        if not secret:
            raise ParameterMissing(
                "client_secret",
                "Missing required param: client_secret. A publishable key can only reach a "
                "checkout together with its client_secret.",
            )
        chk = selectors.checkout_get(scope=self.caller.scope, checkout_id=checkout_id)
        if not hmac.compare_digest(str(secret), chk.client_secret):
            raise ResourceMissing("checkout", checkout_id)


class CheckoutCollectionView(_CheckoutView):
    allow_publishable = True

    @extend_schema(
        operation_id="PostCheckouts",
        summary="Start a checkout",
        description=(
            "A customer landed on a checkout page: starts tracking it (status `intent`, "
            "`checkout.started`). `tracking_id` (your order or checkout id) names one open "
            "checkout per account and mode until that checkout is complete (one given with a "
            "publishable key claims nothing: it never blocks the server's). Money fields are "
            "integers in the currency's smallest unit; `location[country]` is an ISO 3166-1 "
            "alpha-3 code. With no `location`, the country is that of the caller's IP address "
            "(GeoLocation, offline; a private or unknown address leaves `location` empty)."
            + BROWSER
        ),
        request=s.CheckoutStartSerializer,
        responses={200: s.CheckoutOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = (
            s.CheckoutStartSerializer if self.caller.is_secret else s.CheckoutBrowserStartSerializer
        )
        data = validated(serializer, self.params)
        chk = services.checkout_start(
            scope=self.caller.scope,
            located_country=request_country(request),
            from_browser=not self.caller.is_secret,
            **data,
        )
        return Response(self.present(chk))

    @extend_schema(
        operation_id="GetCheckouts",
        summary="List checkouts",
        description=(
            "The account's checkouts, newest first, keyset-paginated. `status` filters on the "
            "status as it reads now (`inactive` includes checkouts left alone past the "
            "inactivity time)."
        ),
        parameters=[s.CheckoutListSerializer],
        responses={200: s.CheckoutListOutputSerializer, **ERRORS},
    )
    def get(self, request):
        if not self.caller.is_secret:
            raise SecretKeyRequired(
                "This API call cannot be made with a publishable API key. Please use a secret "
                "API key."
            )
        data = validated(s.CheckoutListSerializer, self.params)
        queryset = selectors.checkout_list(
            scope=self.caller.scope,
            status=data.get("status"),
            tracking_id=data.get("tracking_id"),
            payment_flow=data.get("payment_flow"),
        )
        return self.paginated(
            queryset,
            params={k: v for k, v in data.items() if k in ListParamsSerializer().fields},
            url=LIST_URL,
            present=self.present,
            object_name="checkout",
        )


CHECKOUT_ID = path_id("checkout", "chk_")


class CheckoutDetailView(_CheckoutView):
    allow_publishable = True

    @extend_schema(
        operation_id="GetCheckoutsCheckout",
        summary="Retrieve a checkout",
        description="The checkout with its timeline and linked payments." + BROWSER,
        parameters=[CHECKOUT_ID, s.CheckoutRetrieveSerializer],
        responses={200: s.CheckoutOutputSerializer, **ERRORS},
    )
    def get(self, request, id: str):
        data = validated(s.CheckoutRetrieveSerializer, self.params)
        self.check_browser_access(id, data)
        return Response(
            self.present(selectors.checkout_get(scope=self.caller.scope, checkout_id=id))
        )

    @extend_schema(
        operation_id="PostCheckoutsCheckout",
        summary="Update a checkout",
        description=(
            "The customer moved on (or back): the fields given change and each step given "
            "(`shipping[status]`, `delivery[status]`, `billing[status]`: `not_started`, "
            "`in_progress` or `complete`) moves, its change kept with its time. The first "
            "update makes the checkout `active`; an `inactive` one becomes `active` again "
            "(`checkout.reactivated`). A complete checkout cannot be updated "
            "(`checkout_unexpected_state`)." + BROWSER
        ),
        parameters=[CHECKOUT_ID],
        request=s.CheckoutUpdateSerializer,
        responses={200: s.CheckoutOutputSerializer, **ERRORS},
    )
    def post(self, request, id: str):
        serializer = (
            s.CheckoutUpdateSerializer
            if self.caller.is_secret
            else s.CheckoutBrowserUpdateSerializer
        )
        data = validated(serializer, self.params)
        self.check_browser_access(id, data)
        chk = services.checkout_update(
            scope=self.caller.scope,
            checkout_id=id,
            from_browser=not self.caller.is_secret,
            **data,
        )
        return Response(self.present(chk))


class CheckoutCompleteView(_CheckoutView):
    @extend_schema(
        operation_id="PostCheckoutsCheckoutComplete",
        summary="Complete a checkout",
        description=(
            "The customer paid: the checkout is `complete` (terminal, `checkout.completed`) "
            "with `payment_reference` (a `pi_…` of this service or any processor's "
            "reference). A checkout that had gone inactive counts as recovered. Not needed when "
            "a PaymentIntent linked with `checkout` succeeds: that completes it. Completing "
            "twice is `checkout_unexpected_state`. Secret keys only."
        ),
        parameters=[CHECKOUT_ID],
        request=s.CheckoutCompleteSerializer,
        responses={200: s.CheckoutOutputSerializer, **ERRORS},
    )
    def post(self, request, id: str):
        data = validated(s.CheckoutCompleteSerializer, self.params)
        chk = services.checkout_complete(scope=self.caller.scope, checkout_id=id, **data)
        return Response(self.present(chk))


class CheckoutInsightsView(StripeAPIView):
    @extend_schema(
        operation_id="GetCheckoutInsights",
        summary="Checkout insights",
        description=(
            "Where customers drop off and how much money is lost, for the checkouts started in "
            "`created` (default: the last 30 days), in total and per bucket of `group_by` "
            "(`day` and `week` in `tz`, `currency`, `country`, `payment_flow`, `source`). "
            "Figures: the funnel counts (`started` → `active` → `shipping_completed` → "
            "`delivery_completed` → `billing_completed` → `payment_attempted` → `completed`; "
            "a step counts when it or a later one was reached), `conversion_rate` (completed / "
            "started), `step_conversion` (each step / the one before) and `drop_off` per step; "
            "`inactive` (potentially lost), `abandoned` (inactive for longer than the "
            "abandonment time), `recovered` (completed after having been inactive); per "
            "currency `completed_amount`, `lost_amount` (inactive carts), `declined_attempts` "
            "and the top decline codes (per checkout, by its latest decline); "
            "`median_seconds_to_complete`. Secret keys only."
        ),
        parameters=[s.CheckoutInsightsParamsSerializer],
        responses={
            200: s.CheckoutInsightsOutputSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            403: OpenApiResponse(description="A publishable key."),
        },
    )
    def get(self, request):
        data = validated(s.CheckoutInsightsParamsSerializer, self.params)
        created = data.get("created") or {}
        return Response(
            insights.checkout_insights(
                scope=self.caller.scope,
                gte=created.get("gte"),
                lt=created.get("lt"),
                group_by=data.get("group_by"),
                tz=data.get("tz"),
            )
        )
