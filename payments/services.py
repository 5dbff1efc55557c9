"""Every write of payment methods and customers, plus the helpers the intent services use to turn
a processor's answer into a charge (outcome, payment_method_details, card errors).

Processor calls (tokenisation may be a network call) happen before any transaction; state changes
lock their row with `select_for_update()`, re-check it, and write their Event in the same
transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from core.errors import InvalidRequestError, ResourceMissing
from core.metadata import METADATA_CLEAR, merge_metadata
from core.scope import Scope
from events.services import event_record, previous_attributes

from .exceptions import CardDeclined, InvalidCard, PaymentMethodUnexpectedState
from .models import Customer, PaymentMethod
from .presenters import customer_to_api, payment_method_to_api
from .processors import get_processor
from .processors.base import AuthorizationResult, Decline, RawCard
from .processors.simulated import CARDS_BY_MAGIC_ID


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


# --- card data --------------------------------------------------------------------------------


def raw_card_from_params(card: dict) -> RawCard:
    """The validated `card` hash (CardParamsSerializer) → an in-memory RawCard."""
    cvc = card.get("cvc")
    return RawCard(
        number=str(card["number"]),
        exp_month=int(card["exp_month"]),
        exp_year=int(card["exp_year"]),
        cvc=str(cvc) if cvc not in (None, "") else None,
    )


def magic_card(magic_id: str) -> RawCard | None:
    """The test card behind a magic id (`pm_card_visa`), valid for a few years from now."""
    known = CARDS_BY_MAGIC_ID.get(magic_id)
    if known is None:
        return None
    return RawCard(number=known.number, exp_month=12, exp_year=datetime.now(UTC).year + 5)


def is_magic_id(payment_method_id: str) -> bool:
    return payment_method_id in CARDS_BY_MAGIC_ID


def _clean_billing_details(details: dict | None) -> dict:
    if not details:
        return {}
    out = {key: value for key, value in details.items() if key != "address" and value is not None}
    address = details.get("address")
    if address:
        out["address"] = {key: value for key, value in address.items() if value is not None}
    return out


def _merge_billing_details(current: dict, patch: dict | None) -> dict:
    """Stripe's update of `billing_details`: given keys replace, `address` merges key by key."""
    if patch is None:
        return {}
    merged = dict(current or {})
    for key, value in patch.items():
        if key == "address":
            if value is None:
                merged.pop("address", None)
                continue
            address = dict(merged.get("address") or {})
            for akey, avalue in value.items():
                if avalue is None:
                    address.pop(akey, None)
                else:
                    address[akey] = avalue
            merged["address"] = address
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _metadata(patch) -> dict:
    if patch is None or patch is METADATA_CLEAR:
        return {}
    return merge_metadata({}, patch)


# --- payment methods --------------------------------------------------------------------------


def payment_method_create(
    *,
    account_id: str,
    livemode: bool,
    card: RawCard | None = None,
    magic_id: str | None = None,
    billing_details: dict | None = None,
    metadata: dict | None = None,
    param_prefix: str | None = "card",
) -> PaymentMethod:
    """Vault a card (or the test card behind a magic id) and store what may be stored.

    Card errors are 402 `card_error` with `param` under `param_prefix` (`card[number]`; H2 passes
    `payment_method_data[card]`)."""
    if magic_id is not None:
        card = magic_card(magic_id)
        if card is None:
            raise ResourceMissing("payment_method", magic_id, param="payment_method")
    if card is None:
        raise InvalidRequestError(
            "Missing required param: card.", code="parameter_missing", param="card"
        )
    try:
        tokenized = get_processor(livemode).tokenize(card=card, livemode=livemode)
    except InvalidCard as exc:
        if magic_id is not None:
            exc.param = "payment_method"
            raise exc
        raise exc.with_param_prefix(param_prefix)
    return PaymentMethod.objects.create(
        account_id=account_id,
        livemode=livemode,
        type="card",
        billing_details=_clean_billing_details(billing_details),
        metadata=_metadata(metadata),
        card_brand=tokenized.brand,
        card_last4=tokenized.last4,
        card_exp_month=tokenized.exp_month,
        card_exp_year=tokenized.exp_year,
        card_funding=tokenized.funding,
        card_country=tokenized.country,
        card_fingerprint=tokenized.fingerprint,
        processor_token=tokenized.token,
        magic_id=magic_id,
    )


def payment_method_create_from_data(
    *, scope: Scope, data: dict, param: str = "payment_method_data"
) -> PaymentMethod:
    """`payment_method_data` (validated by PaymentMethodDataSerializer) → a new method."""
    return payment_method_create(
        account_id=scope.account_id,
        livemode=scope.livemode,
        card=raw_card_from_params(data["card"]),
        billing_details=data.get("billing_details"),
        metadata=data.get("metadata"),
        param_prefix=f"{param}[card]",
    )


