"""Payment methods: vault a card (or a magic test id), resolve ids, update, attach, detach.

Tokenisation may be a network call, so it happens before any transaction; state changes lock
their row with `select_for_update()`, re-check it, and write their Event in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import transaction

from core.crypto import account_card_fingerprint
from core.errors import InvalidRequestError, ResourceMissing
from core.metadata import merge_metadata
from core.scope import Scope
from core.selectors import first_or_missing
from core.values import UNSET
from events.services import event_emit
from routing.models import ProcessorConnection
from routing.selectors import active_connections

from .. import presenters
from ..exceptions import InvalidCard, PaymentMethodUnexpectedState
from ..models import Customer, PaymentMethod
from ..processors.base import RawCard, TokenizedCard
from ..processors.drivers import builtin_driver, driver_for
from ..processors.simulated import CARDS_BY_MAGIC_ID, CARDS_BY_TOKEN
from ..selectors import customer_get, customer_list, payment_method_list

logger = logging.getLogger("payintents.payments")

# --- card data --------------------------------------------------------------------------------


def raw_card_from_params(card: dict, *, param_prefix: str = "card") -> RawCard:
    """The validated `card` hash (CardParamsSerializer) → an in-memory RawCard; a test token
    (`card[token]=tok_visa`) gives the card of its magic id."""
    if card.get("token") is not None:
        raw = token_card(card["token"])
        if raw is None:
            raise ResourceMissing("token", card["token"], param=f"{param_prefix}[token]")
        return raw
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


def token_card(token: str) -> RawCard | None:
    """The test card behind a test token (`tok_visa`), as `magic_card`."""
    known = CARDS_BY_TOKEN.get(token)
    if known is None:
        return None
    return RawCard(number=known.number, exp_month=12, exp_year=datetime.now(UTC).year + 5)


def is_magic_id(payment_method_id: str) -> bool:
    return payment_method_id in CARDS_BY_MAGIC_ID


def clean_billing_details(details: dict | None) -> dict:
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


# --- payment methods --------------------------------------------------------------------------


def payment_method_create(
    *,
    scope: Scope,
    card: RawCard | None = None,
    magic_id: str | None = None,
    billing_details: dict | None = None,
    metadata: dict | None = None,
    param_prefix: str | None = "card",
    connections: list[ProcessorConnection] | None = None,
) -> PaymentMethod:
    """Vault a card (or the test card behind a magic id) and store what may be stored: the
    simulator's vault checks it and describes it (brand, country, fingerprint), then it is
    tokenized at every active connection of the scope (`connections`, when the caller read
    them already), one token each.

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
        tokenized = builtin_driver().tokenize(card=card, livemode=scope.livemode)
        tokens = _tokens(scope, card, tokenized, connections)
    except InvalidCard as exc:
        if magic_id is not None:
            exc.param = "payment_method"
            raise exc
        raise exc.with_param_prefix(param_prefix)
    return PaymentMethod.objects.create(
        account_id=scope.account_id,
        livemode=scope.livemode,
        type="card",
        billing_details=clean_billing_details(billing_details),
        metadata=merge_metadata({}, metadata),
        card_brand=tokenized.brand,
        card_last4=tokenized.last4,
        card_exp_month=tokenized.exp_month,
        card_exp_year=tokenized.exp_year,
        card_funding=tokenized.funding,
        card_country=tokenized.country,
        card_fingerprint=account_card_fingerprint(scope.account_id, tokenized.fingerprint),
        processor_token=tokenized.token,
        tokens=tokens,
        magic_id=magic_id,
    )


def _tokens(
    scope: Scope,
    card: RawCard,
    vaulted: TokenizedCard,
    connections: list[ProcessorConnection] | None,
) -> dict[str, str]:
    """{connection id: token} for every active connection: the simulator's vault token for the
    simulated ones; a remote one's own (a call to it). A remote connection that cannot
    tokenize now (down, refusing) gets no token, so no attempt is routed to it for this card
    (`evaluate` says `no_token`); a card it finds wrong is refused as the vault would."""
    if connections is None:
        connections = active_connections(scope=scope)
    tokens = {}
    for connection in connections:
        if connection.status != "active" or connection.deleted_at is not None:
            continue
        if connection.kind == "simulated":
            tokens[connection.id] = vaulted.token
            continue
        try:
            tokens[connection.id] = (
                driver_for(connection).tokenize(card=card, livemode=scope.livemode).token
            )
        except InvalidCard:
            raise
        except Exception:  # a remote connection down or refusing: no token there
            logger.exception("tokenizing at %s failed", connection.id)
    return tokens


def card_tokens(pm: PaymentMethod, connections: list[ProcessorConnection]) -> frozenset[str]:
    """The connections `pm` has a token at. A card vaulted before connections existed has only
    the simulator's token, which the built-in connection (the one there was then) holds: every
    other connection was made after the card."""
    if pm.tokens:
        return frozenset(pm.tokens)
    return frozenset(c.id for c in connections if c.builtin)


def token_for(pm: PaymentMethod | None, connection: ProcessorConnection | None) -> str:
    """The token a connection knows `pm` by."""
    if pm is None:
        return ""
    if connection is not None and connection.id in (pm.tokens or {}):
        return pm.tokens[connection.id]
    return pm.processor_token


