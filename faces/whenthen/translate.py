"""The translation both ways: WhenThen's inputs into the parameters `/v1/checkouts` takes (then
validated by the same serializers and run by the same services), the checkout as
`checkouts.presenters` shows it into WhenThen's `Intent`, and an error of the engine into a
GraphQL error. No rule of its own: names, shapes and error codes only."""

from __future__ import annotations

import dataclasses
import logging
import re
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from api.errors import translate
from api.idempotency import should_store
from core.money import format_amount

from . import types as t

logger = logging.getLogger("payintents.faces.whenthen")

# --- inputs → the REST parameters -----------------------------------------------------------


def input_to_params(value: Any) -> Any:
    """An input object (or list of them) as the JSON body `/v1/checkouts` takes: the snake_case
    field names are the same, a field not sent is left out, an enum is its value."""
    if isinstance(value, list):
        return [input_to_params(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: input_to_params(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if getattr(value, field.name) is not strawberry.UNSET
        }
    return value


def arguments_to_params(**arguments: Any) -> dict:
    """The operation's arguments as REST parameters: `amount {amount, currency}` becomes
    `amount` and `currency`, a step input `{status}` its status object; an argument not sent or
    sent as null is not given."""
    params: dict[str, Any] = {}
    for name, value in arguments.items():
        if value is None or value is strawberry.UNSET:
            continue
        if name == "amount":
            params["amount"] = value.amount
            params["currency"] = value.currency
        else:
            params[name] = input_to_params(value)
    return params


# The REST parameter → WhenThen's argument, where the name is not just camelCase.
_ARGUMENT_NAMES = {
    "payment_flow": "paymentFlowId",
    "amount": "amount.amount",
    "currency": "amount.currency",
}
_BRACKETS = re.compile(r"\[([^\]]*)\]")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def argument_path(param: str | None) -> str | None:
    """`cart[items][0][line_total]` → `cart.items.0.lineTotal`; `payment_flow` → `paymentFlowId`."""
    if not param:
        return None
    head = param.split("[", 1)[0]
    parts = [_ARGUMENT_NAMES.get(head, _camel(head))]
    parts += [_camel(part) for part in _BRACKETS.findall(param)]
    return ".".join(parts)


# --- the checkout as presented → Intent -----------------------------------------------------

_STEP_OF_ATTEMPT = {
    "requires_action": t.FormStepStatus.IN_PROGRESS,
    "processing": t.FormStepStatus.IN_PROGRESS,
    "succeeded": t.FormStepStatus.COMPLETE,
    "failed": t.FormStepStatus.COMPLETE,
}


def _step(step: dict) -> t.IntentTimelineStep:
    return t.IntentTimelineStep(status=t.FormStepStatus(step["status"]), date=step["date"])


def _item(item: dict) -> t.IntentCartItemType:
    return t.IntentCartItemType(
        id=item.get("id"),
        quantity=item.get("quantity"),
        title=item.get("title"),
        variant_title=item.get("variant_title"),
        weight=item.get("weight"),
        taxable=item.get("taxable"),
        requires_shipping=item.get("requires_shipping"),
        price=item.get("price"),
        sku=item.get("sku"),
        line_total=item.get("line_total"),
        image=item.get("image"),
        discounted_price=item.get("discounted_price"),
        total_discount=item.get("total_discount"),
    )


def intent_from_checkout(data: dict) -> t.Intent:
    """WhenThen's `Intent` from `checkouts.presenters.checkout_to_api` (already stripped of PII
    for a caller that may not see it)."""
    timeline = data["timeline"]
    attempts = [
        t.IntentTimelineStep(status=_STEP_OF_ATTEMPT[a["status"]], date=a["date"])
        for a in timeline["payment_attempts"]
    ] or [t.IntentTimelineStep(status=t.FormStepStatus.NOT_STARTED, date=None)]
    complete = _step(timeline["complete"])
    currency = data["currency"]
    amount = data["amount"]
    customer = data.get("customer")
    location = data.get("location")
    cart = data.get("cart")
    return t.Intent(
        id=strawberry.ID(data["id"]),
        date=data["created"],
        tracking_id=data["tracking_id"],
        payment_flow_id=data["payment_flow"],
        currency=currency.upper() if currency else None,
        amount=(
            t.IntentAmount(
                raw_amount=amount,
                currency=currency.upper(),
                formatted_amount=format_amount(amount, currency),
            )
            if amount is not None and currency
            else None
        ),
        status=t.CheckoutStatus(data["status"]),
        status_date=data["status_changed_at"],
        location=t.CheckoutLocation(country=location["country"]) if location else None,
        customer=(
            t.CheckoutCustomer(
                id=customer.get("id"),
                is_guest=customer.get("is_guest"),
                email=customer.get("email"),
                name=customer.get("name"),
            )
            if customer is not None
            else None
        ),
        timeline=t.IntentTimeline(
            intent_started=_step(timeline["intent_started"]),
            shipping=_step(timeline["shipping"]),
            delivery=_step(timeline["delivery"]),
            billing=_step(timeline["billing"]),
            payment_attempts=attempts,
            complete_intent=complete,
            complete_checkout=complete,
        ),
        linked_payments=[
            t.LinkedPayment(
                payment_id=p["payment_intent"],
                status=t.PaymentStatus(p["status"]),
                time=p["created"],
                title=p["title"],
            )
            for p in data["linked_payments"]
        ],
        cart=(
            t.IntentCart(
                id=cart.get("id"),
                weight=cart.get("weight"),
                item_count=cart.get("item_count"),
                items=[_item(item) for item in cart["items"]] if "items" in cart else None,
            )
            if cart is not None
            else None
        ),
        client_token=data.get("client_secret"),
    )


# --- errors ---------------------------------------------------------------------------------

_CODE_OF_STATUS = {
    400: "BAD_USER_INPUT",
    401: "UNAUTHENTICATED",
    402: "PAYMENT_FAILED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


_STATUS_OF_CODE = {code: status for status, code in _CODE_OF_STATUS.items()}


def kept_under_key(errors) -> bool:
    """Whether an answer with these field errors is stored under its `Idempotency-Key`, as
    `/v1/` decides for the HTTP answer each error would have been (`should_store`): a decline,
    a refusal for the object's state or an internal error is kept; a refused argument, a
    missing object or a refused credential releases the key for a corrected retry."""
    return all(
        should_store(
            _STATUS_OF_CODE.get((error.extensions or {}).get("code"), 500),
            {"error": {"code": (error.extensions or {}).get("reason") or ""}},
        )
        for error in errors
    )


def graphql_error(exc: Exception) -> GraphQLError:
    """An error of the engine as a GraphQL error: its message, `extensions.code` (the kind, in
    GraphQL's habit), `extensions.reason` (the engine's own code, as `/v1/` names it) and
    `extensions.argument` (the argument at fault, as this face names it)."""
    error = translate(exc)
    if error is None:
        logger.exception("unexpected error in a WhenThen operation", exc_info=exc)
        return GraphQLError(
            "An internal error occurred; nothing was changed by the failed step.",
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )
    extensions: dict[str, Any] = {
        "code": _CODE_OF_STATUS.get(error.http_status, "BAD_USER_INPUT"),
        "reason": error.code,
    }
    argument = argument_path(error.param)
    if argument:
        extensions["argument"] = argument
    return GraphQLError(error.message, extensions=extensions)


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})
