"""Checkouts on the wire: the strict input of each endpoint and the output schema (the output
itself is `checkouts.presenters.checkout_to_api`; insights' is `checkouts.insights`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import (
    CurrencyField,
    EnumField,
    ListParamsSerializer,
    MetadataField,
    StrictBooleanField,
    StrictIntegerField,
    StrictSerializer,
    StringField,
    TimestampField,
    list_schema,
)
from core.countries import is_country_alpha3
from core.money import MAX_AMOUNT

from ..insights import GROUP_BY, insights_timezone
from ..models import Source, Status, StepStatus

STEP_STATUSES = [s.value for s in StepStatus]
MAX_CART_ITEMS = 250


def _amount(**kwargs) -> StrictIntegerField:
    """Money in the currency's smallest unit: a whole number, never a float."""
    return StrictIntegerField(min_value=0, max_value=MAX_AMOUNT, **kwargs)


class CustomerSerializer(StrictSerializer):
    id = StringField(required=False, max_length=255, help_text="Your own customer id.")
    email = StringField(
        required=False,
        max_length=512,
        help_text="The customer's email (never shown to a publishable key).",
    )
    name = StringField(
        required=False,
        max_length=255,
        help_text="The customer's name (never shown to a publishable key).",
    )
    is_guest = StrictBooleanField(
        required=False, help_text="True when checking out without an account."
    )


@extend_schema_field(
    {
        "type": "string",
        "format": "country-alpha3",
        "description": "Three-letter ISO 3166-1 alpha-3 country code (`USA`, `IRL`), one ISO has "
        "assigned; lower case is accepted.",
    }
)
class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-3 country code (`USA`, `IRL`); lower case is accepted. A string in
    the schema with `format: country-alpha3` (defined in the API reference): the assigned codes
    are a list no schema keyword carries without an enum."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(
                "Invalid country: expected a string.", code="parameter_invalid_string"
            )
        code = data.upper()
        if not is_country_alpha3(code):
            raise serializers.ValidationError(
                f"Invalid country: {data[:10]!r} is not an ISO 3166-1 alpha-3 country code "
                "(e.g. USA, DEU, IRL).",
                code="parameter_invalid_string",
            )
        return code


class LocationSerializer(StrictSerializer):
    country = CountryField(help_text="ISO 3166-1 alpha-3 country code.")


class CartItemSerializer(StrictSerializer):
    id = StringField(required=False, max_length=255)
    quantity = StrictIntegerField(required=False, min_value=0, max_value=1_000_000)
    title = StringField(required=False, max_length=500)
    variant_title = StringField(required=False, max_length=500)
    weight = StrictIntegerField(required=False, min_value=0, help_text="In grams.")
    taxable = StrictBooleanField(required=False)
    requires_shipping = StrictBooleanField(required=False)
    price = _amount(required=False, help_text="Unit price, in the smallest currency unit.")
    sku = StringField(required=False, max_length=255)
    line_total = _amount(required=False, help_text="In the smallest currency unit.")
    image = StringField(required=False, max_length=2048)
    discounted_price = _amount(required=False, help_text="In the smallest currency unit.")
    total_discount = _amount(required=False, help_text="In the smallest currency unit.")


class CartSerializer(StrictSerializer):
    id = StringField(required=False, max_length=255, help_text="Your own cart id.")
    weight = StrictIntegerField(required=False, min_value=0, help_text="In grams.")
    item_count = StrictIntegerField(
        required=False, min_value=0, help_text="Number of items in the cart."
    )
    items = serializers.ListField(
        child=CartItemSerializer(),
        required=False,
        max_length=MAX_CART_ITEMS,
        help_text="The cart's lines; every money field in the currency's smallest unit.",
    )


class StepSerializer(StrictSerializer):
    status = EnumField(choices=STEP_STATUSES, help_text="not_started, in_progress or complete.")


class _CheckoutFieldsSerializer(StrictSerializer):
    tracking_id = StringField(
        required=False, max_length=255, help_text="Your order or checkout id."
    )
    payment_flow = StringField(
        required=False, max_length=255, help_text="The payment flow it runs against (a label)."
    )
    customer = CustomerSerializer(required=False)
    amount = _amount(required=False, help_text="Total, in the smallest currency unit.")
    currency = CurrencyField(required=False)
    location = LocationSerializer(required=False)
    cart = CartSerializer(required=False)
    metadata = MetadataField(required=False)

    def validate(self, attrs):
        if "amount" in attrs and "currency" not in attrs and self.currency_required:
            raise serializers.ValidationError(
                {"currency": [serializers.ErrorDetail("Missing currency.", code="required")]}
            )
        return attrs

    currency_required = True