def payment_method_create_from_data(
    *,
    scope: Scope,
    data: dict,
    param: str = "payment_method_data",
    connections: list[ProcessorConnection] | None = None,
) -> PaymentMethod:
    """`payment_method_data` (validated by PaymentMethodDataSerializer) → a new method."""
    return payment_method_create(
        scope=scope,
        connections=connections,
        card=raw_card_from_params(data["card"], param_prefix=f"{param}[card]"),
        billing_details=data.get("billing_details"),
        metadata=data.get("metadata"),
        param_prefix=f"{param}[card]",
    )


def payment_method_resolve(
    *,
    scope: Scope,
    payment_method_id: str,
    param: str = "payment_method",
    connections: list[ProcessorConnection] | None = None,
) -> PaymentMethod:
    """A `pm_…` of this account and mode, or a magic test id (a fresh method each time)."""
    if is_magic_id(payment_method_id):
        try:
            return payment_method_create(
                scope=scope, magic_id=payment_method_id, connections=connections
            )
        except InvalidCard as exc:
            exc.param = param
            raise
    pm = PaymentMethod.objects.filter(id=payment_method_id, **scope.filters).first()
    if pm is None:
        raise ResourceMissing("payment_method", payment_method_id, param=param)
    return pm


def payment_method_lock(pm: PaymentMethod) -> PaymentMethod:
    return PaymentMethod.objects.select_for_update().get(pk=pm.pk)


def _lock(scope: Scope, payment_method_id: str) -> PaymentMethod:
    """`select_for_update()` the method within `scope` (404 `id` when it is not there)."""
    return first_or_missing(
        payment_method_list(scope=scope).select_for_update(),
        object_id=payment_method_id,
        object_name="payment_method",
    )


def _lock_customer(scope: Scope, customer_id: str) -> Customer:
    """`select_for_update()` the customer within `scope`; a deleted one is missing."""
    return first_or_missing(
        customer_list(scope=scope).select_for_update(),
        object_id=customer_id,
        object_name="customer",
        param="customer",
    )


def payment_method_update(
    *,
    scope: Scope,
    payment_method_id: str,
    billing_details: dict | None = UNSET,
    metadata=UNSET,
) -> PaymentMethod:
    with transaction.atomic():
        pm = _lock(scope, payment_method_id)
        before = presenters.payment_method_to_api(pm)
        if billing_details is not UNSET:
            pm.billing_details = _merge_billing_details(pm.billing_details, billing_details)
        if metadata is not UNSET and metadata is not None:
            pm.metadata = merge_metadata(pm.metadata, metadata)
        after = presenters.payment_method_to_api(pm)
        if after != before:
            pm.save()
            event_emit(scope=scope, changes=[("payment_method.updated", after, before)])
    return pm


def payment_method_attach_locked(pm: PaymentMethod, customer: Customer) -> bool:
    """Attach a locked method; False when it was already attached to this customer."""
    if pm.customer_id == customer.id:
        return False
    if pm.customer_id is not None:
        raise PaymentMethodUnexpectedState.already_attached()
    pm.customer = customer
    pm.save()
    attached = presenters.payment_method_to_api(pm)
    event_emit(scope=Scope.of(pm), changes=[("payment_method.attached", attached, None)])
    return True


def payment_method_keep_for_customer(*, payment_method_id: str, customer_id: str) -> bool:
    """A payment made with `setup_future_usage` keeps its card for the intent's customer, in
    the transaction that records the payment's success: attached (event
    `payment_method.attached`) unless the card already belongs to a customer or the customer
    was deleted meanwhile. It never refuses: the payment stands either way."""
    pm = (
        PaymentMethod.objects.select_for_update()
        .filter(pk=payment_method_id, customer__isnull=True)
        .first()
    )
    if pm is None:
        return False
    customer = Customer.objects.filter(pk=customer_id, deleted=False).first()
    if customer is None:
        return False
    return payment_method_attach_locked(pm, customer)


def payment_method_attach(
    *, scope: Scope, payment_method_id: str, customer_id: str
) -> PaymentMethod:
    """Attach to a customer of the same scope (event `payment_method.attached`); attaching again
    to the same customer is a no-op, to another one a `payment_method_unexpected_state` error.
    A magic test id (`pm_card_visa`) is cloned, as Stripe does: a new `pm_…` for its card,
    attached to the customer; the magic id itself stays usable by anyone."""
    if is_magic_id(payment_method_id):
        # Tokenising is a processor call: outside the transaction, and only for a customer
        # that exists.
        customer_get(scope=scope, customer_id=customer_id, param="customer")
        payment_method_id = payment_method_create(scope=scope, magic_id=payment_method_id).id
    with transaction.atomic():
        locked_customer = _lock_customer(scope, customer_id)
        pm = _lock(scope, payment_method_id)
        payment_method_attach_locked(pm, locked_customer)
    return pm


def payment_method_detach(*, scope: Scope, payment_method_id: str) -> PaymentMethod:
    with transaction.atomic():
        pm = _lock(scope, payment_method_id)
        if pm.customer_id is None:
            raise PaymentMethodUnexpectedState(
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible."
            )
        customer = Customer.objects.select_for_update().get(pk=pm.customer_id)
        before = presenters.payment_method_to_api(pm)
        pm.customer = None
        pm.save()
        settings_ = dict(customer.invoice_settings or {})
        if settings_.get("default_payment_method") == pm.id:
            settings_["default_payment_method"] = None
            customer.invoice_settings = settings_
            customer.save()
        after = presenters.payment_method_to_api(pm)
        event_emit(scope=scope, changes=[("payment_method.detached", after, before)])
    return pm
