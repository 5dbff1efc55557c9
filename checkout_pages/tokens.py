"""The client token of a checkout intent as a string: how one is made and what is stored instead.
Pure functions, no database (like `accounts.keys`)."""

from __future__ import annotations

import hashlib
import hmac

from core.ids import random_base62

TOKEN_PREFIX = "ctok_"
TOKEN_RANDOM_LENGTH = 32  # base62: 190 bits


def client_token_generate() -> str:
    """A new token: unguessable, unrelated to the intent's id."""
    return TOKEN_PREFIX + random_base62(TOKEN_RANDOM_LENGTH)


def client_token_hash(raw: str) -> str:
    """What is stored instead of the token: SHA-256, hex."""
    return hashlib.sha256(str(raw).encode()).hexdigest()


def client_token_matches(stored_hash: str, raw: str | None) -> bool:
    """`raw` is the token whose hash is stored, compared in constant time."""
    return bool(raw) and hmac.compare_digest(stored_hash, client_token_hash(raw))


def is_well_formed(raw: str) -> bool:
    return raw.startswith(TOKEN_PREFIX) and len(raw) == len(TOKEN_PREFIX) + TOKEN_RANDOM_LENGTH
