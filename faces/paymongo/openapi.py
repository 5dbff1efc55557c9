"""PayMongo's error body in `/docs/`: every status a PayMongo operation can answer, in the shape
`faces.paymongo.errors` writes (a drf-spectacular postprocessing hook, settings)."""

from __future__ import annotations

import re

from api.schema import document_face_errors

ERROR_SCHEMA = {
    "type": "object",
    "description": "PayMongo's error envelope: one entry per failure.",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {
                        "type": "string",
                        "description": "PayMongo's code, e.g. `parameter_required`, "
                        "`resource_not_found`, `resource_failed_state`.",
                    },
                    "detail": {"type": "string", "description": "What went wrong."},
                    "source": {
                        "type": "object",
                        "description": "The attribute at fault, when there is one.",
                        "properties": {
                            "pointer": {"type": "string"},
                            "attribute": {"type": "string"},
                        },
                    },
                },
                "required": ["code", "detail"],
            },
        }
    },
    "required": ["errors"],
}


def add_error_responses(result, generator, request, public):
    return document_face_errors(
        result, prefix="/paymongo/", name="PayMongoError", schema=ERROR_SCHEMA
    )


_ID_ROUTE = re.compile(r"^(?P<collection>/paymongo/v1/[a-z_]+)/\{id\}(?:/[a-z_]+)?$")
_METHODS = ("get", "post", "put", "delete")


def add_links(result, generator, request, public):
    """A PayMongo create (POST on a collection) links to every operation on the object it made,
    passing the new id, which PayMongo's answer holds in `data.id` (`$response.body#/data/id`):
    what a stateful fuzzer or a reader follows (`api.schema.add_links` does the same for
    `/v1/`, whose answers hold it in `id`)."""
    paths = result.get("paths", {})
    targets: dict[str, list[str]] = {}
    for path, methods in paths.items():
        match = _ID_ROUTE.match(path)
        if match:
            targets.setdefault(match["collection"], []).extend(
                operation["operationId"]
                for method, operation in methods.items()
                if method in _METHODS and operation.get("operationId")
            )
    for collection, operation_ids in targets.items():
        ok = paths.get(collection, {}).get("post", {}).get("responses", {}).get("200")
        if ok is None:
            continue
        ok["links"] = {
            operation_id: {
                "operationId": operation_id,
                "parameters": {"id": "$response.body#/data/id"},
                "description": f"`{operation_id}` on the object just created.",
            }
            for operation_id in operation_ids
        }
    return result
