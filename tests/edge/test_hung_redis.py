"""A hung Redis (a private redis-server stopped with SIGSTOP: its port accepts connections and
nothing answers) does not take the API down: every call to it has a deadline. With the broker
and the rate limiter on that Redis, a real gunicorn keeps answering reads and /healthz, and
writes answer instead of waiting for Redis to come back; their events are in the outbox for
the relay once Redis answers again. The bounds below are liveness bounds (an answer, not a
hang of minutes), far above the deadlines, so a slow machine does not fail them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
import requests

from events.models import Event
from tests.conftest import make_account, wait_for
from tests.edge.server import Server, free_port

pytestmark = [
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

# Each request answers within this many seconds with Redis hung (the deadlines are 1 s for the
# broker and 0.25 s for the rate limiter; before them, a write waited for minutes).
LIVENESS_SECONDS = 6


@pytest.fixture
def private_redis(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    wait_for(lambda: _pings(redis, url), timeout=10, message="the private redis-server")
    yield proc, url
    os.kill(proc.pid, signal.SIGCONT)
    proc.terminate()
    proc.wait(timeout=10)


def _pings(redis, url) -> bool:
    try:
        return redis.Redis.from_url(url, socket_timeout=0.5).ping()
    except redis.RedisError:
        return False


def _timed(method, url, **kwargs):
    started = time.monotonic()
    answer = requests.request(method, url, timeout=LIVENESS_SECONDS * 10, **kwargs)
    return answer, time.monotonic() - started


def test_a_hung_redis_leaves_reads_healthz_and_writes_answering(
    private_redis, transactional_db, tmp_path
):
    proc, redis_url = private_redis
    server = Server(
        tmp_path,
        extra_env={
            "REDIS_URL": redis_url,
            "CELERY_BROKER_URL": redis_url,
            "RATE_LIMIT_REDIS_URL": redis_url,
            "RATE_LIMIT_ENABLED": "1",
        },
    )
    try:
        keys = make_account()
        auth = {"Authorization": f"Bearer {keys.sk}"}
        before, _ = _timed("POST", f"{server.url}/v1/customers", headers=auth)
        assert before.status_code == 200, before.text
        os.kill(proc.pid, signal.SIGSTOP)
        for _ in range(3):
            write, took = _timed(
                "POST",
                f"{server.url}/v1/payment_intents",
                headers=auth,
                data={
                    "amount": 1000,
                    "currency": "usd",
                    "confirm": "true",
                    "payment_method": "pm_card_visa",
                },
            )
            assert write.status_code == 200, write.text
            assert took < LIVENESS_SECONDS, took
            read, took = _timed("GET", f"{server.url}/v1/payment_intents", headers=auth)
            assert read.status_code == 200 and took < LIVENESS_SECONDS, took
            health, took = _timed("GET", f"{server.url}/healthz")
            assert health.status_code in (200, 503) and took < LIVENESS_SECONDS, took
        # the events of the writes made while Redis hung are in the outbox for the relay
        assert (
            Event.objects.filter(account_id=keys.id, type="payment_intent.succeeded").count() == 3
        )
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        server.stop()
