"""Secrets at rest (a `stripe` processor connection's API key): Fernet, authenticated encryption,
over `settings.PROCESSOR_CREDENTIAL_KEYS` (newest first). `encrypt` uses the newest key, any key
decrypts, and `rotate` re-encrypts a token with the newest: a key is rotated by putting a new one
first, rotating every stored token, then dropping the old key. With no key configured, one is
derived from `SECRET_KEY` (SHA-256, url-safe base64), so a laptop needs no setting."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["CredentialError", "account_card_fingerprint", "decrypt", "encrypt", "rotate"]


class CredentialError(Exception):
    """A token none of the configured keys opens: not one of ours, altered, or encrypted with a
    key since dropped from `PROCESSOR_CREDENTIAL_KEYS`."""


def encrypt(text: str) -> str:
    """`text` encrypted with the newest key: an url-safe ASCII token."""
    return _fernet().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token `encrypt` made with any configured key; `CredentialError` else."""
    try:
        return _fernet().decrypt(_token_bytes(token)).decode()
    except (InvalidToken, UnicodeError) as error:
        raise CredentialError(_UNREADABLE) from error


def rotate(token: str) -> str:
    """The same secret, encrypted with the newest key (a token already under it is re-encrypted
    too: Fernet tokens carry a random IV). `CredentialError` if no configured key opens it."""
    try:
        return _fernet().rotate(_token_bytes(token)).decode("ascii")
    except (InvalidToken, UnicodeError) as error:
        raise CredentialError(_UNREADABLE) from error


_UNREADABLE = (
    "The credential cannot be decrypted with any key of PROCESSOR_CREDENTIAL_KEYS (not a token "
    "of ours, altered, or encrypted with a key no longer configured)."
)


def _token_bytes(token: str) -> bytes:
    if not isinstance(token, str) or not token.isascii():
        raise CredentialError(_UNREADABLE)
    return token.encode("ascii")


def _fernet() -> MultiFernet:
    keys = tuple(str(key) for key in settings.PROCESSOR_CREDENTIAL_KEYS if str(key).strip())
    return _multi_fernet(keys, str(settings.SECRET_KEY))


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    """One MultiFernet per configuration (tests change the settings)."""
    if not keys:
        derived = base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest())
        return MultiFernet([Fernet(derived)])
    fernets = []
    for index, key in enumerate(keys):
        try:
            fernets.append(Fernet(key.strip()))
        except (ValueError, TypeError) as error:
            # never the key itself in the message
            raise ImproperlyConfigured(
                f"PROCESSOR_CREDENTIAL_KEYS[{index}] is not a Fernet key (32 bytes, url-safe "
                "base64: `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)."
            ) from error
    return MultiFernet(fernets)


def account_card_fingerprint(account_id: str, processor_fingerprint: str) -> str:
    """A card's fingerprint as one account sees it: the processor's (itself a keyed value,
    the same for a card everywhere) HMAC-ed with `settings.CARD_FINGERPRINT_KEY` and the
    account's id, so the same card has one fingerprint in an account and unrelated ones in two
    accounts, and nobody without the key can tell which card it is."""
    key = settings.CARD_FINGERPRINT_KEY
    raw_key = key.encode() if isinstance(key, str) else key
    message = f"{account_id}\x00{processor_fingerprint}".encode()
    return hmac.new(raw_key, message, hashlib.sha256).hexdigest()
