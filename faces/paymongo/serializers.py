"""What each PayMongo request's `data.attributes` may hold, checked with the service's strict
fields (an unknown attribute, a wrong type, a missing one: a 400 naming it)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, RegexValidator, validate_email
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import (
    AmountField,
    CurrencyField,
    EnumField,
    HttpUrlField,
    MetadataField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    StringListField,
    WebhookURLField,
)

PHONE = re.compile(r"\+?[0-9]{1,20}")


class PayMongoHashSerializer(StrictSerializer):
    # (A comment: the schema shows a serializer's docstring as its description.) A hash inside
    # the attributes: a JSON object and nothing else. The Stripe dialect reads `""` as an empty
    # hash, the only way its form can write one; a JSON body writes `{}`, so here `""` is
    # refused like any other value that is not an object, as the document's `type: object` says.

    def to_internal_value(self, data):
        if data == "":
            raise serializers.ValidationError(
                {
                    "non_field_errors": [
                        serializers.ErrorDetail(
                            "Invalid hash: expected an object.", code="parameter_invalid_hash"
                        )
                    ]
                }
            )
        return super().to_internal_value(data)


class PayMongoCardOptionsSerializer(PayMongoHashSerializer):
    """The card's options: whether to ask for 3-D Secure."""

    request_three_d_secure = EnumField(
        choices=["any", "automatic"],
        required=False,
        help_text="`any` asks for 3-D Secure on any card; `automatic` (the default) only when "
        "the card asks for it.",
    )


class PayMongoPaymentMethodOptionsSerializer(PayMongoHashSerializer):
    """Options per payment method type: `{"card": {"request_three_d_secure": "any"}}`."""

    card = PayMongoCardOptionsSerializer(required=False, help_text="The card's options.")


class PayMongoSetupFutureUsageSerializer(PayMongoHashSerializer):
    session_type = EnumField(choices=["on_session"], help_text="`on_session`, the only one.")
    customer_id = StringField(
        allow_null=False, max_length=40, help_text="The customer (`cus_…`) the card is kept for."
    )


class PayMongoIntentCreateSerializer(StrictSerializer):
    currency_parameters = {"amount": "currency"}

    amount = AmountField(
        help_text="In the currency's smallest unit (centavos for PHP: 10000 is ₱100.00), at "
        "least the currency's minimum (2000 for PHP)."
    )
    currency = CurrencyField(
        help_text="`PHP`, PayMongo's currency, in any case; any other currency this service "
        "supports (`format: currency`) is taken too."
    )
    payment_method_allowed = StringListField(
        child=EnumField(choices=["card"]),
        allow_empty=False,
        min_length=1,
        help_text='The method types allowed: `["card"]` (the only one this service takes).',
    )
    payment_method_options = PayMongoPaymentMethodOptionsSerializer(
        required=False,
        help_text='`{"card": {"request_three_d_secure": "any"}}`: `any` forces 3-D Secure, '
        "`automatic` (the default) follows the card.",
    )
    description = StringField(
        required=False, max_length=1000, help_text="What the payment is for; shown to you."
    )
    statement_descriptor = StringField(
        required=False, max_length=22, help_text="Text on the customer's card statement."
    )
    metadata = MetadataField(required=False, help_text="Your own key-value pairs (strings).")
    capture_type = EnumField(
        choices=["automatic", "manual"],
        required=False,
        help_text="`manual` authorises only (capture later); `automatic` by default.",
    )
    setup_future_usage = PayMongoSetupFutureUsageSerializer(
        required=False,
        help_text="`{session_type: on_session, customer_id}`: the card paid with is kept for "
        "the customer's later payments.",
    )


class PayMongoIntentAttachSerializer(StrictSerializer):
    payment_method = StringField(max_length=255, help_text="The `pm_…` to charge.")
    client_key = StringField(
        required=False, max_length=255, help_text="The intent's client key (public key only)."
    )
    return_url = HttpUrlField(
        required=False,
        help_text="Where 3-D Secure sends the customer back: an absolute http or https URL.",
    )
    origin = StringField(
        required=False, max_length=40, help_text="The client library's name (informative)."
    )


class PayMongoIntentRetrieveSerializer(StrictSerializer):
    client_key = StringField(
        required=False, max_length=255, help_text="The intent's client key (public key only)."
    )


