"""What a Checkout Session is told by its checkout intent's services, in their transactions:
`session_finished` (the payment outcome listener, the saved card of a `setup` session) and
`sessions_expired` (expire, the sweep). And the session as the API shows it (its `url` from the
encrypted page token)."""

from __future__ import annotations

from core import crypto
from core.scope import Scope
from events.services import event_emit

from .. import presenters
from ..models import CheckoutIntent, CheckoutSession, SessionMode


def session_url(session: CheckoutSession) -> str:
    return presenters.page_url(crypto.decrypt(session.page_token))


def session_to_api(session: CheckoutSession) -> dict:
    """The session as the API shows it: `url` (hosted) or `client_secret` (embedded: the
    page's client token, which checkout.js takes) while open."""
    token = crypto.decrypt(session.page_token)
    return presenters.checkout_session_to_api(
        session, url=presenters.page_url(token), client_secret=token
    )


def session_finished(ci: CheckoutIntent, *, payment_method=None, setup_intent=None) -> None:
    """The checkout intent `ci` (locked, just finished) is a session's: its customer details
    are kept, a `setup` session shows the SetupIntent that saved the card, and
    `checkout.session.completed` is written. A checkout intent of no session costs one
    indexed read."""
    session = CheckoutSession.objects.filter(checkout_intent_id=ci.id).first()
    if session is None:
        return
    session.checkout_intent = ci
    scope = Scope.of(ci)
    if session.async_submitted:
        # Completed when the customer submitted; now the money has arrived.
        session.save()
        event_emit(
            scope=scope,
            changes=[("checkout.session.async_payment_succeeded", session_to_api(session), None)],
        )
        return
    pm = payment_method
    if pm is None and ci.payment_intent_id is not None and ci.payment_intent is not None:
        pm = ci.payment_intent.payment_method
    if session.mode == SessionMode.SETUP and setup_intent is not None:
        session.setup_intent = setup_intent
    session.customer_details = _customer_details(session, ci, pm)
    session.save()
    event_emit(scope=scope, changes=[("checkout.session.completed", session_to_api(session), None)])


def session_payment_outcome(ci: CheckoutIntent, status: str) -> None:
    """An attempt on the locked checkout intent `ci` answered `processing` (the session is
    complete, unpaid: `checkout.session.completed`) or, after that, `failed`
    (`checkout.session.async_payment_failed`). Other outcomes are `session_finished`'s."""
    if status not in ("processing", "failed"):
        return
    session = CheckoutSession.objects.filter(checkout_intent_id=ci.id).first()
    if session is None:
        return
    session.checkout_intent = ci
    if status == "processing" and not session.async_submitted:
        session.async_submitted = True
        pi = ci.payment_intent
        pm = pi.payment_method if pi is not None else None
        session.customer_details = _customer_details(session, ci, pm)
        session.save()
        event_emit(
            scope=Scope.of(ci),
            changes=[("checkout.session.completed", session_to_api(session), None)],
        )
    elif status == "failed" and session.async_submitted:
        event_emit(
            scope=Scope.of(ci),
            changes=[("checkout.session.async_payment_failed", session_to_api(session), None)],
        )


def sessions_expired(cis: list[CheckoutIntent]) -> None:
    """`checkout.session.expired` for each of these just-expired checkout intents that is a
    session's (in the caller's transaction)."""
    if not cis:
        return
    by_id = {ci.id: ci for ci in cis}
    sessions = list(CheckoutSession.objects.filter(checkout_intent_id__in=list(by_id)))
    for session in sessions:
        session.checkout_intent = by_id[session.checkout_intent_id]
        event_emit(
            scope=Scope.of(session),
            changes=[("checkout.session.expired", session_to_api(session), None)],
        )


def _customer_details(session: CheckoutSession, ci: CheckoutIntent, pm) -> dict:
    billing = (pm.billing_details if pm is not None else None) or {}
    customer_email = session.customer_email or (ci.customer.email if ci.customer else None)
    return {
        "address": billing.get("address"),
        "email": customer_email or billing.get("email"),
        "name": billing.get("name"),
        "phone": billing.get("phone"),
        "tax_exempt": "none",
        "tax_ids": [],
    }
