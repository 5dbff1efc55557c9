"""The signatures a delivery carries: the Standard Webhooks one made by the `standardwebhooks`
library, Stripe's by one HMAC. Each is checked against the scheme's published formula and
verified by the scheme's own receiver library, during a secret roll too (two signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
import standardwebhooks
import stripe

from events.signing import new_secret, signed_headers, standard_signature

BODY = b'{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}'
TIMESTAMP = 1_767_000_000


def _formula(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks' signature as its specification writes it."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_the_standard_signature_is_the_specifications_formula_for_each_secret():
    old, new = new_secret(), new_secret()
    signature = standard_signature(
        secrets=[new, old], msg_id="evt_1", timestamp=TIMESTAMP, body=BODY
    )
    assert signature == " ".join(_formula(s, "evt_1", TIMESTAMP, BODY) for s in (new, old))


def test_both_receiver_libraries_verify_a_delivery_signed_with_either_secret():
    old, new = new_secret(), new_secret()
    now = int(time.time())  # the receivers refuse a signature older than five minutes
    headers = signed_headers(secrets=[new, old], event_id="evt_1", timestamp=now, body=BODY)
    standard = {k: v for k, v in headers.items() if k.startswith("webhook-")}
    for secret in (new, old):
        assert standardwebhooks.Webhook(secret).verify(BODY, standard)["id"] == "evt_1"
        event = stripe.Webhook.construct_event(BODY.decode(), headers["Stripe-Signature"], secret)
        assert event["id"] == "evt_1"
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret()).verify(BODY, standard)