def payment_method_resolve(
    *, scope: Scope, payment_method_id: str, param: str = "payment_method"
) -> PaymentMethod:
    """A `pm_…` of this account and mode, or a magic test id (a fresh method each time)."""
    if is_magic_id(payment_method_id):
        try:
            return payment_method_create(
                account_id=scope.account_id, livemode=scope.livemode, magic_id=payment_method_id
            )
        except InvalidCard as exc:
            exc.param = param
            raise
    pm = PaymentMethod.objects.filter(id=payment_method_id, **scope.filters).first()
    if pm is None:
        raise ResourceMissing("payment_method", payment_method_id, param=param)
    return pm


def _lock_payment_method(pm: PaymentMethod) -> PaymentMethod:
    return PaymentMethod.objects.select_for_update().get(pk=pm.pk)


def payment_method_update(
    *,
    payment_method: PaymentMethod,
    billing_details: dict | None = UNSET,
    metadata=UNSET,
) -> PaymentMethod:
    with transaction.atomic():
        pm = _lock_payment_method(payment_method)
        before = payment_method_to_api(pm)
        if billing_details is not UNSET:
            pm.billing_details = _merge_billing_details(pm.billing_details, billing_details)
        if metadata is not UNSET and metadata is not None:
            pm.metadata = merge_metadata(pm.metadata, metadata)
        after = payment_method_to_api(pm)
        changed = previous_attributes(before, after)
        if changed:
            pm.save(update_fields=["billing_details", "metadata"])
            event_record(
                scope=Scope.of(pm),
                type="payment_method.updated",
                data_object=after,
                previous_attributes=changed,
            )
    return pm


