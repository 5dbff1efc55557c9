"""Every write of the accounts app: accounts and their API keys (issued, rolled, revoked, used)."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .keys import hash_key, key_generate, key_lookup
from .models import Account, ApiKey
from .selectors import api_key_cache_clear


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    raw: str  # shown once, never stored


def api_key_create(*, account: Account, kind: str, livemode: bool) -> IssuedKey:
    raw = key_generate(kind=kind, livemode=livemode)
    key = ApiKey.objects.create(
        account=account, kind=kind, livemode=livemode, lookup=key_lookup(raw), hashed=hash_key(raw)
    )
    return IssuedKey(key=key, raw=raw)


def _issue_pair(account: Account, livemode: bool) -> dict[str, str]:
    secret = api_key_create(account=account, kind=ApiKey.Kind.SECRET, livemode=livemode)
    publishable = api_key_create(account=account, kind=ApiKey.Kind.PUBLISHABLE, livemode=livemode)
    suffix = "live" if livemode else "test"
    return {f"secret_key_{suffix}": secret.raw, f"publishable_key_{suffix}": publishable.raw}


@transaction.atomic
def api_keys_issue(*, account: Account, livemode: bool) -> dict[str, str]:
    """Issue one more secret/publishable pair of a mode and revoke nothing: the account's other
    keys (an operator's, an integration's) keep working."""
    return _issue_pair(account, livemode=livemode)


@transaction.atomic
def account_create(*, name: str, live: bool = False) -> tuple[Account, dict[str, str]]:
    """Create an account with test keys (and live keys when asked). Returns the raw keys once."""
    account = Account.objects.create(name=name)
    keys = _issue_pair(account, livemode=False)
    if live:
        keys.update(_issue_pair(account, livemode=True))
    return account, keys


@transaction.atomic
def api_keys_roll(*, account: Account, livemode: bool | None = None) -> dict[str, str]:
    """Issue new keys and revoke the old ones of the same mode(s) at once."""
    modes = (
        [livemode]
        if livemode is not None
        else sorted(
            set(account.api_keys.filter(revoked_at__isnull=True).values_list("livemode", flat=True))
        )
        or [False]
    )
    now = timezone.now()
    keys: dict[str, str] = {}
    for mode in modes:
        ApiKey.objects.filter(account=account, livemode=mode, revoked_at__isnull=True).update(
            revoked_at=now
        )
        keys.update(_issue_pair(account, livemode=mode))
    _forget_verified_keys()
    return keys


def api_key_revoke(*, key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    _forget_verified_keys()


def _forget_verified_keys() -> None:
    """This process stops trusting the keys it verified: now, and again once the revocation
    commits (a request in between may have read the key as it was)."""
    api_key_cache_clear()
    transaction.on_commit(api_key_cache_clear)


def api_key_touch(*, key: ApiKey) -> None:
    """Record last use at most once per `API_KEY_LAST_USED_RESOLUTION_SECONDS` (a minute) per
    key and process: one UPDATE then, none on the requests in between (the key row this
    process verified remembers when it wrote)."""
    now = timezone.now()
    resolution = settings.API_KEY_LAST_USED_RESOLUTION_SECONDS
    if key.last_used is None or (now - key.last_used).total_seconds() >= resolution:
        ApiKey.objects.filter(pk=key.pk).update(last_used=now)
        key.last_used = now
