"""Reads of accounts and keys.

Verified keys are remembered by this process for `API_KEY_CACHE_SECONDS` (a few seconds), so a
request does not pay a key lookup: a key revoked or rolled by another process stops working
once its entry is older than that window; revoked by this process, at once (the services drop
the cache). The cache holds key rows as read, never a raw key; nothing writes to them.
"""

import hmac
import threading
import time

from django.conf import settings

from .keys import hash_key, is_well_formed, key_lookup
from .models import Account, ApiKey

# The account `make run` creates (ensure_demo_account) and `listen` / `trigger` act for.
DEMO_ACCOUNT_NAME = "Demo merchant"


def demo_account() -> Account | None:
    return Account.objects.filter(name=DEMO_ACCOUNT_NAME).order_by("created").first()


def account_for_cli(account_id: str | None) -> Account | None:
    """The account a local command acts for: `--account acct_…`, else the demo account."""
    if account_id:
        return Account.objects.filter(id=account_id).first()
    return demo_account()


# hash of the raw key → (the key row with its account, monotonic time it was read)
_verified: dict[str, tuple[ApiKey, float]] = {}
_verified_lock = threading.Lock()
_MAX_CACHED_KEYS = 10_000


def api_key_cache_clear() -> None:
    """Forget every key this process verified (after a revocation or a roll)."""
    with _verified_lock:
        _verified.clear()


def api_key_for_raw(raw: str) -> ApiKey | None:
    """The key matching `raw` (checked in constant time), from this process's cache when it was
    read less than `API_KEY_CACHE_SECONDS` ago; None when unknown. The caller checks
    `is_active`: a revoked key is returned, so it can be refused as revoked."""
    if not is_well_formed(raw):
        return None
    presented = hash_key(raw)
    ttl = settings.API_KEY_CACHE_SECONDS
    now = time.monotonic()
    hit = _verified.get(presented)
    if hit is not None and now - hit[1] < ttl:
        return hit[0]
    key = _api_key_read(raw, presented)
    if key is not None and ttl > 0:
        with _verified_lock:
            if len(_verified) >= _MAX_CACHED_KEYS:
                _verified.clear()
            _verified[presented] = (key, now)
    return key


def _api_key_read(raw: str, presented: str) -> ApiKey | None:
    # The hash is computed before the lookup and compared against a dummy when no row matches,
    # so an unknown lookup prefix and a wrong key with a known prefix take the same time.
    key = ApiKey.objects.select_related("account").filter(lookup=key_lookup(raw)).first()
    expected = key.hashed if key is not None else "0" * 64
    if not hmac.compare_digest(expected, presented) or key is None:
        return None
    return key
