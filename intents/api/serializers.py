"""PaymentIntent on the wire: `expand` parsing, the strict input serializers of each endpoint,
and the output schema (the output itself is `intents.presenters.payment_intent_to_api`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import (
    PAYMENT_METHOD_TYPES,
    AddressSerializer,
    AmountField,
    CurrencyField,
    EnumField,
    HttpUrlField,
    ListParamsSerializer,
    MetadataField,
    PaymentMethodTypesListField,
    SearchPageField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
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
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


def parse_expand(raw, *, prefix: str = "", publishable: bool = False) -> tuple[str, ...]:
    """`expand[]=latest_charge` (or `data.latest_charge` on lists) → ("latest_charge",)."""
    if raw in (None, ""):
        return ()
    items = raw  # (`expand=x`, a string, is no array: Stripe refuses it so)
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

    carrier = StringField(
        required=False, max_length=500, help_text="The delivery service, e.g. `UPS`."
    )
    tracking_number = StringField(
        required=False, max_length=500, help_text="The carrier's tracking number."
    )

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
    """`shipping=""` unsets, and so does JSON's null (the document says nullable, and an empty
    value is the dialect's null); otherwise a shipping hash."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data in ("", None):
            return None
        serializer = ShippingSerializer(data=data)
        serializer.bind("shipping", self.parent)
        return serializer.to_internal_value(data)

    def to_representation(self, value):
        return value


class PaymentMethodTypesField(PaymentMethodTypesListField):
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
    {
        "oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["one_off", "recurring"]}],
        "description": "The customer is not present: a card that needs 3-D Secure is then "
        "declined with `authentication_required`. `true`, `false`, `one_off` or `recurring`.",
    }
)
class OffSessionField(serializers.Field):
    """`off_session=true|false` or Stripe's `one_off` / `recurring`."""

    def to_internal_value(self, data):
        if data in ("one_off", "recurring"):
            return True
        return StrictBooleanField().to_internal_value(data)

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "object", "additionalProperties": True})
class PaymentMethodOptionsField(serializers.JSONField):
    """`payment_method_options[card][request_three_d_secure]=any`: a hash per method type; `""`
    (how a form writes `{}`) is `{}`, anything else that is not a hash is refused (the service
    checks what is inside)."""

    def to_internal_value(self, data):
        if data == "":
            return {}
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                "Invalid hash: expected an object.", code="parameter_invalid_hash"
            )
        return super().to_internal_value(data)


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
    # (services.create_update.automatic_payment_methods_value)
    mutually_exclusive = (("automatic_payment_methods", "payment_method_types"),)
    currency_parameters = {"amount": "currency"}

    amount = AmountField(
        required=False,
        help_text="Amount to collect, in the currency's smallest unit (2000 = $20.00; for jpy, 2000 = ¥2000). At least the currency's minimum (50 for usd), at most 99999999.",
    )
    checkout = StringField(
        required=False,
        max_length=255,
        help_text="A tracked checkout (`chk_…`) this intent pays for: each confirm attempt is "
        "recorded on it and a success completes it. An empty string unlinks it.",
    )
    currency = CurrencyField(
        required=False, help_text="Three-letter ISO currency code, lowercase (e.g. `usd`)."
    )
    customer = StringField(
        required=False,
        max_length=255,
        help_text="Id of the customer (`cus_…`) this payment belongs to; an empty value removes it.",
    )
    description = StringField(
        required=False,
        max_length=1000,
        help_text="An arbitrary string shown to you, e.g. what the payment is for.",
    )
    metadata = MetadataField(
        required=False,
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key.",
    )
    payment_flow = StringField(
        required=False,
        max_length=40,
        help_text="The payment flow (`flow_…`) that routes this intent's attempts across the "
        "account's processors; an empty value goes back to the account's default flow.",
    )
    payment_method = StringField(
        required=False,
        max_length=255,
        help_text="Id of the payment method to charge: a `pm_…` of this account, or a magic test id such as `pm_card_visa` (see the test cards).",
    )
    payment_method_types = PaymentMethodTypesField(
        required=False, help_text="The payment method types this intent may use; only `card`."
    )
    automatic_payment_methods = AutomaticPaymentMethodsSerializer(
        required=False,
        help_text="`enabled=true`: accept the account's payment methods (here: card) instead of "
        "naming `payment_method_types`; not together with `payment_method_types`.",
    )
    payment_method_options = PaymentMethodOptionsField(
        required=False,
        help_text='Options per payment method type, e.g. `{"card": {"request_three_d_secure": "any"}}`.',
    )
    capture_method = EnumField(
        choices=CAPTURE_METHODS,
        required=False,
        help_text="`automatic` (capture on confirm), `automatic_async` (capture shortly after, by a worker) or `manual` (authorise only; capture later with /capture).",
    )
    receipt_email = StringField(
        required=False, max_length=512, help_text="Email address to send the receipt to."
    )
    setup_future_usage = EnumField(
        choices=SETUP_FUTURE_USAGE,
        required=False,
        allow_blank=True,
        help_text="`on_session` or `off_session`: keep the payment method for later payments; an empty value unsets it.",
    )
    shipping = NullableShippingField(
        required=False, help_text="Shipping information for the payment; an empty value removes it."
    )
    statement_descriptor = StringField(
        required=False,
        max_length=22,
        help_text="Text on the customer's card statement (at most 22 characters).",
    )
    statement_descriptor_suffix = StringField(
        required=False,
        max_length=22,
        help_text="Suffix added to the account's statement descriptor (at most 22 characters).",
    )


