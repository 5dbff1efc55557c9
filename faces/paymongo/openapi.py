"""PayMongo's error body in `/docs/`: every status a PayMongo operation can answer, in the shape
`faces.paymongo.errors` writes (a drf-spectacular postprocessing hook, settings)."""

from __future__ import annotations

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
