"""Card data at rest: no number, no CVC; the fingerprint is a keyed HMAC; test numbers only in
test mode."""

from __future__ import annotations

import hashlib
import hmac

from payments.models import PaymentMethod

CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2040", "cvc": "987"}


def test_no_stored_column_holds_the_number_or_the_cvc(client):
    response = client.post("/v1/payment_methods", {"type": "card", "card": CARD})
    assert response.status_code == 200
    row = repr(PaymentMethod.objects.filter(id=response.json()["id"]).values().get())
    assert "4242424242424242" not in row
    assert "'987'" not in row and ": 987" not in row
    assert CARD["number"] not in response.content.decode()


def test_fingerprint_is_an_hmac_keyed_from_settings(client, acct, settings):
    settings.CARD_FINGERPRINT_KEY = "k1"
    first = client.post("/v1/payment_methods", {"type": "card", "card": CARD}).json()
    settings.CARD_FINGERPRINT_KEY = "k2"
    second = client.post("/v1/payment_methods", {"type": "card", "card": CARD}).json()
    processor = hmac.new(b"k1", CARD["number"].encode(), hashlib.sha256).hexdigest()
    per_account = f"{acct.id}\x00{processor}".encode()
    expected = hmac.new(b"k1", per_account, hashlib.sha256).hexdigest()
    assert first["card"]["fingerprint"] != second["card"]["fingerprint"]
    assert first["card"]["fingerprint"] in expected  # the full HMAC or a prefix of it
    assert hashlib.sha256(CARD["number"].encode()).hexdigest() != first["card"]["fingerprint"]


def test_live_key_refuses_a_test_card_number(client, acct):
    response = client.post(
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "confirm": "true",
            "payment_method_data": {"type": "card", "card": CARD},
        },
        key=acct.sk_live,
    )
    assert response.status_code == 402
    assert response.error["decline_code"] == "test_mode_live_card"
