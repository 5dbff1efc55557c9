"""The operator's resend actions call the same service as the API, with the rows they act on."""

from django.contrib.messages import get_messages

from events.models import Delivery, Event
from events.services import events_relay
from tests.events.helpers import create_endpoint, record

URL = "http://127.0.0.1:9/hooks"


def _delivered(acct, client, endpoints: int = 1) -> tuple[Event, list[dict]]:
    created = [create_endpoint(client, f"{URL}{i}") for i in range(endpoints)]
    event = record(acct.id)
    events_relay(event_ids=[event.id])
    Delivery.objects.filter(event=event).update(status="delivered", next_attempt_at=None)
    Event.objects.filter(id=event.id).update(pending_webhooks=0)
    return event, created


def test_admin_resend_of_an_event_rearms_its_delivery(admin_client, client, acct):
    event, _ = _delivered(acct, client)
    response = admin_client.post(
        "/admin/events/event/", {"action": "resend", "_selected_action": [event.id]}
    )
    assert response.status_code == 302
    assert Delivery.objects.get(event=event).status == "pending"
    event.refresh_from_db()
    assert event.pending_webhooks == 1


def test_admin_resend_of_deliveries_skips_a_disabled_endpoint(admin_client, client, acct):
    event, (enabled, disabled) = _delivered(acct, client, endpoints=2)
    client.post(f"/v1/webhook_endpoints/{disabled['id']}", {"disabled": "true"})
    ids = list(Delivery.objects.filter(event=event).values_list("id", flat=True))
    response = admin_client.post(
        "/admin/events/delivery/", {"action": "resend", "_selected_action": ids}, follow=True
    )
    assert response.status_code == 200
    statuses = dict(Delivery.objects.filter(event=event).values_list("endpoint_id", "status"))
    assert statuses == {enabled["id"]: "pending", disabled["id"]: "delivered"}
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["1 deliver(y/ies) queued; disabled endpoints skipped."]
