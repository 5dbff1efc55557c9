"""PaymentIntent on the wire: `expand` parsing, the strict input serializers of each endpoint,
and the output schema (the output itself is `intents.presenters.payment_intent_to_api`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import (
    AddressSerializer,
    CurrencyField,
    EnumField,
    ListParamsSerializer,
    MetadataField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
    list_schema,
)
from core.errors import InvalidRequestError
from payments.api.serializers import PaymentMethodDataSerializer, ShippingParamsSerializer

from ..models import Status

EXPANDABLE = ("latest_charge", "payment_method", "customer")
PUBLISHABLE_EXPANDABLE = ("payment_method",)
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CONFIRMATION_METHODS = ("automatic", "manual")
SETUP_FUTURE_USAGE = ("on_session", "off_session")
PAYMENT_METHOD_TYPES = ("card",)
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


def parse_expand(raw, *, prefix: str = "", publishable: bool = False) -> tuple[str, ...]:
    """`expand[]=latest_charge` (or `data.latest_charge` on lists) → ("latest_charge",)."""
    if raw in (None, ""):
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise InvalidRequestError("Invalid array.", code="parameter_invalid_array", param="expand")
    allowed = PUBLISHABLE_EXPANDABLE if publishable else EXPANDABLE
    out = []
    for item in items:
        name = str(item)
        if prefix:
            if not name.startswith(prefix):
                raise InvalidRequestError(
                    f"This property cannot be expanded ({name}). You may want to try expanding "
                    f"'{prefix}{name}' instead.",
                    code="parameter_invalid_expand",
                    param="expand",
                )
            name = name[len(prefix) :]
        if name.count(".") >= 4 or name not in allowed:
            raise InvalidRequestError(
                f"This property cannot be expanded ({item}).",
                code="parameter_invalid_expand",
                param="expand",
            )
        out.append(name)
    return tuple(out)


# --- input -------------------------------------------------------------------------------


class ShippingSerializer(ShippingParamsSerializer):
    """An intent's shipping: the shipping hash every resource takes (name, address, phone, with
    the same limits) plus the carrier and the tracking number."""

    carrier = StringField(required=False, max_length=500)
    tracking_number = StringField(required=False, max_length=500)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        address = {k: None for k in AddressSerializer().fields}
        address.update(value.get("address") or {})
        return {
            "address": address,
            "carrier": value.get("carrier"),
            "name": value.get("name"),
            "phone": value.get("phone"),
            "tracking_number": value.get("tracking_number"),
        }


@extend_schema_field(ShippingSerializer(allow_null=True))
class NullableShippingField(serializers.Field):
    """`shipping=""` unsets; otherwise a shipping hash."""

    def to_internal_value(self, data):
        if data in ("", None):
            return None
        serializer = ShippingSerializer(data=data)
        serializer.bind("shipping", self.parent)
        return serializer.to_internal_value(data)

    def to_representation(self, value):
        return value


class PaymentMethodTypesField(StringListField):
    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        for index, value in enumerate(values):
            if value not in PAYMENT_METHOD_TYPES:
                raise serializers.ValidationError(
                    {
                        index: [
                            serializers.ErrorDetail(
                                f"The payment method type provided: {value[:40]} is invalid. "
                                "This account supports: card.",
                                code="payment_intent_invalid_parameter",
                            )
                        ]
                    }
                )
        return values


@extend_schema_field(
    {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["one_off", "recurring"]}]}
)
class OffSessionField(serializers.Field):
    """`off_session=true|false` or Stripe's `one_off` / `recurring`."""

    def to_internal_value(self, data):
        if data in ("one_off", "recurring"):
            return True
        return StrictBooleanField().to_internal_value(data)

    def to_representation(self, value):
        return value


