"""CheckoutIntent on the wire: `expand`, the strict input serializers of each endpoint, and the
output schema (the output itself is `checkout_pages.presenters.checkout_intent_to_api`)."""

from __future__ import annotations

from drf_spectacular.drainage import get_override, set_override
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.serializers import (
    HTTP_URL_PATTERN,
    CurrencyField,
    EnumField,
    HttpUrlField,
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

from ..models import Capture, Status, Type
from ..services.checkout_intents import MAX_ALLOWED_ORIGINS, MAX_LIFETIME, MIN_LIFETIME

EXPANDABLE = ("payment_intent", "customer")


def parse_expand(raw, *, prefix: str = "", publishable: bool = False) -> tuple[str, ...]:
    """`expand[]=payment_intent` (or `data.payment_intent` on lists); nothing with a
    publishable key."""
    if raw in (None, ""):
        return ()
    items = raw  # (`expand=x`, a string, is no array: Stripe refuses it so)
    if not isinstance(items, list):
        raise InvalidRequestError("Invalid array.", code="parameter_invalid_array", param="expand")
    out = []
    for item in items:
        name = str(item)
        if prefix and name.startswith(prefix):
            name = name[len(prefix) :]
        elif prefix:
            name = ""
        if publishable or name not in EXPANDABLE:
            raise InvalidRequestError(
                f"This property cannot be expanded ({item}).",
                code="parameter_invalid_expand",
                param="expand",
            )
        out.append(name)
    return tuple(out)


@extend_schema_field(
    {
        "type": "array",
        "nullable": True,
        "maxItems": MAX_ALLOWED_ORIGINS,
        "items": {
            "type": "string",
            "format": "uri",
            "pattern": HTTP_URL_PATTERN + "[^/?#@;,*]+/?$",
            "description": "An origin: scheme, host and optional port "
            "(`https://shop.example.com`).",
        },
    }
)
class OriginListField(StringListField):
    """Web origins: in the schema URIs with no path, query or fragment (a `pattern`); each is
    checked by the service (`core.web.web_origin`), and nothing around it is trimmed. Null, as
    a form's empty value (`allowed_origins=`), is no origin: it cannot be framed."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(trim_whitespace=False))
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


#: On an integer property (a unix time): the window it must be in, which moves with the date
#: (so no `minimum` / `maximum` can state it): at least `min_after_now` seconds after the
#: request and at most `max_after_created` seconds after the object's creation (the request,
#: on create). The API reference's introduction defines it; tests/fuzz_rules/v1.py honours it.
TIME_WINDOW = "x-time-window"


@extend_schema_field(
    {
        "type": "integer",
        "format": "int64",
        "minimum": -(2**63 - 1),
        "maximum": 2**63 - 1,
        TIME_WINDOW: {
            "min_after_now": int(MIN_LIFETIME.total_seconds()),
            "max_after_created": int(MAX_LIFETIME.total_seconds()),
        },
    }
)
class ExpiresAtField(StrictIntegerField):
    """A checkout intent's `expires_at` (services.checkout_intents.expiry_from)."""


class RedirectsSerializer(StrictSerializer):
    completed_url = HttpUrlField(
        required=False,
        help_text="Where the customer is sent once finished (required for checkout_page), with "
        "`checkout_intent` and `status` added to its query string.",
    )
    return_url = HttpUrlField(
        required=False,
        help_text="The page's back link (the same two parameters are added).",
    )


class _CheckoutIntentFieldsSerializer(StrictSerializer):
    currency_parameters = {"amount": "currency", "amount_min": "currency", "amount_max": "currency"}

    amount = StrictIntegerField(
        required=False, help_text="In the currency's smallest unit (cents for usd)."
    )
    currency = CurrencyField(required=False, help_text="Three-letter ISO code, lowercase.")
    amount_editable = StrictBooleanField(
        required=False, help_text="The customer may change the amount on the page."
    )
    amount_min = StrictIntegerField(
        required=False,
        help_text="With amount_editable: the least the customer may pay; not more than "
        "`amount` nor `amount_max` (`x-not-more-than`).",
    )
    amount_max = StrictIntegerField(
        required=False,
        help_text="With amount_editable: the most the customer may pay; not less than "
        "`amount` nor `amount_min` (`x-not-more-than`).",
    )
    capture = EnumField(
        choices=[c.value for c in Capture],
        required=False,
        help_text="automatic (default) captures at once; manual only authorises (the "
        "PaymentIntent's capture_method).",
    )
    customer = StringField(
        required=False, max_length=255, help_text="A cus_ id; required for payment_method_form."
    )
    description = StringField(required=False, max_length=1000, help_text="Shown on the page.")
    metadata = MetadataField(required=False)
    order_number = StringField(
        required=False, max_length=255, help_text="Carried onto the PaymentIntent's metadata."
    )
    payment_flow = StringField(
        required=False,
        max_length=40,
        help_text="The payment flow (`flow_…`) the checkout's payments are routed by; unset: "
        "the account's default flow. An empty value on update unsets it.",
    )
    invoice = StringField(
        required=False, max_length=255, help_text="Carried onto the PaymentIntent's metadata."
    )
    card_payments = StrictBooleanField(required=False, help_text="Offer card payments (default).")
    billing_address = StrictBooleanField(
        required=False, help_text="Ask for the full billing address."
    )
    save_payment_method = StrictBooleanField(
        required=False,
        help_text="Keep the card on the customer for later (setup_future_usage=off_session).",
    )
    redirects = RedirectsSerializer(required=False)
    allowed_origins = OriginListField(
        required=False,
        help_text=f"Origins (https://shop.example.com) that may frame a checkout_plugin or a "
        f"form, at most {MAX_ALLOWED_ORIGINS}; empty (or null) means it cannot be framed.",
    )
    expires_at = ExpiresAtField(
        required=False,
        help_text="Unix time, at least 30 minutes from now and at most 30 days after the "
        "checkout intent's creation (`x-time-window`; default 24 hours after creation).",
    )


class CheckoutIntentCreateSerializer(_CheckoutIntentFieldsSerializer):
    # What `services.checkout_intents.validate` checks of a new checkout intent's fields.
    required_one_of = (
        ("amount", "amount_editable=true", "type=payment_method_form"),
        ("currency", "type=payment_method_form"),
    )
    required_with = {
        "type=payment_method_form": ("customer",),
        "type=checkout_page": ("redirects[completed_url]",),
        "amount_min": ("amount_editable",),
        "amount_max": ("amount_editable",),
    }
    excluded_with = {
        "type=payment_method_form": (
            "amount",
            "currency",
            "amount_min",
            "amount_max",
            "amount_editable",
        ),
        "type=checkout_page": ("allowed_origins",),
        "amount_editable=false": ("amount_min", "amount_max"),
    }

    type = EnumField(
        choices=[t.value for t in Type], help_text="What the customer uses; fixed after create."
    )


#: On a request body's object: parameter → those it may not be more than, when both are given
#: (a rule between two values that OpenAPI 3.0 has no keyword for). The API reference's
#: introduction defines it; tests/fuzz_rules/v1.py honours it.
NOT_MORE_THAN = "x-not-more-than"
#: What `services.checkout_intents.validate` holds an editable amount to.
AMOUNT_ORDER = {"amount_min": ["amount", "amount_max"], "amount": ["amount_max"]}


def _states_amount_order(serializer_class):
    extensions = get_override(serializer_class, "extensions", {})
    set_override(serializer_class, "extensions", {**extensions, NOT_MORE_THAN: AMOUNT_ORDER})
    return serializer_class


_states_amount_order(CheckoutIntentCreateSerializer)


# `type` is taken only to refuse it with a clear message (TypeImmutable): the document offers
# no parameter that is always refused, so it leaves it out (the operation says so in words).
@_states_amount_order
@extend_schema_serializer(exclude_fields=["type"])
class CheckoutIntentUpdateSerializer(_CheckoutIntentFieldsSerializer):
    # What the request alone breaks (a rule reading what the intent keeps answers `_for_object`)
    excluded_with = {"amount_editable=false": ("amount_min", "amount_max")}

    type = EnumField(
        choices=[t.value for t in Type],
        required=False,
        help_text="Cannot be changed: given, it is refused.",
    )


class CheckoutIntentRetrieveSerializer(StrictSerializer):
    client_token = StringField(
        required=False,
        max_length=255,
        help_text="Required with a publishable key: the intent's current client token.",
    )


class EmptySerializer(StrictSerializer):
    pass


class CheckoutIntentListSerializer(ListParamsSerializer):
    status = EnumField(
        choices=[s.value for s in Status],
        required=False,
        help_text="Only checkout intents in this status.",
    )
    type = EnumField(
        choices=[t.value for t in Type],
        required=False,
        help_text="Only checkout intents of this type.",
    )
    customer = StringField(
        required=False,
        max_length=255,
        help_text="Only checkout intents for this customer (`cus_…`).",
    )


# --- output (documentation only) ------------------------------------------------------------


class RedirectsSchema(serializers.Serializer):
    completed_url = serializers.CharField(allow_null=True)
    return_url = serializers.CharField(allow_null=True)


class AttemptSchema(serializers.Serializer):
    charge = serializers.CharField()
    payment_intent = serializers.CharField()
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "succeeded", "failed"])
    failure_code = serializers.CharField(allow_null=True)
    decline_code = serializers.CharField(allow_null=True)
    failure_message = serializers.CharField(allow_null=True)
    created = serializers.IntegerField()


