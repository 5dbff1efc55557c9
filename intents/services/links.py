"""The secrets that let a browser reach an intent without an API secret key: the intent's
client secret, and the signed link to the hosted 3-D Secure page of one attempt (of a
PaymentIntent, or of a SetupIntent's verification)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.core import signing
from django.urls import reverse

from core import context

from ..models import PaymentIntent

THREE_D_SECURE_SALT = "intents.three_d_secure"
THREE_D_SECURE_MAX_AGE_SECONDS = 24 * 3600


def client_secret_matches(pi: PaymentIntent, secret: str | None) -> bool:
    return bool(secret) and hmac.compare_digest(str(secret), pi.client_secret)


def three_d_secure_token(pi: PaymentIntent, charge_id: str) -> str:
    return signing.dumps({"pi": pi.id, "ch": charge_id}, salt=THREE_D_SECURE_SALT)


def three_d_secure_read_token(token: str) -> tuple[str, str] | None:
    """(intent id, charge id) of a token this service signed, or None."""
    try:
        data = signing.loads(
            token, salt=THREE_D_SECURE_SALT, max_age=THREE_D_SECURE_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return None
    return data.get("pi"), data.get("ch")


SETUP_THREE_D_SECURE_SALT = "intents.setup_three_d_secure"


def setup_three_d_secure_token(setup_intent_id: str, attempt_id: str) -> str:
    return signing.dumps(
        {"seti": setup_intent_id, "att": attempt_id}, salt=SETUP_THREE_D_SECURE_SALT
    )


def setup_three_d_secure_read_token(token: str) -> tuple[str, str] | None:
    """(SetupIntent id, id of the attempt that asked for the challenge), or None."""
    try:
        data = signing.loads(
            token, salt=SETUP_THREE_D_SECURE_SALT, max_age=THREE_D_SECURE_MAX_AGE_SECONDS
        )
    except signing.BadSignature:
        return None
    return data.get("seti"), data.get("att")


def setup_three_d_secure_url(setup_intent_id: str, attempt_id: str) -> str:
    base = public_base_url()
    path = reverse("setup_three_d_secure", kwargs={"id": setup_intent_id})
    return f"{base}{path}?token={setup_three_d_secure_token(setup_intent_id, attempt_id)}"


def public_base_url() -> str:
    """Where browsers reach the hosted pages: PUBLIC_BASE_URL when the operator set it, else the
    host the current request came in on (when it is an allowed host), else the address `make run`
    serves on (HOST and PORT)."""
    if settings.PUBLIC_BASE_URL_SET:
        return settings.PUBLIC_BASE_URL.rstrip("/")
    return (context.current().base_url or settings.PUBLIC_BASE_URL).rstrip("/")


def three_d_secure_url(pi: PaymentIntent, charge_id: str) -> str:
    base = public_base_url()
    path = reverse("three_d_secure", kwargs={"id": pi.id})
    return f"{base}{path}?token={three_d_secure_token(pi, charge_id)}"
