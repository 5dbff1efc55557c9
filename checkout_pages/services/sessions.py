"""Checkout Sessions: Stripe's face of a checkout intent.

A session is created with its CheckoutIntent in one transaction (`checkout_intent_create`: the
page, its client token, the expiry, the tracked checkout); the page, the payment, 3-D Secure and
the expiry sweep are the checkout intent's. What the session adds is told here, by the
checkout intent's own services, in their transactions: `session_finished` (from the payment
outcome listener, or the saved card of a `setup` session: `checkout.session.completed`) and
`sessions_expired` (from expire and the sweep: `checkout.session.expired`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from core import crypto
from core.errors import InvalidRequestError, ParameterMissing, ResourceMissing
from core.ids import generate_id
from core.metadata import merge_metadata
from core.scope import Scope
from core.values import UNSET
from payments.selectors import customer_get
from payments.services import customer_create

from .. import presenters
from ..models import CheckoutSession, PaymentLink, SessionMode, Type
from .catalog import priced_line_items
from .checkout_intents import checkout_intent_create, checkout_intent_expire, clean_url

SESSION_MIN_LIFETIME = timedelta(minutes=30)
SESSION_MAX_LIFETIME = timedelta(hours=24)
SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


SUBSCRIPTION_UNAVAILABLE = (
    "mode=subscription is not available: this service has no billing engine. Use payment or setup."
)


def checkout_session_create(
    *,
    scope: Scope,
    mode: str | None = None,
    line_items: list[dict] | None = None,
    success_url: str | None = None,
    cancel_url: str | None = None,
    customer: str | None = None,
    customer_email: str | None = None,
    customer_creation: str | None = None,
    client_reference_id: str | None = None,
    metadata=None,
    expires_at: int | None = None,
    payment_intent_data: dict | None = None,
    payment_method_types: list[str] | None = None,
    ui_mode: str | None = None,
    return_url: str | None = None,
    currency: str | None = None,
    payment_link: PaymentLink | None = None,
) -> CheckoutSession:
    """A new open session and its checkout intent (`checkout_intent_create`), one transaction."""
    if not mode:
        raise ParameterMissing("mode")
    if mode == "subscription":
        raise InvalidRequestError(SUBSCRIPTION_UNAVAILABLE, param="mode")
    ui_mode = ui_mode or "hosted"
    if payment_method_types and set(payment_method_types) - {"card"}:
        raise InvalidRequestError(
            "The only payment method type available is card.",
            code="payment_method_type_invalid",
            param="payment_method_types",
        )
    if ui_mode == "embedded":
        # The form in a frame of the merchant's page (checkout.js with the client_secret); the
        # page at return_url's origin may frame it (frame-ancestors), and the customer goes to
        # return_url once done.
        for name, value in (("success_url", success_url), ("cancel_url", cancel_url)):
            if value:
                raise InvalidRequestError(
                    f"{name} is not allowed with ui_mode=embedded: use return_url.", param=name
                )
        if not return_url:
            raise ParameterMissing("return_url")
        clean_url(
            return_url.replace(SESSION_ID_PLACEHOLDER, "x"), "return_url", livemode=scope.livemode
        )
        parts = urlsplit(return_url)
        finish_url, frame_origins = return_url, [f"{parts.scheme}://{parts.netloc}"]
    else:
        if return_url:
            raise InvalidRequestError(
                "return_url is only for ui_mode=embedded: use success_url.", param="return_url"
            )
        if not success_url:
            raise ParameterMissing("success_url")
        clean_url(
            success_url.replace(SESSION_ID_PLACEHOLDER, "x"), "success_url", livemode=scope.livemode
        )
        clean_url(cancel_url, "cancel_url", livemode=scope.livemode)
        finish_url, frame_origins = success_url, []
    if customer and customer_email:
        raise InvalidRequestError(
            "You may only specify one of these parameters: customer, customer_email.",
            param="customer_email",
        )
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    now = timezone.now()
    expiry = _session_expiry(expires_at, now)
    pi_data = payment_intent_data or {}
    if mode == SessionMode.PAYMENT:
        lines = priced_line_items(scope, line_items or [])
        currency = lines[0]["currency"]
        total: int | None = sum(line["amount_total"] for line in lines)
    else:
        if line_items:
            raise InvalidRequestError(
                "line_items may not be given in setup mode.", param="line_items"
            )
        if pi_data:
            raise InvalidRequestError(
                "payment_intent_data may not be given in setup mode.", param="payment_intent_data"
            )
        lines, total = [], None
    session_id = generate_id("cs")
    with transaction.atomic():
        if mode == SessionMode.SETUP and customer_obj is None:
            # A saved card belongs to a customer: one is made for it, as Stripe's
            # customer_creation=always does.
            customer_obj = customer_create(scope=scope, email=customer_email)
        ci, client_token = checkout_intent_create(
            scope=scope,
            type=_engine_type(mode, ui_mode),
            amount=total,
            currency=currency if mode == SessionMode.PAYMENT else None,
            capture="manual" if pi_data.get("capture_method") == "manual" else "automatic",
            customer=customer_obj.id if customer_obj else None,
            description=pi_data.get("description"),
            metadata=pi_data.get("metadata"),
            save_payment_method=bool(pi_data.get("setup_future_usage")),
            redirects={
                "completed_url": finish_url.replace(SESSION_ID_PLACEHOLDER, session_id),
                "return_url": cancel_url,
            },
            allowed_origins=frame_origins,
            expires_at=int(expiry.timestamp()),
        )
        session = CheckoutSession(
            id=session_id,
            account_id=scope.account_id,
            livemode=scope.livemode,
            created=now,
            checkout_intent=ci,
            mode=mode,
            ui_mode=ui_mode,
            return_url=return_url,
            line_items=lines,
            amount_subtotal=total,
            amount_total=total,
            currency=currency,
            success_url=success_url,
            cancel_url=cancel_url,
            client_reference_id=client_reference_id,
            customer_email=customer_email,
            customer_creation=customer_creation,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
            payment_method_types=list(payment_method_types or ["card"]),
            payment_link=payment_link,
            page_token=crypto.encrypt(client_token),
        )
        session.save(force_insert=True)
    return session


def _engine_type(mode: str, ui_mode: str) -> str:
    """The checkout intent a session runs on: the hosted page, or the same form framed."""
    if mode == SessionMode.SETUP:
        return Type.PAYMENT_METHOD_FORM
    return Type.CHECKOUT_PLUGIN if ui_mode == "embedded" else Type.CHECKOUT_PAGE


def _session_expiry(expires_at: int | None, now: datetime) -> datetime:
    if expires_at is None:
        return now + SESSION_MAX_LIFETIME
    try:
        value = datetime.fromtimestamp(int(expires_at), tz=UTC)
    except (OverflowError, ValueError, OSError):
        value = None
    # A little slack at the low end: Stripe's own examples send now + 30 min exactly.
    low = now + SESSION_MIN_LIFETIME - timedelta(seconds=5)
    if value is None or value < low or value > now + SESSION_MAX_LIFETIME:
        raise InvalidRequestError(
            "The `expires_at` timestamp must be at least 30 minutes and at most 24 hours from "
            "Checkout Session creation.",
            code="parameter_invalid_integer",
            param="expires_at",
        )
    return max(value, now + SESSION_MIN_LIFETIME)


def checkout_session_update(*, scope: Scope, session_id: str, metadata=UNSET) -> CheckoutSession:
    with transaction.atomic():
        session = (
            CheckoutSession.objects.select_for_update(of=("self",))
            .select_related("checkout_intent")
            .filter(id=session_id, **scope.filters)
            .first()
        )
        if session is None:
            raise ResourceMissing("checkout.session", session_id)
        if metadata is not UNSET:
            session.metadata = merge_metadata(session.metadata, metadata)
        session.save()
    return session


def checkout_session_expire(*, scope: Scope, session_id: str) -> CheckoutSession:
    """Expire an open session now: its checkout intent expires (`checkout_intent_expire`, which
    refuses while a payment is under way) and `checkout.session.expired` is written with it."""
    session = CheckoutSession.objects.filter(id=session_id, **scope.filters).first()
    if session is None:
        raise ResourceMissing("checkout.session", session_id)
    status = (
        "complete"
        if session.async_submitted
        else presenters.session_status(session.checkout_intent)
    )
    if status != "open":
        raise InvalidRequestError(
            "Only Checkout Sessions with a status of open can be expired. This session has a "
            f"status of {status}.",
            code="checkout_session_unexpected_state",
            param=None,
        )
    checkout_intent_expire(scope=scope, checkout_intent_id=session.checkout_intent_id)
    return CheckoutSession.objects.select_related("checkout_intent").get(pk=session.pk)


def payment_link_visit(link: PaymentLink, *, success_url: str) -> CheckoutSession:
    """A visit to a Payment Link's page: a new session of its line items."""
    return checkout_session_create(
        scope=Scope.of(link),
        mode=SessionMode.PAYMENT,
        line_items=list(link.line_items),
        success_url=link.redirect_url or success_url,
        metadata=dict(link.metadata or {}),
        payment_link=link,
    )
