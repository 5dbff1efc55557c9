"""Every write to a PaymentIntent, by sub-domain; import them from here
(`from intents import services; services.payment_intent_confirm(...)`).

- `create_update`: create (and create-and-confirm), update.
- `confirm`: confirm/attach — the authorisation attempt, whose call and phase 2 also finish a
  3-D Secure challenge and a `processing` resolution.
- `three_d_secure`: the customer's answer on the hosted challenge page.
- `capture_cancel`: capture, cancel (and release), increment_authorization.
- `sweeps`: the workers' writes — async capture, processing resolution, expiry, abandonment.
- `route`: routing a confirm across the account's processor connections (its payment flow)
  and the next connection of a retry chain.
- `setup_intents`: SetupIntents (save a card to a customer, no charge: a verification attempt).
- `links`: the client secret check and the signed 3-D Secure link.
- `_common`: locks, the state check, the events, the outcome told to the features that
  listen, charge bookkeeping.

Every movement of money is a `payments.attempts.Movement` run by the attempt ledger (lock,
re-check and record the attempt; the processor call outside any transaction; lock again and
apply); the reconciler (`payments.services.attempts_reconcile`) settles what a crash left.
"""

from .capture_cancel import (
    payment_intent_cancel,
    payment_intent_capture,
    payment_intent_increment_authorization,
)
from .confirm import payment_intent_confirm
from .create_update import check_payment_flow, payment_intent_create, payment_intent_update
from .links import (
    client_secret_matches,
    setup_three_d_secure_read_token,
    three_d_secure_read_token,
    three_d_secure_token,
    three_d_secure_url,
)
from .setup_intents import (
    SetupIntentUnexpectedState,
    setup_intent_authenticate,
    setup_intent_cancel,
    setup_intent_client_secret_matches,
    setup_intent_confirm,
    setup_intent_create,
    setup_intent_update,
)
from .sweeps import (
    charge_capture_async,
    charges_capture_pending,
    payment_intent_resolve_processing,
    payment_intents_abandon_stale,
    payment_intents_expire_due,
    payment_intents_resolve_due,
)
from .three_d_secure import AUTHENTICATION_FAILURE_MESSAGE, payment_intent_authenticate

__all__ = [
    "SetupIntentUnexpectedState",
    "setup_intent_authenticate",
    "setup_intent_cancel",
    "setup_intent_client_secret_matches",
    "setup_intent_confirm",
    "setup_intent_create",
    "setup_intent_update",
    "check_payment_flow",
    "AUTHENTICATION_FAILURE_MESSAGE",
    "charge_capture_async",
    "charges_capture_pending",
    "client_secret_matches",
    "payment_intent_authenticate",
    "payment_intent_cancel",
    "payment_intent_capture",
    "payment_intent_confirm",
    "payment_intent_create",
    "payment_intent_increment_authorization",
    "payment_intent_resolve_processing",
    "payment_intent_update",
    "payment_intents_abandon_stale",
    "payment_intents_expire_due",
    "payment_intents_resolve_due",
    "setup_three_d_secure_read_token",
    "three_d_secure_read_token",
    "three_d_secure_token",
    "three_d_secure_url",
]
