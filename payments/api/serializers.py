"""Payment methods, customers and charges on the wire: the DRF classes below describe the shapes
`payments.presenters` builds (OpenAPI) and validate input (StrictSerializer)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import (
    AddressSerializer,
    AmountField,
    CurrencyField,
    EnumField,
    ListParamsSerializer,
    MetadataField,
    NullableHashMixin,
    OptionalAddressSerializer,
    SearchPageField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
    TimestampField,
    list_schema,
)
from core.errors import InvalidRequestError, ParameterMissing
from core.money import MAX_AMOUNT
from payments.insights import GROUP_BY as INSIGHTS_GROUP_BY
from payments.models import Charge, Refund
from routing.api import serializers as routing_serializers
from routing.models import RoutingType

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


class RefundSchema(serializers.Serializer):
    id = serializers.CharField(help_text="Unique identifier, `re_…`.")
    object = serializers.ChoiceField(choices=["refund"])
    amount = serializers.IntegerField(help_text="Amount refunded, in the currency's minor unit.")
    balance_transaction = serializers.CharField(allow_null=True)
    charge = serializers.CharField(help_text="The charge that was refunded.")
    created = serializers.IntegerField(help_text="Time of creation, unix seconds.")
    currency = serializers.CharField(help_text="Lowercase ISO 4217 currency of the charge.")
    description = serializers.CharField(allow_null=True)
    destination_details = serializers.JSONField(allow_null=True)
    failure_balance_transaction = serializers.CharField(allow_null=True)
    failure_reason = serializers.ChoiceField(
        choices=Refund.FailureReason.values,
        allow_null=True,
        help_text="Why the refund failed, when its status is `failed`.",
    )
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    next_action = serializers.JSONField(allow_null=True)
    payment_intent = serializers.CharField(
        allow_null=True, help_text="The PaymentIntent whose charge was refunded."
    )
    reason = serializers.ChoiceField(choices=Refund.Reason.values, allow_null=True)
    receipt_number = serializers.CharField(allow_null=True)
    source_transfer_reversal = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(
        choices=Refund.Status.values,
        help_text="`pending` until the processor settles it, then `succeeded` or `failed`; "
        "`canceled` when stopped before that.",
    )
    transfer_reversal = serializers.CharField(allow_null=True)


RefundListSchema = list_schema("RefundList", RefundSchema)


class ChargeRefundsSchema(serializers.Serializer):
    """A charge's refunds, newest first (the first ten; `total_count` says how many)."""

    object = serializers.ChoiceField(choices=["list"])
    data = RefundSchema(many=True)
    has_more = serializers.BooleanField()
    total_count = serializers.IntegerField()
    url = serializers.CharField()


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
    payment_flow = serializers.CharField(
        allow_null=True,
        help_text="The payment flow (`flow_…`) that routed this attempt, or null when none did "
        "(the account had no flow).",
    )
    payment_flow_version = serializers.IntegerField(
        allow_null=True, help_text="The version of `payment_flow` this attempt ran under."
    )
    payment_method = serializers.CharField(allow_null=True)
    payment_method_details = PaymentMethodDetailsSchema(allow_null=True)
    processor = serializers.CharField(
        allow_null=True,
        help_text="The processor connection (`proc_…`) that made this charge; its capture, "
        "cancel, increment and refunds go back to it.",
    )
    attempt = serializers.IntegerField(
        help_text="Which attempt of its confirm this charge was: 1, then 2, … when a payment "
        "flow retried it at its next connection."
    )
    receipt_email = serializers.CharField(allow_null=True)
    receipt_url = serializers.CharField(allow_null=True)
    refunded = serializers.BooleanField(help_text="True once the whole payment is refunded.")
    refunds = ChargeRefundsSchema()
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
    address = OptionalAddressSerializer(
        required=False, allow_null=True, help_text="The billing address; an empty value removes it."
    )
    email = StringField(required=False, max_length=512, help_text="Billing email address.")
    name = StringField(required=False, max_length=256, help_text="Full name on the card.")
    phone = StringField(
        required=False, max_length=64, help_text="Billing phone number, with the country code."
    )


