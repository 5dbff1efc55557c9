"""API keys: hashed at rest, revocation immediate, masked in every answer and log line."""

from __future__ import annotations

import logging

import pytest

from accounts.models import ApiKey
from accounts.selectors import api_key_for_raw
from accounts.services import api_key_revoke, api_keys_roll
from api.logging import ScrubSecretsFilter

pytestmark = pytest.mark.urls("tests.security.urls_for_tests")
URL = "/v1/test_widgets"


def test_raw_key_is_not_stored(acct):
    stored = list(ApiKey.objects.values_list("lookup", "hashed"))
    assert stored
    for lookup, hashed in stored:
        assert acct.sk not in (lookup, hashed)
        assert len(lookup) == len("sk_test_") + 8
    assert any(acct.sk.startswith(lookup) for lookup, _ in stored)


def test_key_with_a_known_prefix_but_wrong_rest_is_refused(client, acct):
    forged = acct.sk[:16] + "x" * (len(acct.sk) - 16)
    assert api_key_for_raw(forged) is None
    response = client.get(URL, key=forged)
    assert response.status_code == 401


def test_revoked_key_is_refused_on_the_next_request(client, acct):
    assert client.get(URL).status_code == 200
    api_key_revoke(key=ApiKey.objects.get(lookup=acct.sk[:16]))
    response = client.get(URL)
    assert response.status_code == 401
    assert "revoked" in response.error["message"]


def test_rolled_keys_stop_working_and_new_ones_work(client, acct):
    new_keys = api_keys_roll(account=acct.account, livemode=False)
    assert client.get(URL).status_code == 401
    assert client.get(URL, key=new_keys["secret_key_test"]).status_code == 200
    assert client.get(URL, key=acct.sk_live).status_code == 200  # the other mode is untouched


def test_error_message_masks_the_key(client, acct):
    forged = acct.sk[:16] + "Q" * (len(acct.sk) - 16)
    response = client.get(URL, key=forged)
    assert forged not in response.content.decode()
    assert forged[8:-4] not in response.content.decode()


def test_refused_key_never_reaches_a_log_line(client, acct, caplog):
    caplog.handler.addFilter(ScrubSecretsFilter())
    caplog.set_level(logging.DEBUG)
    api_key_revoke(key=ApiKey.objects.get(lookup=acct.sk[:16]))
    client.get(URL)
    client.post(URL, {"amount": 100}, key=acct.sk)
    assert caplog.records  # django.request logs the 401s
    assert acct.sk not in caplog.text
    assert acct.sk[16:] not in caplog.text


def test_publishable_key_cannot_use_a_secret_only_route(client, acct):
    response = client.post(URL, {"amount": 100}, key=acct.pk)
    assert response.status_code == 403
    assert response.error["code"] == "secret_key_required"
