"""Create and update: writes that ask nothing of the processor (a create with `confirm=true`
continues as a confirm).

A keyed create names its intent from the Idempotency-Key's claim (`core.ids.created_id`): the
retry of a create that died (during its confirm's processor call, or after its commit but
before its answer was stored) finds the intent the first run made, and its confirm finds that
run's attempt, instead of creating a second intent and a second charge."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from core import context
from core.errors import InvalidRequestError, ResourceMissing, for_object
from core.ids import created_id, random_base62
from core.metadata import merge_metadata
from core.money import validate_amount_for_currency
from core.scope import Scope
from core.values import UNSET
from core.web import absolute_http_url
from payments.selectors import customer_get
from routing.selectors import payment_flow_check

from ..exceptions import IntentUnexpectedState
from ..models import CONFIRMABLE, PaymentIntent, Status
from ._common import (
    check,
    check_payment_method_options,
    emit,
    fail_pending_charge,
    lock_intent,
    resolve_payment_method,
)
from .confirm import payment_intent_confirm

# These change the next attempt, so only an intent still waiting to be confirmed
# takes them; the others may change until the intent is canceled.
EARLY_FIELDS = (
    "amount",
    "currency",
    "payment_method",
    "payment_method_types",
    "automatic_payment_methods",
    "capture_method",
    "setup_future_usage",
    "payment_method_options",
    "customer",
    "statement_descriptor",
    "statement_descriptor_suffix",
    "checkout",
    "payment_flow",
)
LATE_FIELDS = ("metadata", "description", "receipt_email", "shipping")
EARLY_ALLOWED = CONFIRMABLE
LATE_ALLOWED = CONFIRMABLE + [Status.REQUIRES_CAPTURE, Status.SUCCEEDED]
UPDATED_BEFORE_AUTHENTICATION = "The PaymentIntent was updated before authentication."


def automatic_payment_methods_value(
    automatic_payment_methods: dict | None, payment_method_types
) -> dict | None:
    """What an intent stores (and shows) for `automatic_payment_methods`. Stripe refuses it
    together with explicit `payment_method_types`; the types it enables here are ["card"]."""
    if automatic_payment_methods in (None, UNSET):
        return None
    if payment_method_types not in (None, UNSET):
        raise InvalidRequestError(
            "You may only specify one of these parameters: automatic_payment_methods, "
            "payment_method_types.",
            code="parameters_exclusive",
            param="automatic_payment_methods",
        )
    assert automatic_payment_methods is not None  # None returned above
    enabled = bool(automatic_payment_methods.get("enabled"))
    allow_redirects = automatic_payment_methods.get("allow_redirects") or (
        "always" if enabled else None
    )
    # no `allow_redirects` at all when it was neither given nor implied, as Stripe answers
    # (the field is an enum, never null)
    return (
        {"allow_redirects": allow_redirects, "enabled": enabled}
        if allow_redirects
        else {"enabled": enabled}
    )


def payment_intent_create(
    *,
    scope: Scope,
    amount: int,
    currency: str,
    checkout: str | None = None,
    customer: str | None = None,
    description: str | None = None,
    metadata=None,
    payment_flow: str | None = None,
    payment_method: str | None = None,
    payment_method_data: dict | None = None,
    payment_method_types: list[str] | None = None,
    automatic_payment_methods: dict | None = None,
    payment_method_options: dict | None = None,
    capture_method: str | None = None,
    confirmation_method: str | None = None,
    receipt_email: str | None = None,
    setup_future_usage: str | None = None,
    shipping: dict | None = None,
    statement_descriptor: str | None = None,
    statement_descriptor_suffix: str | None = None,
    confirm: bool = False,
    off_session: bool | None = None,
    error_on_requires_action: bool = False,
    return_url: str | None = None,
) -> PaymentIntent:
    validate_amount_for_currency(amount, currency)
    if return_url is not None:
        absolute_http_url(return_url, param="return_url", livemode=scope.livemode)
    check_payment_method_options(payment_method_options)
    automatic = automatic_payment_methods_value(automatic_payment_methods, payment_method_types)
    if not confirm:
        for name, value in (
            ("off_session", off_session),
            ("error_on_requires_action", error_on_requires_action or None),
            ("return_url", return_url),
        ):
            if value is not None:
                raise InvalidRequestError(
                    f"You may only specify {name} when confirm=true.",
                    code="parameter_invalid_string",
                    param=name,
                )
    pi_id = created_id("pi", "payment_intent")
    pi = _made_by_an_earlier_run(scope, pi_id)
    if pi is None:
        customer_obj = (
            customer_get(scope=scope, customer_id=customer, param="customer") if customer else None
        )
        checkout_obj = _checkout_to_link(scope=scope, checkout_id=checkout) if checkout else None
        if payment_flow:
            check_payment_flow(scope, payment_flow)
        pm = resolve_payment_method(
            scope=scope, payment_method_id=payment_method, payment_method_data=payment_method_data
        )
        try:
            with transaction.atomic():
                pi = PaymentIntent(
                    id=pi_id,
                    account_id=scope.account_id,
                    livemode=scope.livemode,
                    amount=amount,
                    currency=currency,
                    checkout=checkout_obj,
                    payment_flow=payment_flow or None,
                    customer=customer_obj,
                    description=description,
                    metadata=merge_metadata({}, metadata) if metadata is not None else {},
                    payment_method_types=payment_method_types or ["card"],
                    automatic_payment_methods=automatic,
                    payment_method_options=payment_method_options or {},
                    capture_method=capture_method or "automatic_async",
                    confirmation_method=confirmation_method or "automatic",
                    receipt_email=receipt_email,
                    setup_future_usage=setup_future_usage or None,
                    shipping=shipping,
                    statement_descriptor=statement_descriptor,
                    statement_descriptor_suffix=statement_descriptor_suffix,
                )
                pi.client_secret = f"{pi.id}_secret_{random_base62(25)}"
                if pm is not None:
                    pi.set_payment_method(pm)
                pi.save()
                emit((pi, "created", None))
        except IntegrityError:
            # The earlier run, still alive, committed the intent while this one made its own.
            pi = _made_by_an_earlier_run(scope, pi_id)
            if pi is None:
                raise
    if confirm:
        # For the retry of a request that died, this is the earlier run's confirm: the same
        # attempt id, so it settles that run's attempt (or finds it applied) and answers it.
        return payment_intent_confirm(
            scope=scope,
            payment_intent_id=pi.id,
            is_secret=True,
            off_session=off_session,
            error_on_requires_action=error_on_requires_action,
            return_url=return_url,
        )
    return pi


def check_payment_flow(scope: Scope, flow_id: str, param: str = "payment_flow") -> None:
    """A payment flow named by a payment must be one of the caller's."""
    payment_flow_check(scope=scope, flow_id=flow_id, param=param)


