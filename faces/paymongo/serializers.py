"""What each PayMongo request's `data.attributes` may hold, checked with the service's strict
fields (an unknown attribute, a wrong type, a missing one: a 400 naming it)."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import (
    AmountField,
    CurrencyField,
    EnumField,
    MetadataField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
)


class PaymentMethodOptionsField(serializers.JSONField):
    """`{"card": {"request_three_d_secure": "any" | "automatic"}}` (checked by the service)."""


class IntentCreateSerializer(StrictSerializer):
    amount = AmountField(help_text="In centavos: 10000 is ₱100.00; at least 2000 for PHP.")
    currency = CurrencyField(help_text="`PHP` (any case).")
    payment_method_allowed = StringListField(
        child=EnumField(choices=["card"]),
        allow_empty=False,
        help_text='The method types allowed: `["card"]` (the only one this service takes).',
    )
    payment_method_options = PaymentMethodOptionsField(
        required=False,
        help_text='`{"card": {"request_three_d_secure": "any"}}`: `any` forces 3-D Secure, '
        "`automatic` (the default) follows the card.",
    )
    description = StringField(required=False, max_length=1000)
    statement_descriptor = StringField(required=False, max_length=22)
    metadata = MetadataField(required=False)
    capture_type = EnumField(
        choices=["automatic", "manual"],
        required=False,
        help_text="`manual` authorises only (capture later); `automatic` by default.",
    )


class IntentAttachSerializer(StrictSerializer):
    payment_method = StringField(max_length=255, help_text="The `pm_…` to charge.")
    client_key = StringField(
        required=False, max_length=255, help_text="The intent's client key (public key only)."
    )
    return_url = StringField(
        required=False, max_length=2048, help_text="Where 3-D Secure sends the customer back."
    )
    origin = StringField(
        required=False, max_length=40, help_text="The client library's name (informative)."
    )


class IntentRetrieveSerializer(StrictSerializer):
    client_key = StringField(
        required=False, max_length=255, help_text="The intent's client key (public key only)."
    )


class IntentCaptureSerializer(StrictSerializer):
    amount = AmountField(help_text="How much of the authorisation to capture, in centavos.")


class EmptySerializer(StrictSerializer):
    pass


class CardDetailsSerializer(StrictSerializer):
    card_number = serializers.CharField(max_length=40, trim_whitespace=True)
    exp_month = StrictIntegerField()
    exp_year = StrictIntegerField()
    cvc = StringField(required=False, max_length=8)


class BillingAddressSerializer(StrictSerializer):
    line1 = StringField(required=False, max_length=200)
    line2 = StringField(required=False, max_length=200)
    city = StringField(required=False, max_length=200)
    state = StringField(required=False, max_length=200)
    postal_code = StringField(required=False, max_length=40)
    country = StringField(required=False, max_length=2)


class BillingSerializer(StrictSerializer):
    address = BillingAddressSerializer(required=False)
    name = StringField(required=False, max_length=256)
    email = StringField(required=False, max_length=512)
    phone = StringField(required=False, max_length=64)


class PaymentMethodCreateSerializer(StrictSerializer):
    type = EnumField(choices=["card"], help_text="Only `card`.")
    details = CardDetailsSerializer(help_text="`card_number`, `exp_month`, `exp_year`, `cvc`.")
    billing = BillingSerializer(required=False)
    metadata = MetadataField(required=False)


class RefundCreateSerializer(StrictSerializer):
    amount = AmountField(help_text="In centavos, at most what is left of the payment.")
    payment_id = StringField(max_length=40, help_text="The payment (`ch_…`) to refund.")
    reason = EnumField(
        choices=["duplicate", "fraudulent", "requested_by_customer", "others"],
        help_text="Why the money goes back.",
    )
    metadata = MetadataField(required=False)


class ListSerializer(StrictSerializer):
    limit = StrictIntegerField(required=False, min_value=1, max_value=100)
    before = StringField(required=False, max_length=40)
    after = StringField(required=False, max_length=40)


class RefundListSerializer(ListSerializer):
    payment_id = StringField(required=False, max_length=40)


class WebhookCreateSerializer(StrictSerializer):
    url = StringField(max_length=2048, help_text="Where the events are POSTed (https).")
    events = StringListField(
        child=EnumField(choices=["payment.paid", "payment.failed", "payment.refunded"]),
        allow_empty=False,
        help_text="`payment.paid`, `payment.failed`, `payment.refunded`.",
    )
    description = StringField(required=False, max_length=5000)


class WebhookUpdateSerializer(StrictSerializer):
    url = StringField(required=False, max_length=2048)
    events = StringListField(
        child=EnumField(choices=["payment.paid", "payment.failed", "payment.refunded"]),
        required=False,
        allow_empty=False,
    )
    description = StringField(required=False, max_length=5000)