class PayMongoIntentCaptureSerializer(StrictSerializer):
    amount = AmountField(
        help_text="How much of the authorisation to capture, in the currency's smallest unit "
        "(centavos for PHP)."
    )


class PayMongoEmptySerializer(StrictSerializer):
    pass


#: A card number as the processor takes it: 12 to 19 digits passing the Luhn check, spaces and
#: dashes between them dropped (tests/test_fuzz.py draws such numbers).
CARD_NUMBER_FORMAT = "card-number"


@extend_schema_field({"type": "string", "format": CARD_NUMBER_FORMAT})
class CardNumberField(serializers.CharField):
    """A card number: a string in the schema with the named format (a grammar plus a checksum,
    which no pattern states); the processor checks it when the card is tokenised."""


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 12})
class ExpiryMonthField(StrictIntegerField):
    """1 to 12, which the processor checks with its own message (`Your card's expiration month
    is invalid.`): the document states the bounds, the field does not check them itself."""


class CvcField(StringField):
    """3 or 4 digits, which the processor checks with its own message (`Your card's security
    code is invalid.`): the document states the pattern, the field does not check it itself."""

    field_schema = {"pattern": "^[0-9]{3,4}$"}


#: On an integer property: a card's expiry year, which must not be past nor more than 50 years on
#: (a window that moves with the date, which no `minimum` states); tests/test_fuzz.py honours it.
EXPIRY_YEAR = "x-card-expiry-year"


@extend_schema_field({"type": "integer", EXPIRY_YEAR: True})
class ExpiryYearField(StrictIntegerField):
    """A card's expiry year (this year, with a month not yet past, to 50 years on; two digits
    are 20xx), which the processor checks with its own message (`Your card's expiration year
    is invalid.`)."""


class PayMongoCardDetailsSerializer(PayMongoHashSerializer):
    card_number = CardNumberField(
        max_length=40,
        trim_whitespace=True,
        help_text="The card number: 12 to 19 digits passing the Luhn check (spaces and dashes "
        "between them are dropped); checked, never stored (a token, the last 4 digits and a "
        "fingerprint are).",
    )
    exp_month = ExpiryMonthField(help_text="Expiry month, 1 to 12.")
    exp_year = ExpiryYearField(
        help_text="Expiry year, four digits (or two: 20xx), from this year (with a month not "
        "yet past) to 50 years on."
    )
    cvc = CvcField(
        required=False,
        max_length=8,
        help_text="The security code, 3 or 4 digits; checked, never stored.",
    )


class PayMongoBillingAddressSerializer(PayMongoHashSerializer):
    line1 = StringField(required=False, max_length=200, help_text="Street address.")
    line2 = StringField(required=False, max_length=200, help_text="Apartment, suite, unit.")
    city = StringField(required=False, max_length=200, help_text="City or municipality.")
    state = StringField(required=False, max_length=200, help_text="State or province.")
    postal_code = StringField(required=False, max_length=40, help_text="Postal code.")
    country = StringField(required=False, max_length=2, help_text="Two-letter country code.")


class PayMongoBillingSerializer(PayMongoHashSerializer):
    address = PayMongoBillingAddressSerializer(required=False, help_text="The billing address.")
    name = StringField(required=False, max_length=256, help_text="The cardholder's name.")
    email = StringField(required=False, max_length=512, help_text="The customer's email.")
    phone = StringField(required=False, max_length=64, help_text="The customer's phone.")


class PayMongoPaymentMethodCreateSerializer(StrictSerializer):
    type = EnumField(choices=["card"], help_text="Only `card`.")
    details = PayMongoCardDetailsSerializer(
        help_text="`card_number`, `exp_month`, `exp_year`, `cvc`."
    )
    billing = PayMongoBillingSerializer(required=False, help_text="Who pays, and where.")
    metadata = MetadataField(required=False, help_text="Your own key-value pairs (strings).")


class PayMongoRefundCreateSerializer(StrictSerializer):
    amount = AmountField(
        help_text="In the currency's smallest unit (centavos for PHP), at most what is left of "
        "the payment."
    )
    payment_id = StringField(
        allow_null=False,
        max_length=40,
        help_text="The payment (`pay_…`; the v1 API's `ch_…` for it is taken too) to refund.",
    )
    reason = EnumField(
        choices=["duplicate", "fraudulent", "requested_by_customer", "others"],
        help_text="Why the money goes back.",
    )
    notes = StringField(required=False, max_length=255, help_text="Your remark on the refund.")
    metadata = MetadataField(required=False, help_text="Your own key-value pairs (strings).")


