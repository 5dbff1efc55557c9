"""Every write to a CheckoutIntent, by sub-domain; import them from here.

- `checkout_intents`: the merchant's writes (create, update, cancel, expire, rotate the client
  token) and the rules the fields keep together.
- `payment`: the customer's submit (`checkout_intent_pay`, through the PaymentIntent services)
  and `checkout_intent_learn_payment_outcome`, the outcome listener (in
  settings.PAYMENT_OUTCOME_LISTENERS) through which the checkout learns each attempt's outcome
  in the transaction that writes it.
- `tracking`: the tracked checkout (`source: hosted`) each paying intent starts and its page
  moves on.
- `sweeps`: the workers' writes (expiry).
- `_common`: the lock, the state check, the intent as its events show it (each written with
  `events.services.event_emit`).
"""

from .checkout_intents import (
    checkout_intent_cancel,
    checkout_intent_create,
    checkout_intent_expire,
    checkout_intent_rotate_client_token,
    checkout_intent_update,
)
from .payment import Payment, checkout_intent_learn_payment_outcome, checkout_intent_pay
from .sweeps import checkout_intents_expire_due
from .tracking import checkout_intent_track, page_view_news

__all__ = [
    "Payment",
    "checkout_intent_cancel",
    "checkout_intent_create",
    "checkout_intent_expire",
    "checkout_intent_learn_payment_outcome",
    "checkout_intent_pay",
    "checkout_intent_rotate_client_token",
    "checkout_intent_track",
    "checkout_intent_update",
    "checkout_intents_expire_due",
    "page_view_news",
]