class _TakesPaymentMethodData:
    # `payment_method_data` after every declared field, the subclasses' too. (No docstring:
    # the schema would show it as the description of the serializers using this.)

    @classmethod
    def trailing_fields(cls) -> dict:
        return {
            "payment_method_data": PaymentMethodDataSerializer(
                required=False,
                help_text="A card given inline instead of a `payment_method` id: a payment "
                "method is created from it and used.",
            )
        }


class PaymentIntentCreateSerializer(_TakesPaymentMethodData, _IntentFieldsSerializer):
    # what payment_intent_create holds a create to: these say how to confirm, so they come
    # only with `confirm=true`
    required_with = {
        "off_session": ("confirm=true",),
        "error_on_requires_action=true": ("confirm=true",),
        "return_url": ("confirm=true",),
    }

    amount = AmountField(
        help_text="Amount to collect, in the currency's smallest unit (2000 = $20.00; for jpy, 2000 = ¥2000). At least the currency's minimum (50 for usd), at most 99999999."
    )
    currency = CurrencyField(help_text="Three-letter ISO currency code, lowercase (e.g. `usd`).")
    confirm = StrictBooleanField(
        required=False,
        help_text="Confirm at once (as POST /confirm would); a declined card then answers 402.",
    )
    confirmation_method = EnumField(
        choices=CONFIRMATION_METHODS,
        required=False,
        help_text="`automatic` (a publishable key may confirm) or `manual` (only the server, with the secret key).",
    )
    off_session = OffSessionField(
        required=False,
        help_text="With `confirm=true`: the customer is not present (a card that needs 3-D Secure is then declined with `authentication_required`).",
    )
    error_on_requires_action = StrictBooleanField(
        required=False,
        help_text="With `confirm=true`: fail instead of answering `requires_action` when the card needs authentication.",
    )
    return_url = HttpUrlField(
        required=False,
        help_text="Where the customer returns after 3-D Secure.",
    )


class PaymentIntentUpdateSerializer(_IntentFieldsSerializer):
    pass


class _ConfirmFieldsSerializer(_TakesPaymentMethodData, StrictSerializer):
    """What a confirm takes with either key: the method (an id or `payment_method_data`), where
    to return, and the receipt/shipping/future-usage fields."""

    payment_method = StringField(
        required=False,
        max_length=255,
        help_text="Id of the payment method to charge: a `pm_…` of this account, or a magic test id such as `pm_card_visa` (see the test cards).",
    )
    return_url = HttpUrlField(
        required=False, help_text="Where the customer returns after 3-D Secure."
    )
    receipt_email = StringField(
        required=False, max_length=512, help_text="Email address to send the receipt to."
    )
    shipping = NullableShippingField(
        required=False, help_text="Shipping information for the payment; an empty value removes it."
    )
    setup_future_usage = EnumField(
        choices=SETUP_FUTURE_USAGE,
        required=False,
        allow_blank=True,
        help_text="`on_session` or `off_session`: keep the payment method for later payments; an empty value unsets it.",
    )


class PaymentIntentConfirmSerializer(_ConfirmFieldsSerializer):
    """Confirm with a secret key."""

    off_session = OffSessionField(
        required=False,
        help_text="The customer is not present: a card that needs 3-D Secure is declined with `authentication_required`. `true`, `false`, `one_off` or `recurring`.",
    )
    error_on_requires_action = StrictBooleanField(
        required=False,
        help_text="Fail instead of answering `requires_action` when the card needs authentication.",
    )
    capture_method = EnumField(
        choices=CAPTURE_METHODS,
        required=False,
        help_text="`automatic` (capture on confirm), `automatic_async` (capture shortly after, by a worker) or `manual` (authorise only; capture later with /capture).",
    )
    payment_method_types = PaymentMethodTypesField(
        required=False, help_text="The payment method types this intent may use; only `card`."
    )
    payment_method_options = PaymentMethodOptionsField(
        required=False,
        help_text='Options per payment method type, e.g. `{"card": {"request_three_d_secure": "any"}}`.',
    )
    client_secret = StringField(
        required=False,
        max_length=255,
        help_text="The intent's client secret; needed with a publishable key, ignored with the secret key.",
    )