class ShippingAddressSerializer(AddressSerializer):
    """A shipping address: at least one of its parts (an empty one, which a form body cannot
    even write, is no address: `shipping[address]` is then missing)."""

    required_one_of = (tuple(AddressSerializer._declared_fields),)


class ShippingParamsSerializer(NullableHashMixin, StrictSerializer):
    address = ShippingAddressSerializer(help_text="The shipping address.")

    def validate_address(self, value):
        if not any(part not in (None, "") for part in value.values()):
            raise serializers.ValidationError("An empty address.", code="required")
        return value

    name = StringField(max_length=256, help_text="Recipient name.")
    phone = StringField(
        required=False, max_length=64, help_text="Recipient phone number, with the country code."
    )


class CardParamsSerializer(StrictSerializer):
    """`card[number|exp_month|exp_year|cvc]`, or `card[token]` (a test token such as
    `tok_visa`). Lives only in memory (see RawCard)."""

    required_one_of = (("number", "token"),)
    required_with = {"number": ("exp_month", "exp_year")}
    excluded_with = {"token": ("number", "exp_month", "exp_year", "cvc")}

    number = serializers.CharField(
        required=False,
        max_length=40,
        trim_whitespace=True,
        help_text="The card number (spaces and dashes allowed). In test mode use a test card number; the number is never stored, only a token, the last 4 digits and a fingerprint.",
    )
    # (the processor's vault checks both, answering 402 `invalid_expiry_month`/`_year`)
    exp_month = StrictIntegerField(
        required=False, service_min=1, service_max=12, help_text="Expiry month, 1 to 12."
    )
    exp_year = StrictIntegerField(
        required=False, service_min=0, help_text="Expiry year, four digits (or two)."
    )
    cvc = StringField(
        required=False,
        max_length=8,
        help_text="The card security code, 3 or 4 digits; checked, never stored.",
    )
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

    type = EnumField(choices=["card"], help_text="The type of payment method: `card`.")
    card = CardParamsSerializer(help_text="The card's details.")
    billing_details = BillingDetailsParamsSerializer(
        required=False,
        allow_null=True,
        help_text="Billing details of the card holder; an empty value removes them.",
    )
    metadata = MetadataField(
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key."
    )


class PaymentMethodUpdateSerializer(StrictSerializer):
    billing_details = BillingDetailsParamsSerializer(
        required=False,
        allow_null=True,
        help_text="Billing details of the card holder; an empty value removes them.",
    )
    metadata = MetadataField(
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key."
    )


class PaymentMethodAttachSerializer(StrictSerializer):
    customer = StringField(
        max_length=255,
        allow_null=False,
        help_text="Id of the customer (`cus_…`) to attach the payment method to.",
    )


class PaymentMethodDetachSerializer(StrictSerializer):
    pass


class PaymentMethodListSerializer(ListParamsSerializer):
    customer = StringField(
        required=False,
        max_length=255,
        help_text="Only the payment methods of this customer (`cus_…`).",
    )
    type = EnumField(
        choices=["card"], required=False, help_text="Only payment methods of this type: `card`."
    )


class CustomerPaymentMethodListSerializer(ListParamsSerializer):
    type = EnumField(
        choices=["card"], required=False, help_text="Only payment methods of this type: `card`."
    )


class InvoiceSettingsParamsSerializer(StrictSerializer):
    default_payment_method = StringField(
        required=False,
        max_length=255,
        help_text="Id of the customer's default payment method (`pm_…`, attached to this customer); an empty value removes it.",
    )


