"""Input validation (strict, Stripe codes) and the documented output shapes."""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import (
    ListParamsSerializer,
    MetadataField,
    StrictBooleanField,
    StrictSerializer,
    StringField,
    StringListField,
    WebhookURLField,
    list_schema,
)
from core.errors import InvalidRequestError

from ..types import EVENT_TYPES, is_known_type

# --- input -----------------------------------------------------------------------------------


def validate_enabled_events(value: list[str], *, required: bool) -> list[str]:
    if not value:
        if required:
            raise InvalidRequestError(
                "Missing required param: enabled_events.",
                code="parameter_missing",
                param="enabled_events",
            )
        return value
    for index, name in enumerate(value):
        if name != "*" and not is_known_type(name):
            raise InvalidRequestError(
                f"Invalid enabled_events[{index}]: {str(name)[:80]!r} is not a known event "
                "type (use '*' for every event).",
                code="parameter_invalid_string",
                param=f"enabled_events[{index}]",
            )
    return value


#: The most event types an endpoint names.
MAX_ENABLED_EVENTS = 200
#: What each item of `enabled_events` is: an event type this service emits, or `*`. A pattern,
#: not an enum, so generated clients take a plain string.
ENABLED_EVENT_PATTERN = "^(" + "|".join(re.escape(name) for name in ("*", *EVENT_TYPES)) + ")$"


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "pattern": ENABLED_EVENT_PATTERN},
        "minItems": 1,
        "maxItems": MAX_ENABLED_EVENTS,
    }
)
class EnabledEventsField(StringListField):
    """`enabled_events`: at least one item, each a known event type or `*`. The document states
    it (`minItems`, the items' `pattern`); `validate_enabled_events` checks it, with Stripe's
    messages (an empty list is a missing parameter)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_ENABLED_EVENTS)
        super().__init__(**kwargs)


#: What an endpoint's `url` is (`events.ssrf.check_url`, at registration and before each
#: delivery; the same in live and test mode).
WEBHOOK_URL_HELP = (
    "The URL events are delivered to: an http or https URL without credentials whose host is, "
    "or resolves to, public addresses only (a private, loopback or link-local address is "
    "refused unless the operator allows its network); `url_invalid` otherwise."
)


class WebhookEndpointCreateParams(StrictSerializer):
    url = WebhookURLField(
        required=True,
        allow_null=False,
        max_length=2048,
        help_text=WEBHOOK_URL_HELP,
    )
    enabled_events = EnabledEventsField(
        required=True,
        help_text="The event types to deliver, e.g. `payment_intent.succeeded`, or `*` for all.",
    )
    description = StringField(
        required=False, max_length=5000, help_text="An arbitrary string shown to you."
    )
    metadata = MetadataField(
        required=False,
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key.",
    )
    api_version = StringField(
        required=False,
        max_length=16,
        help_text="Accepted for compatibility with Stripe libraries; events always have this API's version.",
    )

    def validate_enabled_events(self, value):
        return validate_enabled_events(value, required=True)


class WebhookEndpointUpdateParams(StrictSerializer):
    url = WebhookURLField(
        required=False,
        allow_null=False,
        max_length=2048,
        help_text=WEBHOOK_URL_HELP,
    )
    enabled_events = EnabledEventsField(
        required=False, help_text="The event types to deliver, or `*` for all."
    )
    description = StringField(
        required=False, max_length=5000, help_text="An arbitrary string shown to you."
    )
    metadata = MetadataField(
        required=False,
        help_text="Up to 50 key-value pairs of your own (keys ≤ 40 characters, values ≤ 500); an empty value removes a key.",
    )
    disabled = StrictBooleanField(
        required=False, help_text="`true` stops deliveries to this endpoint, `false` resumes them."
    )

    def validate_enabled_events(self, value):
        return validate_enabled_events(value, required=True)


class EventListParams(ListParamsSerializer):
    type = StringField(
        required=False,
        max_length=64,
        help_text="Only events of this type, e.g. `payment_intent.succeeded` (a `*` wildcard is allowed: `payment_intent.*`).",
    )
    types = StringListField(
        required=False,
        max_length=20,
        help_text="Only events of one of these types (up to 20). Not with `type`.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("type") and attrs.get("types"):
            raise InvalidRequestError(
                "You may only specify one of these parameters: type, types.",
                code="parameter_invalid_string",
                param="types",
            )
        return attrs


class EventResendParams(StrictSerializer):
    webhook_endpoint = StringField(
        required=False,
        max_length=64,
        help_text="Resend only to this endpoint (`we_…`); by default to every enabled endpoint that wants the event's type.",
    )


class EmptyParams(StrictSerializer):
    pass


# --- output (documentation of the shapes in events.presenters) ---------------------------------


class EventRequestSerializer(serializers.Serializer):
    id = serializers.CharField(
        allow_null=True,
        help_text="The id (`req_…`) of the request that caused the event; null when a worker "
        "caused it.",
    )
    idempotency_key = serializers.CharField(
        allow_null=True, help_text="The Idempotency-Key of that request, if it had one."
    )
    operator = serializers.CharField(
        required=False,
        help_text="Present only when a person caused the event by hand in the operator console: "
        "who acted, e.g. `admin:alice` (the request `id` is then the console's request).",
    )


class EventDataSerializer(serializers.Serializer):
    object = serializers.DictField()
    previous_attributes = serializers.DictField(required=False)


class EventSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["event"])
    api_version = serializers.CharField()
    created = serializers.IntegerField()
    data = EventDataSerializer()
    livemode = serializers.BooleanField()
    pending_webhooks = serializers.IntegerField()
    request = EventRequestSerializer()
    type = serializers.CharField()


EventListSerializer = list_schema("EventList", EventSerializer)


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["webhook_endpoint"])
    api_version = serializers.CharField()
    application = serializers.CharField(allow_null=True)
    created = serializers.IntegerField()
    description = serializers.CharField(allow_null=True)
    disabled_reason = serializers.CharField(allow_null=True)
    enabled_events = serializers.ListField(child=serializers.CharField())
    livemode = serializers.BooleanField()
    metadata = serializers.DictField(child=serializers.CharField())
    status = serializers.ChoiceField(choices=["enabled", "disabled"])
    url = serializers.CharField()
    secret = serializers.CharField(
        required=False, help_text="Only in the responses of create and roll_secret."
    )


WebhookEndpointListSerializer = list_schema(
    "WebhookEndpointListSerializer", WebhookEndpointSerializer
)


class DeletedWebhookEndpointSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["webhook_endpoint"])
    deleted = serializers.BooleanField()


class DeliveryAttemptSerializer(serializers.Serializer):
    id = serializers.CharField()
    object = serializers.ChoiceField(choices=["webhook_delivery_attempt"])
    created = serializers.IntegerField()
    event = serializers.CharField()
    event_type = serializers.CharField()
    webhook_endpoint = serializers.CharField()
    livemode = serializers.BooleanField()
    http_status = serializers.IntegerField(allow_null=True)
    succeeded = serializers.BooleanField()
    latency_ms = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField()
    error = serializers.CharField(allow_null=True)
    next_attempt_at = serializers.IntegerField(allow_null=True)


DeliveryAttemptListSerializer = list_schema(
    "DeliveryAttemptListSerializer", DeliveryAttemptSerializer
)
