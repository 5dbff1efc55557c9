"""API keys as strings: how one is made, recognised, indexed and hashed. Pure functions, no
database; the services (issuing keys) and the selectors (finding one) both use them."""

from __future__ import annotations

import hashlib

from core.ids import random_base62

KEY_RANDOM_LENGTH = 32
LOOKUP_RANDOM_LENGTH = 8
MAX_KEY_LENGTH = 128
# (ApiKey.Kind value, livemode) → the key's prefix.
PREFIXES = {
    ("secret", False): "sk_test_",
    ("secret", True): "sk_live_",
    ("publishable", False): "pk_test_",
    ("publishable", True): "pk_live_",
}
KEY_PREFIXES = tuple(PREFIXES.values())
PREFIX_LENGTH = len("sk_test_")  # every prefix has this length


def key_generate(*, kind: str, livemode: bool) -> str:
    """A new raw key: the prefix of its kind and mode + 32 random base62 characters (190 bits)."""
    return PREFIXES[(kind, livemode)] + random_base62(KEY_RANDOM_LENGTH)


def is_well_formed(raw: str) -> bool:
    """Could `raw` be one of our keys at all (known prefix, plausible length)?"""
    return (
        raw.startswith(KEY_PREFIXES)
        and PREFIX_LENGTH + LOOKUP_RANDOM_LENGTH <= len(raw) <= MAX_KEY_LENGTH
    )


def hash_key(raw: str) -> str:
    """What is stored instead of the key: SHA-256, hex."""
    return hashlib.sha256(raw.encode()).hexdigest()


def key_lookup(raw: str) -> str:
    """sk_test_ + the first 8 random characters: indexed, unique, safe to log."""
    return raw[: PREFIX_LENGTH + LOOKUP_RANDOM_LENGTH]
