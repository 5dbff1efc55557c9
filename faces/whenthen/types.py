"""WhenThen's Intent API as its reference writes it: the types, enums and inputs, names and
types as written there (`Intent`, `IntentAmount` with `rawAmount`/`currency`/`formattedAmount`,
`IntentTimeline`, `LinkedPayment`, the upper-case enums, `IntentShippingInput`,
`IntentDeliveryInput`, `IntentCartInput`…). One field is this service's own: `clientToken`,
the token a browser uses for this intent afterwards.

`Long` carries money in minor units (any size, never a fraction); `DateTime` is ISO 8601 in UTC
with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition


def _parse_long(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Long cannot represent a non-integer value: {value!r}")
    return value


def _iso(value: int) -> str:
    return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: object) -> int:
    if not isinstance(value, str):
        raise ValueError(f"DateTime cannot represent {value!r}: expected an ISO 8601 string")
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


Long = NewType("Long", int)
DateTime = NewType("DateTime", int)  # unix seconds inside, ISO 8601 on the wire

# The two scalars' definitions (`StrawberryConfig.scalar_map` in the schema).
SCALARS: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        description=(
            "A whole number of any size: money in the currency's minor units (5099 = 50.99)."
        ),
        serialize=int,
        parse_value=_parse_long,
    ),
    DateTime: strawberry.scalar(
        name="DateTime",
        description="A moment in UTC, ISO 8601: 2022-03-31T08:28:08Z.",
        serialize=_iso,
        parse_value=_parse_iso,
    ),
}


@strawberry.enum(description="Where an intent (a tracked checkout) is in its life.")
class CheckoutStatus(Enum):
    INTENT = "intent"
    ACTIVE = "active"
    INACTIVE = "inactive"
    COMPLETE = "complete"


@strawberry.enum(description="The status of one step of the checkout form.")
class FormStepStatus(Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"


@strawberry.enum(description="The outcome of a linked payment attempt.")
class PaymentStatus(Enum):
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# --- answers ----------------------------------------------------------------------------------


@strawberry.type
class IntentAmount:
    raw_amount: Long | None = strawberry.field(description="Amount in minor units.")
    currency: str | None = strawberry.field(description="ISO 4217 code, e.g. EUR.")
    formatted_amount: str | None = strawberry.field(description="The amount as people read it.")


@strawberry.type
class CheckoutLocation:
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-3 country code.")


@strawberry.type(description="PII (email, name) is not shown to a public key or a client token.")
class CheckoutCustomer:
    id: str | None
    is_guest: bool | None
    email: str | None
    name: str | None


@strawberry.type
class IntentTimelineStep:
    status: FormStepStatus
    date: DateTime | None


@strawberry.type(description="The status of each step of the checkout.")
class IntentTimeline:
    intent_started: IntentTimelineStep
    shipping: IntentTimelineStep
    delivery: IntentTimelineStep
    billing: IntentTimelineStep
    payment_attempts: list[IntentTimelineStep]
    complete_intent: IntentTimelineStep
    complete_checkout: IntentTimelineStep = strawberry.field(
        description="The same step as completeIntent (both names are in use)."
    )


@strawberry.type
class LinkedPayment:
    payment_id: str | None = strawberry.field(description="The payment (a pi_… of this service).")
    status: PaymentStatus | None
    time: DateTime | None
    title: str | None


@strawberry.type
class IntentCartItemType:
    id: str | None
    quantity: int | None
    title: str | None
    variant_title: str | None
    weight: int | None
    taxable: bool | None
    requires_shipping: bool | None
    price: Long | None
    sku: str | None
    line_total: Long | None
    image: str | None
    discounted_price: Long | None
    total_discount: Long | None


@strawberry.type
class IntentCart:
    id: str | None
    weight: int | None
    item_count: int | None
    items: list[IntentCartItemType] | None


@strawberry.type(description="A customer's checkout session, tracked from landing to payment.")
class Intent:
    id: strawberry.ID = strawberry.field(description="The intent id (chk_…).")
    date: DateTime | None = strawberry.field(description="When the intent was created.")
    tracking_id: str | None = strawberry.field(description="Your order or checkout id.")
    payment_flow_id: str | None = strawberry.field(description="The payment flow (flow_…).")
    currency: str | None
    amount: IntentAmount | None
    status: CheckoutStatus
    status_date: DateTime | None = strawberry.field(description="When the status last changed.")
    location: CheckoutLocation | None = strawberry.field(
        description="Not shown to a public key or a client token."
    )
    customer: CheckoutCustomer | None
    timeline: IntentTimeline
    linked_payments: list[LinkedPayment]
    cart: IntentCart | None
    client_token: str | None = strawberry.field(
        description=(
            "This service's addition: the intent's client token. A browser sends it as "
            "`Authorization: Bearer <clientToken>` to read and update this intent only."
        )
    )


# --- inputs -----------------------------------------------------------------------------------


@strawberry.input
class IntentCustomerInput:
    id: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    is_guest: bool | None = strawberry.UNSET


@strawberry.input
class IntentAmountInput:
    amount: Long = strawberry.field(description="Total in minor units, e.g. 5099 = 50.99.")
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")


@strawberry.input(description="If not given, the country of the caller's IP address is used.")
class IntentLocationInput:
    country: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 3166-1 alpha-3 country code."
    )


@strawberry.input
class IntentCartItem:
    id: str | None = strawberry.UNSET
    quantity: int | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    variant_title: str | None = strawberry.UNSET
    weight: int | None = strawberry.UNSET
    taxable: bool | None = strawberry.UNSET
    requires_shipping: bool | None = strawberry.UNSET
    price: Long | None = strawberry.UNSET
    sku: str | None = strawberry.UNSET
    line_total: Long | None = strawberry.UNSET
    image: str | None = strawberry.UNSET
    discounted_price: Long | None = strawberry.UNSET
    total_discount: Long | None = strawberry.UNSET


@strawberry.input
class IntentCartInput:
    id: str | None = strawberry.UNSET
    weight: int | None = strawberry.UNSET
    item_count: int | None = strawberry.UNSET
    items: list[IntentCartItem] | None = strawberry.UNSET


@strawberry.input(description="A form step's status (shipping, and billing).")
class IntentShippingInput:
    status: FormStepStatus


@strawberry.input(description="The delivery options' status.")
class IntentDeliveryInput:
    status: FormStepStatus
