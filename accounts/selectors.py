import hmac

from .models import ApiKey
from .services import hash_key, key_lookup

KEY_PREFIXES = ("sk_test_", "sk_live_", "pk_test_", "pk_live_")


def api_key_for_raw(raw: str) -> ApiKey | None:
    """The active key matching `raw`, compared in constant time; None when unknown or revoked."""
    if not raw.startswith(KEY_PREFIXES) or len(raw) < len("sk_test_") + 8:
        return None
    key = ApiKey.objects.select_related("account").filter(lookup=key_lookup(raw)).first()
    if key is None or not hmac.compare_digest(key.hashed, hash_key(raw)):
        return None
    return key
