"""What Payload's requests may hold, checked with the service's strict fields. A setting this
service cannot honour (bank accounts, mobile wallets, convenience fees, processing accounts…)
is refused by name when asked for, never stored and ignored."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from drf_spectacular.drainage import get_override, set_override
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.serializers import (
    EnumField,
    HttpUrlField,
    MetadataField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    WebhookURLField,
)
from checkout_pages.api.serializers import OriginListField
from checkout_pages.services.checkout_intents import MAX_ALLOWED_ORIGINS
from core.money import MAX_AMOUNT as MAX_MINOR_AMOUNT
from core.money import minimum_amount
from faces.paymongo.serializers import CardNumberField

from . import presenters

ALL_TYPES = (
    "checkout_plugin",
    "checkout_page",
    "payment_form",
    "payment_method_form",
    "processing_account_plugin",
    "oauth_client_token",
)
#: The types this service makes (the others are refused by name: `views.NOT_HONOURED`).
NOT_HONOURED_TYPES = ("processing_account_plugin", "oauth_client_token")
HONOURED_TYPES = tuple(t for t in ALL_TYPES if t not in NOT_HONOURED_TYPES)
#: Payload's amounts are dollars and cents; the face takes them in usd.
CURRENCY = "usd"
MAX_DIGITS_BEFORE_POINT = 10
# A decimal amount written as text: digits, and a decimal part if any.
_AMOUNT_TEXT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")


#: The largest amount a field here reads: fewer than MAX_DIGITS_BEFORE_POINT digits before the
#: point, in cents.
MAX_AMOUNT = Decimal(10**MAX_DIGITS_BEFORE_POINT) - Decimal("0.01")
#: The largest amount a payment takes (the service's `core.money.MAX_AMOUNT` cents, $999,999.99:
#: more answers `amount_too_large`), as the document states it.
MAX_PAYMENT = Decimal(MAX_MINOR_AMOUNT).scaleb(-2)


#: The least amount an intent's payment takes: the usd minimum, in dollars (as configured).
MIN_PAYMENT = Decimal(minimum_amount(CURRENCY)).scaleb(-2)


@extend_schema_field(
    {
        "type": "number",
        "minimum": float(MIN_PAYMENT),
        "maximum": float(MAX_PAYMENT),
        "multipleOf": 0.01,
        "description": f"Dollars and cents, at least {MIN_PAYMENT} and at most 999999.99.",
    }
)
class DecimalAmountField(serializers.Field):
    """Payload's `561.31` (a JSON number, read as a Decimal, or a string) → 56131 cents,
    exactly; more than two decimals, a negative or a non-number is refused. A string is digits
    with an optional decimal part, nothing around them (no spaces, signs, exponents or
    underscores, which Python's Decimal would take)."""

    def major(self, data) -> Decimal:
        """The amount as given, in major units, checked."""
        if isinstance(data, bool) or not isinstance(data, int | Decimal | str):
            raise serializers.ValidationError("Invalid amount: expected a number.")
        if isinstance(data, str) and not _AMOUNT_TEXT.fullmatch(data):
            raise serializers.ValidationError("Invalid amount: expected a number such as 10.25.")
        try:
            value = Decimal(data)
        except InvalidOperation:
            raise serializers.ValidationError("Invalid amount: expected a number.")
        if not value.is_finite() or value.adjusted() >= MAX_DIGITS_BEFORE_POINT or value < 0:
            raise serializers.ValidationError("Invalid amount.")
        return value

    def to_internal_value(self, data):
        cents = self.major(data).scaleb(2)
        if cents != cents.to_integral_value():
            raise serializers.ValidationError("Invalid amount: at most two decimal places.")
        return int(cents)

    def to_representation(self, value):
        return value


class OfferedChoiceField(EnumField):
    """One of Payload's values, of which this service honours `offered`: the others are taken
    here and refused by name where they are used (`views`), with what this service lacks for
    them. The document's enum lists the honoured ones only, as what a request may hold."""

    def __init__(self, *, offered, not_offered, **kwargs):
        super().__init__(choices=[*offered, *not_offered], **kwargs)
        set_override(self, "field", {"type": "string", "enum": list(offered)})


@extend_schema_field(
    {
        "type": "boolean",
        "enum": [False],
        "description": "A feature this service does not offer: only false.",
    }
)
class NotOffered(StrictBooleanField):
    """A toggle of a feature this service does not have: `false` is accepted, `true` refused
    (the document says so: `enum: [false]`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "A feature this service does not offer: only false.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if super().to_internal_value(data):
            raise serializers.ValidationError(
                f"{self.field_name} is not offered by this service; leave it false."
            )
        return False


@extend_schema_field(
    {
        "type": "string",
        "nullable": True,
        "maxLength": 0,
        "description": "Only null (or empty) here.",
    }
)
class NoneOnly(serializers.Field):
    """An id of an object this service does not have (processing accounts): only null (or the
    empty string, a form's way of writing it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("help_text", "An object this service does not have: only null.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data not in (None, ""):
            raise serializers.ValidationError(
                f"{self.field_name} names an object this service does not have; leave it null."
            )
        return None

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "object", "maxProperties": 0, "description": "Only {} here."})
class EmptyObject(serializers.Field):
    """Preset values this service cannot carry onto the object it makes: only `{}`, which a form
    writes `checkout_page[payment]=` (as every hash with no keys: `StrictSerializer`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", "Presets this service cannot carry: only {}.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data not in ({}, ""):
            raise serializers.ValidationError(
                f"{self.field_name} presets are not supported by this service; send {{}}."
            )
        return {}

    def to_representation(self, value):
        return value


class PayloadRedirectsSerializer(StrictSerializer):
    # (required: null or "" is refused as missing, and the document says neither is valid)
    completed_url = HttpUrlField(
        allow_null=False, help_text="Where the customer goes once the payment is done."
    )
    return_url = HttpUrlField(allow_null=False, help_text="Where the page's back link goes.")


class _Paying(StrictSerializer):
    billing_address = StrictBooleanField(
        required=False, help_text="Ask for the full billing address."
    )
    card_payments = StrictBooleanField(
        required=False, help_text="Take cards (the only method here; true by default)."
    )
    bank_account_payments = NotOffered(required=False)
    customer_id = StringField(
        required=False,
        max_length=40,
        help_text="The customer (`cus_…`) the payment or card belongs to.",
    )
    description = StringField(required=False, max_length=1000, help_text="What the payment is for.")
    invoice_id = StringField(
        required=False,
        max_length=255,
        help_text="Your invoice reference, carried onto the payment.",
    )
    processing_id = NoneOnly()
    status = EnumField(
        choices=["authorized", "processed"],
        required=False,
        help_text="`processed` (captured at once, the default) or `authorized` (authorised only; capture later).",
    )


class PayloadCheckoutPageSerializer(_Paying):
    amount = DecimalAmountField(help_text="Dollars and cents, e.g. 561.31.")
    enable_mobile_wallets = NotOffered(required=False)
    payment = EmptyObject()
    show_disclosure = NotOffered(required=False)
    redirects = PayloadRedirectsSerializer(help_text="Where the page sends the customer.")


class PayloadCheckoutPluginSerializer(_Paying):
    # (what `checkout_pages.services.checkout_intents.validate` checks of a checkout plugin)
    required_one_of = (("amount", "amount_editable=true"),)

    amount = DecimalAmountField(required=False, help_text="Dollars and cents, e.g. 561.31.")
    amount_editable = StrictBooleanField(
        required=False, help_text="Let the customer type the amount."
    )
    attrs = EmptyObject()
    auto_billing_toggle = NotOffered(required=False)
    conv_fee = NotOffered(required=False)
    keep_active_toggle = StrictBooleanField(
        required=False, help_text="Keep the card on the customer for later payments."
    )
    order_number = StringField(
        required=False, max_length=255, help_text="Your order number, carried onto the payment."
    )
    payment_method_defaults = EmptyObject()
    payment_method_preview = NotOffered(required=False)
    processing_method_id = NoneOnly()
    processing_settings_id = NoneOnly()


class PayloadFormPaymentSerializer(StrictSerializer):
    amount = DecimalAmountField(help_text="Dollars and cents, e.g. 561.31.")
    customer_id = StringField(
        required=False,
        max_length=40,
        help_text="The customer (`cus_…`) the payment or card belongs to.",
    )
    description = StringField(required=False, max_length=1000, help_text="What the payment is for.")
    order_number = StringField(
        required=False, max_length=255, help_text="Your order number, carried onto the payment."
    )
    status = EnumField(
        choices=["authorized", "processed"],
        required=False,
        help_text="`processed` (captured at once, the default) or `authorized` (authorised only; capture later).",
    )


class PayloadPaymentFormSerializer(StrictSerializer):
    payment = PayloadFormPaymentSerializer(help_text="The payment the form takes.")


class PayloadFormPaymentMethodSerializer(StrictSerializer):
    customer_id = StringField(
        max_length=40, help_text="The customer (`cus_…`) the payment or card belongs to."
    )


class PayloadPaymentMethodFormSerializer(StrictSerializer):
    payment_method = PayloadFormPaymentMethodSerializer(
        help_text="The customer the saved card goes to."
    )


def _settings_rules() -> tuple[dict, dict]:
    """An intent's type requires its settings object and refuses every other type's (stated
    with the rules between parameters that `StrictSerializer` declares); a checkout page, never
    framed, takes no `allowed_origins`."""
    required = {f"type={t}": (t,) for t in HONOURED_TYPES}
    excluded = {f"type={t}": tuple(o for o in HONOURED_TYPES if o != t) for t in HONOURED_TYPES}
    excluded["type=checkout_page"] += ("allowed_origins",)
    return required, excluded


@extend_schema_field(
    {
        **get_override(OriginListField, "field"),
        "maxItems": MAX_ALLOWED_ORIGINS,
    }
)
class AllowedOriginsField(OriginListField):
    """At most `MAX_ALLOWED_ORIGINS` web origins (`https://shop.example.com`), which the service
    checks (`checkout_intents.clean_origins`) with its own messages."""


class PayloadIntentCreateSerializer(StrictSerializer):
    required_with, excluded_with = _settings_rules()

    type = OfferedChoiceField(
        offered=HONOURED_TYPES,
        not_offered=NOT_HONOURED_TYPES,
        help_text="What the intent is for; the settings object of the same name goes with it. "
        "`processing_account_plugin` and `oauth_client_token` are refused by name.",
    )
    attrs = MetadataField(required=False, help_text="Your own attributes: string values.")
    checkout_page = PayloadCheckoutPageSerializer(
        required=False, help_text="The settings of a `checkout_page` intent."
    )
    checkout_plugin = PayloadCheckoutPluginSerializer(
        required=False, help_text="The settings of a `checkout_plugin` intent."
    )
    payment_form = PayloadPaymentFormSerializer(
        required=False, help_text="The settings of a `payment_form` intent."
    )
    payment_method_form = PayloadPaymentMethodFormSerializer(
        required=False, help_text="The settings of a `payment_method_form` intent."
    )
    allowed_origins = AllowedOriginsField(
        required=False,
        help_text="This service's addition: the origins of your site that may frame an "
        "embedded type (`checkout_plugin`, `payment_form`, `payment_method_form`), at most "
        f"{MAX_ALLOWED_ORIGINS}.",
    )


def _all_optional(serializer_class: type[StrictSerializer]) -> type[StrictSerializer]:
    """`serializer_class` as an update takes it (validated with `partial`: what is not given is
    kept): each field optional, at any depth, and no parameter required by a rule, so that the
    document says what the update takes (`PayloadCheckoutPageUpdate`, …)."""
    fields = {}
    for name, field in serializer_class._declared_fields.items():
        kind = type(field)
        if isinstance(field, StrictSerializer):
            kind = _all_optional(kind)
        fields[name] = kind(*field._args, **{**field._kwargs, "required": False})
    fields["required_one_of"] = ()
    fields["__doc__"] = serializer_class.__doc__
    fields["__module__"] = serializer_class.__module__
    name = serializer_class.__name__.removesuffix("Serializer") + "UpdateSerializer"
    return type(name, (serializer_class,), fields)


#: A checkout plugin's settings in an update: what is not given is kept (its amount too).
PayloadCheckoutPluginUpdateSerializer = _all_optional(PayloadCheckoutPluginSerializer)


class PayloadIntentUpdateSerializer(PayloadIntentCreateSerializer):
    """An update: the create's attributes, all optional (validated with `partial`). An
    intent's settings are its type's: one settings object at most, that of its type."""

    required_with: dict[str, tuple[str, ...]] = {}  # (the settings may be left as they are)
    mutually_exclusive = (HONOURED_TYPES,)
    checkout_page = _all_optional(PayloadCheckoutPageSerializer)(
        required=False,
        help_text="The settings of a `checkout_page` intent: what is not given is kept.",
    )
    checkout_plugin = PayloadCheckoutPluginUpdateSerializer(
        required=False,
        help_text="The settings of a `checkout_plugin` intent: what is not given is kept.",
    )
    payment_form = _all_optional(PayloadPaymentFormSerializer)(
        required=False,
        help_text="The settings of a `payment_form` intent: what is not given is kept.",
    )
    payment_method_form = _all_optional(PayloadPaymentMethodFormSerializer)(
        required=False,
        help_text="The settings of a `payment_method_form` intent: what is not given is kept.",
    )
    type = OfferedChoiceField(
        offered=HONOURED_TYPES,
        not_offered=NOT_HONOURED_TYPES,
        required=False,
        help_text="The intent's own type, if given.",
    )


class AttributeNamesField(serializers.JSONField):
    """Payload's `fields`: the names of attributes of the object (`names`) to answer with,
    written `fields[0]=id&fields[1]=status` (as Payload's client sends them) or
    `fields[]=id&fields[]=status`; a name the object has not is refused."""

    def __init__(self, *, names, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "Only these attributes (`fields[0]=id&fields[1]=status`): names of the object's "
            "attributes.",
        )
        super().__init__(**kwargs)
        self.names = frozenset(names)
        pattern = "^(" + "|".join(re.escape(name) for name in names) + ")$"
        set_override(
            self,
            "field",
            {"type": "array", "items": {"type": "string", "pattern": pattern}},
        )

    def to_internal_value(self, data):
        """The names as given (the view reads the three ways of writing them), each checked
        here, whether or not an object is answered (an empty page checked none)."""
        data = super().to_internal_value(data)
        if isinstance(data, dict):
            given = list(data.values())
        else:
            given = [data] if isinstance(data, str) else data
        if not isinstance(given, list) or not all(isinstance(name, str) for name in given):
            raise serializers.ValidationError("Invalid fields.", code="parameter_invalid_array")
        for name in given:
            if name not in self.names:
                raise serializers.ValidationError(
                    f"Unknown field: {name[:40]}.", code="parameter_unknown"
                )
        return data


class PayloadListSerializer(StrictSerializer):
    limit = StrictIntegerField(
        required=False, min_value=1, max_value=100, help_text="How many, 1 to 100 (10)."
    )
    offset = StrictIntegerField(
        required=False, min_value=0, help_text="How many to skip, newest first."
    )
    fields = AttributeNamesField(names=presenters.WEBHOOK_ATTRIBUTES)


class PayloadIntentListSerializer(PayloadListSerializer):
    fields = AttributeNamesField(names=presenters.INTENT_ATTRIBUTES)
    type = EnumField(
        choices=list(ALL_TYPES), required=False, help_text="Only intents of this type."
    )
    status = EnumField(
        choices=["pending", "finished", "expired", "canceled"],
        required=False,
        help_text="Only intents in this status.",
    )


class PayloadTransactionListSerializer(PayloadListSerializer):
    fields = AttributeNamesField(names=presenters.TRANSACTION_ATTRIBUTES)
    type = EnumField(
        choices=["payment", "refund"], required=False, help_text="Only payments or only refunds."
    )


class PayloadEmptySerializer(StrictSerializer):
    fields = serializers.JSONField(
        required=False, help_text="Only these attributes (`fields[0]=id&fields[1]=status`)."
    )


class PayloadIntentRetrieveSerializer(StrictSerializer):
    fields = AttributeNamesField(names=presenters.INTENT_ATTRIBUTES)


class PayloadTransactionRetrieveSerializer(StrictSerializer):
    fields = AttributeNamesField(names=presenters.TRANSACTION_ATTRIBUTES)


class PayloadCustomerRetrieveSerializer(StrictSerializer):
    fields = AttributeNamesField(names=presenters.CUSTOMER_ATTRIBUTES)


class PayloadPaymentMethodRetrieveSerializer(StrictSerializer):
    fields = AttributeNamesField(names=presenters.PAYMENT_METHOD_ATTRIBUTES)


class PayloadWebhookRetrieveSerializer(StrictSerializer):
    fields = AttributeNamesField(names=presenters.WEBHOOK_ATTRIBUTES)


@extend_schema_field({"type": "boolean", "enum": [True]})
class KeepActiveField(StrictBooleanField):
    """Only true: one-time customers are not offered (refused by the serializer, by name)."""


class PayloadCustomerCreateSerializer(StrictSerializer):
    """Payload's customer: `email` and `name` required, as its API has them."""

    email = StringField(max_length=512, allow_null=False, help_text="Email address.")
    name = StringField(max_length=256, allow_null=False, help_text="A person's or company's name.")
    description = StringField(required=False, max_length=1000, help_text="Your description.")
    phone_number = StringField(required=False, max_length=64, help_text="Phone number.")
    attrs = MetadataField(required=False, help_text="Your own attributes: string values.")
    keep_active = KeepActiveField(
        required=False,
        help_text="Every customer here is kept: only true (a one-time customer is not offered).",
    )

    def validate_keep_active(self, value):
        if value is False:
            raise serializers.ValidationError(
                "One-time customers (keep_active false) are not offered by this service; "
                "leave it true."
            )
        return value


class PayloadCustomerListSerializer(PayloadListSerializer):
    fields = AttributeNamesField(names=presenters.CUSTOMER_ATTRIBUTES)
    email = StringField(
        required=False, max_length=512, help_text="Only the customers with this email."
    )


class PayloadPaymentMethodListSerializer(PayloadListSerializer):
    fields = AttributeNamesField(names=presenters.PAYMENT_METHOD_ATTRIBUTES)
    customer_id = StringField(
        required=False, max_length=255, help_text="Only this customer's payment methods."
    )
    type = EnumField(choices=["card"], required=False, help_text="Only cards (all there are).")


class PayloadCustomerUpdateSerializer(StrictSerializer):
    """A customer's update: the create's attributes, none required; only those sent change."""

    email = StringField(required=False, max_length=512, help_text="Email address.")
    name = StringField(required=False, max_length=256, help_text="A person's or company's name.")
    description = StringField(required=False, max_length=1000, help_text="Your description.")
    phone_number = StringField(required=False, max_length=64, help_text="Phone number.")
    attrs = MetadataField(required=False, help_text="Your own attributes, merged.")
    keep_active = KeepActiveField(
        required=False,
        help_text="Every customer here is kept: only true (a one-time customer is not offered).",
    )

    validate_keep_active = PayloadCustomerCreateSerializer.validate_keep_active


# --- payment methods ---------------------------------------------------------------------------


#: A card's expiry as Payload writes it (`12/25`): the month (1 to 12, with or without its
#: leading zero), a slash and the year in two digits (20xx) or four, ASCII digits only, nothing
#: around them. The format also says the date is one a card can have (not past, at most 50
#: years on: `payments.processors.simulated`), which no pattern states (api/openapi_description.md).
CARD_EXPIRY_FORMAT = "card-expiry"
CARD_EXPIRY_PATTERN = r"^(0?[1-9]|1[0-2])/([0-9]{2}|[0-9]{4})$"
_CARD_EXPIRY = re.compile(CARD_EXPIRY_PATTERN)


def card_expiry(text: str) -> tuple[int, int]:
    """`12/25` or `12/2025` → (12, 2025); another shape raises `ValueError`."""
    match = _CARD_EXPIRY.fullmatch(text)
    if match is None:
        raise ValueError(text)
    month, year = match.groups()
    return int(month), int(year) + 2000 if len(year) == 2 else int(year)


@extend_schema_field(
    {
        "type": "string",
        "format": CARD_EXPIRY_FORMAT,
        "pattern": CARD_EXPIRY_PATTERN,
        "description": "`MM/YY` or `MM/YYYY` (`12/25`), not past.",
    }
)
class CardExpiryField(StringField):
    """Payload's `card.expiry`, in the document its pattern and the named format
    `card-expiry`; another shape (other digits than ASCII's, a month past 12, spaces) is
    refused here, a past date by the service (`invalid_expiry_year` / `_month`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 7)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None:
            try:
                card_expiry(value)
            except ValueError:
                raise serializers.ValidationError(
                    "Invalid expiry: use MM/YY or MM/YYYY.", code="parameter_invalid_string"
                )
        return value


@extend_schema_field({"type": "string", "nullable": True, "pattern": "^([0-9]{3,4})?$"})
class CardCodeField(StringField):
    """A card's security code, 3 or 4 ASCII digits, which the processor checks with its own
    message (`invalid_cvc`); empty (or null) is none, as the dialect writes it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class PayloadCardSerializer(StrictSerializer):
    card_number = CardNumberField(
        max_length=32,
        help_text="The card number: 12 to 19 digits passing the Luhn check (spaces and dashes "
        "between them are dropped); checked, never stored.",
    )
    expiry = CardExpiryField(
        allow_null=False, help_text="`MM/YY` or `MM/YYYY` (`12/25`): not past."
    )
    card_code = CardCodeField(
        required=False, max_length=4, help_text="The CVC: 3 or 4 digits (empty: none)."
    )


class PayloadBillingAddressSerializer(StrictSerializer):
    street_address = StringField(required=False, max_length=200, help_text="Street and number.")
    unit_number = StringField(required=False, max_length=200, help_text="Apartment, suite.")
    city = StringField(required=False, max_length=200, help_text="City.")
    state_province = StringField(required=False, max_length=200, help_text="State or province.")
    postal_code = StringField(required=False, max_length=20, help_text="Postal code.")
    country_code = StringField(required=False, max_length=2, help_text="ISO 3166-1 alpha-2.")


class PayloadInlineCardSerializer(StrictSerializer):
    """A card given whole in a payment (charged, not kept for a customer)."""

    required_with = {"type=card": ("card",)}

    type = OfferedChoiceField(
        offered=["card"],
        not_offered=["bank_account"],
        help_text="Only `card` here (bank accounts are refused by name).",
    )
    card = PayloadCardSerializer(required=False, help_text="The card's details.")
    account_holder = StringField(required=False, max_length=256, help_text="The cardholder.")
    billing_address = PayloadBillingAddressSerializer(
        required=False, help_text="The card's billing address."
    )


class PayloadPaymentMethodCreateSerializer(PayloadInlineCardSerializer):
    """A card to save (its number and code are checked and never stored)."""

    required_with = {
        **PayloadInlineCardSerializer.required_with,
        "default_payment_method=true": ("customer_id",),
    }

    customer_id = StringField(
        required=False, max_length=40, help_text="The customer (`cus_…`) to keep the card for."
    )
    default_payment_method = StrictBooleanField(
        required=False,
        help_text="Make it its customer's default payment method (needs `customer_id`).",
    )
    email = StringField(required=False, max_length=512, help_text="The cardholder's email.")
    phone_number = StringField(
        required=False, max_length=64, help_text="The cardholder's phone number."
    )
    attrs = MetadataField(required=False, help_text="Your own attributes: string values.")


# --- transactions ------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "number",
        "minimum": 0,
        "maximum": float(MAX_PAYMENT),
        "multipleOf": 0.01,
        "description": "In the currency's major unit, e.g. 10.25: dollars and cents, at most "
        "999999.99 (a refund or capture of a payment made in another currency through `/v1/` "
        "takes that currency's decimals, none for jpy).",
    }
)
class MajorAmountField(DecimalAmountField):
    """An amount in the currency's major unit, kept as the exact `Decimal`: a payment's,
    capture's or refund's currency is known only later (the payment's), and `views.minor_units`
    turns it into minor units with that currency's own decimals. The document states Payload's
    own, dollars and cents (the face's payments are in usd)."""

    def to_internal_value(self, data):
        return self.major(data)


