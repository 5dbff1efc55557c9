"""The hints to the broker: published by task name, routed to the `webhooks` queue, and a
broker failure stops a batch of hints at once (the sweep re-issues the rest)."""

import base64
import json

import pytest
import redis
from django.db import transaction

import events.tasks  # noqa: F401  (registers the tasks the names below must match)
from config.celery import app
from core.scope import Scope
from events.selectors import webhook_endpoints_forget
from events.services import dispatch, event_emit, events_relay
from tests.conftest import redis_url
from tests.events.conftest import point_app_at
from tests.events.helpers import record
from tests.factories import WebhookEndpointFactory


def _with_an_endpoint(acct) -> None:
    WebhookEndpointFactory(account=acct.account, livemode=False)
    webhook_endpoints_forget()


def _broker(settings):
    url = redis_url()
    broker = redis.Redis.from_url(url)
    broker.flushdb()
    point_app_at(url, settings)
    return broker


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
    dispatch.deliveries_dispatch([["whdel_1", "whdel_2"], ["whdel_3"], ["whdel_4"]])
    assert calls == [(dispatch.DELIVERY_TASK, (["whdel_1", "whdel_2"],))]


@pytest.mark.redis
def test_a_recorded_event_asks_the_relay_on_the_webhooks_queue_after_commit(
    acct, settings, django_capture_on_commit_callbacks
):
    _with_an_endpoint(acct)
    broker = _broker(settings)
    with django_capture_on_commit_callbacks(execute=True):
        event = record(acct.id)
        assert broker.llen("webhooks") == 0  # nothing before the commit
    assert broker.llen("celery") == 0
    (raw,) = broker.lrange("webhooks", 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "events.tasks.events_relay"
    args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
    assert args == [[event.id]]


def test_the_events_of_one_transaction_ask_the_relay_once(
    acct, monkeypatch, django_capture_on_commit_callbacks
):
    _with_an_endpoint(acct)
    sent = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, ids: sent.append((name, ids)))
    scope = Scope(account_id=acct.id, livemode=False)
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            [first] = event_emit(scope=scope, changes=[("customer.created", {"id": "c1"}, None)])
            [second] = event_emit(scope=scope, changes=[("customer.updated", {"id": "c1"}, None)])
        assert sent == []  # nothing before the commit
    assert sent == [(dispatch.RELAY_TASK, [first.id, second.id])]


@pytest.mark.redis
def test_no_hint_when_no_endpoint_is_enabled_and_the_sweep_relays_the_event(
    acct, settings, django_capture_on_commit_callbacks
):
    webhook_endpoints_forget()
    broker = _broker(settings)
    with django_capture_on_commit_callbacks(execute=True):
        event = record(acct.id)
    assert broker.llen("webhooks") == 0
    assert events_relay() == 1  # what the sweep runs
    event.refresh_from_db()
    assert event.relayed_at is not None and event.pending_webhooks == 0


def test_a_rolled_back_transaction_leaves_no_batch_behind(acct, monkeypatch):
    """The hint of a transaction that rolled back is dropped, and the next transaction's events
    get their own hint."""
    _with_an_endpoint(acct)
    sent = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, ids: sent.append(ids))
    scope = Scope(account_id=acct.id, livemode=False)
    try:
        with transaction.atomic():
            event_emit(scope=scope, changes=[("customer.created", {"id": "c1"}, None)])
            raise RuntimeError
    except RuntimeError:
        pass
    with transaction.atomic():
        [kept] = event_emit(scope=scope, changes=[("customer.created", {"id": "c2"}, None)])
    connection = transaction.get_connection()
    for _sids, callback, _robust in list(connection.run_on_commit):
        callback()
    assert sent == [[kept.id]]


def _recording_hints(monkeypatch, sent: list, wanted: int):
    """A fresh coalescer whose publishes are recorded (name, ids, when); the event is set once
    `wanted` hints were published."""
    import threading
    import time

    published = threading.Event()

    def enqueue(name, ids):
        sent.append((name, list(ids), time.monotonic()))
        if len(sent) >= wanted:
            published.set()
        return True

    monkeypatch.setattr(dispatch, "enqueue", enqueue)
    return dispatch._RelayHints(), published


def test_hints_close_after_a_hint_share_one_deferred_hint(monkeypatch, settings):
    """Within the window after a hint, a transaction's events wait for one hint that a timer
    publishes at the window's end, together with those of the transactions after it; after a
    quiet spell a hint goes at once again."""
    import time

    settings.WEBHOOK_RELAY_HINT_SECONDS = 0.3
    sent: list = []
    hints, published = _recording_hints(monkeypatch, sent, wanted=2)
    started = time.monotonic()
    hints.publish(["evt_1"])
    hints.publish(["evt_2"])
    hints.publish(["evt_3", "evt_4"])
    assert [(name, ids) for name, ids, _at in sent] == [(dispatch.RELAY_TASK, ["evt_1"])]
    assert published.wait(5)
    assert sent[1][:2] == (dispatch.RELAY_TASK, ["evt_2", "evt_3", "evt_4"])
    assert sent[1][2] - started >= 0.3 - 0.01  # not before the window's end
    time.sleep(0.35)
    hints.publish(["evt_5"])
    assert [entry[1] for entry in sent[2:]] == [["evt_5"]]


def test_without_a_window_every_hint_is_published_at_once(monkeypatch, settings):
    settings.WEBHOOK_RELAY_HINT_SECONDS = 0
    sent: list = []
    hints, _published = _recording_hints(monkeypatch, sent, wanted=3)
    for i in range(3):
        hints.publish([f"evt_{i}"])
    assert [entry[1] for entry in sent] == [["evt_0"], ["evt_1"], ["evt_2"]]


def test_a_committed_transaction_hands_its_hint_to_the_coalescer(
    acct, monkeypatch, django_capture_on_commit_callbacks
):
    _with_an_endpoint(acct)
    given = []
    monkeypatch.setattr(dispatch.relay_hints, "publish", lambda ids: given.append(list(ids)))
    with django_capture_on_commit_callbacks(execute=True):
        event = record(acct.id)
        assert given == []
    assert given == [[event.id]]
