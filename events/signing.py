"""Both signature schemes (docs/webhooks.md), so Stripe's and Standard Webhooks' receiver libraries
verify the same request. During a secret roll every secret signs: two `v1=` in
Stripe-Signature, two `v1,` entries in webhook-signature. The Standard Webhooks signature is the
`standardwebhooks` library's own; Stripe's scheme, which its library only verifies, is one HMAC
written here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(32)).decode("ascii")


def stripe_signature(*, secrets: list[str], timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"]
    for secret in secrets:
        digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
        parts.append(f"v1={digest}")
    return ",".join(parts)


def standard_signature(*, secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(Webhook(secret).sign(msg_id, when, body) for secret in secrets)


def signed_headers(*, secrets: list[str], event_id: str, timestamp: int, body: bytes) -> dict:
    return {
        "Stripe-Signature": stripe_signature(secrets=secrets, timestamp=timestamp, body=body),
        "webhook-id": event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_signature(
            secrets=secrets, msg_id=event_id, timestamp=timestamp, body=body
        ),
    }
