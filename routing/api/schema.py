"""What the routing parameters' lists state in the document beside drf-spectacular's mapping:
a list whose items each appear once (`uniqueItems`), and a list of hashes of which each has
its own value of one key (`x-unique-items-by`: the key; `routing[split]`, one share per
processor), and a list of hashes whose values of a key sum to a total (`x-items-sum`: key →
total; `routing[split]`'s percents sum to 100), which OpenAPI 3.0 has no keyword for. The API reference's introduction defines the
extension (api/openapi_description.md); the fuzz tests honour it (tests/fuzz_rules/v1.py)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension

UNIQUE_ITEMS_BY = "x-unique-items-by"
ITEMS_SUM = "x-items-sum"


class ArrayFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "routing.api.serializers.ArrayField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            if self.target.unique_items:
                schema["uniqueItems"] = True
            if self.target.service_min_length is not None:
                schema["minItems"] = self.target.service_min_length
            if self.target.unique_by:
                schema[UNIQUE_ITEMS_BY] = self.target.unique_by
            if self.target.items_sum:
                schema[ITEMS_SUM] = dict(self.target.items_sum)
        return schema
