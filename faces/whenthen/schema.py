"""The operations: `startIntent`, `getIntent`, `updateIntent`, `completeIntent`, each a thin
translation over the tracked checkouts' services and selectors (`checkouts`), validated by the
same serializers as `/v1/checkouts`, answered through `checkouts.presenters`.

Who may call what (the caller is in `info.context`, `faces.whenthen.views.Caller`): a secret
key everything; a publishable key `startIntent` only; an intent's client token (its
`clientToken`, the tracked checkout's client secret) `getIntent`, `updateIntent` and
`completeIntent` of that intent only. Neither of the last two sees PII (customer email and
name, location).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from checkouts import selectors, services
from checkouts.api.serializers import (
    CheckoutCompleteSerializer,
    CheckoutStartSerializer,
    CheckoutUpdateSerializer,
)
from checkouts.presenters import checkout_to_api
from core.errors import ParameterMissing

from . import types as t
from .limits import CostLimit, DepthLimit
from .translate import arguments_to_params, forbidden, graphql_error, intent_from_checkout

MAX_TOKENS = 3000


def _validated(serializer_class, params: dict) -> dict:
    serializer = serializer_class(data=params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _present(caller, chk) -> t.Intent:
    return intent_from_checkout(checkout_to_api(chk.as_shown(), publishable=not caller.is_secret))


def _run(info: strawberry.Info, operation: str, act) -> t.Intent:
    """Run one operation for the caller: its permission first, then `act(caller)`; an error of
    the engine becomes this field's GraphQL error (the operation changed nothing)."""
    caller = info.context
    if not caller.may(operation):
        raise forbidden(caller.refusal(operation))
    try:
        return _present(caller, act(caller))
    except GraphQLError:
        raise
    except Exception as exc:
        raise graphql_error(exc) from exc


def _own(caller, intent_id: str) -> str:
    """The intent id, checked against a client token's own intent (another is not found)."""
    caller.check_intent(intent_id)
    return intent_id


@strawberry.type
class Query:
    @strawberry.field(description="An intent by its id.")
    def get_intent(self, info: strawberry.Info, id: strawberry.ID) -> t.Intent | None:
        return _run(
            info,
            "getIntent",
            lambda caller: selectors.checkout_get(
                scope=caller.scope, checkout_id=_own(caller, str(id))
            ),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "A customer landed on the checkout: starts tracking it (status INTENT). With no "
            "location, the country of the caller's IP address is used (GeoLocation)."
        )
    )
    def start_intent(
        self,
        info: strawberry.Info,
        tracking_id: strawberry.ID,
        payment_flow_id: strawberry.ID,
        amount: t.IntentAmountInput,
        customer: t.IntentCustomerInput | None = strawberry.UNSET,
        location: t.IntentLocationInput | None = strawberry.UNSET,
        cart: t.IntentCartInput | None = strawberry.UNSET,
    ) -> t.Intent | None:
        def act(caller):
            if not str(payment_flow_id).strip():  # required here: `ID!`, and not empty
                raise ParameterMissing("payment_flow", "Missing required param: paymentFlowId.")
            params = arguments_to_params(
                tracking_id=str(tracking_id),
                payment_flow=str(payment_flow_id),
                amount=amount,
                customer=customer,
                location=location,
                cart=cart,
            )
            data = _validated(CheckoutStartSerializer, params)
            return services.checkout_start(
                scope=caller.scope, located_country=caller.country(), **data
            )

        return _run(info, "startIntent", act)

    @strawberry.mutation(
        description=(
            "The customer moved on (or back): the fields given change, each step given moves. "
            "The first update makes the intent ACTIVE; an INACTIVE one becomes ACTIVE again."
        )
    )
    def update_intent(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        tracking_id: str | None = strawberry.UNSET,
        customer: t.IntentCustomerInput | None = strawberry.UNSET,
        amount: t.IntentAmountInput | None = strawberry.UNSET,
        location: t.IntentLocationInput | None = strawberry.UNSET,
        cart: t.IntentCartInput | None = strawberry.UNSET,
        billing: t.IntentShippingInput | None = strawberry.UNSET,
        shipping: t.IntentShippingInput | None = strawberry.UNSET,
        delivery: t.IntentDeliveryInput | None = strawberry.UNSET,
    ) -> t.Intent | None:
        def act(caller):
            params = arguments_to_params(
                tracking_id=tracking_id,
                customer=customer,
                amount=amount,
                location=location,
                cart=cart,
                billing=billing,
                shipping=shipping,
                delivery=delivery,
            )
            data = _validated(CheckoutUpdateSerializer, params)
            return services.checkout_update(
                scope=caller.scope, checkout_id=_own(caller, str(id)), **data
            )

        return _run(info, "updateIntent", act)

    @strawberry.mutation(
        description=(
            "The customer paid: the intent is COMPLETE, linked to `paymentReference` (a pi_… "
            "of this service or any processor's reference)."
        )
    )
    def complete_intent(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        payment_reference: strawberry.ID | None = strawberry.UNSET,
    ) -> t.Intent | None:
        def act(caller):
            params = arguments_to_params(payment_reference=payment_reference)
            data = _validated(CheckoutCompleteSerializer, params)
            return services.checkout_complete(
                scope=caller.scope, checkout_id=_own(caller, str(id)), **data
            )

        return _run(info, "completeIntent", act)


class _Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Every error is the caller's to read; an unexpected one is logged where it is caught
        (`translate.graphql_error`), so nothing is logged twice here."""


schema = _Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(scalar_map=t.SCALARS),
    # Factories, one extension each per operation; the two caches live at module level.
    extensions=[
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(ParserCache, maxsize=256),
        partial(AddValidationRules, [DepthLimit, CostLimit]),
        partial(ValidationCache, maxsize=256),
    ],
)