class CheckoutStartSerializer(_CheckoutFieldsSerializer):
    tracking_id = StringField(max_length=255, allow_null=False, help_text="Your order id.")
    amount = _amount(help_text="Total, in the smallest currency unit.")
    currency = CurrencyField()


class CheckoutUpdateSerializer(_CheckoutFieldsSerializer):
    # a checkout always has a tracking id (services.checkout_update): it can be changed, not
    # unset, so neither null nor an empty value is one (the document says so: not nullable)
    tracking_id = StringField(
        required=False,
        max_length=255,
        allow_null=False,
        help_text="Your order or checkout id: it can be changed, not unset.",
    )
    shipping = StepSerializer(required=False, help_text="The shipping address form's status.")
    delivery = StepSerializer(required=False, help_text="The delivery options' status.")
    billing = StepSerializer(required=False, help_text="The billing address form's status.")
    currency_required = False

    def validate(self, attrs):
        attrs = super().validate(attrs)
        for step in ("shipping", "delivery", "billing"):
            if step in attrs:
                attrs[step] = attrs[step]["status"]
        return attrs


class CheckoutBrowserStartSerializer(CheckoutStartSerializer):
    """Start with a publishable key: no metadata (it is the merchant's)."""

    metadata = None


class CheckoutBrowserUpdateSerializer(CheckoutUpdateSerializer):
    """Update with a publishable key: the checkout's client secret proves the browser may."""

    metadata = None
    client_secret = StringField(
        required=False,
        max_length=255,
        help_text="The checkout's client secret; required with a publishable key.",
    )


class CheckoutRetrieveSerializer(StrictSerializer):
    client_secret = StringField(
        required=False,
        max_length=255,
        help_text="The checkout's client secret; required with a publishable key.",
    )


class CheckoutCompleteSerializer(StrictSerializer):
    payment_reference = StringField(
        required=False,
        max_length=255,
        help_text="The payment: a `pi_…` of this service or any processor's reference.",
    )


class CheckoutListSerializer(ListParamsSerializer):
    status = EnumField(
        choices=[s.value for s in Status],
        required=False,
        help_text="Only checkouts in this status.",
    )
    tracking_id = StringField(
        required=False, max_length=255, help_text="Only the checkouts with this tracking id."
    )
    payment_flow = StringField(
        required=False, max_length=255, help_text="Only the checkouts of this payment flow."
    )


@extend_schema_field(
    {
        "type": "string",
        "format": "time-zone",
        "description": "An IANA time zone name (`Europe/Dublin`, `America/New_York`, `UTC`).",
    }
)
class TimezoneField(serializers.CharField):
    """An IANA time zone: a string in the schema with `format: time-zone`, which the API
    reference defines (a list of names no schema keyword carries); checked here."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        zone = insights_timezone(value)
        if zone is None:
            raise serializers.ValidationError(
                f"Invalid tz: {value[:60]!r} is not an IANA time zone (e.g. Europe/Dublin).",
                code="parameter_invalid_string",
            )
        return value


class InsightsCreatedSerializer(StrictSerializer):
    gte = TimestampField(
        param="created[gte]", required=False, help_text="Unix seconds (inclusive)."
    )
    lt = TimestampField(param="created[lt]", required=False, help_text="Unix seconds (exclusive).")


class CheckoutInsightsParamsSerializer(StrictSerializer):
    created = InsightsCreatedSerializer(
        required=False, help_text="The window of checkout starts; default the last 30 days."
    )
    group_by = EnumField(choices=GROUP_BY, required=False, help_text="How to bucket the figures.")
    tz = TimezoneField(
        required=False, max_length=64, help_text="IANA time zone of day/week buckets (UTC)."
    )


# --- output (documentation only) ---------------------------------------------------------


class TimelineStepOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=STEP_STATUSES)
    date = serializers.IntegerField(allow_null=True)


class PaymentAttemptOutput(serializers.Serializer):
    status = serializers.CharField()
    date = serializers.IntegerField()
    payment_intent = serializers.CharField()
    decline_code = serializers.CharField(allow_null=True)


class StepChangeOutput(serializers.Serializer):
    step = serializers.CharField()
    status = serializers.ChoiceField(choices=STEP_STATUSES)
    date = serializers.IntegerField()


class TimelineOutput(serializers.Serializer):
    intent_started = TimelineStepOutput()
    shipping = TimelineStepOutput()
    delivery = TimelineStepOutput()
    billing = TimelineStepOutput()
    payment_attempts = PaymentAttemptOutput(many=True)
    complete = TimelineStepOutput()
    history = StepChangeOutput(many=True)


class LinkedPaymentOutput(serializers.Serializer):
    payment_intent = serializers.CharField()
    status = serializers.CharField()
    created = serializers.IntegerField()
    title = serializers.CharField(help_text='"Payment attempt #n"')


class CustomerOutput(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    email = serializers.CharField(
        allow_null=True, required=False, help_text="Never shown to a publishable key."
    )
    name = serializers.CharField(
        allow_null=True, required=False, help_text="Never shown to a publishable key."
    )
    is_guest = serializers.BooleanField(allow_null=True)


class LocationOutput(serializers.Serializer):
    country = serializers.CharField()


class CheckoutOutputSerializer(serializers.Serializer):
    """Exactly the keys of checkouts.presenters.checkout_to_api (tests/test_presenters.py);
    a publishable key gets neither `location`, `metadata`, nor the customer's email and name."""

    id = serializers.CharField()
    object = serializers.CharField(default="checkout")
    amount = serializers.IntegerField(allow_null=True)
    cart = serializers.JSONField(allow_null=True)
    client_secret = serializers.CharField()
    created = serializers.IntegerField()
    currency = serializers.CharField(allow_null=True)
    customer = CustomerOutput(allow_null=True)
    linked_payments = LinkedPaymentOutput(many=True)
    livemode = serializers.BooleanField()
    location = LocationOutput(allow_null=True, required=False)
    metadata = serializers.DictField(child=serializers.CharField(), required=False)
    payment_flow = serializers.CharField(allow_null=True)
    payment_reference = serializers.CharField(allow_null=True)
    source = serializers.ChoiceField(choices=[s.value for s in Source])
    status = serializers.ChoiceField(choices=[s.value for s in Status])
    status_changed_at = serializers.IntegerField()
    timeline = TimelineOutput()
    tracking_id = serializers.CharField()


