"""One delivery attempt at a time, in this process (the worker tests run the same services)."""

import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe
from django.utils import timezone
from standardwebhooks import Webhook

from events.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from events.services import delivery_attempt, events_relay
from tests.events.helpers import create_endpoint, record
from tests.helpers import StripeTestClient


def _relay_one(acct, type="customer.created") -> tuple[Event, Delivery]:
    event = record(acct.id, type)
    events_relay(event_ids=[event.id])
    event.refresh_from_db()
    return event, Delivery.objects.get(event=event)


def test_delivery_is_signed_for_both_receiver_libraries(client, acct, receiver):
    secret = create_endpoint(client, receiver.url)["secret"]
    event, delivery = _relay_one(acct)
    assert event.pending_webhooks == 1
    assert delivery_attempt(delivery_id=delivery.id) == "delivered"
    (request,) = receiver.requests
    headers = request["headers"]
    parsed = stripe.Webhook.construct_event(request["body"], headers["stripe-signature"], secret)
    assert parsed["id"] == event.id
    payload = Webhook(secret).verify(request["body"], headers)
    assert payload["type"] == "customer.created"
    assert headers["content-type"].startswith("application/json")
    assert headers["user-agent"].startswith("payintents")
    event.refresh_from_db()
    assert event.pending_webhooks == 0


def test_during_a_roll_both_the_old_and_the_new_secret_verify(client, acct, receiver):
    old = create_endpoint(client, receiver.url)
    new = client.post(f"/v1/webhook_endpoints/{old['id']}/roll_secret").json()["secret"]
    _, delivery = _relay_one(acct)
    delivery_attempt(delivery_id=delivery.id)
    request = receiver.requests[0]
    headers = request["headers"]
    assert headers["stripe-signature"].count("v1=") == 2
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old["secret"], new):
        stripe.Webhook.construct_event(request["body"], headers["stripe-signature"], secret)
        Webhook(secret).verify(request["body"], headers)


def test_after_the_overlap_only_the_new_secret_signs(client, acct, receiver):
    old = create_endpoint(client, receiver.url)
    client.post(f"/v1/webhook_endpoints/{old['id']}/roll_secret")
    WebhookEndpoint.objects.filter(id=old["id"]).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    _, delivery = _relay_one(acct)
    delivery_attempt(delivery_id=delivery.id)
    headers = receiver.requests[0]["headers"]
    assert headers["stripe-signature"].count("v1=") == 1
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            receiver.requests[0]["body"], headers["stripe-signature"], old["secret"]
        )


def test_a_delivered_delivery_is_never_sent_again(client, acct, receiver):
    create_endpoint(client, receiver.url)
    _, delivery = _relay_one(acct)
    assert delivery_attempt(delivery_id=delivery.id) == "delivered"
    assert delivery_attempt(delivery_id=delivery.id) == "skipped"
    assert len(receiver.requests) == 1


def test_a_leased_delivery_is_not_sent_by_a_second_worker(client, acct, receiver):
    create_endpoint(client, receiver.url)
    _, delivery = _relay_one(acct)
    Delivery.objects.filter(id=delivery.id).update(
        lease_until=timezone.now() + timedelta(seconds=60)
    )
    assert delivery_attempt(delivery_id=delivery.id) == "skipped"
    assert receiver.requests == []


def test_a_failed_attempt_is_logged_and_rescheduled(client, acct, make_receiver):
    r = make_receiver(statuses=[500])
    endpoint = create_endpoint(client, r.url)
    event, delivery = _relay_one(acct)
    assert delivery_attempt(delivery_id=delivery.id) == "retry"
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at > timezone.now()
    log = client.get(f"/v1/webhook_endpoints/{endpoint['id']}/deliveries").json()["data"]
    assert len(log) == 1
    assert log[0]["http_status"] == 500
    assert log[0]["succeeded"] is False
    assert log[0]["response_excerpt"] == "answered 500"
    assert log[0]["next_attempt_at"] == int(delivery.next_attempt_at.timestamp())
    per_event = client.get(f"/v1/events/{event.id}/deliveries").json()["data"]
    assert [a["id"] for a in per_event] == [log[0]["id"]]


def test_giving_up_after_the_retry_window_marks_the_delivery_failed(
    client, acct, make_receiver, settings
):
    settings.WEBHOOK_RETRY_WINDOW_SECONDS = 0
    r = make_receiver(statuses=[503])
    create_endpoint(client, r.url)
    event, delivery = _relay_one(acct)
    assert delivery_attempt(delivery_id=delivery.id) == "failed"
    event.refresh_from_db()
    assert event.pending_webhooks == 0
    assert Delivery.objects.get(id=delivery.id).next_attempt_at is None


