"""Prefixed random ids (`pi_…`, `req_…`) from one generator."""

from __future__ import annotations

import hashlib
import os
import string
import threading
from typing import Any

from . import context

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 24


# Random bytes map to the alphabet by `bytes.translate`: byte b < 248 (= 4 × 62) is
# ALPHABET[b % 62], bytes 248–255 are dropped, so every character is equally likely.
_ACCEPTED = 4 * len(ALPHABET)
_TO_ALPHABET = bytes(ord(ALPHABET[b % len(ALPHABET)]) for b in range(_ACCEPTED)) + bytes(
    256 - _ACCEPTED
)
_REJECTED = bytes(range(_ACCEPTED, 256))


# The characters come from the OS's CSPRNG a page at a time, not a system call per id (a
# request draws four or more ids; the calls were 3 % of a create's time under load). Each
# thread keeps its own page of characters, each used once; a process forked after a thread
# drew some never uses that thread's remaining ones (the generation changes in the child).
_PAGE = 4096
_drawn = threading.local()
_generation = 0


def _after_fork_in_child() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


def random_base62(length: int = ID_LENGTH) -> str:
    state: dict[str, Any] = _drawn.__dict__
    chars: bytes
    used: int
    chars, used = state.get("chars", b""), state.get("used", 0)
    if state.get("generation") != _generation:
        chars, used = b"", 0
    if len(chars) - used < length:
        chars = chars[used:]
        while len(chars) < length:
            chars += os.urandom(_PAGE).translate(_TO_ALPHABET, _REJECTED)
        used = 0
    state.update(chars=chars, used=used + length, generation=_generation)
    return chars[used : used + length].decode("ascii")


def generate_id(prefix: str, length: int = ID_LENGTH) -> str:
    return f"{prefix}_{random_base62(length)}"


def derived_id(prefix: str, *parts: str, length: int = ID_LENGTH) -> str:
    """An id that is a function of `parts` (the same parts, the same id), in the same alphabet."""
    digest = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(length):
        digest, index = divmod(digest, len(ALPHABET))
        chars.append(ALPHABET[index])
    return f"{prefix}_{''.join(chars)}"


def attempt_id(operation: str, object_id: str) -> str:
    """The id of a processor attempt (`att_…`), the processor's idempotency key for the call.

    Inside a request holding an Idempotency-Key it is derived from that key's claim, the
    operation and the object, so a retry of the same request computes the same id and finds
    its own earlier attempt; otherwise it is random."""
    seed = context.current().attempt_seed
    if seed:
        return derived_id("att", seed, operation, object_id)
    return generate_id("att")


def created_id(prefix: str, kind: str) -> str:
    """The id of the object (of `kind`) a request creates, e.g. the `pi_…` of a create or the
    `re_…` of a refund. Inside a request holding an Idempotency-Key it is derived from that
    key's claim, so the retry of a request that died finds the object its first run made (and
    that run's attempts on it) instead of making a second one; otherwise it is random. So a
    keyed request creates at most one object of each kind."""
    seed = context.current().attempt_seed
    if seed:
        return derived_id(prefix, seed, kind)
    return generate_id(prefix)


def id_factory(prefix: str) -> _IdFactory:
    """A callable for a model field's `default=`, kept importable for migrations."""
    return _IdFactory(prefix)


def factory_prefix(default: object) -> str | None:
    """The prefix of a field default made by `id_factory`, else None."""
    return default.prefix if isinstance(default, _IdFactory) else None


class _IdFactory:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __call__(self) -> str:
        return generate_id(self.prefix)

    def deconstruct(self) -> tuple[str, tuple[str], dict[str, Any]]:
        return ("core.ids._IdFactory", (self.prefix,), {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _IdFactory) and other.prefix == self.prefix

    def __hash__(self) -> int:
        return hash(self.prefix)