class PayMongoListSerializer(StrictSerializer):
    limit = StrictIntegerField(
        required=False, min_value=1, max_value=100, help_text="How many, 1 to 100 (10)."
    )
    before = StringField(
        required=False, max_length=40, help_text="The page before this object id (newer)."
    )
    after = StringField(
        required=False, max_length=40, help_text="The page after this object id (older)."
    )


class PayMongoRefundListSerializer(PayMongoListSerializer):
    payment_id = StringField(
        required=False, max_length=40, help_text="Only the refunds of this payment."
    )


class PayMongoWebhookCreateSerializer(StrictSerializer):
    url = WebhookURLField(
        allow_null=False,
        max_length=2048,
        help_text="Where the events are POSTed (an http or https URL of a public host).",
    )
    events = StringListField(
        child=EnumField(choices=["payment.paid", "payment.failed", "payment.refunded"]),
        allow_empty=False,
        min_length=1,
        help_text="`payment.paid`, `payment.failed`, `payment.refunded`.",
    )
    description = StringField(
        required=False, max_length=5000, help_text="What the webhook is for; yours."
    )


class PayMongoWebhookUpdateSerializer(StrictSerializer):
    url = WebhookURLField(
        required=False,
        max_length=2048,
        help_text="A new URL to POST to (an http or https URL of a public host).",
    )
    events = StringListField(
        child=EnumField(choices=["payment.paid", "payment.failed", "payment.refunded"]),
        required=False,
        allow_empty=False,
        min_length=1,
        help_text="The events to send from now on.",
    )
    description = StringField(
        required=False, max_length=5000, help_text="What the webhook is for; yours."
    )


class PhoneField(StringField):
    """A phone number as PayMongo takes it: digits, with an optional leading plus sign (the
    document's `pattern`, from the validator below; the message is this field's own)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(f"^{PHONE.pattern}$"))

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None and not PHONE.fullmatch(value):
            raise serializers.ValidationError(
                "Invalid phone: digits only, with an optional leading +.",
                code="parameter_invalid_string",
            )
        return value


class EmailField(StringField):
    """An email address, as Django's validator takes it (the document's `format: email`, from
    the validator below; the message is this field's own)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(EmailValidator())

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise serializers.ValidationError(
                    "Invalid email: not an email address.", code="parameter_invalid_string"
                ) from None
        return value


class PayMongoCustomerCreateSerializer(StrictSerializer):
    first_name = StringField(allow_null=False, max_length=256, help_text="Their first name.")
    last_name = StringField(allow_null=False, max_length=256, help_text="Their last name.")
    email = EmailField(allow_null=False, max_length=512, help_text="Their email address.")
    phone = PhoneField(
        allow_null=False, max_length=64, help_text="Digits, with an optional leading `+`."
    )
    default_device = EnumField(
        choices=["phone", "email"],
        required=False,
        help_text="How they prefer to be reached: `phone` or `email`.",
    )


class PayMongoCustomerUpdateSerializer(StrictSerializer):
    first_name = StringField(
        required=False, allow_null=False, max_length=256, help_text="Their first name."
    )
    last_name = StringField(
        required=False, allow_null=False, max_length=256, help_text="Their last name."
    )
    email = EmailField(
        required=False, allow_null=False, max_length=512, help_text="Their email address."
    )
    phone = PhoneField(
        required=False,
        allow_null=False,
        max_length=64,
        help_text="Digits, with an optional leading `+`.",
    )
    default_device = EnumField(
        choices=["phone", "email"],
        required=False,
        help_text="How they prefer to be reached: `phone` or `email`.",
    )
    default_payment_method_id = StringField(
        required=False,
        max_length=40,
        help_text="One of their payment methods (`pm_…`) to use by default; empty for none.",
    )


class PayMongoCustomerListSerializer(PayMongoListSerializer):
    email = StringField(required=False, max_length=512, help_text="Only the customers with it.")
    phone = StringField(required=False, max_length=64, help_text="Only the customers with it.")
