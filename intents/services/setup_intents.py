"""SetupIntents: save a card to a customer for later payments, without charging it.

Each write locks the SetupIntent (`select_for_update()`), re-checks its state after the lock,
applies a django-fsm transition and writes its `setup_intent.*` event in the same transaction.
A card is turned into a PaymentMethod by `payments.services` (the processor's vault checks the
number and expiry) before the lock is taken; success attaches it to the customer in the
SetupIntent's transaction.
"""

from __future__ import annotations

import hmac

from django.db import transaction

from core.errors import DomainError, InvalidRequestError, UnexpectedState
from core.ids import random_base62
from core.metadata import merge_metadata
from core.scope import Scope
from core.selectors import first_or_missing
from core.values import UNSET
from events.services import event_emit
from payments.models import Customer, PaymentMethod
from payments.selectors import customer_get
from payments.services import payment_method_attach_locked, payment_method_resolve

from ..models import SETUP_OPEN, SetupIntent, SetupStatus
from ..presenters import setup_intent_to_api


class SetupIntentUnexpectedState(UnexpectedState):
    code = "setup_intent_unexpected_state"

    def __init__(self, si: SetupIntent, verb: str) -> None:
        super().__init__(
            f"You cannot {verb} this SetupIntent because it has a status of {si.status}.",
            param=None,
        )


def setup_intent_client_secret_matches(si: SetupIntent, secret: str | None) -> bool:
    return bool(secret) and hmac.compare_digest(str(secret), si.client_secret)


def _lock(scope: Scope, setup_intent_id: str) -> SetupIntent:
    return first_or_missing(
        SetupIntent.objects.select_for_update().filter(**scope.filters),
        object_id=setup_intent_id,
        object_name="setup_intent",
    )


def _resolve_method(scope: Scope, payment_method: str | None) -> PaymentMethod | None:
    if not payment_method:
        return None
    return payment_method_resolve(scope=scope, payment_method_id=payment_method)


def setup_intent_create(
    *,
    scope: Scope,
    customer: str | None = None,
    payment_method: str | None = None,
    confirm: bool = False,
    usage: str | None = None,
    description: str | None = None,
    metadata=None,
    payment_method_types: list[str] | None = None,
    return_url: str | None = None,
) -> SetupIntent:
    """A new SetupIntent (`setup_intent.created`); with `confirm`, confirmed at once."""
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    pm = _resolve_method(scope, payment_method)
    if payment_method_types and set(payment_method_types) - {"card"}:
        raise InvalidRequestError(
            "The only payment method type available is card.",
            code="payment_method_type_invalid",
            param="payment_method_types",
        )
    with transaction.atomic():
        si = SetupIntent(
            account_id=scope.account_id,
            livemode=scope.livemode,
            customer=customer_obj,
            usage=usage or "off_session",
            description=description,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
            payment_method_types=list(payment_method_types or ["card"]),
            return_url=return_url,
        )
        si.client_secret = f"{si.id}_secret_{random_base62(25)}"
        if pm is not None:
            si.attach_method(pm)
        si.save(force_insert=True)
        event_emit(scope=scope, changes=[("setup_intent.created", setup_intent_to_api(si), None)])
    if confirm:
        return setup_intent_confirm(scope=scope, setup_intent_id=si.id, return_url=return_url)
    return si


def setup_intent_update(
    *,
    scope: Scope,
    setup_intent_id: str,
    customer=UNSET,
    payment_method=UNSET,
    description=UNSET,
    metadata=UNSET,
) -> SetupIntent:
    customer_obj = customer_get(scope=scope, customer_id=customer) if customer else None
    pm = _resolve_method(scope, payment_method) if payment_method is not UNSET else None
    with transaction.atomic():
        si = _lock(scope, setup_intent_id)
        if si.status not in SETUP_OPEN:
            raise SetupIntentUnexpectedState(si, "update")
        before = setup_intent_to_api(si)
        if customer is not UNSET:
            if si.customer_id and customer != si.customer_id:
                raise InvalidRequestError(
                    "A SetupIntent's customer cannot be changed once set.", param="customer"
                )
            si.customer = customer_obj
        if payment_method is not UNSET:
            if pm is not None:
                si.attach_method(pm)
            else:
                si.change()
                si.payment_method = None
        if description is not UNSET:
            si.description = description or None
        if metadata is not UNSET:
            si.metadata = merge_metadata(si.metadata, metadata)
        si.save()
        after = setup_intent_to_api(si)
        if after != before:
            event_emit(scope=scope, changes=[("setup_intent.updated", after, before)])
    return si


