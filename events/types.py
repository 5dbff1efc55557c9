"""The event types this service emits (docs/webhooks.md); `enabled_events` is validated against them."""

EVENT_TYPES = (
    "payment_intent.created",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.succeeded",
    "charge.failed",
    "charge.captured",
    "charge.refunded",
    "charge.updated",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "charge.refund.updated",
    "payment_method.attached",
    "payment_method.detached",
    "payment_method.updated",
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "checkout_intent.created",
    "checkout_intent.updated",
    "checkout_intent.finished",
    "checkout_intent.payment_failed",
    "checkout_intent.canceled",
    "checkout_intent.expired",
    "checkout.started",
    "checkout.updated",
    "checkout.inactive",
    "checkout.reactivated",
    "checkout.completed",
    "checkout.payment_attempted",
)
EVENT_TYPE_SET = frozenset(EVENT_TYPES)


def is_known_type(name: str) -> bool:
    return name in EVENT_TYPE_SET
