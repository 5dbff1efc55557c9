"""A Unix timestamp a service takes only within a window that moves with the clock (a Checkout
Session's `expires_at`: 30 minutes to 24 hours from now). OpenAPI 3.0 cannot state a bound
relative to the time of the request, so the document states it beside the schema as
`x-seconds-from-now` (`{"minimum": …, "maximum": …}`, seconds from the moment the request is
received), which the API reference defines (api/openapi_description.md, parameter rules) and
the fuzz tests honour (tests/fuzz_rules/checkout.py)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from .serializers import StrictIntegerField

#: The extension on an integer property: the seconds from now its value may lie within.
SECONDS_FROM_NOW = "x-seconds-from-now"


class MovingTimestampField(StrictIntegerField):
    """A Unix timestamp checked by its service against now (with the service's own message):
    `min_seconds` to `max_seconds` ahead. The field checks only that it is an integer."""

    def __init__(self, *, min_seconds: int, max_seconds: int, **kwargs):
        self.window = (min_seconds, max_seconds)
        super().__init__(**kwargs)


class MovingTimestampFieldSchema(OpenApiSerializerFieldExtension):
    """A `MovingTimestampField` states its window as `x-seconds-from-now`."""

    target_class = "api.time_windows.MovingTimestampField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        low, high = self.target.window
        schema[SECONDS_FROM_NOW] = {"minimum": low, "maximum": high}
        return schema
