"""The merchant's writes: create, update, cancel, expire, rotate the client token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NoReturn

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidRequestError, ParameterInvalid, ParameterMissing, for_object
from core.metadata import merge_metadata
from core.money import validate_amount_for_currency
from core.scope import Scope
from core.values import UNSET
from core.web import absolute_http_url, web_origin
from events.services import event_emit
from intents.models import Status as PaymentIntentStatus
from intents.services import check_payment_flow
from payments.selectors import customer_get

from .. import tokens
from ..exceptions import PaymentInProgress, TypeImmutable
from ..models import FRAMED_TYPES, CheckoutIntent, Type
from ._common import (
    cancel_open_payment_intent,
    check_pending,
    event_change,
    lock_checkout_intent,
    snapshot,
)
from .session_outcomes import sessions_expired
from .tracking import start_tracked_checkout

DEFAULT_LIFETIME = timedelta(hours=24)
MIN_LIFETIME = timedelta(minutes=30)
MAX_LIFETIME = timedelta(days=30)
MAX_ALLOWED_ORIGINS = 10


def checkout_intent_create(
    *,
    scope: Scope,
    type: str,
    amount: int | None = None,
    currency: str | None = None,
    amount_editable: bool = False,
    amount_min: int | None = None,
    amount_max: int | None = None,
    capture: str | None = None,
    customer: str | None = None,
    description: str | None = None,
    metadata=None,
    order_number: str | None = None,
    invoice: str | None = None,
    payment_flow: str | None = None,
    card_payments: bool | None = None,
    billing_address: bool = False,
    save_payment_method: bool = False,
    redirects: dict | None = None,
    allowed_origins: list[str] | None = None,
    expires_at: int | None = None,
    located_country: str | None = None,
) -> tuple[CheckoutIntent, str]:
    """A new pending intent and its client token (returned once; only its hash is kept). A
    paying intent starts its tracked checkout (`source: hosted`) in the same transaction, its
    country `located_country` (GeoLocation of the caller's address; None: the page's visitor's
    fills it, `checkout_intent_track`)."""
    now = timezone.now()
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    if payment_flow:
        check_payment_flow(scope, payment_flow)
    redirects = redirects or {}
    client_token = tokens.client_token_generate()
    ci = CheckoutIntent(
        account_id=scope.account_id,
        livemode=scope.livemode,
        created=now,
        type=type,
        amount=amount,
        currency=currency,
        amount_editable=bool(amount_editable),
        amount_min=amount_min,
        amount_max=amount_max,
        capture=capture or "automatic",
        customer=customer_obj,
        description=description,
        metadata=merge_metadata({}, metadata) if metadata is not None else {},
        order_number=order_number,
        invoice=invoice,
        payment_flow=payment_flow or None,
        card_payments=True if card_payments is None else card_payments,
        billing_address=bool(billing_address),
        save_payment_method=bool(save_payment_method),
        completed_url=redirects.get("completed_url"),
        return_url=redirects.get("return_url"),
        allowed_origins=clean_origins(allowed_origins or [], livemode=scope.livemode),
        expires_at=expiry_from(expires_at, now)
        if expires_at is not None
        else now + DEFAULT_LIFETIME,
        client_token_hash=tokens.client_token_hash(client_token),
    )
    validate(ci)
    with transaction.atomic():
        ci.checkout = start_tracked_checkout(ci, located_country=located_country)
        ci.save()
        event_emit(scope=scope, changes=[event_change(ci, "created")])
    return ci, client_token


def checkout_intent_update(
    *,
    scope: Scope,
    checkout_intent_id: str,
    type=UNSET,
    amount=UNSET,
    currency=UNSET,
    amount_editable=UNSET,
    amount_min=UNSET,
    amount_max=UNSET,
    capture=UNSET,
    customer=UNSET,
    description=UNSET,
    metadata=UNSET,
    order_number=UNSET,
    invoice=UNSET,
    payment_flow=UNSET,
    card_payments=UNSET,
    billing_address=UNSET,
    save_payment_method=UNSET,
    redirects=UNSET,
    allowed_origins=UNSET,
    expires_at=UNSET,
) -> CheckoutIntent:
    """Only a pending intent changes, and never its type. An argument left UNSET is kept."""
    if type is not UNSET:
        raise TypeImmutable()
    arguments = locals()
    given = frozenset(
        name
        for name in (
            "amount",
            "currency",
            "amount_editable",
            "amount_min",
            "amount_max",
            "capture",
            "customer",
            "description",
            "metadata",
            "order_number",
            "invoice",
            "payment_flow",
            "card_payments",
            "billing_address",
            "save_payment_method",
            "redirects",
            "allowed_origins",
            "expires_at",
        )
        if arguments[name] is not UNSET
    )
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    if payment_flow:
        check_payment_flow(scope, payment_flow)
    with transaction.atomic():
        ci = lock_checkout_intent(checkout_intent_id, scope=scope)
        check_pending(ci, "updated")
        before = snapshot(ci)
        ci.change()
        for name, value in (
            ("amount", amount),
            ("currency", currency),
            ("amount_min", amount_min),
            ("amount_max", amount_max),
            ("description", description),
            ("order_number", order_number),
            ("invoice", invoice),
        ):
            if value is not UNSET:
                setattr(ci, name, value)
        if payment_flow is not UNSET:
            ci.payment_flow = payment_flow or None
        for name, value in (
            ("amount_editable", amount_editable),
            ("card_payments", card_payments),
            ("billing_address", billing_address),
            ("save_payment_method", save_payment_method),
        ):
            if value is not UNSET:
                setattr(ci, name, bool(value))
        if capture is not UNSET:
            ci.capture = capture or "automatic"
        if customer is not UNSET:
            ci.customer = customer_obj
        if metadata is not UNSET:
            ci.metadata = merge_metadata(ci.metadata, metadata)
        if redirects is not UNSET:
            redirects = redirects or {}
            for key in ("completed_url", "return_url"):
                if key in redirects:
                    setattr(ci, key, redirects[key])
        if allowed_origins is not UNSET:
            ci.allowed_origins = clean_origins(allowed_origins or [], livemode=ci.livemode)
        if expires_at is not UNSET:
            ci.expires_at = expiry_from(expires_at, ci.created)
        validate(ci, given)
        ci.save()
        event_emit(scope=scope, changes=[event_change(ci, "updated", before)])
    return ci


def checkout_intent_cancel(*, scope: Scope, checkout_intent_id: str) -> CheckoutIntent:
    """Pending → canceled (`checkout_intent.canceled`); its open PaymentIntent is canceled."""
    return _end(scope=scope, checkout_intent_id=checkout_intent_id, verb="canceled")


def checkout_intent_expire(*, scope: Scope, checkout_intent_id: str) -> CheckoutIntent:
    """Pending → expired now (`checkout_intent.expired`); its open PaymentIntent is canceled."""
    return _end(scope=scope, checkout_intent_id=checkout_intent_id, verb="expired")


def _end(*, scope: Scope, checkout_intent_id: str, verb: str) -> CheckoutIntent:
    with transaction.atomic():
        ci = lock_checkout_intent(checkout_intent_id, scope=scope)
        check_pending(ci, verb)
        pi = ci.payment_intent
        if pi is not None and (
            pi.attempt_under_way()
            or pi.status
            in (
                PaymentIntentStatus.PROCESSING,
                PaymentIntentStatus.SUCCEEDED,
                PaymentIntentStatus.REQUIRES_CAPTURE,
            )
        ):
            # A payment under way is finished by its outcome, not lost. (A paid one finished
            # the checkout in its own transaction; the paid statuses stay refused regardless.)
            raise PaymentInProgress(ci)
        before = snapshot(ci)
        if verb == "canceled":
            ci.cancel()
        else:
            ci.expire()
        ci.save()
        event_emit(scope=scope, changes=[event_change(ci, verb, before)])
        sessions_expired([ci])
    cancel_open_payment_intent(ci, pi)
    return ci


def checkout_intent_rotate_client_token(
    *, scope: Scope, checkout_intent_id: str
) -> tuple[CheckoutIntent, str]:
    """A new client token; the old one (and every page link made from it) stops working at
    once. Only while pending."""
    client_token = tokens.client_token_generate()
    with transaction.atomic():
        ci = lock_checkout_intent(checkout_intent_id, scope=scope)
        check_pending(ci, "given a new client token")
        ci.client_token_hash = tokens.client_token_hash(client_token)
        ci.save()
    return ci, client_token


# --- rules -----------------------------------------------------------------------------------


def expiry_from(expires_at: int, base: datetime) -> datetime:
    """`expires_at` (a unix time) within 30 minutes … 30 days of `base` (now at create)."""
    now = timezone.now()
    try:
        value = datetime.fromtimestamp(int(expires_at), tz=UTC)
    except (OverflowError, ValueError, OSError):
        value = None
    if value is None or value < now + MIN_LIFETIME or value > base + MAX_LIFETIME:
        raise InvalidRequestError(
            "expires_at must be at least 30 minutes from now and at most 30 days after the "
            "checkout intent was created.",
            code="parameter_invalid_integer",
            param="expires_at",
        )
    return value


def clean_url(value: str | None, param: str, *, livemode: bool) -> str | None:
    if value in (None, ""):
        return None
    assert value is not None  # None returned above
    return absolute_http_url(value, param=param, livemode=livemode)


def clean_origins(origins: list[str], *, livemode: bool) -> list[str]:
    """Each an origin (`https://shop.example.com`, a port allowed), no path; lowercased."""
    if len(origins) > MAX_ALLOWED_ORIGINS:
        raise InvalidRequestError(
            f"At most {MAX_ALLOWED_ORIGINS} allowed_origins may be given.",
            code="parameter_invalid_array",
            param="allowed_origins",
        )
    out = [
        web_origin(origin, param=f"allowed_origins[{index}]", livemode=livemode)
        for index, origin in enumerate(origins)
    ]
    return list(dict.fromkeys(out))


def validate(ci: CheckoutIntent, given: frozenset[str] | None = None) -> None:
    """The rules a checkout intent's fields keep together, after create or update. On update
    (`given`: the parameters the request gives), a rule that reads a value the request did not
    give (the intent's type, which never changes, or a value it keeps) refuses with its code
    and `_for_object` appended (`core.errors.FOR_OBJECT`): the refusal depends on the stored
    intent, and the same request may succeed on another."""

    def refuse(error: InvalidRequestError, *names: str) -> NoReturn:
        if given is not None and not set(names) <= given and error.code:
            error.code = for_object(error.code)
        raise error

    ci.completed_url = clean_url(ci.completed_url, "redirects[completed_url]", livemode=ci.livemode)
    ci.return_url = clean_url(ci.return_url, "redirects[return_url]", livemode=ci.livemode)
    if ci.type == Type.CHECKOUT_PAGE and not ci.completed_url:
        refuse(
            ParameterMissing(
                "redirects[completed_url]",
                "Missing required param: redirects[completed_url]. A checkout_page sends the "
                "customer there once the payment is done.",
            ),
            "type",
            "redirects",
        )
    if ci.allowed_origins and ci.type not in FRAMED_TYPES:
        refuse(
            ParameterInvalid(
                "allowed_origins may only be set on a checkout_plugin, payment_form or "
                "payment_method_form: a checkout_page is never framed.",
                param="allowed_origins",
            ),
            "type",
            "allowed_origins",
        )
    if ci.type == Type.PAYMENT_METHOD_FORM:
        if not ci.customer_id:
            refuse(
                ParameterMissing(
                    "customer",
                    "Missing required param: customer. A payment_method_form saves the card to "
                    "a customer.",
                ),
                "type",
                "customer",
            )
        for name in ("amount", "currency", "amount_min", "amount_max"):
            if getattr(ci, name) is not None:
                refuse(
                    ParameterInvalid(
                        f"A payment_method_form takes no payment: {name} may not be set.",
                        param=name,
                    ),
                    "type",
                    name,
                )
        if ci.amount_editable:
            refuse(
                ParameterInvalid(
                    "A payment_method_form takes no payment: amount_editable may not be set.",
                    param="amount_editable",
                ),
                "type",
                "amount_editable",
            )
        return
    if ci.amount is None and not ci.amount_editable:
        refuse(
            ParameterMissing(
                "amount", "Missing required param: amount (or set amount_editable=true)."
            ),
            "amount",
            "amount_editable",
        )
    if not ci.currency:
        refuse(ParameterMissing("currency"), "type", "currency")
    if ci.amount is not None:
        try:
            validate_amount_for_currency(ci.amount, ci.currency)
        except InvalidRequestError as error:
            refuse(error, "amount", "currency")
    if not ci.amount_editable:
        for name in ("amount_min", "amount_max"):
            if getattr(ci, name) is not None:
                refuse(
                    ParameterInvalid(
                        f"{name} may only be set when amount_editable is true.", param=name
                    ),
                    "amount_editable",
                    name,
                )
        return
    for name in ("amount_min", "amount_max"):
        if getattr(ci, name) is not None:
            try:
                validate_amount_for_currency(getattr(ci, name), ci.currency, param=name)
            except InvalidRequestError as error:
                refuse(error, name, "currency")
    if ci.amount_min is not None and ci.amount_max is not None and ci.amount_min > ci.amount_max:
        refuse(
            InvalidRequestError(
                "amount_min must not be more than amount_max.",
                code="parameter_invalid_integer",
                param="amount_min",
            ),
            "amount_min",
            "amount_max",
        )
    if ci.amount is not None and not amount_within(ci, ci.amount):
        refuse(
            InvalidRequestError(
                "amount must be between amount_min and amount_max.",
                code="parameter_invalid_integer",
                param="amount",
            ),
            "amount",
            "amount_min",
            "amount_max",
        )


def amount_within(ci: CheckoutIntent, amount: int) -> bool:
    return (ci.amount_min is None or amount >= ci.amount_min) and (
        ci.amount_max is None or amount <= ci.amount_max
    )