class CustomerCreateSerializer(StrictSerializer):
    email = StringField(required=False, max_length=512, help_text="The customer's email address.")
    name = StringField(
        required=False, max_length=256, help_text="The customer's full name or business name."
    )
    phone = StringField(required=False, max_length=64, help_text="The customer's phone number.")
    description = StringField(
        required=False, max_length=1000, help_text="An arbitrary string shown to you."
    )
    address = OptionalAddressSerializer(
        required=False,
        allow_null=True,
        help_text="The customer's address; an empty value removes it.",
    )
    shipping = ShippingParamsSerializer(
        required=False,
        allow_null=True,
        help_text="The customer's shipping information; an empty value removes it.",
    )
    metadata = MetadataField(
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key."
    )
    payment_method = StringField(
        required=False,
        max_length=255,
        help_text="Id of a payment method (`pm_…`, or a magic test id) to attach to the new customer.",
    )
    invoice_settings = InvoiceSettingsParamsSerializer(
        required=False, help_text="Default invoice settings: the default payment method."
    )


class CustomerUpdateSerializer(StrictSerializer):
    email = StringField(required=False, max_length=512, help_text="The customer's email address.")
    name = StringField(
        required=False, max_length=256, help_text="The customer's full name or business name."
    )
    phone = StringField(required=False, max_length=64, help_text="The customer's phone number.")
    description = StringField(
        required=False, max_length=1000, help_text="An arbitrary string shown to you."
    )
    address = OptionalAddressSerializer(
        required=False,
        allow_null=True,
        help_text="The customer's address; an empty value removes it.",
    )
    shipping = ShippingParamsSerializer(
        required=False,
        allow_null=True,
        help_text="The customer's shipping information; an empty value removes it.",
    )
    metadata = MetadataField(
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key."
    )
    invoice_settings = InvoiceSettingsParamsSerializer(
        required=False, help_text="Default invoice settings: the default payment method."
    )


class CustomerListSerializer(ListParamsSerializer):
    email = StringField(
        required=False, max_length=512, help_text="Only customers with exactly this email address."
    )


class ChargeListSerializer(ListParamsSerializer):
    payment_intent = StringField(
        required=False,
        max_length=255,
        help_text="Only the charges of this payment intent (`pi_…`).",
    )
    customer = StringField(
        required=False, max_length=255, help_text="Only the charges of this customer (`cus_…`)."
    )


class ChargeUpdateSerializer(StrictSerializer):
    description = StringField(
        required=False, max_length=1000, help_text="An arbitrary string shown to you."
    )
    metadata = MetadataField(
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key."
    )


class RetrieveSerializer(StrictSerializer):
    """GET (or DELETE) of one object: only `expand` is accepted."""

    expand = StringListField(
        required=False, help_text="Fields to expand into objects, e.g. `expand[]=customer`."
    )


class RefundCreateSerializer(StrictSerializer):
    required_one_of = (("payment_intent", "charge"),)

    payment_intent = StringField(
        required=False,
        max_length=255,
        help_text="The PaymentIntent to refund (its latest charge). One of `payment_intent` "
        "or `charge` is required.",
    )
    charge = StringField(required=False, max_length=255, help_text="The charge to refund.")
    amount = StrictIntegerField(
        required=False,
        service_min=1,
        help_text="How much to refund, in the currency's minor unit; at most what is left "
        "(captured, less refunded, less pending refunds); a positive integer. Default: all "
        "that is left.",
    )
    reason = EnumField(
        choices=Refund.Reason.values,
        required=False,
        help_text="Why: `duplicate`, `fraudulent` or `requested_by_customer`.",
    )
    metadata = MetadataField(help_text="Key-value pairs to store with the refund.")


class RefundUpdateSerializer(StrictSerializer):
    metadata = MetadataField(
        help_text="Key-value pairs merged into the refund's metadata; an empty value removes "
        'a key, `metadata=""` removes them all.'
    )


class RefundCancelSerializer(StrictSerializer):
    pass


class RefundListSerializer(ListParamsSerializer):
    charge = StringField(required=False, max_length=255, help_text="Only refunds of this charge.")
    payment_intent = StringField(
        required=False, max_length=255, help_text="Only refunds of this PaymentIntent."
    )


class ChargeRefundListSerializer(ListParamsSerializer):
    pass


# --- processor insights: GET /v1/processor_insights (input, and its answer for OpenAPI) ------


