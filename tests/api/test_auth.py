"""Key authentication: Bearer and Basic, every way a key can be wrong, and key kinds."""

import base64
import time

import pytest
from django.conf import settings
from django.utils import timezone

import accounts.selectors
from accounts.models import ApiKey
from tests.helpers import StripeTestClient

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.api.urls_for_tests")]


def _basic(raw: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{raw}:{password}".encode()).decode()


def test_bearer_secret_key_is_accepted(acct):
    response = StripeTestClient(acct.sk).post("/v1/echo", {"amount": 5})
    assert response.status_code == 200


def test_basic_auth_with_key_as_user_name_is_accepted(acct):
    client = StripeTestClient("")
    response = client.post("/v1/echo", {"amount": 5}, headers={"Authorization": _basic(acct.sk)})
    assert response.status_code == 200


def test_missing_key_is_401(anon_client):
    response = anon_client.post("/v1/echo", {"amount": 5})
    assert response.status_code == 401
    assert response.error["type"] == "invalid_request_error"
    assert "did not provide an API key" in response.error["message"]
    assert "code" not in response.error


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Token sk_test_abc",
        "Basic !!!notbase64",
        "Bearer sk_test_short",
        "Bearer xx_test_" + "a" * 32,
    ],
)
def test_malformed_key_is_401(db, anon_client, header):
    response = anon_client.post("/v1/echo", {"amount": 5}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.error["type"] == "invalid_request_error"


def test_unknown_key_is_401_and_the_message_masks_it(db, anon_client):
    raw = "sk_test_" + "Z" * 32
    response = anon_client.post(
        "/v1/echo", {"amount": 5}, headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 401
    assert "Invalid API Key" in response.error["message"]
    assert raw not in response.error["message"]


def test_key_with_right_lookup_but_wrong_secret_is_401(acct, anon_client):
    forged = acct.sk[:-4] + ("AAAA" if not acct.sk.endswith("AAAA") else "BBBB")
    response = anon_client.post(
        "/v1/echo", {"amount": 5}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401


def test_key_revoked_in_the_database_is_401_once_the_cache_window_passed(acct, monkeypatch):
    """Revoked by another process (here: straight in the database), a key this process
    verified works at most API_KEY_CACHE_SECONDS longer."""
    client = StripeTestClient(acct.sk)
    assert client.post("/v1/echo", {"amount": 5}).status_code == 200
    ApiKey.objects.filter(account=acct.account, kind="secret", livemode=False).update(
        revoked_at=timezone.now()
    )
    later = time.monotonic() + settings.API_KEY_CACHE_SECONDS
    monkeypatch.setattr(accounts.selectors.time, "monotonic", lambda: later)
    response = client.post("/v1/echo", {"amount": 5})
    assert response.status_code == 401
    assert "revoked" in response.error["message"]


def test_publishable_key_is_refused_on_secret_only_routes(acct):
    response = StripeTestClient(acct.pk).post("/v1/echo", {"amount": 5})
    assert response.status_code == 403
    assert response.error["code"] == "secret_key_required"


def test_publishable_key_reaches_routes_that_allow_it(acct):
    response = StripeTestClient(acct.pk).post("/v1/public_echo", {"amount": 5})
    assert response.status_code == 200


def test_keys_are_stored_only_as_hashes(acct):
    for key in ApiKey.objects.filter(account=acct.account):
        for raw in (acct.sk, acct.pk, acct.sk_live, acct.pk_live):
            assert raw not in key.hashed
            assert raw != key.lookup
            assert len(key.lookup) < len(raw)


def test_last_used_is_recorded_once_a_minute_at_most(acct, django_assert_num_queries):
    client = StripeTestClient(acct.sk)
    client.post("/v1/echo", {"amount": 5})
    key = ApiKey.objects.get(account=acct.account, kind="secret", livemode=False)
    assert key.last_used is not None
    first = key.last_used
    # a second request within the minute writes nothing (and reads nothing: the key was
    # verified by this process a moment ago)
    with django_assert_num_queries(0):
        client.post("/v1/echo", {"amount": 5})
    key.refresh_from_db()
    assert key.last_used == first
