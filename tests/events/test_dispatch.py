"""The hints to the broker: published by task name, routed to the `webhooks` queue, and a
broker failure stops a batch of hints at once (the sweep re-issues the rest)."""

import base64
import json

import pytest
import redis

import events.tasks  # noqa: F401  (registers the tasks the names below must match)
from config.celery import app
from events.services import dispatch
from tests.conftest import redis_url
from tests.events.conftest import point_app_at
from tests.events.helpers import record


@pytest.mark.parametrize("name", [dispatch.RELAY_TASK, dispatch.DELIVERY_TASK])
def test_each_hint_names_a_task_routed_to_the_webhooks_queue(name):
    assert name in app.tasks
    assert app.amqp.router.route({}, name, (), {})["queue"].name == "webhooks"


def test_a_batch_of_delivery_hints_stops_at_the_first_broker_failure(monkeypatch):
    calls = []

    def failing_enqueue(task_name, *args):
        calls.append((task_name, args))
        return False

    monkeypatch.setattr(dispatch, "enqueue", failing_enqueue)
    dispatch.deliveries_dispatch(["whdel_1", "whdel_2", "whdel_3"])
    assert calls == [(dispatch.DELIVERY_TASK, ("whdel_1",))]


@pytest.mark.redis
def test_a_recorded_event_asks_the_relay_on_the_webhooks_queue_after_commit(
    acct, settings, django_capture_on_commit_callbacks
):
    url = redis_url()
    broker = redis.Redis.from_url(url)
    broker.flushdb()
    point_app_at(url, settings)
    with django_capture_on_commit_callbacks(execute=True):
        event = record(acct.id)
        assert broker.llen("webhooks") == 0  # nothing before the commit
    assert broker.llen("celery") == 0
    (raw,) = broker.lrange("webhooks", 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "events.tasks.events_relay"
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == [[event.id]]
