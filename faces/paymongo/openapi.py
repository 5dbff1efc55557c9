"""PayMongo's error body in `/docs/`: every status a PayMongo operation can answer, in the shape
`faces.paymongo.errors` writes (a drf-spectacular postprocessing hook, settings)."""

from __future__ import annotations

import re

from api.schema import document_face_errors, link_creates

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


def add_links(result, generator, request, public):
    """A PayMongo create links to every operation on the object it made, passing the new id,
    which PayMongo's answer holds in `data.id` (`$response.body#/data/id`); the links are named
    by the operation ids as they are."""
    return link_creates(
        result, route=_ID_ROUTE, id_pointer="$response.body#/data/id", name=lambda name: name
    )
