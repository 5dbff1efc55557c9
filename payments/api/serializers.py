"""Payment methods, customers and charges on the wire: the `*_to_api` functions build Stripe's
shapes; the DRF classes below describe them (OpenAPI) and validate input (StrictSerializer)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import (
    EnumField,
    ListParamsSerializer,
    MetadataField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
)

from ..models import Charge, Customer, PaymentMethod

# --- output: Stripe shapes ------------------------------------------------------------------

ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def address_to_api(address: dict | None) -> dict:
    address = address or {}
    return {key: address.get(key) for key in ADDRESS_KEYS}


def billing_details_to_api(details: dict | None) -> dict:
    details = details or {}
    return {
        "address": address_to_api(details.get("address")),
        "email": details.get("email"),
        "name": details.get("name"),
        "phone": details.get("phone"),
    }


def shipping_to_api(shipping: dict | None) -> dict | None:
    if not shipping:
        return None
    return {
        "address": address_to_api(shipping.get("address")),
        "name": shipping.get("name"),
        "phone": shipping.get("phone"),
    }


def card_to_api(pm: PaymentMethod) -> dict:
    return {
        "brand": pm.card_brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": None,
        },
        "country": pm.card_country,
        "display_brand": pm.card_brand,
        "exp_month": pm.card_exp_month,
        "exp_year": pm.card_exp_year,
        "fingerprint": pm.card_fingerprint,
        "funding": pm.card_funding,
        "generated_from": None,
        "last4": pm.card_last4,
        "networks": {"available": [pm.card_brand], "preferred": None},
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def payment_method_to_api(pm: PaymentMethod) -> dict:
    return {
        "id": pm.id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": billing_details_to_api(pm.billing_details),
        "card": card_to_api(pm),
        "created": pm.created_unix,
        "customer": pm.customer_id,
        "livemode": pm.livemode,
        "metadata": dict(pm.metadata or {}),
        "type": pm.type,
    }


def customer_to_api(customer: Customer) -> dict:
    invoice_settings = customer.invoice_settings or {}
    return {
        "id": customer.id,
        "object": "customer",
        "address": address_to_api(customer.address) if customer.address else None,
        "balance": 0,
        "created": customer.created_unix,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": customer.description,
        "email": customer.email,
        "invoice_prefix": None,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": invoice_settings.get("default_payment_method"),
            "footer": None,
            "rendering_options": None,
        },
        "livemode": customer.livemode,
        "metadata": dict(customer.metadata or {}),
        "name": customer.name,
        "phone": customer.phone,
        "preferred_locales": [],
        "shipping": shipping_to_api(customer.shipping),
        "tax_exempt": "none",
        "test_clock": None,
    }


def customer_deleted_to_api(customer: Customer) -> dict:
    return {"id": customer.id, "object": "customer", "deleted": True}


THREE_D_SECURE_RESULTS = {
    "passed": "authenticated",
    "failed": "failed",
    "required": None,
}


def three_d_secure_to_api(state: str | None) -> dict | None:
    if not state:
        return None
    return {
        "authentication_flow": "challenge",
        "result": THREE_D_SECURE_RESULTS.get(state),
        "result_reason": None,
        "version": "2.2.0",
    }


def charge_to_api(charge: Charge) -> dict:
    details = dict(charge.payment_method_details or {}) or None
    if details and isinstance(details.get("card"), dict):
        card = dict(details["card"])
        card["three_d_secure"] = three_d_secure_to_api(charge.three_d_secure)
        details["card"] = card
    intent = charge.payment_intent if charge.payment_intent_id else None
    billing_details = (
        billing_details_to_api(charge.payment_method.billing_details)
        if charge.payment_method_id and charge.payment_method
        else billing_details_to_api(None)
    )
    refunded = charge.amount_captured > 0 and charge.amount_refunded >= charge.amount_captured
    return {
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount_captured,
        "amount_refunded": charge.amount_refunded,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": billing_details,
        "calculated_statement_descriptor": None,
        "captured": charge.captured,
        "created": charge.created_unix,
        "currency": charge.currency,
        "customer": charge.customer_id,
        "description": charge.description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": charge.failure_code,
        "failure_message": charge.failure_message,
        "fraud_details": {},
        "livemode": charge.livemode,
        "metadata": dict(charge.metadata or {}),
        "on_behalf_of": None,
        "outcome": charge.outcome,
        "paid": charge.status == Charge.Status.SUCCEEDED,
        "payment_intent": charge.payment_intent_id,
        "payment_method": charge.payment_method_id,
        "payment_method_details": details,
        "receipt_email": getattr(intent, "receipt_email", None),
        "receipt_url": None,
        "refunded": refunded,
        "review": None,
        "shipping": shipping_to_api(getattr(intent, "shipping", None)),
        "source": None,
        "statement_descriptor": getattr(intent, "statement_descriptor", None),
        "statement_descriptor_suffix": getattr(intent, "statement_descriptor_suffix", None),
        "status": charge.status,
        "transfer_data": None,
        "transfer_group": None,
    }


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


class PaymentMethodListSchema(serializers.Serializer):
    object = serializers.ChoiceField(choices=["list"])
    url = serializers.CharField()
    has_more = serializers.BooleanField()
    data = PaymentMethodSchema(many=True)


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


class CustomerListSchema(serializers.Serializer):
    object = serializers.ChoiceField(choices=["list"])
    url = serializers.CharField()
    has_more = serializers.BooleanField()
    data = CustomerSchema(many=True)


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


class ChargeListSchema(serializers.Serializer):
    object = serializers.ChoiceField(choices=["list"])
    url = serializers.CharField()
    has_more = serializers.BooleanField()
    data = ChargeSchema(many=True)


# --- input ----------------------------------------------------------------------------------


class AddressParamsSerializer(StrictSerializer):
    city = StringField(required=False, max_length=200)
    country = StringField(required=False, max_length=2)
    line1 = StringField(required=False, max_length=500)
    line2 = StringField(required=False, max_length=500)
    postal_code = StringField(required=False, max_length=40)
    state = StringField(required=False, max_length=200)


class NullableHashMixin:
    """`address=""` (form) or `"address": null` clears a hash, as in Stripe."""

    def validate_empty_values(self, data):
        if data == "" or data is None:
            return True, None
        return super().validate_empty_values(data)


class OptionalAddressParamsSerializer(NullableHashMixin, AddressParamsSerializer):
    pass


class BillingDetailsParamsSerializer(NullableHashMixin, StrictSerializer):
    address = OptionalAddressParamsSerializer(required=False, allow_null=True)
    email = StringField(required=False, max_length=512)
    name = StringField(required=False, max_length=256)
    phone = StringField(required=False, max_length=64)


class ShippingParamsSerializer(NullableHashMixin, StrictSerializer):
    address = AddressParamsSerializer()
    name = StringField(max_length=256)
    phone = StringField(required=False, max_length=64)


class CardParamsSerializer(StrictSerializer):
    """`card[number|exp_month|exp_year|cvc]`. Lives only in memory (see RawCard)."""

    number = serializers.CharField(max_length=40, trim_whitespace=True)
    exp_month = StrictIntegerField()
    exp_year = StrictIntegerField()
    cvc = StringField(required=False, max_length=8)


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
    address = OptionalAddressParamsSerializer(required=False, allow_null=True)
    shipping = ShippingParamsSerializer(required=False, allow_null=True)
    metadata = MetadataField()
    payment_method = StringField(required=False, max_length=255)
    invoice_settings = InvoiceSettingsParamsSerializer(required=False)


class CustomerUpdateSerializer(StrictSerializer):
    email = StringField(required=False, max_length=512)
    name = StringField(required=False, max_length=256)
    phone = StringField(required=False, max_length=64)
    description = StringField(required=False, max_length=1000)
    address = OptionalAddressParamsSerializer(required=False, allow_null=True)
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
