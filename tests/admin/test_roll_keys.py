"""Rolling an account's keys from the console: new keys shown once on the answer (never stored,
never in a message or the log), the old keys refused at once."""

from __future__ import annotations

import re

from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote

from accounts.keys import hash_key, key_lookup
from accounts.models import Account, ApiKey
from tests.admin.conftest import run_action
from tests.helpers import StripeTestClient

NEW_KEY = re.compile(r'<code class="new-key">([a-z]{2}_(?:test|live)_[A-Za-z0-9]+)</code>')


def test_roll_keys_asks_which_modes_first(operator, acct):
    page = run_action(operator, Account, "roll_keys", [acct.id])
    assert page.status_code == 200
    assert 'name="modes"' in page.content.decode()
    assert StripeTestClient(key=acct.sk).get("/v1/payment_intents").status_code == 200


def test_roll_keys_shows_the_new_keys_once_and_the_old_ones_stop_working(operator, acct):
    response = run_action(operator, Account, "roll_keys", [acct.id], modes="test")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    keys = NEW_KEY.findall(response.content.decode())
    secret = next(k for k in keys if k.startswith("sk_test_"))
    assert {k[:8] for k in keys} == {"sk_test_", "pk_test_"}

    assert StripeTestClient(key=acct.sk).get("/v1/payment_intents").status_code == 401
    assert StripeTestClient(key=secret).get("/v1/payment_intents").status_code == 200
    # live keys were not asked for: they still work
    assert StripeTestClient(key=acct.sk_live).get("/v1/payment_intents").status_code == 200

    # stored only as a hash; shown nowhere else, and the log names the prefix only
    stored = ApiKey.objects.get(lookup=key_lookup(secret))
    assert stored.hashed == hash_key(secret)
    assert not ApiKey.objects.filter(hashed=secret).exists()
    entry = LogEntry.objects.get()
    assert key_lookup(secret) + "…" in entry.change_message
    assert secret not in entry.change_message
    for url in (f"/admin/accounts/account/{quote(acct.id)}/change/", "/admin/accounts/apikey/"):
        page = operator.get(url).content.decode()
        assert key_lookup(secret) in page
        assert secret not in page
        assert stored.hashed not in page


def test_roll_keys_of_every_mode(operator, acct):
    response = run_action(operator, Account, "roll_keys", [acct.id], modes="all")
    keys = NEW_KEY.findall(response.content.decode())
    assert sorted(k[:8] for k in keys) == ["pk_live_", "pk_test_", "sk_live_", "sk_test_"]
    for old in (acct.sk, acct.sk_live):
        assert StripeTestClient(key=old).get("/v1/payment_intents").status_code == 401