class PayloadLedgerSerializer(StrictSerializer):
    assoc_transaction_id = StringField(
        allow_null=False, max_length=40, help_text="The payment (`ch_…`) refunded."
    )


class PayloadTransactionCreateSerializer(StrictSerializer):
    # a payment charges one card, saved or given whole; a refund names the payment refunded
    mutually_exclusive = (("payment_method_id", "payment_method"),)
    required_one_of = (("payment_method_id", "payment_method", "ledger"),)
    required_with = {"type=refund": ("ledger",)}
    excluded_with = {
        "type=refund": ("payment_method_id", "payment_method", "customer_id", "status"),
        "type=payment": ("ledger",),
    }
    # a payment is in usd, at least its minimum; a refund takes what is left of its payment
    minimum_when = {"type=payment": {"amount": float(MIN_PAYMENT)}}

    type = EnumField(choices=["payment", "refund"], help_text="A `payment` or a `refund`.")
    amount = MajorAmountField(help_text="Dollars and cents, e.g. 10.25.")
    payment_method_id = StringField(
        required=False, max_length=40, help_text="A payment: the saved card (`pm_…`) to charge."
    )
    payment_method = PayloadInlineCardSerializer(
        required=False, help_text="A payment: the card to charge, given whole."
    )
    customer_id = StringField(
        required=False, max_length=40, help_text="A payment: the customer (`cus_…`) paying."
    )
    description = StringField(required=False, max_length=1000, help_text="What it is for.")
    status = EnumField(
        choices=["authorized", "processed"],
        required=False,
        help_text="A payment: `processed` (captured at once, the default) or `authorized`.",
    )
    ledger = serializers.ListField(
        child=PayloadLedgerSerializer(),
        required=False,
        min_length=1,
        max_length=1,
        help_text='A refund: `[{"assoc_transaction_id": "ch_…"}]`, the payment refunded.',
    )
    attrs = MetadataField(required=False, help_text="Your own attributes: string values.")


