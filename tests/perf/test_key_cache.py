"""Verified keys are remembered per process for API_KEY_CACHE_SECONDS: a key revoked or
rolled is refused once that window has passed (at once when this process revoked it), and a
request neither reads the key nor writes its last use within the window."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.utils import timezone

import accounts.selectors
from accounts.models import ApiKey
from accounts.services import api_keys_roll
from tests.helpers import StripeTestClient

URL = "/v1/payment_intents"


@pytest.fixture
def later(monkeypatch):
    """Move this process's monotonic clock (the cache's) `seconds` ahead."""

    def move(seconds: float) -> None:
        now = time.monotonic() + seconds
        monkeypatch.setattr(accounts.selectors.time, "monotonic", lambda: now)

    return move


def _revoke_elsewhere(acct) -> None:
    """What another web process (or the admin on another machine) does: a database write that
    this process's cache does not hear of."""
    ApiKey.objects.filter(account=acct.account, kind="secret", livemode=False).update(
        revoked_at=timezone.now()
    )


def test_a_revoked_key_works_until_the_window_passes_then_is_refused(client, acct, later):
    assert client.get(URL).status_code == 200
    _revoke_elsewhere(acct)
    later(settings.API_KEY_CACHE_SECONDS - 1)
    assert client.get(URL).status_code == 200  # within the window: still trusted
    later(settings.API_KEY_CACHE_SECONDS)
    response = client.get(URL)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]


def test_a_rolled_key_is_refused_after_the_window_and_the_new_one_works(client, acct, later):
    assert client.get(URL).status_code == 200
    new_keys = api_keys_roll(account=acct.account, livemode=False)
    # this process rolled the key: refused at once, no window
    assert client.get(URL).status_code == 401
    later(settings.API_KEY_CACHE_SECONDS)
    assert client.get(URL).status_code == 401
    assert StripeTestClient(new_keys["secret_key_test"]).get(URL).status_code == 200


def test_without_a_window_every_request_reads_the_key(client, acct, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    assert client.get(URL).status_code == 200
    _revoke_elsewhere(acct)
    assert client.get(URL).status_code == 401


def test_last_use_is_written_at_most_once_per_resolution_not_per_request(
    client, acct, later, django_assert_num_queries
):
    client.get(URL)
    key = ApiKey.objects.get(account=acct.account, kind="secret", livemode=False)
    first = key.last_used
    assert first is not None
    for _ in range(3):
        later(settings.API_KEY_CACHE_SECONDS)  # the key is read again, its last use is recent
        client.get(URL)
    key.refresh_from_db()
    assert key.last_used == first
    with django_assert_num_queries(1):  # within the window: the list query alone
        client.get(URL)
