"""Prefixed random ids (`pi_…`, `req_…`) from one generator."""

import secrets
import string

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 24


def random_base62(length: int = ID_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def generate_id(prefix: str, length: int = ID_LENGTH) -> str:
    return f"{prefix}_{random_base62(length)}"


def id_factory(prefix: str):
    """A callable for a model field's `default=`, kept importable for migrations."""
    return _IdFactory(prefix)


def factory_prefix(default) -> str | None:
    """The prefix of a field default made by `id_factory`, else None."""
    return default.prefix if isinstance(default, _IdFactory) else None


class _IdFactory:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self) -> str:
        return generate_id(self.prefix)

    def deconstruct(self):
        return ("core.ids._IdFactory", (self.prefix,), {})

    def __eq__(self, other):
        return isinstance(other, _IdFactory) and other.prefix == self.prefix

    def __hash__(self):
        return hash(self.prefix)