class PayloadTransactionUpdateSerializer(StrictSerializer):
    status = EnumField(
        choices=["processed", "voided"],
        help_text="`processed` captures an authorized payment; `voided` releases it.",
    )
    amount = MajorAmountField(
        required=False, help_text="`processed`: the amount to capture (at most the authorised)."
    )


# --- webhooks ----------------------------------------------------------------------------------

#: Payload's triggers this service sends (`faces.payload.webhooks`).
TRIGGERS = ("payment", "processed", "authorized", "decline", "refund", "void")
#: Payload's triggers of objects this service does not have.
TRIGGERS_NOT_OFFERED = (
    "bank_account_reject",
    "reject",
    "chargeback",
    "chargeback_reversal",
    "automatic_payment",
    "processing_status",
    "deposit",
    "payment_activation:status",
    "payment_link:status",
    "reversal",
    "credit",
    "transaction:operation",
    "transaction:operation:clear",
)
TRIGGER_HELP = (
    "What the webhook is told about: `payment`, `processed`, `authorized`, `decline`, "
    "`refund` or `void`. Payload's other triggers (of objects this service does not have: "
    "`chargeback`, `deposit`…) are refused by name."
)


@extend_schema_field({"type": "object", "nullable": True, "maxProperties": 0})
class NoOAuthParams(serializers.Field):
    """Payload's OAuth parameters for a webhook's deliveries, which this service does not offer
    (every delivery is signed instead): only none (null, `{}`, or a form's empty value)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault(
            "help_text", "Not offered here: deliveries are signed instead. Only {} or null."
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data not in ({}, ""):
            raise serializers.ValidationError(
                "oauth_params is not offered here: every delivery is signed instead "
                "(X-Payload-Signature, the HMAC-SHA256 of the body keyed with sender_secret)."
            )
        return None

    def to_representation(self, value):
        return value


class _PayloadWebhookOptions(StrictSerializer):
    """What a webhook's create and update both take and this service does not use."""

    oauth_params = NoOAuthParams()
    retries = StrictIntegerField(
        required=False,
        min_value=0,
        help_text="Accepted for Payload's clients; deliveries are retried for three days.",
    )


