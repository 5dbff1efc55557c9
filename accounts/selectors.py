import hmac

from .models import ApiKey
from .services import hash_key, key_lookup

KEY_PREFIXES = ("sk_test_", "sk_live_", "pk_test_", "pk_live_")


def api_key_for_raw(raw: str) -> ApiKey | None:
    """The active key matching `raw`, compared in constant time; None when unknown or revoked."""
    if not raw.startswith(KEY_PREFIXES) or len(raw) < len("sk_test_") + 8 or len(raw) > 128:
        return None
    # Hash before the lookup and compare against a dummy when no row matches, so an unknown
    # lookup prefix and a wrong key with a known prefix take the same time.
    presented = hash_key(raw)
    key = ApiKey.objects.select_related("account").filter(lookup=key_lookup(raw)).first()
    expected = key.hashed if key is not None else "0" * 64
    if not hmac.compare_digest(expected, presented) or key is None:
        return None
    return key
