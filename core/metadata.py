"""Stripe's metadata rules: at most 50 keys, a key 1–40 characters without square brackets, a
value a string of at most 500; a patch sets keys, an empty value removes one, and `metadata=""`
(the `METADATA_CLEAR` patch) removes them all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from .errors import InvalidRequestError

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500


class _MetadataClear:
    def __repr__(self) -> str:
        return "METADATA_CLEAR"


METADATA_CLEAR = _MetadataClear()


def patch_to_json(patch: object) -> object:
    """A patch as JSON can hold it (an attempt's recorded params): `METADATA_CLEAR` is written
    as the wire's `""`; `patch_from_json` reads it back."""
    return "" if patch is METADATA_CLEAR else patch


def patch_from_json(value: object) -> object:
    return METADATA_CLEAR if value == "" else value


def merge_metadata(
    current: Mapping[str, str] | None, patch: Mapping[str, str | None] | _MetadataClear | None
) -> dict[str, str]:
    """Apply a validated patch ({key: value or None}, or METADATA_CLEAR) to `current`."""
    if patch is None or patch is METADATA_CLEAR:
        return {} if patch is METADATA_CLEAR else dict(current or {})
    merged = dict(current or {})
    # `is METADATA_CLEAR` does not narrow the type, so say what is left.
    for key, value in cast("Mapping[str, str | None]", patch).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_KEYS:
        raise InvalidRequestError(
            f"Invalid metadata: at most {MAX_KEYS} keys are allowed.",
            code="parameter_invalid_metadata",
            param="metadata",
        )
    return merged
