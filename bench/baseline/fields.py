"""The baseline's own field helpers, imported by its generated models."""

import secrets
import string

from django.db import models
from django.utils.deconstruct import deconstructible

ALPHABET = string.ascii_letters + string.digits


@deconstructible
class IdFactory:
    """`pi_` and 24 random letters and digits, as the product's ids."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self) -> str:
        # 24 letters and digits from one draw of random bytes, as the product draws its ids
        raw = secrets.token_bytes(32)
        return self.prefix + "_" + "".join(ALPHABET[b % 62] for b in raw if b < 248)[:24]

    def __eq__(self, other) -> bool:
        return isinstance(other, IdFactory) and other.prefix == self.prefix


class ValuesJSONField(models.JSONField):
    """A JSONField whose rows a bulk insert sends as VALUES rows (not Django's UNNEST of one
    array per column on PostgreSQL, whose JSON array psycopg escapes slowly)."""

    def get_placeholder(self, value, compiler, connection) -> str:
        return "%s"

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs
