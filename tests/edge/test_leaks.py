"""What a publishable key, or another account, must not learn: card fingerprints are per
account (the same card in two accounts has unrelated fingerprints) and never shown to a
publishable key; a publishable key cannot block or probe a merchant's tracking ids."""

from __future__ import annotations

from tests.conftest import make_account
from tests.helpers import StripeTestClient

CARD = {"number": "4242424242424242", "exp_month": "12", "exp_year": "2034", "cvc": "123"}


def _pm(key: str) -> dict:
    answer = StripeTestClient(key=key).post("/v1/payment_methods", {"type": "card", "card": CARD})
    assert answer.status_code == 200, answer
    return answer.json()


def test_the_same_card_has_one_fingerprint_per_account(db):
    one, two = make_account("One"), make_account("Two")
    first, again, other = _pm(one.sk), _pm(one.sk), _pm(two.sk)
    assert first["card"]["fingerprint"] == again["card"]["fingerprint"]
    assert len(first["card"]["fingerprint"]) == 64
    assert other["card"]["fingerprint"] != first["card"]["fingerprint"]


def test_a_publishable_key_never_sees_a_fingerprint(acct):
    created = _pm(acct.pk)
    assert created["card"]["fingerprint"] is None
    shown = StripeTestClient(key=acct.sk).get(f"/v1/payment_methods/{created['id']}").json()
    assert shown["card"]["fingerprint"]  # the secret key still reads it


def test_a_publishable_confirm_shows_no_fingerprint_anywhere(acct):
    sk = StripeTestClient(key=acct.sk)
    pi = sk.post("/v1/payment_intents", {"amount": 1000, "currency": "usd"}).json()
    answer = StripeTestClient(key=acct.pk).post(
        f"/v1/payment_intents/{pi['id']}/confirm",
        {
            "client_secret": pi["client_secret"],
            "payment_method_data": {"type": "card", "card": CARD},
            "expand": ["payment_method"],
        },
    )
    assert answer.status_code == 200, answer
    body = answer.content.decode()
    pm = sk.get(f"/v1/payment_methods/{answer.json()['payment_method']['id']}").json()
    assert pm["card"]["fingerprint"] not in body
