"""What Payload's requests may hold, checked with the service's strict fields. A setting this
service cannot honour (bank accounts, mobile wallets, convenience fees, processing accounts…)
is refused by name when asked for, never stored and ignored."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from rest_framework import serializers

from api.serializers import (
    EnumField,
    MetadataField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
)

ALL_TYPES = (
    "checkout_plugin",
    "checkout_page",
    "payment_form",
    "payment_method_form",
    "processing_account_plugin",
    "oauth_client_token",
)
#: Payload's amounts are dollars and cents; the face takes them in usd.
CURRENCY = "usd"
MAX_DIGITS_BEFORE_POINT = 10


class DecimalAmountField(serializers.Field):
    """Payload's `561.31` (a JSON number, read as a Decimal, or a string) → 56131 cents,
    exactly; more than two decimals, a negative or a non-number is refused."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | Decimal | str):
            raise serializers.ValidationError("Invalid amount: expected a number.")
        try:
            value = Decimal(str(data).strip())
        except InvalidOperation:
            raise serializers.ValidationError("Invalid amount: expected a number.")
        if not value.is_finite() or value.adjusted() >= MAX_DIGITS_BEFORE_POINT or value < 0:
            raise serializers.ValidationError("Invalid amount.")
        cents = value.scaleb(2)
        if cents != cents.to_integral_value():
            raise serializers.ValidationError("Invalid amount: at most two decimal places.")
        return int(cents)

    def to_representation(self, value):
        return value


class NotOffered(StrictBooleanField):
    """A toggle of a feature this service does not have: `false` is accepted, `true` refused."""

    def to_internal_value(self, data):
        if super().to_internal_value(data):
            raise serializers.ValidationError(
                f"{self.field_name} is not offered by this service; leave it false."
            )
        return False


class NoneOnly(serializers.Field):
    """An id of an object this service does not have (processing accounts): only null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data not in (None, ""):
            raise serializers.ValidationError(
                f"{self.field_name} names an object this service does not have; leave it null."
            )
        return None

    def to_representation(self, value):
        return value


class EmptyObject(serializers.Field):
    """Preset values this service cannot carry onto the object it makes: only `{}`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data not in ({}, None):
            raise serializers.ValidationError(
                f"{self.field_name} presets are not supported by this service; send {{}}."
            )
        return {}

    def to_representation(self, value):
        return value


class RedirectsSerializer(StrictSerializer):
    completed_url = StringField(max_length=2048)
    return_url = StringField(max_length=2048)


class _Paying(StrictSerializer):
    billing_address = StrictBooleanField(required=False)
    card_payments = StrictBooleanField(required=False)
    bank_account_payments = NotOffered(required=False)
    customer_id = StringField(required=False, max_length=40)
    description = StringField(required=False, max_length=1000)
    invoice_id = StringField(required=False, max_length=255)
    processing_id = NoneOnly()
    status = EnumField(choices=["authorized", "processed"], required=False)


class CheckoutPageSerializer(_Paying):
    amount = DecimalAmountField()
    enable_mobile_wallets = NotOffered(required=False)
    payment = EmptyObject()
    show_disclosure = NotOffered(required=False)
    redirects = RedirectsSerializer()


class CheckoutPluginSerializer(_Paying):
    amount = DecimalAmountField(required=False)
    amount_editable = StrictBooleanField(required=False)
    attrs = EmptyObject()
    auto_billing_toggle = NotOffered(required=False)
    conv_fee = NotOffered(required=False)
    keep_active_toggle = StrictBooleanField(required=False)
    order_number = StringField(required=False, max_length=255)
    payment_method_defaults = EmptyObject()
    payment_method_preview = NotOffered(required=False)
    processing_method_id = NoneOnly()
    processing_settings_id = NoneOnly()


class FormPaymentSerializer(StrictSerializer):
    amount = DecimalAmountField()
    customer_id = StringField(required=False, max_length=40)
    description = StringField(required=False, max_length=1000)
    order_number = StringField(required=False, max_length=255)
    status = EnumField(choices=["authorized", "processed"], required=False)


class PaymentFormSerializer(StrictSerializer):
    payment = FormPaymentSerializer()


class FormPaymentMethodSerializer(StrictSerializer):
    customer_id = StringField(max_length=40)


class PaymentMethodFormSerializer(StrictSerializer):
    payment_method = FormPaymentMethodSerializer()


class IntentCreateSerializer(StrictSerializer):
    type = EnumField(choices=list(ALL_TYPES))
    attrs = MetadataField(required=False, help_text="Your own attributes: string values.")
    checkout_page = CheckoutPageSerializer(required=False)
    checkout_plugin = CheckoutPluginSerializer(required=False)
    payment_form = PaymentFormSerializer(required=False)
    payment_method_form = PaymentMethodFormSerializer(required=False)
    allowed_origins = StringListField(
        required=False,
        help_text="This service's addition: the origins of your site that may frame an "
        "embedded type (`checkout_plugin`, `payment_form`, `payment_method_form`).",
    )


class ListSerializer(StrictSerializer):
    limit = StrictIntegerField(required=False, min_value=1, max_value=100)
    offset = StrictIntegerField(required=False, min_value=0)
    fields = serializers.JSONField(required=False)


class IntentListSerializer(ListSerializer):
    type = EnumField(choices=list(ALL_TYPES), required=False)
    status = EnumField(choices=["pending", "finished", "expired", "canceled"], required=False)


class TransactionListSerializer(ListSerializer):
    type = EnumField(choices=["payment", "refund"], required=False)


class EmptySerializer(StrictSerializer):
    fields = serializers.JSONField(required=False)
