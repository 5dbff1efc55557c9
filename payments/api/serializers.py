"""Payment methods, customers and charges on the wire: the DRF classes below describe the shapes
`payments.presenters` builds (OpenAPI) and validate input (StrictSerializer)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import (
    AddressSerializer,
    EnumField,
    ListParamsSerializer,
    MetadataField,
    NullableHashMixin,
    OptionalAddressSerializer,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
    list_schema,
)
from core.errors import InvalidRequestError, ParameterMissing
from payments.models import Charge

# --- output: descriptions for OpenAPI -------------------------------------------------------


class AddressSchema(serializers.Serializer):
    city = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    line1 = serializers.CharField(allow_null=True)
    line2 = serializers.CharField(allow_null=True)
    postal_code = serializers.CharField(allow_null=True)
    state = serializers.CharField(allow_null=True)


class BillingDetailsSchema(serializers.Serializer):
    address = AddressSchema()
    email = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)


class ShippingSchema(serializers.Serializer):
    address = AddressSchema()
    name = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)


class CardChecksSchema(serializers.Serializer):
    address_line1_check = serializers.CharField(allow_null=True)
    address_postal_code_check = serializers.CharField(allow_null=True)
    cvc_check = serializers.CharField(allow_null=True)


class CardNetworksSchema(serializers.Serializer):
    available = serializers.ListField(child=serializers.CharField())
    preferred = serializers.CharField(allow_null=True)


class CardSchema(serializers.Serializer):
    brand = serializers.CharField()
    checks = CardChecksSchema()
    country = serializers.CharField(allow_null=True)
    display_brand = serializers.CharField(allow_null=True)
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    fingerprint = serializers.CharField(allow_null=True)
    funding = serializers.CharField()
    generated_from = serializers.JSONField(allow_null=True)
    last4 = serializers.CharField()
    networks = CardNetworksSchema()
    three_d_secure_usage = serializers.DictField()
    wallet = serializers.JSONField(allow_null=True)


class PaymentMethodSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["payment_method"])
    allow_redisplay = serializers.CharField()
    billing_details = BillingDetailsSchema()
    card = CardSchema()
    created = serializers.IntegerField()
    customer = serializers.CharField(allow_null=True)
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    type = serializers.ChoiceField(choices=["card"])


PaymentMethodListSchema = list_schema("PaymentMethodList", PaymentMethodSchema)


class InvoiceSettingsSchema(serializers.Serializer):
    custom_fields = serializers.JSONField(allow_null=True)
    default_payment_method = serializers.CharField(allow_null=True)
    footer = serializers.CharField(allow_null=True)
    rendering_options = serializers.JSONField(allow_null=True)


class CustomerSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["customer"])
    address = AddressSchema(allow_null=True)
    balance = serializers.IntegerField()
    created = serializers.IntegerField()
    currency = serializers.CharField(allow_null=True)
    default_source = serializers.CharField(allow_null=True)
    delinquent = serializers.BooleanField()
    description = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    invoice_prefix = serializers.CharField(allow_null=True)
    invoice_settings = InvoiceSettingsSchema()
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    name = serializers.CharField(allow_null=True)
    phone = serializers.CharField(allow_null=True)
    preferred_locales = serializers.ListField(child=serializers.CharField())
    shipping = ShippingSchema(allow_null=True)
    tax_exempt = serializers.CharField()
    test_clock = serializers.CharField(allow_null=True)


class CustomerDeletedSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["customer"])
    deleted = serializers.BooleanField()


CustomerListSchema = list_schema("CustomerList", CustomerSchema)


class ThreeDSecureSchema(serializers.Serializer):
    authentication_flow = serializers.CharField(allow_null=True)
    result = serializers.CharField(allow_null=True)
    result_reason = serializers.CharField(allow_null=True)
    version = serializers.CharField(allow_null=True)


class ChargeCardDetailsSchema(serializers.Serializer):
    brand = serializers.CharField()
    checks = CardChecksSchema()
    country = serializers.CharField(allow_null=True)
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    fingerprint = serializers.CharField(allow_null=True)
    funding = serializers.CharField()
    last4 = serializers.CharField()
    network = serializers.CharField(allow_null=True)
    three_d_secure = ThreeDSecureSchema(allow_null=True)
    wallet = serializers.JSONField(allow_null=True)


class PaymentMethodDetailsSchema(serializers.Serializer):
    type = serializers.ChoiceField(choices=["card"])
    card = ChargeCardDetailsSchema()


class OutcomeSchema(serializers.Serializer):
    network_status = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    risk_level = serializers.CharField()
    risk_score = serializers.IntegerField()
    seller_message = serializers.CharField()
    type = serializers.CharField()


class ChargeSchema(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["charge"])
    amount = serializers.IntegerField()
    amount_captured = serializers.IntegerField()
    amount_refunded = serializers.IntegerField()
    application = serializers.CharField(allow_null=True)
    application_fee = serializers.CharField(allow_null=True)
    application_fee_amount = serializers.IntegerField(allow_null=True)
    balance_transaction = serializers.CharField(allow_null=True)
    billing_details = BillingDetailsSchema()
    calculated_statement_descriptor = serializers.CharField(allow_null=True)
    captured = serializers.BooleanField()
    created = serializers.IntegerField()
    currency = serializers.CharField()
    customer = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_null=True)
    disputed = serializers.BooleanField()
    failure_balance_transaction = serializers.CharField(allow_null=True)
    failure_code = serializers.CharField(allow_null=True)
    failure_message = serializers.CharField(allow_null=True)
    fraud_details = serializers.DictField()
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    on_behalf_of = serializers.CharField(allow_null=True)
    outcome = OutcomeSchema(allow_null=True)
    paid = serializers.BooleanField()
    payment_intent = serializers.CharField(allow_null=True)
    payment_method = serializers.CharField(allow_null=True)
    payment_method_details = PaymentMethodDetailsSchema(allow_null=True)
    receipt_email = serializers.CharField(allow_null=True)
    receipt_url = serializers.CharField(allow_null=True)
    refunded = serializers.BooleanField()
    review = serializers.CharField(allow_null=True)
    shipping = ShippingSchema(allow_null=True)
    source = serializers.JSONField(allow_null=True)
    statement_descriptor = serializers.CharField(allow_null=True)
    statement_descriptor_suffix = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=Charge.Status.values)
    transfer_data = serializers.JSONField(allow_null=True)
    transfer_group = serializers.CharField(allow_null=True)


ChargeListSchema = list_schema("ChargeList", ChargeSchema)


# --- input ----------------------------------------------------------------------------------


class BillingDetailsParamsSerializer(NullableHashMixin, StrictSerializer):
    address = OptionalAddressSerializer(required=False, allow_null=True)
    email = StringField(required=False, max_length=512)
    name = StringField(required=False, max_length=256)
    phone = StringField(required=False, max_length=64)


class ShippingParamsSerializer(NullableHashMixin, StrictSerializer):
    address = AddressSerializer()
    name = StringField(max_length=256)
    phone = StringField(required=False, max_length=64)


class CardParamsSerializer(StrictSerializer):
    """`card[number|exp_month|exp_year|cvc]`, or `card[token]` (a test token such as
    `tok_visa`). Lives only in memory (see RawCard)."""

    number = serializers.CharField(
        required=False, max_length=40, trim_whitespace=True, help_text="The card number."
    )
    exp_month = StrictIntegerField(required=False, help_text="Expiry month, 1 to 12.")
    exp_year = StrictIntegerField(required=False, help_text="Expiry year (two or four digits).")
    cvc = StringField(required=False, max_length=8, help_text="The card's security code.")
    token = StringField(
        required=False,
        max_length=255,
        help_text="A test card token instead of the card's details: `tok_visa`, "
        "`tok_mastercard`, `tok_amex`, `tok_chargeDeclined`, "
        "`tok_chargeDeclinedInsufficientFunds`, … (each names the same card as the "
        "`pm_card_…` id with the same suffix).",
    )

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if "token" in value:
            for name in ("number", "exp_month", "exp_year", "cvc"):
                if name in value:
                    raise InvalidRequestError(
                        "You may only specify one of these parameters: "
                        f"{self._param_path('token')}, {self._param_path(name)}.",
                        code="parameters_exclusive",
                        param=self._param_path(name),
                    )
            return value
        for name in ("number", "exp_month", "exp_year"):
            if name not in value:
                raise ParameterMissing(self._param_path(name))
        return value


class PaymentMethodDataSerializer(StrictSerializer):
    """A payment method given inline (`payment_method_data` on confirm; the body of
    POST /v1/payment_methods without the extras below)."""

    type = EnumField(choices=["card"])
    card = CardParamsSerializer()
    billing_details = BillingDetailsParamsSerializer(required=False, allow_null=True)
    metadata = MetadataField()


class PaymentMethodUpdateSerializer(StrictSerializer):
    billing_details = BillingDetailsParamsSerializer(required=False, allow_null=True)
    metadata = MetadataField()


class PaymentMethodAttachSerializer(StrictSerializer):
    customer = StringField(max_length=255, allow_null=False)


class PaymentMethodDetachSerializer(StrictSerializer):
    pass


class PaymentMethodListSerializer(ListParamsSerializer):
    customer = StringField(required=False, max_length=255)
    type = EnumField(choices=["card"], required=False)


class CustomerPaymentMethodListSerializer(ListParamsSerializer):
    type = EnumField(choices=["card"], required=False)


class InvoiceSettingsParamsSerializer(StrictSerializer):
    default_payment_method = StringField(required=False, max_length=255)


class CustomerCreateSerializer(StrictSerializer):
    email = StringField(required=False, max_length=512)
    name = StringField(required=False, max_length=256)
    phone = StringField(required=False, max_length=64)
    description = StringField(required=False, max_length=1000)
    address = OptionalAddressSerializer(required=False, allow_null=True)
    shipping = ShippingParamsSerializer(required=False, allow_null=True)
    metadata = MetadataField()
    payment_method = StringField(required=False, max_length=255)
    invoice_settings = InvoiceSettingsParamsSerializer(required=False)


class CustomerUpdateSerializer(StrictSerializer):
    email = StringField(required=False, max_length=512)
    name = StringField(required=False, max_length=256)
    phone = StringField(required=False, max_length=64)
    description = StringField(required=False, max_length=1000)
    address = OptionalAddressSerializer(required=False, allow_null=True)
    shipping = ShippingParamsSerializer(required=False, allow_null=True)
    metadata = MetadataField()
    invoice_settings = InvoiceSettingsParamsSerializer(required=False)


class CustomerListSerializer(ListParamsSerializer):
    email = StringField(required=False, max_length=512)


class ChargeListSerializer(ListParamsSerializer):
    payment_intent = StringField(required=False, max_length=255)
    customer = StringField(required=False, max_length=255)


class ChargeUpdateSerializer(StrictSerializer):
    description = StringField(required=False, max_length=1000)
    metadata = MetadataField()


class RetrieveSerializer(StrictSerializer):
    """GET (or DELETE) of one object: only `expand` is accepted."""

    expand = StringListField(required=False)