class PaymentIntentBrowserConfirmSerializer(_ConfirmFieldsSerializer):
    """Confirm with a publishable key: only the params a browser may send."""

    client_secret = StringField(
        required=False,
        max_length=255,
        help_text="The intent's client secret (required with a publishable key).",
    )
    client_key = StringField(
        required=False, max_length=255, help_text="PayMongo's name for the client secret."
    )


class PaymentIntentAttachSerializer(StrictSerializer):
    """PayMongo's attach: a method plus the client key and where to return after 3-D Secure."""

    payment_method = StringField(
        max_length=255,
        help_text="Id of the payment method to charge: a `pm_…` of this account, or a magic test id such as `pm_card_visa` (see the test cards).",
    )
    client_key = StringField(
        required=False,
        max_length=255,
        help_text="The intent's client key (its client secret); required with a publishable key.",
    )
    client_secret = StringField(
        required=False,
        max_length=255,
        help_text="The intent's client secret; the same as `client_key`.",
    )
    return_url = HttpUrlField(
        required=False, help_text="Where the customer returns after 3-D Secure."
    )


class PaymentIntentRetrieveSerializer(StrictSerializer):
    client_secret = StringField(
        required=False,
        max_length=255,
        help_text="The intent's client secret; required with a publishable key.",
    )
    client_key = StringField(
        required=False, max_length=255, help_text="PayMongo's name for the client secret."
    )


class PaymentIntentCaptureSerializer(StrictSerializer):
    amount_to_capture = AmountField(
        required=False,
        help_text="How much to capture, at most `amount_capturable` (the default: all of it); the rest is released.",
    )
    metadata = MetadataField(
        required=False,
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key.",
    )
    statement_descriptor = StringField(
        required=False,
        max_length=22,
        help_text="Text on the customer's card statement (at most 22 characters).",
    )
    statement_descriptor_suffix = StringField(
        required=False,
        max_length=22,
        help_text="Suffix added to the account's statement descriptor (at most 22 characters).",
    )


class PaymentIntentCancelSerializer(StrictSerializer):
    cancellation_reason = EnumField(
        choices=CANCELLATION_REASONS,
        required=False,
        help_text="Why the intent is canceled: `duplicate`, `fraudulent`, `requested_by_customer` or `abandoned`.",
    )


class PaymentIntentIncrementSerializer(StrictSerializer):
    amount = AmountField(
        help_text="The new total amount to authorise, higher than the current `amount`, in the smallest currency unit."
    )
    description = StringField(
        required=False,
        max_length=1000,
        help_text="An arbitrary string shown to you, e.g. what the payment is for.",
    )
    metadata = MetadataField(
        required=False,
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key.",
    )


class PaymentIntentListSerializer(ListParamsSerializer):
    customer = StringField(
        required=False, max_length=255, help_text="Only the intents of this customer (`cus_…`)."
    )


class PaymentIntentSearchSerializer(StrictSerializer):
    query = StringField(
        max_length=10_000,
        help_text="The search query, e.g. `status:'succeeded' AND amount>1000` or `metadata['order_id']:'6735'`.",
    )
    limit = StrictIntegerField(
        required=False,
        min_value=1,
        max_value=100,
        help_text="How many intents to return, 1 to 100 (default 10).",
    )
    page = SearchPageField(
        required=False,
        help_text="The `next_page` of the previous answer, for the page after it.",
    )


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
    cancellation_reason = serializers.ChoiceField(
        choices=[*CANCELLATION_REASONS, "expired"], allow_null=True
    )
    capture_method = serializers.ChoiceField(choices=CAPTURE_METHODS)
    checkout = serializers.CharField(
        allow_null=True,
        help_text="The tracked checkout (`chk_…`) this intent pays for, or null: each confirm "
        "attempt is recorded on it and a success completes it.",
    )
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
    payment_flow = serializers.CharField(
        allow_null=True,
        help_text="The payment flow (`flow_…`) that routes this intent's attempts; null: the "
        "account's default flow, if any.",
    )
    payment_method = serializers.CharField(allow_null=True)
    payment_method_configuration_details = serializers.DictField(allow_null=True)
    payment_method_options = serializers.JSONField()
    payment_method_types = serializers.ListField(
        child=serializers.ChoiceField(choices=PAYMENT_METHOD_TYPES)
    )
    processing = serializers.DictField(allow_null=True)
    receipt_email = serializers.CharField(allow_null=True)
    review = serializers.CharField(allow_null=True)
    setup_future_usage = serializers.ChoiceField(choices=SETUP_FUTURE_USAGE, allow_null=True)
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