def _attach_locked(pm: PaymentMethod, customer: Customer) -> bool:
    """Attach a locked method; False when it was already attached to this customer."""
    if pm.customer_id == customer.id:
        return False
    if pm.customer_id is not None:
        raise PaymentMethodUnexpectedState(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    pm.customer = customer
    pm.save(update_fields=["customer"])
    event_record(
        scope=Scope.of(pm),
        type="payment_method.attached",
        data_object=payment_method_to_api(pm),
    )
    return True


def _same_scope(pm: PaymentMethod, customer: Customer) -> None:
    if pm.account_id != customer.account_id or pm.livemode != customer.livemode:
        raise ResourceMissing("customer", customer.id, param="customer")


def payment_method_attach(*, payment_method: PaymentMethod, customer: Customer) -> PaymentMethod:
    """Attach to a customer (event `payment_method.attached`); attaching again to the same
    customer is a no-op, to another one a `payment_method_unexpected_state` error."""
    _same_scope(payment_method, customer)
    with transaction.atomic():
        locked_customer = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked_customer.deleted:
            raise ResourceMissing("customer", customer.id, param="customer")
        pm = _lock_payment_method(payment_method)
        _attach_locked(pm, locked_customer)
    return pm


def payment_method_detach(*, payment_method: PaymentMethod) -> PaymentMethod:
    with transaction.atomic():
        pm = _lock_payment_method(payment_method)
        if pm.customer_id is None:
            raise PaymentMethodUnexpectedState(
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible."
            )
        customer = Customer.objects.select_for_update().get(pk=pm.customer_id)
        previous_customer = pm.customer_id
        pm.customer = None
        pm.save(update_fields=["customer"])
        settings_ = dict(customer.invoice_settings or {})
        if settings_.get("default_payment_method") == pm.id:
            settings_["default_payment_method"] = None
            customer.invoice_settings = settings_
            customer.save(update_fields=["invoice_settings"])
        event_record(
            scope=Scope.of(pm),
            type="payment_method.detached",
            data_object=payment_method_to_api(pm),
            previous_attributes={"customer": previous_customer},
        )
    return pm


# --- helpers for the charge lifecycle (intents/) ---------------------------------------------


def charge_outcome_for(result: AuthorizationResult) -> dict:
    """Stripe's `charge.outcome` for a processor answer."""
    if result.status == "declined" and result.decline is not None:
        decline = result.decline
        reason = decline.decline_code or decline.code
        return {
            "network_status": result.network_status,
            "reason": reason,
            "risk_level": result.risk_level,
            "risk_score": 85 if result.risk_level == "highest" else 20,
            "seller_message": (
                "The bank did not return any further details with this decline."
                if reason == "generic_decline"
                else f"The bank returned the decline code `{reason}`."
            ),
            "type": "issuer_declined"
            if result.network_status == "declined_by_network"
            else "blocked",
        }
    return {
        "network_status": result.network_status,
        "reason": None,
        "risk_level": result.risk_level,
        "risk_score": 20,
        "seller_message": "Payment complete.",
        "type": "authorized",
    }


def card_error_for(
    decline: Decline, *, payment_intent: dict | None = None, param: str | None = None
) -> CardDeclined:
    """The 402 to raise for a decline (embed the intent as it now is)."""
    return CardDeclined.from_decline(decline, payment_intent=payment_intent, param=param)


# --- customers --------------------------------------------------------------------------------


def _default_payment_method_check(customer: Customer, pm_id: str | None) -> None:
    if pm_id is None:
        return
    attached = PaymentMethod.objects.filter(id=pm_id, customer_id=customer.id).exists()
    if not attached:
        raise _not_attached(pm_id)


def _not_attached(pm_id: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"The customer does not have a payment method with the ID {pm_id}. The payment "
        "method must be attached to the customer.",
        code="resource_missing",
        param="invoice_settings[default_payment_method]",
    )


def customer_create(
    *,
    account_id: str,
    livemode: bool,
    email: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    description: str | None = None,
    address: dict | None = None,
    shipping: dict | None = None,
    metadata: dict | None = None,
    payment_method: str | None = None,
    invoice_settings: dict | None = None,
) -> Customer:
    """Create a customer (event `customer.created`), optionally attaching `payment_method`
    (a `pm_…` or magic id; event `payment_method.attached`)."""
    default_pm = (invoice_settings or {}).get("default_payment_method")
    if default_pm and default_pm != payment_method:
        # A new customer has no methods but the one this call attaches.
        raise _not_attached(default_pm)
    pm = None
    if payment_method:
        # May tokenise a magic id: a processor call, so before the transaction.
        pm = payment_method_resolve(
            scope=Scope(account_id=account_id, livemode=livemode),
            payment_method_id=payment_method,
            param="payment_method",
        )
    with transaction.atomic():
        customer = Customer.objects.create(
            account_id=account_id,
            livemode=livemode,
            email=email,
            name=name,
            phone=phone,
            description=description,
            address=_clean_billing_details({"address": address}).get("address")
            if address
            else None,
            shipping=_clean_billing_details(shipping) if shipping else None,
            metadata=_metadata(metadata),
            invoice_settings={},
        )
        if pm is not None:
            locked = _lock_payment_method(pm)
            if locked.customer_id is not None:
                raise PaymentMethodUnexpectedState(
                    "The payment method you provided has already been attached to a customer.",
                    param="payment_method",
                )
        if default_pm and pm is not None:
            customer.invoice_settings = {"default_payment_method": pm.id}
            customer.save(update_fields=["invoice_settings"])
        event_record(
            scope=Scope(account_id=account_id, livemode=livemode),
            type="customer.created",
            data_object=customer_to_api(customer),
        )
        if pm is not None:
            _attach_locked(locked, customer)
    return customer


def customer_update(
    *,
    customer: Customer,
    email: str | None = UNSET,
    name: str | None = UNSET,
    phone: str | None = UNSET,
    description: str | None = UNSET,
    address: dict | None = UNSET,
    shipping: dict | None = UNSET,
    metadata=UNSET,
    invoice_settings: dict | None = UNSET,
) -> Customer:
    """Update the given fields (event `customer.updated` with previous_attributes, only when
    something changed). Metadata merges as everywhere."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.deleted:
            raise ResourceMissing("customer", customer.id, param="id")
        before = customer_to_api(locked)
        for field, value in (
            ("email", email),
            ("name", name),
            ("phone", phone),
            ("description", description),
        ):
            if value is not UNSET:
                setattr(locked, field, value)
        if address is not UNSET:
            locked.address = (
                _clean_billing_details({"address": address}).get("address") if address else None
            )
        if shipping is not UNSET:
            locked.shipping = _clean_billing_details(shipping) if shipping else None
        if metadata is not UNSET and metadata is not None:
            locked.metadata = merge_metadata(locked.metadata, metadata)
        if invoice_settings is not UNSET and invoice_settings is not None:
            if "default_payment_method" in invoice_settings:
                default_pm = invoice_settings["default_payment_method"]
                _default_payment_method_check(locked, default_pm)
                locked.invoice_settings = {
                    **(locked.invoice_settings or {}),
                    "default_payment_method": default_pm,
                }
        after = customer_to_api(locked)
        changed = previous_attributes(before, after)
        if changed:
            locked.save()
            event_record(
                scope=Scope.of(locked),
                type="customer.updated",
                data_object=after,
                previous_attributes=changed,
            )
    return locked


def customer_delete(*, customer: Customer) -> Customer:
    """Delete (a tombstone: the row stays for charges and intents that name it, but every
    selector treats it as gone); its payment methods are detached. Event `customer.deleted`."""
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.deleted:
            raise ResourceMissing("customer", customer.id, param="id")
        locked.deleted = True
        locked.save(update_fields=["deleted"])
        PaymentMethod.objects.filter(customer_id=locked.id).update(customer=None)
        event_record(
            scope=Scope.of(locked),
            type="customer.deleted",
            data_object=customer_to_api(locked),
        )
    return locked