class CheckoutIntentSchema(serializers.Serializer):
    """For the OpenAPI schema only; responses are built by `checkout_intent_to_api`."""

    id = serializers.CharField()
    object = serializers.CharField(default="checkout_intent")
    allowed_origins = serializers.ListField(child=serializers.CharField())
    amount = serializers.IntegerField(allow_null=True)
    amount_editable = serializers.BooleanField()
    amount_max = serializers.IntegerField(allow_null=True)
    amount_min = serializers.IntegerField(allow_null=True)
    attempts = AttemptSchema(many=True)
    billing_address = serializers.BooleanField()
    canceled_at = serializers.IntegerField(allow_null=True)
    capture = serializers.ChoiceField(choices=[c.value for c in Capture])
    card_payments = serializers.BooleanField()
    checkout = serializers.CharField(
        allow_null=True,
        help_text="The tracked checkout (`chk_…`, `source: hosted`) this checkout intent "
        "drives, whose insights count it; null for a payment_method_form, which takes no "
        "payment.",
    )
    client_token = serializers.CharField(
        allow_null=True, help_text="Only in the create and client_token responses."
    )
    created = serializers.IntegerField()
    currency = serializers.CharField(allow_null=True)
    customer = serializers.JSONField(allow_null=True, help_text="A cus_ id, or the customer.")
    description = serializers.CharField(allow_null=True)
    expired_at = serializers.IntegerField(allow_null=True)
    expires_at = serializers.IntegerField()
    finished_at = serializers.IntegerField(allow_null=True)
    invoice = serializers.CharField(allow_null=True)
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    order_number = serializers.CharField(allow_null=True)
    payment_flow = serializers.CharField(
        allow_null=True, help_text="The payment flow (`flow_…`) its payments are routed by."
    )
    payment_intent = serializers.JSONField(
        allow_null=True, help_text="A pi_ id, or the PaymentIntent."
    )
    payment_method = serializers.CharField(allow_null=True)
    redirects = RedirectsSchema()
    save_payment_method = serializers.BooleanField()
    status = serializers.ChoiceField(choices=[s.value for s in Status])
    type = serializers.ChoiceField(choices=[t.value for t in Type])
    url = serializers.CharField(
        allow_null=True,
        help_text="checkout_page: the hosted page, only alongside client_token.",
    )


CheckoutIntentListSchema = list_schema("CheckoutIntentList", CheckoutIntentSchema)
