"""Per-key rate limits: 429 rate_limit_error with Retry-After; Redis counters; fail open."""

from __future__ import annotations

import pytest

from api import ratelimit
from events.models import Event
from tests.security.urls_for_tests import WIDGET_EVENT

pytestmark = pytest.mark.urls("tests.security.urls_for_tests")

URL = "/v1/test_widgets"


@pytest.fixture
def limited(settings):
    """A limit of 3 requests per hour-long window (no test can straddle a window by accident)."""
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMIT_WINDOW_SECONDS = 3600
    settings.RATE_LIMIT_SECRET_PER_WINDOW = 3
    settings.RATE_LIMIT_PUBLISHABLE_PER_WINDOW = 3
    settings.RATE_LIMIT_REDIS_URL = ""
    ratelimit.memory_counter.clear()
    yield settings
    ratelimit.memory_counter.clear()


def test_request_over_the_limit_is_429_rate_limit_error_with_retry_after(client, limited):
    statuses = [client.get(URL).status_code for _ in range(3)]
    response = client.get(URL)
    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response.error["type"] == "rate_limit_error"
    assert response.error["code"] == "rate_limit"
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


def test_limited_write_has_no_side_effect(client, acct, limited):
    for _ in range(3):
        client.post(URL, {"amount": 100})
    response = client.post(URL, {"amount": 100}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 429
    assert Event.objects.filter(type=WIDGET_EVENT).count() == 3
    from api.models import IdempotencyKey

    assert not IdempotencyKey.objects.exists()


def test_limits_are_counted_per_key(client, acct, other_acct, limited):
    for _ in range(3):
        client.get(URL)
    assert client.get(URL).status_code == 429
    assert client.get(URL, key=other_acct.sk).status_code == 200
    assert client.get(URL, key=acct.sk_live).status_code == 200


def test_reads_and_writes_have_separate_buckets(client, limited):
    for _ in range(3):
        client.get(URL)
    assert client.get(URL).status_code == 429
    assert client.post(URL, {"amount": 100}).status_code == 200


def test_limiter_is_off_when_disabled(client, limited):
    limited.RATE_LIMIT_ENABLED = False
    assert {client.get(URL).status_code for _ in range(5)} == {200}


def test_redis_down_fails_open_and_logs(client, limited, caplog):
    limited.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    ratelimit._last_failure_log = 0.0
    statuses = {client.get(URL).status_code for _ in range(5)}
    assert statuses == {200}
    assert "failing open" in caplog.text


@pytest.mark.redis
def test_redis_counter_is_shared_and_expires(client, acct, limited):
    import os

    import redis

    url = os.environ["REDIS_URL"]
    limited.RATE_LIMIT_REDIS_URL = url
    for _ in range(3):
        assert client.get(URL).status_code == 200
    ratelimit.memory_counter.clear()  # the in-process counter plays no part
    assert client.get(URL).status_code == 429
    conn = redis.Redis.from_url(url)
    keys = conn.keys(
        f"{ratelimit._PREFIX}{acct.account.api_keys.get(kind='secret', livemode=False).pk}:read:*"
    )
    assert len(keys) == 1
    assert int(conn.get(keys[0])) == 4
    assert 0 < conn.ttl(keys[0]) <= 3601
    conn.delete(*keys)


def test_hit_reports_seconds_until_the_window_ends():
    ratelimit.memory_counter.clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ratelimit, "_redis_url", lambda: "")
        assert ratelimit.hit("unit", 1, 10, now=1005.0) is None
        assert ratelimit.hit("unit", 1, 10, now=1006.0) == pytest.approx(4.0)
        assert ratelimit.hit("unit", 1, 10, now=1010.0) is None