def _made_by_an_earlier_run(scope: Scope, payment_intent_id: str) -> PaymentIntent | None:
    """The intent an earlier run of this keyed request created (its id derives from the key's
    claim, `core.ids.created_id`), when this request took over the key of a run that died.
    No query otherwise: a fresh claim has created nothing yet."""
    if not context.current().resumed:
        return None
    return PaymentIntent.objects.filter(id=payment_intent_id, **scope.filters).first()


def payment_intent_update(
    *,
    scope: Scope,
    payment_intent_id: str,
    amount=UNSET,
    currency=UNSET,
    checkout=UNSET,
    customer=UNSET,
    description=UNSET,
    metadata=UNSET,
    payment_flow=UNSET,
    payment_method=UNSET,
    payment_method_types=UNSET,
    automatic_payment_methods=UNSET,
    payment_method_options=UNSET,
    capture_method=UNSET,
    receipt_email=UNSET,
    setup_future_usage=UNSET,
    shipping=UNSET,
    statement_descriptor=UNSET,
    statement_descriptor_suffix=UNSET,
) -> PaymentIntent:
    """What an update may change, and when. An argument left UNSET is not changed; the values are validated.
    `payment_method=""` detaches the method, `customer=""` the customer."""
    given = [
        name
        for name, value in (  # in the order of the parameters: the first refused one is named
            ("amount", amount),
            ("currency", currency),
            ("checkout", checkout),
            ("payment_flow", payment_flow),
            ("customer", customer),
            ("description", description),
            ("metadata", metadata),
            ("payment_method", payment_method),
            ("payment_method_types", payment_method_types),
            ("automatic_payment_methods", automatic_payment_methods),
            ("payment_method_options", payment_method_options),
            ("capture_method", capture_method),
            ("receipt_email", receipt_email),
            ("setup_future_usage", setup_future_usage),
            ("shipping", shipping),
            ("statement_descriptor", statement_descriptor),
            ("statement_descriptor_suffix", statement_descriptor_suffix),
        )
        if value is not UNSET
    ]
    if payment_method_options is not UNSET:
        check_payment_method_options(payment_method_options)
    automatic = automatic_payment_methods_value(automatic_payment_methods, payment_method_types)
    new_pm = (
        resolve_payment_method(scope=scope, payment_method_id=payment_method)
        if payment_method
        else None
    )
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    checkout_obj = _checkout_to_link(scope=scope, checkout_id=checkout) if checkout else None
    if payment_flow:
        check_payment_flow(scope, payment_flow)
    with transaction.atomic():
        pi = lock_intent(payment_intent_id, scope=scope).pi
        for name in given:
            allowed = EARLY_ALLOWED if name in EARLY_FIELDS else LATE_ALLOWED
            if pi.status not in allowed:
                raise IntentUnexpectedState.field(pi, name, allowed)
        if given and pi.attempt_under_way():
            check(pi, LATE_ALLOWED, "updated")
        if amount is not UNSET or currency is not UNSET:
            new_amount = amount if amount not in (UNSET, None) else pi.amount
            new_currency = currency or pi.currency
            try:
                validate_amount_for_currency(new_amount, new_currency)
            except InvalidRequestError as error:
                if amount in (UNSET, None) or currency in (UNSET, None, ""):
                    # the rule read the intent's stored amount or currency
                    error.code = for_object(error.code or "")
                raise
            pi.amount, pi.currency = new_amount, new_currency
        if metadata is not UNSET:
            pi.metadata = merge_metadata(pi.metadata, metadata)
        for name, value in (
            ("description", description),
            ("receipt_email", receipt_email),
            ("shipping", shipping),
            ("statement_descriptor", statement_descriptor),
            ("statement_descriptor_suffix", statement_descriptor_suffix),
        ):
            if value is not UNSET:
                setattr(pi, name, value)
        if setup_future_usage is not UNSET:
            pi.setup_future_usage = setup_future_usage or None
        if capture_method:
            pi.capture_method = capture_method
        if payment_method_types is not UNSET:
            # explicit types replace automatic payment methods
            pi.payment_method_types = payment_method_types or ["card"]
            pi.automatic_payment_methods = None
        if automatic_payment_methods is not UNSET:
            pi.automatic_payment_methods = automatic
            pi.payment_method_types = ["card"]
        if payment_method_options is not UNSET:
            pi.payment_method_options = payment_method_options or {}
        if customer is not UNSET:
            pi.customer = customer_obj
        if checkout is not UNSET:
            pi.checkout = checkout_obj  # checkout="" unlinks
        if payment_flow is not UNSET:
            pi.payment_flow = payment_flow or None  # "" goes back to the default flow
        changes_attempt = any(
            name in given for name in ("amount", "currency", "payment_method", "capture_method")
        )
        if new_pm is not None:
            if pi.status == Status.REQUIRES_ACTION:
                fail_pending_charge(pi, UPDATED_BEFORE_AUTHENTICATION)
            pi.set_payment_method(new_pm)
        elif payment_method is not UNSET and pi.status != Status.REQUIRES_ACTION:
            pi.payment_method = None  # payment_method="" detaches the method
        elif changes_attempt and pi.status == Status.REQUIRES_ACTION and pi.payment_method_id:
            fail_pending_charge(pi, UPDATED_BEFORE_AUTHENTICATION)
            pi.set_payment_method(pi.payment_method)
        pi.last_payment_error = None
        pi.save()
    return pi


def _checkout_to_link(*, scope: Scope, checkout_id: str):
    """The tracked checkout a PaymentIntent is being linked to: the caller's, and not complete.
    Read through the model the intent's `checkout` link points at: the payment core imports no
    feature built on it."""
    related: Any = PaymentIntent._meta.get_field("checkout").related_model  # checkouts.Checkout
    checkouts = related.objects
    chk = checkouts.filter(id=checkout_id, **scope.filters).first()
    if chk is None:
        raise ResourceMissing("checkout", checkout_id, param="checkout")
    if chk.status == "complete":
        raise InvalidRequestError(
            f"This checkout ({chk.id}) is complete: a payment can no longer be linked to it.",
            code="checkout_unexpected_state",
            param="checkout",
        )
    return chk
