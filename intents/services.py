"""Every write to a PaymentIntent.

The shape of each processor-touching service (style.md, rule 3):

    tx1  lock the intent, re-check its state, record the attempt (a pending Charge and the
         intent's `inflight` marker, which turns away a concurrent second call), commit;
    ---  call the processor with no transaction open;
    tx2  lock again, re-check that our attempt is still the one in flight, apply the result
         through the FSM transition, update the Charge, write the Events, commit.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from core.errors import (
    InvalidRequestError,
    NotPermitted,
    ResourceMissing,
    UnexpectedState,
)
from core.ids import random_base62
from core.metadata import merge_metadata
from core.money import validate_amount_for_currency
from core.scope import Scope
from events.services import event_record, previous_attributes
from payments.models import Charge, PaymentMethod
from payments.processors import get_processor
from payments.processors.base import AuthorizationResult, Decline

from .api.serializers import payment_intent_to_api
from .models import ABANDONABLE, CANCELABLE, CONFIRMABLE, InFlight, PaymentIntent, Status

logger = logging.getLogger("payintents.intents")

UNSET = object()
THREE_D_SECURE_SALT = "intents.three_d_secure"
AUTHENTICATION_FAILURE_MESSAGE = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)
# An in-flight marker older than this belongs to a crashed process and no longer blocks.
INFLIGHT_STALE_SECONDS = 120

EARLY_FIELDS = (
    "amount",
    "currency",
    "payment_method",
    "payment_method_types",
    "capture_method",
    "setup_future_usage",
    "payment_method_options",
    "customer",
    "statement_descriptor",
    "statement_descriptor_suffix",
)
LATE_FIELDS = ("metadata", "description", "receipt_email", "shipping")


# --- helpers -------------------------------------------------------------------------------


def _statuses(statuses) -> str:
    return ", ".join(str(s) for s in statuses)


def unexpected_state(pi: PaymentIntent, verb: str, allowed) -> UnexpectedState:
    return UnexpectedState(
        f"This PaymentIntent could not be {verb} because it has a status of {pi.status}. "
        f"Only a PaymentIntent with one of the following statuses may be {verb}: "
        f"{_statuses(allowed)}.",
        payment_intent=payment_intent_to_api(pi),
    )


def _inflight_active(pi: PaymentIntent) -> bool:
    if not pi.inflight:
        return False
    if pi.inflight_since is None:
        return True
    return pi.inflight_since > timezone.now() - timedelta(seconds=INFLIGHT_STALE_SECONDS)


def _check(pi: PaymentIntent, allowed, verb: str) -> None:
    if pi.status not in allowed:
        raise unexpected_state(pi, verb, allowed)
    if _inflight_active(pi):
        raise UnexpectedState(
            f"This PaymentIntent could not be {verb} because another request for it is still "
            f"in progress (status {pi.status}). Only a PaymentIntent with one of the following "
            f"statuses and no request in progress may be {verb}: {_statuses(allowed)}.",
            payment_intent=payment_intent_to_api(pi),
        )


def _lock(intent_id: str, *, account_id: str | None = None, livemode: bool | None = None):
    filters: dict = {"id": intent_id}
    if account_id is not None:
        filters.update(account_id=account_id, livemode=livemode)
    pi = PaymentIntent.objects.select_for_update().filter(**filters).first()
    if pi is None:
        raise ResourceMissing("payment_intent", intent_id)
    return pi


def _lock_charge(charge_id: str, pi: PaymentIntent | None = None) -> Charge:
    related = ("payment_method",) if pi is not None else ("payment_method", "payment_intent")
    charge = (
        Charge.objects.select_for_update(of=("self",)).select_related(*related).get(id=charge_id)
    )
    if pi is not None:
        charge.payment_intent = pi  # the locked intent: charge_to_api reads it without a query
    return charge


def _emit(pi: PaymentIntent, type: str, before: dict | None = None) -> None:
    after = payment_intent_to_api(pi)
    event_record(
        scope=Scope.of(pi),
        type=f"payment_intent.{type}",
        data_object=after,
        previous_attributes=previous_attributes(before, after) if before else None,
    )


def _emit_charge(charge: Charge, type: str, before: dict | None = None) -> None:
    from payments.presenters import charge_to_api

    after = charge_to_api(charge)
    event_record(
        scope=Scope.of(charge),
        type=f"charge.{type}",
        data_object=after,
        previous_attributes=previous_attributes(before, after) if before else None,
    )


def _charge_snapshot(charge: Charge) -> dict:
    from payments.presenters import charge_to_api

    return charge_to_api(charge)


def client_secret_matches(pi: PaymentIntent, secret: str | None) -> bool:
    return bool(secret) and hmac.compare_digest(str(secret), pi.client_secret)


def three_d_secure_token(pi: PaymentIntent, charge_id: str) -> str:
    return signing.dumps({"pi": pi.id, "ch": charge_id}, salt=THREE_D_SECURE_SALT)


def three_d_secure_read_token(token: str) -> tuple[str, str] | None:
    try:
        data = signing.loads(token, salt=THREE_D_SECURE_SALT, max_age=24 * 3600)
    except signing.BadSignature:
        return None
    return data.get("pi"), data.get("ch")


def three_d_secure_url(pi: PaymentIntent, charge_id: str) -> str:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    path = reverse("three_d_secure", kwargs={"id": pi.id})
    return f"{base}{path}?token={three_d_secure_token(pi, charge_id)}"


def _resolve_payment_method(
    *, account_id: str, livemode: bool, payment_method_id=None, payment_method_data=None
) -> PaymentMethod | None:
    """A method id (magic ids create a fresh row) or inline `payment_method_data`."""
    from payments import services as payment_services

    if payment_method_id:
        return payment_services.payment_method_resolve(
            scope=Scope(account_id=account_id, livemode=livemode),
            payment_method_id=payment_method_id,
            param="payment_method",
        )
    if payment_method_data:
        return payment_services.payment_method_create_from_data(
            scope=Scope(account_id=account_id, livemode=livemode),
            data=dict(payment_method_data),
            param="payment_method_data",
        )
    return None


def _payment_error(
    *, charge: Charge | None, pm: PaymentMethod | None, decline: Decline, type: str = "card_error"
) -> dict:
    from payments.presenters import payment_method_to_api

    return {
        "charge": charge.id if charge else None,
        "code": decline.code,
        "decline_code": decline.decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
        "message": decline.message,
        "payment_method": payment_method_to_api(pm) if pm is not None else None,
        "type": type,
    }


def _outcome(result: AuthorizationResult) -> dict:
    from payments.services import charge_outcome_for

    return charge_outcome_for(result)


def _fail_pending_charge(pi: PaymentIntent, message: str) -> None:
    """An attempt that will never complete (canceled during 3-D Secure, replaced by a new one)."""
    if pi.latest_charge_id:
        Charge.objects.filter(id=pi.latest_charge_id, status=Charge.Status.PENDING).update(
            status=Charge.Status.FAILED, failure_message=message, updated=timezone.now()
        )


# --- create / update -------------------------------------------------------------------------


def payment_intent_create(
    *,
    account_id: str,
    livemode: bool,
    amount: int,
    currency: str,
    customer: str | None = None,
    description: str | None = None,
    metadata=None,
    payment_method: str | None = None,
    payment_method_data: dict | None = None,
    payment_method_types: list[str] | None = None,
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
    customer_obj = None
    if customer:
        from payments.selectors import customer_get

        customer_obj = customer_get(
            scope=Scope(account_id=account_id, livemode=livemode),
            customer_id=customer,
            param="customer",
        )
    pm = _resolve_payment_method(
        account_id=account_id,
        livemode=livemode,
        payment_method_id=payment_method,
        payment_method_data=payment_method_data,
    )
    with transaction.atomic():
        pi = PaymentIntent(
            account_id=account_id,
            livemode=livemode,
            amount=amount,
            currency=currency,
            customer=customer_obj,
            description=description,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
            payment_method_types=payment_method_types or ["card"],
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
        _emit(pi, "created")
    if confirm:
        return payment_intent_confirm(
            account_id=account_id,
            livemode=livemode,
            intent_id=pi.id,
            is_secret=True,
            off_session=off_session,
            error_on_requires_action=error_on_requires_action,
            return_url=return_url,
        )
    return pi


def payment_intent_update(
    *, account_id: str, livemode: bool, intent_id: str, params: dict
) -> PaymentIntent:
    """Spec §2 update rules. `params` holds only the fields given, already validated."""
    new_pm = None
    if params.get("payment_method"):
        new_pm = _resolve_payment_method(
            account_id=account_id, livemode=livemode, payment_method_id=params["payment_method"]
        )
    customer_obj = None
    if params.get("customer"):
        from payments.selectors import customer_get

        customer_obj = customer_get(
            scope=Scope(account_id=account_id, livemode=livemode), customer_id=params["customer"]
        )
    with transaction.atomic():
        pi = _lock(intent_id, account_id=account_id, livemode=livemode)
        early_allowed = CONFIRMABLE
        late_allowed = CONFIRMABLE + [Status.REQUIRES_CAPTURE, Status.SUCCEEDED]
        for name in params:
            allowed = early_allowed if name in EARLY_FIELDS else late_allowed
            if pi.status not in allowed:
                raise UnexpectedState(
                    f"This PaymentIntent's {name} could not be updated because it has a status "
                    f"of {pi.status}. You may only update the {name} of a PaymentIntent with one "
                    f"of the following statuses: {_statuses(allowed)}.",
                    param=name,
                    payment_intent=payment_intent_to_api(pi),
                )
        if params and _inflight_active(pi):
            _check(pi, late_allowed, "updated")
        currency = params.get("currency") or pi.currency
        if "amount" in params or "currency" in params:
            amount = params["amount"] if params.get("amount") is not None else pi.amount
            validate_amount_for_currency(amount, currency)
            pi.amount, pi.currency = amount, currency
        if "metadata" in params:
            pi.metadata = merge_metadata(pi.metadata, params["metadata"])
        for name in (
            "description",
            "receipt_email",
            "shipping",
            "statement_descriptor",
            "statement_descriptor_suffix",
        ):
            if name in params:
                setattr(pi, name, params[name])
        if "setup_future_usage" in params:
            pi.setup_future_usage = params["setup_future_usage"] or None
        if params.get("capture_method"):
            pi.capture_method = params["capture_method"]
        if "payment_method_types" in params:
            pi.payment_method_types = params["payment_method_types"] or ["card"]
        if "payment_method_options" in params:
            pi.payment_method_options = params["payment_method_options"] or {}
        if "customer" in params:
            pi.customer = customer_obj
        changes_attempt = any(
            name in params for name in ("amount", "currency", "payment_method", "capture_method")
        )
        if new_pm is not None:
            if pi.status == Status.REQUIRES_ACTION:
                _fail_pending_charge(pi, "The PaymentIntent was updated before authentication.")
            pi.set_payment_method(new_pm)
        elif "payment_method" in params and pi.status != Status.REQUIRES_ACTION:
            # payment_method="" detaches the method
            pi.payment_method = None
        elif changes_attempt and pi.status == Status.REQUIRES_ACTION and pi.payment_method_id:
            _fail_pending_charge(pi, "The PaymentIntent was updated before authentication.")
            pi.set_payment_method(pi.payment_method)
        pi.last_payment_error = None
        pi.save()
    return pi


# --- confirm ---------------------------------------------------------------------------------


def payment_intent_confirm(
    *,
    account_id: str,
    livemode: bool,
    intent_id: str,
    is_secret: bool = True,
    payment_method: str | None = None,
    payment_method_data: dict | None = None,
    return_url: str | None = None,
    off_session: bool | None = None,
    error_on_requires_action: bool = False,
    receipt_email=UNSET,
    shipping=UNSET,
    setup_future_usage=UNSET,
    capture_method: str | None = None,
    payment_method_types: list[str] | None = None,
    payment_method_options: dict | None = None,
) -> PaymentIntent:
    """Confirm (and PayMongo's attach). Declines raise `CardDeclined` with the intent embedded,
    after the intent is back in `requires_payment_method` with `last_payment_error`."""
    pm = _resolve_payment_method(
        account_id=account_id,
        livemode=livemode,
        payment_method_id=payment_method,
        payment_method_data=payment_method_data,
    )
    # tx1: lock, re-check, record the attempt
    with transaction.atomic():
        pi = _lock(intent_id, account_id=account_id, livemode=livemode)
        if not is_secret and pi.confirmation_method == "manual":
            raise NotPermitted(
                "This PaymentIntent's confirmation_method is manual: it can only be confirmed "
                "with a secret key."
            )
        _check(pi, CONFIRMABLE, "confirmed")
        if pm is not None:
            pi.payment_method = pm
        elif pi.payment_method_id is None:
            raise UnexpectedState(
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "To confirm the PaymentIntent, either update it with a payment method and then "
                "confirm it again, or confirm it again directly with a payment method.",
                payment_intent=payment_intent_to_api(pi),
            )
        else:
            pm = pi.payment_method
        if pi.status == Status.REQUIRES_ACTION:
            _fail_pending_charge(pi, "A new confirmation replaced this attempt.")
        if return_url is not None:
            pi.return_url = return_url
        if off_session is not None:
            pi.off_session = off_session
        if receipt_email is not UNSET:
            pi.receipt_email = receipt_email
        if shipping is not UNSET:
            pi.shipping = shipping
        if setup_future_usage is not UNSET:
            pi.setup_future_usage = setup_future_usage or None
        if capture_method:
            pi.capture_method = capture_method
        if payment_method_types:
            pi.payment_method_types = payment_method_types
        if payment_method_options is not None:
            pi.payment_method_options = payment_method_options or {}
        charge = _record_attempt(pi, pm)
        pi.begin(InFlight.CONFIRM)
        pi.save()
    return _authorize(
        pi,
        charge,
        pm,
        three_d_secure_passed=False,
        error_on_requires_action=error_on_requires_action,
    )


def _record_attempt(pi: PaymentIntent, pm: PaymentMethod) -> Charge:
    from payments.presenters import payment_method_details_to_api

    charge = Charge.objects.create(
        account_id=pi.account_id,
        livemode=pi.livemode,
        payment_intent=pi,
        payment_method=pm,
        customer_id=pi.customer_id,
        amount=pi.amount,
        currency=pi.currency,
        status=Charge.Status.PENDING,
        payment_method_details=payment_method_details_to_api(pm),
        description=pi.description,
        metadata=pi.metadata or {},
    )
    pi.latest_charge = charge
    return charge


def _call(fn, **kwargs) -> AuthorizationResult:
    try:
        return fn(**kwargs)
    except Exception:  # a processor failure is a declined attempt, never a 500
        logger.exception("processor call failed")
        from payments.exceptions import MESSAGES

        return AuthorizationResult(
            status="declined",
            decline=Decline("processing_error", "processing_error", MESSAGES["processing_error"]),
            network_status="not_sent_to_network",
        )


def _authorize(
    pi: PaymentIntent,
    charge: Charge,
    pm: PaymentMethod,
    *,
    three_d_secure_passed: bool,
    error_on_requires_action: bool = False,
    raise_decline: bool = True,
) -> PaymentIntent:
    processor = get_processor(pi.livemode)
    result = _call(
        processor.authorize,
        reference=charge.id,
        token=pm.processor_token,
        amount=charge.amount,
        currency=charge.currency,
        capture=pi.capture_method == "automatic",
        off_session=pi.off_session,
        three_d_secure_passed=three_d_secure_passed,
        livemode=pi.livemode,
    )
    if result.status == "requires_action" and (error_on_requires_action or three_d_secure_passed):
        from payments.exceptions import MESSAGES

        result = AuthorizationResult(
            status="declined",
            reference=result.reference,
            decline=Decline(
                "authentication_required",
                "authentication_required",
                MESSAGES["authentication_required"],
            ),
            network_status="not_sent_to_network",
        )
    return _apply_authorization(pi.id, charge.id, result, raise_decline=raise_decline)


def _apply_authorization(
    intent_id: str, charge_id: str, result: AuthorizationResult, *, raise_decline: bool
) -> PaymentIntent:
    """tx2 of confirm / 3-D Secure / async resolution: apply the processor's answer."""
    decline = None
    orphaned = False
    with transaction.atomic():
        pi = _lock(intent_id)
        charge = _lock_charge(charge_id, pi)
        if pi.latest_charge_id != charge_id or pi.status not in CONFIRMABLE + [Status.PROCESSING]:
            orphaned = result.status == "succeeded"
        else:
            before = payment_intent_to_api(pi)
            charge_before = _charge_snapshot(charge)
            pi.end()
            charge.processor_reference = result.reference or charge.processor_reference
            charge.outcome = _outcome(result)
            from_processing = pi.status == Status.PROCESSING
            if result.status == "succeeded":
                charge.status = Charge.Status.SUCCEEDED
                if pi.capture_method == "manual":
                    charge.authorized = True
                    if from_processing:
                        pi.async_requires_capture(amount_capturable=charge.amount)
                    else:
                        pi.confirm_requires_capture(amount_capturable=charge.amount)
                else:
                    if pi.capture_method == "automatic" and result.captured:
                        charge.captured = True
                        charge.amount_captured = charge.amount
                    else:  # automatic_async: a worker owes the processor the capture
                        charge.authorized = True
                        charge.capture_pending = True
                        transaction.on_commit(lambda: _enqueue_capture(charge_id))
                    if from_processing:
                        pi.async_succeeded(amount_received=charge.amount)
                    else:
                        pi.confirm_succeeded(amount_received=charge.amount)
                charge.save()
                pi.save()
                _emit_charge(charge, "succeeded")
                if pi.status == Status.REQUIRES_CAPTURE:
                    _emit(pi, "amount_capturable_updated", before)
                else:
                    _emit(pi, "succeeded", before)
            elif result.status == "requires_action":
                charge.three_d_secure = "required"
                charge.save()
                pi.confirm_requires_action(
                    next_action={
                        "type": "redirect_to_url",
                        "redirect_to_url": {
                            "url": three_d_secure_url(pi, charge.id),
                            "return_url": pi.return_url,
                        },
                    }
                )
                pi.save()
                _emit(pi, "requires_action", before)
            elif result.status == "processing":
                charge.save()
                delay = settings.SIMULATED_PROCESSING_DELAY_SECONDS
                pi.confirm_processing(resolve_at=timezone.now() + timedelta(seconds=delay))
                pi.save()
                _emit(pi, "processing", before)
                transaction.on_commit(lambda: _enqueue_resolve(intent_id))
            else:
                decline = result.decline or Decline(
                    "card_declined", "generic_decline", "Your card was declined."
                )
                charge.status = Charge.Status.FAILED
                charge.failure_code = decline.code
                charge.failure_message = decline.message
                if charge.three_d_secure == "required":
                    charge.three_d_secure = "passed"
                pm = charge.payment_method
                error = _payment_error(charge=charge, pm=pm, decline=decline)
                if from_processing:
                    pi.async_declined(error=error)
                else:
                    pi.decline(error=error)
                charge.save()
                pi.save()
                _emit_charge(charge, "failed", charge_before)
                _emit(pi, "payment_failed", before)
    if orphaned:
        # The intent moved on (canceled, expired) while the processor authorised: release it.
        _call_quietly(get_processor(pi.livemode).void, reference=charge_id)
    if decline is not None and raise_decline:
        from payments.exceptions import CardDeclined

        raise CardDeclined.from_decline(decline, payment_intent=payment_intent_to_api(pi))
    return pi


def _call_quietly(fn, **kwargs) -> None:
    try:
        fn(**kwargs)
    except Exception:
        logger.exception("processor call failed")


# --- 3-D Secure ------------------------------------------------------------------------------


def payment_intent_authenticate(
    *, intent_id: str, charge_id: str, succeeded: bool
) -> PaymentIntent:
    """The customer completed (or failed) the challenge on the hosted page. Idempotent: a
    second submit finds the intent no longer waiting for this attempt and changes nothing."""
    with transaction.atomic():
        pi = _lock(intent_id)
        if (
            pi.status != Status.REQUIRES_ACTION
            or pi.latest_charge_id != charge_id
            or _inflight_active(pi)
        ):
            return pi
        pi.begin(InFlight.AUTHENTICATE)
        pi.save()
        charge = Charge.objects.select_related("payment_method").get(id=charge_id)
        pm = charge.payment_method
    processor = get_processor(pi.livemode)
    try:
        passed = processor.authenticate(
            reference=charge_id, token=pm.processor_token, succeeded=succeeded
        )
    except Exception:
        logger.exception("processor authenticate failed")
        passed = False
    if passed:
        return _authorize(pi, charge, pm, three_d_secure_passed=True, raise_decline=False)
    with transaction.atomic():
        pi = _lock(intent_id)
        charge = _lock_charge(charge_id, pi)
        if pi.status != Status.REQUIRES_ACTION or pi.latest_charge_id != charge_id:
            return pi
        before = payment_intent_to_api(pi)
        charge_before = _charge_snapshot(charge)
        pi.end()
        decline = Decline(
            "payment_intent_authentication_failure", None, AUTHENTICATION_FAILURE_MESSAGE
        )
        charge.status = Charge.Status.FAILED
        charge.three_d_secure = "failed"
        charge.failure_code = "authentication_required"
        charge.failure_message = AUTHENTICATION_FAILURE_MESSAGE
        pi.fail_authentication(
            error=_payment_error(
                charge=charge, pm=pm, decline=decline, type="invalid_request_error"
            )
        )
        charge.save()
        pi.save()
        _emit_charge(charge, "failed", charge_before)
        _emit(pi, "payment_failed", before)
    return pi


# --- capture / cancel / increment ------------------------------------------------------------


def _expire_if_due_locked(pi: PaymentIntent) -> bool:
    """Inside a locked transaction: an authorisation past its expiry is canceled now."""
    if pi.status != Status.REQUIRES_CAPTURE or pi.authorized_at is None or _inflight_active(pi):
        return False
    cutoff = timezone.now() - timedelta(seconds=settings.AUTHORIZATION_EXPIRY_SECONDS)
    if pi.authorized_at > cutoff:
        return False
    before = payment_intent_to_api(pi)
    pi.expire()
    pi.save()
    if pi.latest_charge_id:
        Charge.objects.filter(id=pi.latest_charge_id).update(
            authorized=False, released=True, updated=timezone.now()
        )
    _emit(pi, "canceled", before)
    return True


def payment_intent_capture(
    *,
    account_id: str,
    livemode: bool,
    intent_id: str,
    amount_to_capture: int | None = None,
    metadata=None,
    statement_descriptor: str | None = None,
    statement_descriptor_suffix: str | None = None,
) -> PaymentIntent:
    expired = False
    with transaction.atomic():
        pi = _lock(intent_id, account_id=account_id, livemode=livemode)
        expired = _expire_if_due_locked(pi)
        if not expired:
            _check(pi, [Status.REQUIRES_CAPTURE], "captured")
            amount = pi.amount_capturable if amount_to_capture is None else amount_to_capture
            if amount > pi.amount_capturable:
                raise InvalidRequestError(
                    f"The amount to capture ({amount}) must be less than or equal to the "
                    f"PaymentIntent's amount_capturable ({pi.amount_capturable}).",
                    code="amount_too_large",
                    param="amount_to_capture",
                )
            if amount < 1:
                raise InvalidRequestError(
                    "The amount to capture must be a positive integer.",
                    code="amount_too_small",
                    param="amount_to_capture",
                )
            if metadata is not None:
                pi.metadata = merge_metadata(pi.metadata, metadata)
            if statement_descriptor is not None:
                pi.statement_descriptor = statement_descriptor
            if statement_descriptor_suffix is not None:
                pi.statement_descriptor_suffix = statement_descriptor_suffix
            pi.begin(InFlight.CAPTURE)
            pi.save()
            charge_id = pi.latest_charge_id
    if expired:
        raise unexpected_state(pi, "captured", [Status.REQUIRES_CAPTURE])
    processor = get_processor(livemode)
    try:
        result = processor.capture(reference=charge_id, amount=amount)
    except Exception:
        logger.exception("processor capture failed")
        result = None
    with transaction.atomic():
        pi = _lock(intent_id)
        charge = _lock_charge(charge_id, pi)
        if pi.inflight != InFlight.CAPTURE or pi.status != Status.REQUIRES_CAPTURE:
            raise unexpected_state(pi, "captured", [Status.REQUIRES_CAPTURE])
        pi.end()
        if result is None or not result.succeeded:
            pi.save()
            failed = True
        else:
            failed = False
            before = payment_intent_to_api(pi)
            charge_before = _charge_snapshot(charge)
            captured = result.amount_captured
            pi.capture(amount=captured)
            charge.captured = True
            charge.amount_captured = captured
            charge.authorized = False
            charge.released = captured < charge.amount
            charge.save()
            pi.save()
            _emit_charge(charge, "captured", charge_before)
            _emit(pi, "succeeded", before)
    if failed:
        from payments.exceptions import MESSAGES, CardDeclined

        decline = (result.decline if result else None) or Decline(
            "processing_error", "processing_error", MESSAGES["processing_error"]
        )
        raise CardDeclined.from_decline(decline, payment_intent=payment_intent_to_api(pi))
    return pi


def payment_intent_cancel(
    *,
    account_id: str | None,
    livemode: bool | None,
    intent_id: str,
    cancellation_reason: str | None = None,
) -> PaymentIntent:
    with transaction.atomic():
        pi = _lock(intent_id, account_id=account_id, livemode=livemode)
        _check(pi, CANCELABLE, "canceled")
        needs_release = pi.status in (Status.REQUIRES_CAPTURE, Status.PROCESSING)
        if not needs_release:
            before = payment_intent_to_api(pi)
            if pi.status == Status.REQUIRES_ACTION:
                _fail_pending_charge(pi, "The PaymentIntent was canceled.")
            pi.cancel(reason=cancellation_reason)
            pi.save()
            _emit(pi, "canceled", before)
            return pi
        pi.begin(InFlight.CANCEL)
        pi.save()
        charge_id = pi.latest_charge_id
    if charge_id:
        _call_quietly(get_processor(pi.livemode).void, reference=charge_id)
    with transaction.atomic():
        pi = _lock(intent_id)
        if pi.inflight != InFlight.CANCEL or pi.status not in CANCELABLE:
            raise unexpected_state(pi, "canceled", CANCELABLE)
        before = payment_intent_to_api(pi)
        pi.end()
        pi.cancel(reason=cancellation_reason)
        pi.save()
        if charge_id:
            Charge.objects.filter(id=charge_id).update(
                authorized=False, released=True, updated=timezone.now()
            )
            Charge.objects.filter(id=charge_id, status=Charge.Status.PENDING).update(
                status=Charge.Status.FAILED, failure_message="The PaymentIntent was canceled."
            )
        _emit(pi, "canceled", before)
    return pi


def payment_intent_increment_authorization(
    *,
    account_id: str,
    livemode: bool,
    intent_id: str,
    amount: int,
    description: str | None = None,
    metadata=None,
) -> PaymentIntent:
    with transaction.atomic():
        pi = _lock(intent_id, account_id=account_id, livemode=livemode)
        _check(pi, [Status.REQUIRES_CAPTURE], "incremented")
        if amount <= pi.amount:
            raise InvalidRequestError(
                f"The amount ({amount}) must be greater than the PaymentIntent's current "
                f"amount ({pi.amount}).",
                code="amount_too_small",
                param="amount",
            )
        validate_amount_for_currency(amount, pi.currency)
        pi.begin(InFlight.INCREMENT)
        pi.save()
        charge = Charge.objects.select_related("payment_method").get(id=pi.latest_charge_id)
    result = _call(
        get_processor(livemode).increment,
        reference=charge.id,
        token=charge.payment_method.processor_token,
        new_amount=amount,
    )
    with transaction.atomic():
        pi = _lock(intent_id)
        if pi.inflight != InFlight.INCREMENT or pi.status != Status.REQUIRES_CAPTURE:
            raise unexpected_state(pi, "incremented", [Status.REQUIRES_CAPTURE])
        pi.end()
        if result.status != "succeeded":
            pi.save()
        else:
            before = payment_intent_to_api(pi)
            pi.increment_authorization(amount=amount)
            if description is not None:
                pi.description = description
            if metadata is not None:
                pi.metadata = merge_metadata(pi.metadata, metadata)
            pi.save()
            Charge.objects.filter(id=charge.id).update(amount=amount, updated=timezone.now())
            _emit(pi, "amount_capturable_updated", before)
    if result.status != "succeeded":
        from payments.exceptions import CardDeclined

        raise CardDeclined.from_decline(result.decline, payment_intent=payment_intent_to_api(pi))
    return pi


# --- workers: async capture, processing resolution, expiry, abandonment ----------------------


def _enqueue_capture(charge_id: str) -> None:
    from . import tasks

    try:
        tasks.capture_charge.delay(charge_id)
    except Exception:  # the periodic sweep picks it up
        logger.warning("could not enqueue capture of %s", charge_id, exc_info=True)


def _enqueue_resolve(intent_id: str) -> None:
    from . import tasks

    try:
        tasks.resolve_processing_intent.delay(intent_id)
    except Exception:
        logger.warning("could not enqueue resolution of %s", intent_id, exc_info=True)


def charge_capture_async(*, charge_id: str) -> bool:
    """automatic_async: make the processor capture an authorised charge. Idempotent (the
    processor's reference is our charge id; the charge is marked once, under its lock)."""
    charge = Charge.objects.filter(id=charge_id, capture_pending=True).only("id", "amount").first()
    if charge is None:
        return False
    # The processor call keyed by the charge id; a duplicate task repeats it harmlessly.
    processor_livemode = Charge.objects.values_list("livemode", flat=True).get(id=charge_id)
    try:
        result = get_processor(processor_livemode).capture(
            reference=charge_id, amount=charge.amount
        )
    except Exception:
        logger.exception("async capture of %s failed; the sweep retries", charge_id)
        return False
    if not result.succeeded:
        logger.warning("async capture of %s refused by the processor", charge_id)
        return False
    with transaction.atomic():
        charge = _lock_charge(charge_id)
        if not charge.capture_pending:
            return False
        before = _charge_snapshot(charge)
        charge.capture_pending = False
        charge.captured = True
        charge.authorized = False
        charge.amount_captured = result.amount_captured
        charge.save()
        _emit_charge(charge, "captured", before)
    return True


def charges_capture_pending(*, batch_size: int = 100) -> int:
    ids = list(
        Charge.objects.filter(capture_pending=True)
        .order_by("created")
        .values_list("id", flat=True)[:batch_size]
    )
    return sum(1 for charge_id in ids if charge_capture_async(charge_id=charge_id))


def _resolvable(now) -> Q:
    stale = now - timedelta(seconds=INFLIGHT_STALE_SECONDS)
    return Q(status=Status.PROCESSING, processing_resolve_at__lte=now) & (
        Q(inflight__isnull=True) | Q(inflight=InFlight.RESOLVE, inflight_since__lt=stale)
    )


def _claim_processing(*, intent_id: str | None = None, batch_size: int = 50) -> list[PaymentIntent]:
    now = timezone.now()
    with transaction.atomic():
        qs = PaymentIntent.objects.select_for_update(skip_locked=True).filter(_resolvable(now))
        if intent_id:
            qs = qs.filter(id=intent_id)
        claimed = list(qs.order_by("processing_resolve_at")[:batch_size])
        for pi in claimed:
            pi.begin(InFlight.RESOLVE)
            pi.save(update_fields=["inflight", "inflight_since", "updated"])
    return claimed


def _resolve(pi: PaymentIntent) -> PaymentIntent:
    charge = Charge.objects.select_related("payment_method").get(id=pi.latest_charge_id)
    result = _call(
        get_processor(pi.livemode).resolve_async,
        reference=charge.id,
        token=charge.payment_method.processor_token,
        capture=pi.capture_method == "automatic",
    )
    if result.status not in ("succeeded", "declined"):
        with transaction.atomic():  # still processing: release the claim, try again later
            locked = _lock(pi.id)
            if locked.inflight == InFlight.RESOLVE:
                locked.end()
                locked.processing_resolve_at = timezone.now() + timedelta(
                    seconds=settings.SIMULATED_PROCESSING_DELAY_SECONDS
                )
                locked.save()
            return locked
    return _apply_authorization(pi.id, charge.id, result, raise_decline=False)


def payment_intent_resolve_processing(*, intent_id: str) -> bool:
    """The worker's answer to one `processing` intent whose delay has passed."""
    claimed = _claim_processing(intent_id=intent_id, batch_size=1)
    for pi in claimed:
        _resolve(pi)
    return bool(claimed)


def payment_intents_resolve_due(*, batch_size: int = 50) -> int:
    claimed = _claim_processing(batch_size=batch_size)
    for pi in claimed:
        try:
            _resolve(pi)
        except Exception:  # one bad row must not stop the batch; its claim goes stale
            logger.exception("could not resolve %s", pi.id)
    return len(claimed)


@dataclass
class SweepResult:
    count: int
    charge_ids: list


def _sweep(*, filters: Q, transition: str, reason_event: str, batch_size: int) -> SweepResult:
    with transaction.atomic():
        rows = list(
            PaymentIntent.objects.select_for_update(skip_locked=True)
            .filter(filters)
            .order_by("updated")[:batch_size]
        )
        charge_ids = []
        for pi in rows:
            before = payment_intent_to_api(pi)
            if transition == "expire":
                pi.expire()
                if pi.latest_charge_id:
                    charge_ids.append(pi.latest_charge_id)
            else:
                if pi.status == Status.REQUIRES_ACTION:
                    _fail_pending_charge(pi, "The PaymentIntent was abandoned.")
                pi.abandon()
            pi.save()
            _emit(pi, reason_event, before)
        if charge_ids:
            Charge.objects.filter(id__in=charge_ids).update(
                authorized=False, released=True, updated=timezone.now()
            )
    return SweepResult(count=len(rows), charge_ids=charge_ids)


def payment_intents_expire_due(*, batch_size: int = 100, max_batches: int = 50) -> int:
    """Cancel (reason `expired`) uncaptured authorisations older than the expiry. Safe to run
    twice at once: each batch claims its rows with SKIP LOCKED and re-checks the filter."""
    total = 0
    for _ in range(max_batches):
        cutoff = timezone.now() - timedelta(seconds=settings.AUTHORIZATION_EXPIRY_SECONDS)
        result = _sweep(
            filters=Q(
                status=Status.REQUIRES_CAPTURE, authorized_at__lte=cutoff, inflight__isnull=True
            ),
            transition="expire",
            reason_event="canceled",
            batch_size=batch_size,
        )
        for charge_id in result.charge_ids:  # the processor releases what it still holds
            livemode = Charge.objects.values_list("livemode", flat=True).get(id=charge_id)
            _call_quietly(get_processor(livemode).void, reference=charge_id)
        total += result.count
        if result.count < batch_size:
            break
    return total


def payment_intents_abandon_stale(*, batch_size: int = 100, max_batches: int = 50) -> int:
    """Cancel (reason `abandoned`) non-terminal intents untouched for ABANDONMENT_SECONDS."""
    total = 0
    for _ in range(max_batches):
        cutoff = timezone.now() - timedelta(seconds=settings.ABANDONMENT_SECONDS)
        result = _sweep(
            filters=Q(status__in=ABANDONABLE, updated__lte=cutoff, inflight__isnull=True),
            transition="abandon",
            reason_event="canceled",
            batch_size=batch_size,
        )
        total += result.count
        if result.count < batch_size:
            break
    return total


def payment_intent_expire_if_due(*, intent_id: str) -> PaymentIntent:
    """Read path: an authorisation past its expiry is expired now, before the sweep gets to it."""
    with transaction.atomic():
        pi = _lock(intent_id)
        if _expire_if_due_locked(pi) and pi.latest_charge_id:
            transaction.on_commit(
                lambda: _call_quietly(
                    get_processor(pi.livemode).void, reference=pi.latest_charge_id
                )
            )
    return pi