def setup_intent_confirm(
    *,
    scope: Scope,
    setup_intent_id: str,
    payment_method: str | None = None,
    return_url: str | None = None,
) -> SetupIntent:
    """Confirm with its (or the given) PaymentMethod: success attaches the method to the
    customer (`payment_method.attached`, `setup_intent.succeeded`). A method attached to
    another customer fails the setup (`setup_intent.setup_failed`, `last_setup_error`)."""
    pm = _resolve_method(scope, payment_method)
    with transaction.atomic():
        si = _lock(scope, setup_intent_id)
        if si.status not in SETUP_OPEN:
            raise SetupIntentUnexpectedState(si, "confirm")
        if pm is not None:
            si.attach_method(pm)
        if si.payment_method_id is None:
            raise InvalidRequestError(
                "You cannot confirm this SetupIntent because it's missing a payment method. "
                "Update it with a payment_method, or pass one to confirm.",
                code="setup_intent_unexpected_state",
                param="payment_method",
            )
        if return_url:
            si.return_url = return_url
        method = PaymentMethod.objects.select_for_update().get(pk=si.payment_method_id)
        error = None
        if si.customer_id is not None:
            customer = Customer.objects.select_for_update().get(pk=si.customer_id)
            try:
                with transaction.atomic():
                    payment_method_attach_locked(method, customer)
            except DomainError as exc:
                error = {
                    "code": exc.code,
                    "message": exc.message,
                    "param": "payment_method",
                    "type": "invalid_request_error",
                }
        if error is None:
            si.succeed()
            si.save()
            event_emit(
                scope=scope, changes=[("setup_intent.succeeded", setup_intent_to_api(si), None)]
            )
        else:
            si.fail(error=error)
            si.save()
            event_emit(
                scope=scope,
                changes=[("setup_intent.setup_failed", setup_intent_to_api(si), None)],
            )
    return si


def setup_intent_cancel(
    *, scope: Scope, setup_intent_id: str, cancellation_reason: str | None = None
) -> SetupIntent:
    with transaction.atomic():
        si = _lock(scope, setup_intent_id)
        if si.status not in SETUP_OPEN:
            raise SetupIntentUnexpectedState(si, "cancel")
        si.cancel(reason=cancellation_reason)
        si.save()
        event_emit(scope=scope, changes=[("setup_intent.canceled", setup_intent_to_api(si), None)])
    return si


def setup_intent_succeeded_for(
    *, scope: Scope, customer_id: str | None, payment_method: PaymentMethod, metadata=None
) -> SetupIntent:
    """A SetupIntent that saved `payment_method` (already attached by the caller), written in
    the caller's transaction: a hosted form that saves a card leaves one, as Stripe's does."""
    si = SetupIntent(
        account_id=scope.account_id,
        livemode=scope.livemode,
        customer_id=customer_id,
        metadata=dict(metadata or {}),
        payment_method_types=["card"],
    )
    si.client_secret = f"{si.id}_secret_{random_base62(25)}"
    si.attach_method(payment_method)
    si.succeed()
    si.save(force_insert=True)
    shown = setup_intent_to_api(si)
    event_emit(
        scope=scope,
        changes=[("setup_intent.created", shown, None), ("setup_intent.succeeded", shown, None)],
    )
    return si


__all__ = [
    "SetupIntentUnexpectedState",
    "SetupStatus",
    "setup_intent_cancel",
    "setup_intent_client_secret_matches",
    "setup_intent_confirm",
    "setup_intent_create",
    "setup_intent_succeeded_for",
    "setup_intent_update",
]
