"""Products, one-time Prices and Payment Links: the merchant's catalogue for Checkout."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from core.errors import InvalidRequestError, ParameterMissing, ResourceMissing
from core.ids import random_base62
from core.metadata import merge_metadata
from core.money import validate_amount_for_currency
from core.scope import Scope
from core.values import UNSET
from events.services import event_emit

from .. import presenters
from ..models import PaymentLink, Price, Product
from .checkout_intents import clean_url

MAX_LINE_ITEMS = 20
#: The most of one line item a session or link sells.
MAX_QUANTITY = 999_999


def _lock(model, scope: Scope, object_id: str, name: str):
    row = model.objects.select_for_update().filter(id=object_id, **scope.filters).first()
    if row is None:
        raise ResourceMissing(name, object_id)
    return row


def product_create(
    *,
    scope: Scope,
    name: str,
    description: str | None = None,
    active: bool | None = None,
    metadata=None,
    default_price_data: dict | None = None,
) -> Product:
    with transaction.atomic():
        product = Product(
            account_id=scope.account_id,
            livemode=scope.livemode,
            name=name,
            description=description or None,
            active=True if active is None else active,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
        )
        product.save(force_insert=True)
        event_emit(
            scope=scope, changes=[("product.created", presenters.product_to_api(product), None)]
        )
        if default_price_data:
            price_create(scope=scope, product=product.id, **default_price_data)
    return product


def product_update(
    *, scope: Scope, product_id: str, name=UNSET, description=UNSET, active=UNSET, metadata=UNSET
) -> Product:
    with transaction.atomic():
        product = _lock(Product, scope, product_id, "product")
        before = presenters.product_to_api(product)
        if name is not UNSET:
            if not name:
                raise InvalidRequestError("A product needs a name.", param="name")
            product.name = name
        if description is not UNSET:
            product.description = description or None
        if active is not UNSET:
            product.active = bool(active)
        if metadata is not UNSET:
            product.metadata = merge_metadata(product.metadata, metadata)
        product.save()
        after = presenters.product_to_api(product)
        event_emit(scope=scope, changes=[("product.updated", after, before)])
    return product


def price_create(
    *,
    scope: Scope,
    currency: str,
    unit_amount: int | None = None,
    product: str | None = None,
    product_data: dict | None = None,
    active: bool | None = None,
    nickname: str | None = None,
    lookup_key: str | None = None,
    metadata=None,
) -> Price:
    """A one-time price of `product` (or of a product made from `product_data`)."""
    if unit_amount is None:
        raise ParameterMissing("unit_amount")
    if unit_amount < 0:
        raise InvalidRequestError(
            "unit_amount must be 0 or more.", code="parameter_invalid_integer", param="unit_amount"
        )
    if product and product_data:
        raise InvalidRequestError(
            "You may only specify one of these parameters: product, product_data.",
            param="product_data",
        )
    with transaction.atomic():
        if product:
            product_obj = Product.objects.filter(id=product, **scope.filters).first()
            if product_obj is None:
                raise ResourceMissing("product", product, param="product")
        elif product_data:
            product_obj = product_create(
                scope=scope, name=product_data["name"], metadata=product_data.get("metadata")
            )
        else:
            raise ParameterMissing("product")
        price = Price(
            account_id=scope.account_id,
            livemode=scope.livemode,
            product=product_obj,
            currency=currency,
            unit_amount=unit_amount,
            active=True if active is None else active,
            nickname=nickname or None,
            lookup_key=lookup_key or None,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
        )
        price.save(force_insert=True)
        event_emit(scope=scope, changes=[("price.created", presenters.price_to_api(price), None)])
    return price


def price_update(
    *, scope: Scope, price_id: str, active=UNSET, nickname=UNSET, lookup_key=UNSET, metadata=UNSET
) -> Price:
    with transaction.atomic():
        price = _lock(Price, scope, price_id, "price")
        before = presenters.price_to_api(price)
        if active is not UNSET:
            price.active = bool(active)
        if nickname is not UNSET:
            price.nickname = nickname or None
        if lookup_key is not UNSET:
            price.lookup_key = lookup_key or None
        if metadata is not UNSET:
            price.metadata = merge_metadata(price.metadata, metadata)
        price.save()
        event_emit(scope=scope, changes=[("price.updated", presenters.price_to_api(price), before)])
    return price


def priced_line_items(scope: Scope, items: list[dict], *, param: str = "line_items") -> list[dict]:
    """`[{price|price_data, quantity}]` → the lines as a session shows them, each with its
    price as the API shows it; one currency for all; amounts checked. Reads, never writes."""
    if not items:
        raise ParameterMissing(param, f"Missing required param: {param}.")
    if len(items) > MAX_LINE_ITEMS:
        raise InvalidRequestError(
            f"At most {MAX_LINE_ITEMS} line items may be given.",
            code="parameter_invalid_array",
            param=param,
        )
    ids = [item["price"] for item in items if item.get("price")]
    prices = {
        p.id: p for p in Price.objects.filter(id__in=ids, **scope.filters).select_related("product")
    }
    lines, currency = [], None
    for index, item in enumerate(items):
        at = f"{param}[{index}]"
        quantity = item.get("quantity")
        if quantity is None:
            raise ParameterMissing(f"{at}[quantity]")
        if quantity < 1 or quantity > MAX_QUANTITY:
            raise InvalidRequestError(
                f"quantity must be between 1 and {MAX_QUANTITY}.",
                code="parameter_invalid_integer",
                param=f"{at}[quantity]",
            )
        if item.get("price") and item.get("price_data"):
            raise InvalidRequestError(
                "You may only specify one of these parameters: price, price_data.",
                param=f"{at}[price_data]",
            )
        if item.get("price"):
            price = prices.get(item["price"])
            if price is None:
                raise ResourceMissing("price", item["price"], param=f"{at}[price]")
            if not price.active:
                raise InvalidRequestError(
                    f"The price specified ({price.id}) is inactive. This field only accepts "
                    "active prices.",
                    param=f"{at}[price]",
                )
            shown = presenters.price_to_api(price)
            unit_amount, line_currency = price.unit_amount, price.currency
            description = price.product.name
        elif item.get("price_data"):
            data = item["price_data"]
            for name in ("currency", "unit_amount", "product_data"):
                if data.get(name) is None:
                    raise ParameterMissing(f"{at}[price_data][{name}]")
            unit_amount, line_currency = data["unit_amount"], data["currency"]
            if unit_amount < 0:
                raise InvalidRequestError(
                    "unit_amount must be 0 or more.",
                    code="parameter_invalid_integer",
                    param=f"{at}[price_data][unit_amount]",
                )
            description = data["product_data"]["name"]
            shown = {
                "id": "price_" + random_base62(24),
                "object": "price",
                "active": False,
                "billing_scheme": "per_unit",
                "created": None,
                "currency": line_currency,
                "livemode": scope.livemode,
                "lookup_key": None,
                "metadata": {},
                "nickname": None,
                "product": None,
                "product_data": {
                    "name": description,
                    "description": data["product_data"].get("description"),
                },
                "recurring": None,
                "tax_behavior": "unspecified",
                "type": "one_time",
                "unit_amount": unit_amount,
                "unit_amount_decimal": str(unit_amount),
            }
        else:
            raise ParameterMissing(f"{at}[price]", f"Missing required param: {at}[price].")
        if currency is None:
            currency = line_currency
        elif line_currency != currency:
            raise InvalidRequestError(
                "All line items must be in the same currency.",
                code="parameter_invalid_string",
                param=f"{at}[price]",
            )
        amount = unit_amount * quantity
        lines.append(
            {
                "id": "li_" + random_base62(24),
                "amount_subtotal": amount,
                "amount_total": amount,
                "currency": line_currency,
                "description": description,
                "price": shown,
                "quantity": quantity,
            }
        )
    assert currency is not None
    validate_amount_for_currency(sum(line["amount_total"] for line in lines), currency, param=param)
    return lines


def payment_link_create(
    *,
    scope: Scope,
    line_items: list[dict],
    after_completion: dict | None = None,
    active: bool | None = None,
    metadata=None,
) -> PaymentLink:
    for index, item in enumerate(line_items or []):
        if not item.get("price"):
            raise ParameterMissing(f"line_items[{index}][price]")
    lines = priced_line_items(scope, line_items or [])
    redirect_url = _after_completion_url(after_completion, livemode=scope.livemode)
    with transaction.atomic():
        link = PaymentLink(
            account_id=scope.account_id,
            livemode=scope.livemode,
            active=True if active is None else active,
            line_items=[
                {"price": item["price"], "quantity": item["quantity"]} for item in line_items
            ],
            currency=lines[0]["currency"],
            redirect_url=redirect_url,
            metadata=merge_metadata({}, metadata) if metadata is not None else {},
            url_key=random_base62(32),
        )
        link.save(force_insert=True)
        event_emit(scope=scope, changes=[("payment_link.created", _shown(link), None)])
    return link


def payment_link_update(
    *, scope: Scope, payment_link_id: str, active=UNSET, after_completion=UNSET, metadata=UNSET
) -> PaymentLink:
    redirect_url = (
        _after_completion_url(after_completion, livemode=scope.livemode)
        if after_completion is not UNSET
        else None
    )
    with transaction.atomic():
        link = _lock(PaymentLink, scope, payment_link_id, "payment_link")
        before = _shown(link)
        if active is not UNSET:
            link.active = bool(active)
        if after_completion is not UNSET:
            link.redirect_url = redirect_url
        if metadata is not UNSET:
            link.metadata = merge_metadata(link.metadata, metadata)
        link.save()
        event_emit(scope=scope, changes=[("payment_link.updated", _shown(link), before)])
    return link


def payment_link_url(link: PaymentLink) -> str:
    path = reverse("payment_link_page", kwargs={"key": link.url_key})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _shown(link: PaymentLink) -> dict:
    return presenters.payment_link_to_api(link, url=payment_link_url(link))


def _after_completion_url(after_completion: dict | None, *, livemode: bool) -> str | None:
    if not after_completion:
        return None
    kind = after_completion.get("type")
    if kind not in ("redirect", "hosted_confirmation"):
        raise InvalidRequestError(
            "after_completion[type] must be redirect or hosted_confirmation.",
            param="after_completion[type]",
        )
    url = (after_completion.get("redirect") or {}).get("url")
    if url:
        # checked whatever the type, as the schema states it: a `hosted_confirmation` sent with
        # a URL the API refuses is refused too, not taken with its URL dropped.
        # `{CHECKOUT_SESSION_ID}` is the one template the URL may hold (sessions.py fills it in)
        clean_url(
            url.replace("{CHECKOUT_SESSION_ID}", "x"),
            "after_completion[redirect][url]",
            livemode=livemode,
        )
    if kind == "hosted_confirmation":
        return None
    if not url:
        raise ParameterMissing("after_completion[redirect][url]")
    return url


def priced_line_items_of_link(link: PaymentLink) -> list[dict]:
    """A Payment Link's lines as a session of it would show them now."""
    return priced_line_items(Scope.of(link), list(link.line_items))
