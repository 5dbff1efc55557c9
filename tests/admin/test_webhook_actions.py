"""Resending events and deliveries, and turning webhook endpoints off and on, from the console:
the same services as the API, each action logged."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote

from events.models import Delivery, Event, WebhookEndpoint
from events.services import events_relay
from tests.admin.conftest import messages_of, run_action
from tests.events.helpers import create_endpoint, record

URL = "http://127.0.0.1:9/hooks"


@pytest.fixture(autouse=True)
def _local_endpoints_allowed(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


def _delivered(acct, client, endpoints: int = 1) -> tuple[Event, list[dict]]:
    created = [create_endpoint(client, f"{URL}{i}") for i in range(endpoints)]
    event = record(acct.id)
    events_relay(event_ids=[event.id])
    Delivery.objects.filter(event=event).update(status="delivered", next_attempt_at=None)
    Event.objects.filter(id=event.id).update(pending_webhooks=0)
    return event, created


def test_resend_of_an_event_rearms_its_delivery_and_is_logged(operator, client, acct):
    event, _ = _delivered(acct, client)
    response = run_action(operator, Event, "resend_event", [event.id])
    assert response.status_code == 302
    assert Delivery.objects.get(event=event).status == "pending"
    event.refresh_from_db()
    assert event.pending_webhooks == 1
    assert messages_of(response) == [
        f"Event {event.id}: Queued for resending (1 pending webhook(s))."
    ]
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.user.username) == (event.id, "alice")
    assert entry.change_message.startswith("Queued for resending")
    assert response["Request-Id"] in entry.change_message


def test_resend_of_deliveries_refuses_a_disabled_endpoint_with_a_message(operator, client, acct):
    event, (enabled, disabled) = _delivered(acct, client, endpoints=2)
    client.post(f"/v1/webhook_endpoints/{disabled['id']}", {"disabled": "true"})
    by_endpoint = dict(Delivery.objects.filter(event=event).values_list("endpoint_id", "id"))
    response = run_action(operator, Delivery, "resend_delivery", list(by_endpoint.values()))
    assert response.status_code == 302
    statuses = dict(Delivery.objects.filter(event=event).values_list("endpoint_id", "status"))
    assert statuses == {enabled["id"]: "pending", disabled["id"]: "delivered"}
    messages = messages_of(response)
    refused = by_endpoint[disabled["id"]]
    assert f"Delivery {refused}: The webhook endpoint {disabled['id']} is disabled." in messages
    assert f"Delivery {by_endpoint[enabled['id']]}: Queued for resending." in messages
    assert list(LogEntry.objects.values_list("object_id", flat=True)) == [
        by_endpoint[enabled["id"]]
    ]


def test_disable_then_enable_an_endpoint(operator, client):
    endpoint = create_endpoint(client, URL)
    response = run_action(operator, WebhookEndpoint, "disable", [endpoint["id"]])
    assert response.status_code == 302
    assert client.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()["status"] == "disabled"
    assert messages_of(response) == [
        f"Webhook endpoint {endpoint['id']}: Webhook endpoint disabled."
    ]

    run_action(operator, WebhookEndpoint, "enable", [endpoint["id"]])
    assert client.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()["status"] == "enabled"
    logged = list(LogEntry.objects.order_by("action_time").values_list("change_message", flat=True))
    assert [m.split(" (request")[0] for m in logged] == [
        "Webhook endpoint disabled.",
        "Webhook endpoint enabled.",
    ]


def test_an_endpoints_secret_is_never_shown(operator, client):
    endpoint = create_endpoint(client, URL)
    secret = WebhookEndpoint.objects.get(id=endpoint["id"]).secret
    for url in (
        f"/admin/events/webhookendpoint/{quote(endpoint['id'])}/change/",
        "/admin/events/webhookendpoint/",
    ):
        page = operator.get(url)
        assert page.status_code == 200
        assert endpoint["id"] in page.content.decode()
        assert secret not in page.content.decode()
