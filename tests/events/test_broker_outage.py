"""Redis down never blocks a write: with the test's own Redis stopped in the middle of a burst of
creates, every create succeeds, the after-commit enqueue makes at most one bounded attempt (then
backs off instead of retrying), /readyz says the broker is down, and once Redis is back a real
worker delivers every event the outage held back. (The latency of a create during an outage is
measured in bench/broker_outage_bench.py, not here.)"""

from __future__ import annotations

import pytest

from core import enqueue as enqueue_module
from events.models import Event
from tests.conftest import wait_for
from tests.events.helpers import create_endpoint

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class PublishSpy:
    """Counts the real publish attempts (each one a connection to the broker)."""

    def __init__(self, monkeypatch):
        self.attempts = 0
        self.failures = 0
        spy = self

        def publish(task_name, args):
            spy.attempts += 1
            try:
                real_publish(task_name, args)
            except Exception:
                spy.failures += 1
                raise

        real_publish = enqueue_module._publish
        monkeypatch.setattr(enqueue_module, "_publish", publish)


def _create(client, n: int) -> list[dict]:
    out = []
    for i in range(n):
        response = client.post("/v1/payment_intents", {"amount": 1000 + i, "currency": "usd"})
        assert response.status_code == 200, response
        out.append(response.json())
    return out


def test_creates_succeed_while_redis_is_down_and_every_event_is_delivered_after(
    client, acct, own_redis, receiver, start_worker, settings, monkeypatch
):
    settings.BROKER_PUBLISH_BACKOFF_SECONDS = 60  # the whole outage is one backoff window
    create_endpoint(client, receiver.url)
    spy = PublishSpy(monkeypatch)

    before = _create(client, 5)
    assert spy.attempts >= 5 and spy.failures == 0

    own_redis.stop()
    attempts_before_outage = spy.attempts
    during = _create(client, 20)
    health = client.get("/readyz")
    assert health.status_code == 503
    assert health.json()["broker"] != "ok"
    # One attempt met the dead broker; every later publish was skipped, none retried.
    assert spy.attempts - attempts_before_outage == 1
    assert spy.failures == 1

    own_redis.start()
    start_worker(own_redis.url)  # with beat: the sweep relays what the outage held back
    ids = {pi["id"] for pi in before + during}
    expected = set(
        Event.objects.filter(account_id=acct.id, type="payment_intent.created").values_list(
            "id", flat=True
        )
    )
    assert len(expected) == len(ids) == 25

    def delivered():
        return {e["id"] for e in receiver.events() if e["type"] == "payment_intent.created"}

    wait_for(lambda: expected <= delivered(), timeout=60, message="every event delivered")
    assert {e["data"]["object"]["id"] for e in receiver.events()} >= ids


def test_a_failed_publish_is_one_bounded_attempt_then_a_backoff(settings, monkeypatch):
    settings.BROKER_PUBLISH_TIMEOUT_SECONDS = 0.3
    settings.BROKER_PUBLISH_BACKOFF_SECONDS = 60
    seen: list[dict] = []

    class DeadConnection:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def ensure_connection(self, **kwargs):
            seen.append(kwargs)
            raise ConnectionRefusedError("broker down")

    class Pool:
        def acquire(self, block, timeout):
            seen.append({"acquire_timeout": timeout})
            return DeadConnection()

    monkeypatch.setattr(enqueue_module, "_publish_pool", Pool)
    assert enqueue_module.enqueue("events.tasks.relay_events") is False
    assert enqueue_module.enqueue("events.tasks.relay_events") is False
    assert seen == [{"acquire_timeout": 0.3}, {"max_retries": 0, "timeout": 0.3}]
