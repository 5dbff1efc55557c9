"""Reads of accounts and keys."""

import hmac

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


def api_key_for_raw(raw: str) -> ApiKey | None:
    """The active key matching `raw`, compared in constant time; None when unknown or revoked."""
    if not is_well_formed(raw):
        return None
    # Hash before the lookup and compare against a dummy when no row matches, so an unknown
    # lookup prefix and a wrong key with a known prefix take the same time.
    presented = hash_key(raw)
    key = ApiKey.objects.select_related("account").filter(lookup=key_lookup(raw)).first()
    expected = key.hashed if key is not None else "0" * 64
    if not hmac.compare_digest(expected, presented) or key is None:
        return None
    return key
