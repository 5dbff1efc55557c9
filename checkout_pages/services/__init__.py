"""Every write to a CheckoutIntent, by sub-domain; import them from here.

- `checkout_intents`: the merchant's writes (create, update, cancel, expire, rotate the client
  token) and the rules the fields keep together.
- `payment`: the customer's submit (`checkout_intent_pay`, through the PaymentIntent services)
  and `checkout_intent_learn_payment_outcome`, the outcome listener (in
  settings.PAYMENT_OUTCOME_LISTENERS) through which the checkout learns each attempt's outcome
  in the transaction that writes it.
- `tracking`: the tracked checkout (`source: hosted`) each paying intent starts and its page
  moves on.
- `catalog`: Products, one-time Prices, Payment Links.
- `sessions`: Checkout Sessions (Stripe's face of a checkout intent); `session_outcomes`: what a
  session is told as its checkout intent finishes or expires.
- `sweeps`: the workers' writes (expiry).
- `_common`: the lock, the state check, the intent as its events show it (each written with
  `events.services.event_emit`).
"""

from .catalog import (
    MAX_QUANTITY,
    payment_link_create,
    payment_link_update,
    payment_link_url,
    price_create,
    price_update,
    priced_line_items_of_link,
    product_create,
    product_update,
)
from .checkout_intents import (
    checkout_intent_cancel,
    checkout_intent_create,
    checkout_intent_expire,
    checkout_intent_rotate_client_token,
    checkout_intent_update,
)
from .payment import (
    Payment,
    checkout_intent_learn_payment_outcome,
    checkout_intent_learn_setup_outcome,
    checkout_intent_pay,
)
from .session_outcomes import session_to_api, session_url
from .sessions import (
    SESSION_MAX_LIFETIME,
    SESSION_MIN_LIFETIME,
    SUBSCRIPTION_UNAVAILABLE,
    checkout_session_create,
    checkout_session_expire,
    checkout_session_update,
    payment_link_visit,
)
from .sweeps import checkout_intents_expire_due
from .tracking import checkout_intent_track, page_view_news

__all__ = [
    "MAX_QUANTITY",
    "SESSION_MAX_LIFETIME",
    "SESSION_MIN_LIFETIME",
    "SUBSCRIPTION_UNAVAILABLE",
    "checkout_session_create",
    "checkout_session_expire",
    "checkout_session_update",
    "payment_link_create",
    "payment_link_update",
    "payment_link_url",
    "payment_link_visit",
    "price_create",
    "price_update",
    "priced_line_items_of_link",
    "product_create",
    "product_update",
    "session_to_api",
    "session_url",
    "Payment",
    "checkout_intent_cancel",
    "checkout_intent_create",
    "checkout_intent_expire",
    "checkout_intent_learn_payment_outcome",
    "checkout_intent_learn_setup_outcome",
    "checkout_intent_pay",
    "checkout_intent_rotate_client_token",
    "checkout_intent_track",
    "checkout_intent_update",
    "checkout_intents_expire_due",
    "page_view_news",
]