CheckoutListOutputSerializer = list_schema("CheckoutList", CheckoutOutputSerializer)


class DeclineCodeOutput(serializers.Serializer):
    code = serializers.CharField()
    count = serializers.IntegerField()


class CurrencyFiguresOutput(serializers.Serializer):
    currency = serializers.CharField()
    completed_amount = serializers.IntegerField()
    lost_amount = serializers.IntegerField()
    recovered_amount = serializers.IntegerField()
    declined_attempts = serializers.IntegerField()
    top_decline_codes = DeclineCodeOutput(many=True)


FUNNEL = (
    "started",
    "active",
    "shipping_completed",
    "delivery_completed",
    "billing_completed",
    "payment_attempted",
    "completed",
)


def _steps_output(name: str, field) -> type[serializers.Serializer]:
    return type(
        name,
        (serializers.Serializer,),
        {step: field() for step in FUNNEL[1:]} | {"__module__": __name__},
    )


class FiguresOutput(serializers.Serializer):
    started = serializers.IntegerField()
    active = serializers.IntegerField()
    shipping_completed = serializers.IntegerField()
    delivery_completed = serializers.IntegerField()
    billing_completed = serializers.IntegerField()
    payment_attempted = serializers.IntegerField()
    completed = serializers.IntegerField()
    conversion_rate = serializers.FloatField(allow_null=True, help_text="completed / started")
    step_conversion = _steps_output(
        "StepConversion", lambda: serializers.FloatField(allow_null=True)
    )()
    drop_off = _steps_output("DropOff", serializers.IntegerField)()
    inactive = serializers.IntegerField(help_text="Inactive now: potentially lost.")
    abandoned = serializers.IntegerField()
    recovered = serializers.IntegerField()
    money = CurrencyFiguresOutput(many=True)
    median_seconds_to_complete = serializers.IntegerField(allow_null=True)


class BucketOutput(FiguresOutput):
    bucket = serializers.CharField(
        allow_null=True,
        help_text="The bucket's value (a day or week start, a currency, a country, a payment "
        "flow, a source); null for the checkouts that have none (no country, no payment flow).",
    )


class InsightsWindowOutput(serializers.Serializer):
    """The window the figures cover, as the answer states it: the default start, 30 days
    before `lt`, may precede 1970 (`created[lt]=0`), which a request's bounds do not allow."""

    gte = serializers.IntegerField(help_text="Unix seconds (inclusive).")
    lt = serializers.IntegerField(help_text="Unix seconds (exclusive).")


class CheckoutInsightsOutputSerializer(serializers.Serializer):
    object = serializers.CharField(default="checkout_insights")
    livemode = serializers.BooleanField()
    created = InsightsWindowOutput()
    group_by = serializers.ChoiceField(choices=GROUP_BY, allow_null=True)
    tz = serializers.CharField()
    total = FiguresOutput()
    data = BucketOutput(many=True)