def test_an_endpoint_failing_for_the_disable_period_is_disabled_with_a_reason(
    client, acct, make_receiver, settings
):
    r = make_receiver(statuses=[500])
    endpoint = create_endpoint(client, r.url)
    WebhookEndpoint.objects.filter(id=endpoint["id"]).update(
        failing_since=timezone.now() - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS + 1)
    )
    _, delivery = _relay_one(acct)
    delivery_attempt(delivery_id=delivery.id)
    body = client.get(f"/v1/webhook_endpoints/{endpoint['id']}").json()
    assert body["status"] == "disabled"
    assert "failed" in body["disabled_reason"]


def test_a_success_resets_the_failing_streak(client, acct, receiver):
    endpoint = create_endpoint(client, receiver.url)
    WebhookEndpoint.objects.filter(id=endpoint["id"]).update(
        failing_since=timezone.now() - timedelta(days=1)
    )
    _, delivery = _relay_one(acct)
    delivery_attempt(delivery_id=delivery.id)
    assert WebhookEndpoint.objects.get(id=endpoint["id"]).failing_since is None


def test_a_redirect_is_a_failure_and_is_not_followed(client, acct, receiver):
    hits = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", receiver.url)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        create_endpoint(client, f"http://127.0.0.1:{server.server_address[1]}/r")
        _, delivery = _relay_one(acct)
        assert delivery_attempt(delivery_id=delivery.id) == "retry"
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/r"]
    assert receiver.requests == []
    attempt = DeliveryAttempt.objects.get()
    assert attempt.http_status == 302
    assert "not followed" in attempt.error


def test_an_event_matching_no_endpoint_makes_no_delivery(client, acct, receiver):
    create_endpoint(client, receiver.url, events=["charge.succeeded"])
    event = record(acct.id, "customer.created")
    events_relay(event_ids=[event.id])
    event.refresh_from_db()
    assert event.relayed_at is not None
    assert event.pending_webhooks == 0
    assert not Delivery.objects.filter(event=event).exists()


def test_resend_sends_a_delivered_event_again(client, acct, receiver):
    endpoint = create_endpoint(client, receiver.url)
    event, delivery = _relay_one(acct)
    delivery_attempt(delivery_id=delivery.id)
    response = client.post(f"/v1/events/{event.id}/resend", {"webhook_endpoint": endpoint["id"]})
    assert response.status_code == 200, response
    assert response.json()["pending_webhooks"] == 1
    assert delivery_attempt(delivery_id=delivery.id) == "delivered"
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [event.id, event.id]


def test_resend_to_another_accounts_endpoint_is_missing(client, acct, other_acct, receiver):
    foreign = create_endpoint(StripeTestClient(key=other_acct.sk), receiver.url)
    event = record(acct.id)
    response = client.post(f"/v1/events/{event.id}/resend", {"webhook_endpoint": foreign["id"]})
    assert response.status_code == 400
    assert response.error["param"] == "webhook_endpoint"


def test_deleting_an_endpoint_releases_its_pending_deliveries(client, acct, receiver):
    endpoint = create_endpoint(client, receiver.url)
    event, delivery = _relay_one(acct)
    client.delete(f"/v1/webhook_endpoints/{endpoint['id']}")
    event.refresh_from_db()
    assert event.pending_webhooks == 0
    assert delivery_attempt(delivery_id=delivery.id) == "skipped"
    assert receiver.requests == []


# --- SSRF at connect time -------------------------------------------------------------------


def _fake_getaddrinfo(answers: list[str], calls: list):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host != "hooks.example.com":
            return real(host, port, *args, **kwargs)
        address = answers[min(len(calls), len(answers) - 1)]
        calls.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return fake


def test_a_name_that_resolves_private_only_at_connect_time_is_not_contacted(
    client, acct, receiver, settings, monkeypatch
):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    calls: list = []
    monkeypatch.setattr(
        "events.ssrf.socket.getaddrinfo", _fake_getaddrinfo(["93.184.216.34", "127.0.0.1"], calls)
    )
    create_endpoint(client, f"http://hooks.example.com:{receiver.port}/hooks")
    _, delivery = _relay_one(acct)
    assert delivery_attempt(delivery_id=delivery.id) == "retry"
    assert calls == ["93.184.216.34", "127.0.0.1"]
    assert receiver.requests == []
    assert "not a public address" in DeliveryAttempt.objects.get().error


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    client, acct, receiver, monkeypatch
):
    calls: list = []
    monkeypatch.setattr("events.ssrf.socket.getaddrinfo", _fake_getaddrinfo(["127.0.0.1"], calls))
    create_endpoint(client, f"http://hooks.example.com:{receiver.port}/hooks?x=1")
    _, delivery = _relay_one(acct)
    assert delivery_attempt(delivery_id=delivery.id) == "delivered"
    (request,) = receiver.requests
    assert request["headers"]["host"] == f"hooks.example.com:{receiver.port}"
    assert request["path"] == "/hooks?x=1"