class ProcessorInsightsCreatedSerializer(StrictSerializer):
    gte = TimestampField(
        param="created[gte]", required=False, help_text="Unix seconds (inclusive)."
    )
    lt = TimestampField(
        param="created[lt]", required=False, help_text="Unix seconds (exclusive); default now."
    )


class ProcessorInsightsParamsSerializer(StrictSerializer):
    created = ProcessorInsightsCreatedSerializer(
        required=False,
        help_text="The window of authorisation attempts (and of recovered charges); default "
        "the 30 days before `created[lt]`.",
    )
    payment_flow = StringField(
        required=False,
        max_length=40,
        help_text="Only the attempts (and recovered charges) of this payment flow (`flow_…`).",
    )
    group_by = EnumField(
        choices=INSIGHTS_GROUP_BY,
        required=False,
        help_text="`processor` (default): one row per processor connection; `day`: one row per "
        "UTC day.",
    )


class ProcessorInsightsWindowSchema(serializers.Serializer):
    gte = serializers.IntegerField(help_text="Unix seconds (inclusive).")
    lt = serializers.IntegerField(help_text="Unix seconds (exclusive).")


class ProcessorInsightsAmountSchema(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.IntegerField(help_text="In the currency's smallest unit.")


class ProcessorInsightsLatencySchema(serializers.Serializer):
    p50 = serializers.IntegerField(allow_null=True, help_text="Median call duration, ms.")
    p95 = serializers.IntegerField(allow_null=True, help_text="95th percentile, ms.")


class ProcessorInsightsRowSchema(serializers.Serializer):
    processor = serializers.CharField(
        required=False,
        help_text="The connection (`proc_…`; `simulated` for attempts made before connections "
        "existed). With `group_by=processor`.",
    )
    name = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The connection's name; null when no connection has that id. With "
        "`group_by=processor`.",
    )
    day = serializers.CharField(required=False, help_text="The UTC day. With `group_by=day`.")
    attempts = serializers.IntegerField(help_text="Authorisation attempts.")
    succeeded = serializers.IntegerField()
    authorization_rate = serializers.FloatField(
        allow_null=True,
        help_text="succeeded / (succeeded + soft_declines + hard_declines), 4 decimals; null "
        "when no attempt reached an answer.",
    )
    soft_declines = serializers.IntegerField()
    hard_declines = serializers.IntegerField()
    processor_errors = serializers.IntegerField()
    requires_action = serializers.IntegerField(help_text="Asked for 3-D Secure.")
    processing = serializers.IntegerField(help_text="Answered later (asynchronously).")
    latency_ms = ProcessorInsightsLatencySchema()
    volume = ProcessorInsightsAmountSchema(
        many=True, help_text="The succeeded attempts' amount, per currency."
    )


class ProcessorInsightsRecoveredSchema(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="Charges that succeeded on a retry (attempt number 2 or more)."
    )
    amount = ProcessorInsightsAmountSchema(many=True, help_text="Their amount, per currency.")


class ProcessorInsightsSchema(serializers.Serializer):
    object = serializers.CharField(default="processor_insights")
    livemode = serializers.BooleanField()
    created = ProcessorInsightsWindowSchema()
    group_by = serializers.ChoiceField(choices=INSIGHTS_GROUP_BY)
    payment_flow = serializers.CharField(allow_null=True)
    data = ProcessorInsightsRowSchema(many=True)
    recovered = ProcessorInsightsRecoveredSchema()


# --- payment flow evaluation (the flow is routing's; the payment method is ours) -------------


class PaymentFlowEvaluateAmountField(routing_serializers.BoundedIntegerField, AmountField):
    """An amount in bounds (1 … MAX_AMOUNT), refused as `parameter_invalid_integer`."""


class PaymentFlowEvaluateCardSerializer(StrictSerializer):
    """The card of the payment evaluated, instead of a payment method."""

    brand = routing_serializers.card_brand_field(
        required=False,
        help_text="The card's brand: " + ", ".join(routing_serializers.CARD_BRANDS) + ".",
    )
    country = routing_serializers.CountryAlpha2Field(
        required=False, help_text="The card's issuing country (ISO 3166-1 alpha-2, e.g. `US`)."
    )


