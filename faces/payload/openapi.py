"""Payload's error body in `/docs/`: every status a Payload operation can answer, in the shape
`faces.payload.errors` writes (a drf-spectacular postprocessing hook, settings)."""

from __future__ import annotations

from api.schema import document_face_errors

from .errors import ERROR_TYPES

ERROR_SCHEMA = {
    "type": "object",
    "description": "Payload's error body; its client picks the exception class by `error_type`.",
    "properties": {
        "object": {"type": "string", "enum": ["error"]},
        "error_type": {"type": "string", "enum": sorted(set(ERROR_TYPES.values()))},
        "error_description": {"type": "string", "description": "What went wrong."},
        "description": {"type": "string", "description": "The same, as Payload also sends."},
        "code": {
            "type": "string",
            "description": "This service's own code for the error, the `code` `/v1/` would "
            "answer (e.g. `payment_method_unexpected_state`: the object's state does not allow "
            "the call, however well formed), where it has one.",
        },
        "details": {
            "type": "object",
            "description": "The attribute at fault and what is wrong with it.",
            "additionalProperties": True,
        },
    },
    "required": ["object", "error_type", "error_description"],
}


def add_error_responses(result, generator, request, public):
    return document_face_errors(
        result, prefix="/payload/", name="PayloadError", schema=ERROR_SCHEMA
    )