class AutomaticPaymentMethodsSerializer(StrictSerializer):
    """`automatic_payment_methods[enabled]=true` (and `[allow_redirects]`): accept the payment
    methods the account has enabled (here: card), instead of naming `payment_method_types`."""

    enabled = StrictBooleanField(help_text="Whether this intent accepts the account's methods.")
    allow_redirects = EnumField(
        choices=["always", "never"],
        required=False,
        help_text="Whether redirect-based methods are accepted; `always` by default.",
    )


class _IntentFieldsSerializer(StrictSerializer):
    amount = StrictIntegerField(required=False)
    currency = CurrencyField(required=False)
    customer = StringField(required=False, max_length=255)
    description = StringField(required=False, max_length=1000)
    metadata = MetadataField(required=False)
    payment_method = StringField(required=False, max_length=255)
    payment_method_types = PaymentMethodTypesField(required=False)
    automatic_payment_methods = AutomaticPaymentMethodsSerializer(required=False)
    payment_method_options = serializers.JSONField(required=False)
    capture_method = EnumField(choices=CAPTURE_METHODS, required=False)
    receipt_email = StringField(required=False, max_length=512)
    setup_future_usage = EnumField(choices=SETUP_FUTURE_USAGE, required=False, allow_blank=True)
    shipping = NullableShippingField(required=False)
    statement_descriptor = StringField(required=False, max_length=22)
    statement_descriptor_suffix = StringField(required=False, max_length=22)

    def validate_payment_method_options(self, value):
        if value in ("", None):
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError(
                "Invalid hash: expected an object.", code="parameter_invalid_hash"
            )
        return value


class PaymentIntentCreateSerializer(_IntentFieldsSerializer):
    amount = StrictIntegerField()
    currency = CurrencyField()
    confirm = StrictBooleanField(required=False)
    confirmation_method = EnumField(choices=CONFIRMATION_METHODS, required=False)
    off_session = OffSessionField(required=False)
    error_on_requires_action = StrictBooleanField(required=False)
    return_url = StringField(required=False, max_length=2048)

    def get_fields(self):
        fields = super().get_fields()
        fields["payment_method_data"] = PaymentMethodDataSerializer(required=False)
        return fields


class PaymentIntentUpdateSerializer(_IntentFieldsSerializer):
    pass


class PaymentIntentConfirmSerializer(StrictSerializer):
    """Confirm with a secret key."""

    payment_method = StringField(required=False, max_length=255)
    return_url = StringField(required=False, max_length=2048)
    receipt_email = StringField(required=False, max_length=512)
    shipping = NullableShippingField(required=False)
    setup_future_usage = EnumField(choices=SETUP_FUTURE_USAGE, required=False, allow_blank=True)
    off_session = OffSessionField(required=False)
    error_on_requires_action = StrictBooleanField(required=False)
    capture_method = EnumField(choices=CAPTURE_METHODS, required=False)
    payment_method_types = PaymentMethodTypesField(required=False)
    payment_method_options = serializers.JSONField(required=False)
    client_secret = StringField(required=False, max_length=255)

    def get_fields(self):
        fields = super().get_fields()
        fields["payment_method_data"] = PaymentMethodDataSerializer(required=False)
        return fields


class PaymentIntentBrowserConfirmSerializer(StrictSerializer):
    """Confirm with a publishable key: only the browser params of spec §2."""

    payment_method = StringField(required=False, max_length=255)
    return_url = StringField(required=False, max_length=2048)
    receipt_email = StringField(required=False, max_length=512)
    shipping = NullableShippingField(required=False)
    setup_future_usage = EnumField(choices=SETUP_FUTURE_USAGE, required=False, allow_blank=True)
    client_secret = StringField(required=False, max_length=255)
    client_key = StringField(required=False, max_length=255)

    def get_fields(self):
        fields = super().get_fields()
        fields["payment_method_data"] = PaymentMethodDataSerializer(required=False)
        return fields


class PaymentIntentAttachSerializer(StrictSerializer):
    """PayMongo's attach: a method plus the client key and where to return after 3-D Secure."""

    payment_method = StringField(max_length=255)
    client_key = StringField(required=False, max_length=255)
    client_secret = StringField(required=False, max_length=255)
    return_url = StringField(required=False, max_length=2048)


