"""The fuzz harness's hooks that honour what the document states beside the schema, one module
per part of the API (imported by tests/test_fuzz.py), and what they share: the document itself
and a request body's schema."""

from __future__ import annotations

import json
from pathlib import Path

DOCUMENT = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text(encoding="utf-8")
)
SCHEMAS = DOCUMENT.get("components", {}).get("schemas", {})


def json_body_schema(ctx) -> dict | None:
    """The schema of the JSON body of the operation a hook is called for (the form body's is
    the same one), or None when it takes none."""
    if ctx.operation is None:
        return None
    content = ctx.operation.definition.raw.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")


def resolve(schema: dict, seen: frozenset) -> tuple[dict, frozenset] | None:
    """`schema` with its `$ref`s followed, and the refs seen on the way down; None where a ref
    comes round again (a recursive schema: the walk stops there)."""
    while "$ref" in schema:
        if schema["$ref"] in seen:
            return None
        seen = seen | {schema["$ref"]}
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema, seen
