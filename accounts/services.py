import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.ids import random_base62

from .models import Account, ApiKey

KEY_RANDOM_LENGTH = 32
LOOKUP_RANDOM_LENGTH = 8
PREFIXES = {
    (ApiKey.Kind.SECRET, False): "sk_test_",
    (ApiKey.Kind.SECRET, True): "sk_live_",
    (ApiKey.Kind.PUBLISHABLE, False): "pk_test_",
    (ApiKey.Kind.PUBLISHABLE, True): "pk_live_",
}


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def key_lookup(raw: str) -> str:
    """sk_test_ + the first 8 random characters: indexed, unique, safe to log."""
    return raw[: len("sk_test_") + LOOKUP_RANDOM_LENGTH]


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    raw: str  # shown once, never stored


def api_key_create(*, account: Account, kind: str, livemode: bool) -> IssuedKey:
    raw = PREFIXES[(kind, livemode)] + random_base62(KEY_RANDOM_LENGTH)
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
    return keys


def api_key_revoke(*, key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def api_key_touch(*, key: ApiKey) -> None:
    """Record last use at most once a minute per key: one cheap conditional UPDATE."""
    from django.conf import settings

    now = timezone.now()
    resolution = settings.API_KEY_LAST_USED_RESOLUTION_SECONDS
    if key.last_used is None or (now - key.last_used).total_seconds() >= resolution:
        ApiKey.objects.filter(pk=key.pk).update(last_used=now)
        key.last_used = now