class PayloadWebhookCreateSerializer(_PayloadWebhookOptions):
    trigger = OfferedChoiceField(
        offered=TRIGGERS, not_offered=TRIGGERS_NOT_OFFERED, help_text=TRIGGER_HELP
    )
    url = WebhookURLField(
        allow_null=False,
        max_length=2048,
        help_text="Where the trigger is POSTed (an http or https URL of a public host).",
    )
    sender_secret = StringField(
        required=False,
        min_length=16,
        max_length=64,
        help_text="The key of the `X-Payload-Signature` HMAC-SHA256 (write only). Not given: "
        "the service makes one and shows it once, in the create answer.",
    )
    attrs = MetadataField(required=False, help_text="Your own attributes: string values.")


# `sender_secret` is taken only to refuse it with a clear message (make a new webhook): the
# document offers no parameter that is always refused, so it leaves it out (the operation says
# so in words), as `/v1/`'s checkout intent update does with `type`.
@extend_schema_serializer(exclude_fields=["sender_secret"])
class PayloadWebhookUpdateSerializer(_PayloadWebhookOptions):
    """A webhook's update: only the attributes sent change."""

    trigger = OfferedChoiceField(
        offered=TRIGGERS, not_offered=TRIGGERS_NOT_OFFERED, required=False, help_text=TRIGGER_HELP
    )
    url = WebhookURLField(
        required=False,
        max_length=2048,
        help_text="Where the trigger is POSTed (an http or https URL of a public host).",
    )
    sender_secret = StringField(
        required=False, max_length=64, help_text="Cannot change: make a new webhook."
    )
    attrs = MetadataField(required=False, help_text="Your own attributes, merged.")