class PaymentFlowEvaluateSerializer(StrictSerializer):
    """The facts of a payment to evaluate a payment flow for."""

    # (what `validate` holds a request to)
    mutually_exclusive = (("card", "payment_method"),)

    amount = PaymentFlowEvaluateAmountField(
        min_value=1,
        max_value=MAX_AMOUNT,
        help_text="The payment's amount, in the currency's smallest unit.",
    )
    currency = CurrencyField(help_text="The payment's currency (lower-case ISO code).")
    payment_method = StringField(
        required=False,
        max_length=255,
        help_text="A payment method of this account and mode (`pm_…`): its card's brand and "
        "country, and the processors it holds a token at (a processor without one is "
        "skipped as `no_token`). Not with `card`.",
    )
    card = PaymentFlowEvaluateCardSerializer(
        required=False,
        help_text="The card's `brand` and `country` instead of a payment method (its tokens "
        "are then not checked). Not with `payment_method`.",
    )
    metadata = MetadataField(
        help_text="The payment's metadata, for the rules' `metadata` conditions."
    )

    def validate(self, attrs):
        if attrs.get("payment_method") and attrs.get("card"):
            raise InvalidRequestError(
                "You may only specify one of these parameters: card, payment_method.",
                code="parameters_exclusive",
                param="card",
            )
        return attrs


class PaymentFlowSkippedSchema(serializers.Serializer):
    processor = serializers.CharField(help_text="The processor skipped (`proc_…`).")
    reason = serializers.ChoiceField(
        choices=routing_serializers.SKIP_REASONS,
        help_text="Why: `disabled`, `circuit_open` (repeated processor errors), `no_token` "
        "(the payment method holds no token there) or `deleted`.",
    )


class PaymentFlowEvaluationSchema(serializers.Serializer):
    object = serializers.ChoiceField(
        choices=["payment_flow_evaluation"], help_text="`payment_flow_evaluation`."
    )
    payment_flow = serializers.CharField(help_text="The flow evaluated (`flow_…`).")
    version = serializers.IntegerField(help_text="The flow's version evaluated.")
    routing_type = serializers.ChoiceField(
        choices=RoutingType.values, help_text="The flow's `routing[type]`."
    )
    processors = serializers.ListField(
        child=serializers.CharField(),
        help_text="The processors a payment with these facts would try, in order (a "
        "`volume_split` or `success_rate` flow draws again at each payment).",
    )
    attempts = serializers.IntegerField(
        help_text="How many of them a confirm would try at most: `retry[max_attempts]`, "
        "at most as many as there are."
    )
    rule = serializers.IntegerField(
        allow_null=True,
        help_text="`rules`: the index of the rule that matched; null when none did (the "
        "default's processors) or for another routing type.",
    )
    skipped = PaymentFlowSkippedSchema(
        many=True, help_text="The processors the flow names that were left out, and why."
    )


class SearchParamsSerializer(StrictSerializer):
    query = StringField(
        max_length=10_000,
        help_text="The search query in Stripe's language, e.g. `email:'jenny@example.com'` or "
        "`status:'succeeded' AND amount>1000`.",
    )
    limit = StrictIntegerField(
        required=False, min_value=1, max_value=100, help_text="1 to 100 (default 10)."
    )
    page = SearchPageField(
        required=False,
        help_text="The `next_page` of the previous answer, for the page after it.",
    )


def search_schema(name: str, item) -> type[serializers.Serializer]:
    return type(
        name,
        (serializers.Serializer,),
        {
            "object": serializers.CharField(default="search_result"),
            "url": serializers.CharField(),
            "has_more": serializers.BooleanField(),
            "next_page": serializers.CharField(allow_null=True),
            "data": item(many=True),
            "__module__": item.__module__,
        },
    )


CustomerSearchSchema = search_schema("CustomerSearchResult", CustomerSchema)
ChargeSearchSchema = search_schema("ChargeSearchResult", ChargeSchema)