class PaymentIntentRetrieveSerializer(StrictSerializer):
    client_secret = StringField(required=False, max_length=255)
    client_key = StringField(required=False, max_length=255)


class PaymentIntentCaptureSerializer(StrictSerializer):
    amount_to_capture = StrictIntegerField(required=False)
    metadata = MetadataField(required=False)
    statement_descriptor = StringField(required=False, max_length=22)
    statement_descriptor_suffix = StringField(required=False, max_length=22)


class PaymentIntentCancelSerializer(StrictSerializer):
    cancellation_reason = EnumField(choices=CANCELLATION_REASONS, required=False)


class PaymentIntentIncrementSerializer(StrictSerializer):
    amount = StrictIntegerField()
    description = StringField(required=False, max_length=1000)
    metadata = MetadataField(required=False)


class PaymentIntentListSerializer(ListParamsSerializer):
    customer = StringField(required=False, max_length=255)


class PaymentIntentSearchSerializer(StrictSerializer):
    query = StringField(max_length=10_000)
    limit = StrictIntegerField(required=False, min_value=1, max_value=100)
    page = StringField(required=False, max_length=500)


class PaymentIntentOutputSerializer(serializers.Serializer):
    """For the OpenAPI schema only; responses are built by `payment_intent_to_api`."""

    # Exactly the keys of intents.presenters.payment_intent_to_api (tests/intents/test_presenter.py).

    id = serializers.CharField()
    object = serializers.CharField(default="payment_intent")
    amount = serializers.IntegerField()
    amount_capturable = serializers.IntegerField()
    amount_details = serializers.DictField()
    amount_received = serializers.IntegerField()
    application = serializers.CharField(allow_null=True)
    application_fee_amount = serializers.IntegerField(allow_null=True)
    automatic_payment_methods = AutomaticPaymentMethodsSerializer(allow_null=True)
    canceled_at = serializers.IntegerField(allow_null=True)
    cancellation_reason = serializers.CharField(allow_null=True)
    capture_method = serializers.ChoiceField(choices=CAPTURE_METHODS)
    client_secret = serializers.CharField()
    confirmation_method = serializers.ChoiceField(choices=CONFIRMATION_METHODS)
    created = serializers.IntegerField()
    currency = serializers.CharField()
    customer = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    invoice = serializers.CharField(allow_null=True)
    last_payment_error = serializers.JSONField(allow_null=True)
    latest_charge = serializers.CharField(allow_null=True)
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    next_action = serializers.JSONField(allow_null=True)
    on_behalf_of = serializers.CharField(allow_null=True)
    payment_method = serializers.CharField(allow_null=True)
    payment_method_configuration_details = serializers.DictField(allow_null=True)
    payment_method_options = serializers.JSONField()
    payment_method_types = serializers.ListField(child=serializers.CharField())
    processing = serializers.DictField(allow_null=True)
    receipt_email = serializers.CharField(allow_null=True)
    review = serializers.CharField(allow_null=True)
    setup_future_usage = serializers.CharField(allow_null=True)
    shipping = serializers.JSONField(allow_null=True)
    source = serializers.CharField(allow_null=True)
    statement_descriptor = serializers.CharField(allow_null=True)
    statement_descriptor_suffix = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=[s.value for s in Status])
    transfer_data = serializers.DictField(allow_null=True)
    transfer_group = serializers.CharField(allow_null=True)


PaymentIntentListOutputSerializer = list_schema("PaymentIntentList", PaymentIntentOutputSerializer)


class PaymentIntentSearchOutputSerializer(serializers.Serializer):
    object = serializers.CharField(default="search_result")
    url = serializers.CharField()
    has_more = serializers.BooleanField()
    next_page = serializers.CharField(allow_null=True)
    data = PaymentIntentOutputSerializer(many=True)
