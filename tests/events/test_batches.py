"""Deliveries sent in batches per endpoint: one kept-alive connection, one hint per endpoint,
and an endpoint that does not answer paused instead of holding a worker for each timeout."""

import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from events import http
from events.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from events.services import dispatch, endpoint_deliveries_send, events_relay
from tests.events.helpers import create_endpoint, record


class KeepAliveReceiver:
    """HTTP/1.1 with keep-alive; counts the connections it accepted and the requests."""

    def __init__(self):
        self.connections = 0
        self.ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                receiver.connections += 1
                super().setup()

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.ids.append(self.headers["webhook-id"])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keepalive():
    http.close_all()
    r = KeepAliveReceiver()
    yield r
    r.stop()
    http.close_all()


@pytest.fixture(autouse=True)
def _long_lease(settings):
    settings.WEBHOOK_LEASE_SECONDS = 60  # a batch's time budget, whatever the machine's load


@pytest.fixture
def hints(monkeypatch):
    sent = []
    monkeypatch.setattr(dispatch, "enqueue", lambda name, *args: sent.append((name, args)) or True)
    return sent


def _refusing_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/gone"  # nothing listens there


def test_an_endpoints_batch_goes_over_one_connection_in_order(
    client, acct, keepalive, hints, django_capture_on_commit_callbacks
):
    endpoint = create_endpoint(client, keepalive.url)
    events = [record(acct.id, id=f"cus_{i}") for i in range(30)]
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    outcomes = endpoint_deliveries_send(endpoint_id=endpoint["id"])
    assert outcomes == {"delivered": 30}
    assert keepalive.ids == [e.id for e in events]
    assert keepalive.connections == 1
    assert Delivery.objects.filter(status="delivered", attempt_count=1).count() == 30
    assert not Event.objects.filter(pending_webhooks__gt=0).exists()
    assert DeliveryAttempt.objects.filter(succeeded=True).count() == 30


def test_a_relay_of_many_events_asks_once_per_endpoint(
    client, acct, keepalive, hints, django_capture_on_commit_callbacks
):
    first = create_endpoint(client, keepalive.url)
    second = create_endpoint(client, keepalive.url)
    for i in range(5):
        record(acct.id, id=f"cus_{i}")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
        events_relay()  # nothing left: no hint
    asked = sorted(args[0] for name, args in hints if name == dispatch.ENDPOINT_TASK)
    assert asked == sorted([first["id"], second["id"]])
    # a request is on its way: a second relay of new events asks nothing more
    record(acct.id, id="cus_late")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    assert len([h for h in hints if h[0] == dispatch.ENDPOINT_TASK]) == 2
    # the sender takes the request, and every due delivery, the late one included
    assert endpoint_deliveries_send(endpoint_id=first["id"]) == {"delivered": 6}
    assert WebhookEndpoint.objects.get(id=first["id"]).send_requested_at is None


def test_an_endpoint_that_does_not_answer_is_paused_and_the_others_are_not(
    client, acct, keepalive, hints, django_capture_on_commit_callbacks
):
    dead = create_endpoint(client, _refusing_url())
    healthy = create_endpoint(client, keepalive.url)
    for i in range(5):
        record(acct.id, id=f"cus_{i}")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    assert endpoint_deliveries_send(endpoint_id=dead["id"]) == {"retry": 1, "put off": 4}
    paused_until = WebhookEndpoint.objects.get(id=dead["id"]).paused_until
    assert paused_until > timezone.now()
    # one attempt logged; the four not sent carry no attempt and wait for the pause's end
    assert DeliveryAttempt.objects.filter(endpoint_id=dead["id"]).count() == 1
    put_off = Delivery.objects.filter(endpoint_id=dead["id"], attempt_count=0)
    assert put_off.count() == 4
    assert set(put_off.values_list("next_attempt_at", flat=True)) == {paused_until}
    assert endpoint_deliveries_send(endpoint_id=healthy["id"]) == {"delivered": 5}
    # a new event: the healthy endpoint is asked at once, the paused one is not
    hints.clear()
    record(acct.id, id="cus_new")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    assert [args[0] for _, args in hints] == [healthy["id"]]
    waiting = Delivery.objects.get(endpoint_id=dead["id"], event__object_id="cus_new")
    assert waiting.next_attempt_at == paused_until
    assert waiting.dispatched_at is None


def test_an_endpoint_failing_in_a_row_opens_its_circuit_until_a_probe_succeeds(
    client, acct, make_receiver, hints, settings, django_capture_on_commit_callbacks
):
    """An endpoint that answers, but 500, is paused once WEBHOOK_CIRCUIT_FAILURES attempts in a
    row have failed: the rest of the batch waits for the pause's end without an attempt, and a
    new event asks nothing of it; the first delivery sent then is the probe, and its 2xx
    closes the circuit."""
    settings.WEBHOOK_CIRCUIT_FAILURES = 3
    failing = make_receiver(statuses=[500] * 3)
    endpoint = create_endpoint(client, failing.url)
    for i in range(5):
        record(acct.id, id=f"cus_{i}")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    assert endpoint_deliveries_send(endpoint_id=endpoint["id"]) == {"retry": 3, "put off": 2}
    assert len(failing.requests) == 3
    row = WebhookEndpoint.objects.get(id=endpoint["id"])
    assert row.failures_in_row == 3
    assert row.paused_until > timezone.now()
    hints.clear()
    record(acct.id, id="cus_new")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    assert hints == []  # the open circuit's deliveries wait in the database
    waiting = Delivery.objects.get(event__object_id="cus_new")
    assert waiting.next_attempt_at == row.paused_until
    # the pause ends: the receiver answers 200 again, the probe closes the circuit
    WebhookEndpoint.objects.filter(id=endpoint["id"]).update(paused_until=timezone.now())
    Delivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    assert endpoint_deliveries_send(endpoint_id=endpoint["id"]) == {"delivered": 6}
    row.refresh_from_db()
    assert (row.failures_in_row, row.paused_until, row.failing_since) == (0, None, None)


def test_a_success_ends_the_pause(client, acct, keepalive, hints):
    endpoint = create_endpoint(client, keepalive.url)
    WebhookEndpoint.objects.filter(id=endpoint["id"]).update(
        paused_until=timezone.now() - timedelta(seconds=1), failing_since=timezone.now()
    )
    record(acct.id)
    events_relay()
    assert endpoint_deliveries_send(endpoint_id=endpoint["id"]) == {"delivered": 1}
    row = WebhookEndpoint.objects.get(id=endpoint["id"])
    assert row.paused_until is None
    assert row.failing_since is None


def test_a_batch_past_its_time_hands_the_rest_back(
    client, acct, keepalive, hints, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_BATCH_SECONDS = 0  # one send, then the time is up
    endpoint = create_endpoint(client, keepalive.url)
    for i in range(3):
        record(acct.id, id=f"cus_{i}")
    events_relay()
    hints.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = endpoint_deliveries_send(endpoint_id=endpoint["id"])
    assert outcomes == {"delivered": 1, "put off": 2}
    assert [args[0] for _, args in hints] == [endpoint["id"]]  # asked again at once
    rest = Delivery.objects.filter(status="pending")
    assert rest.count() == 2
    assert all(d.lease_until is None and d.attempt_count == 0 for d in rest)
    assert endpoint_deliveries_send(endpoint_id=endpoint["id"]) == {"delivered": 1, "put off": 1}


def test_a_sender_finds_every_slot_of_its_endpoint_taken_and_leaves_the_request_set(
    client, acct, keepalive, hints, settings, django_capture_on_commit_callbacks
):
    """One sender per endpoint here: while another connection (another worker) holds the slot,
    a request returns at once without sending, and its request stays for that sender to see;
    the slot given back, the deliveries go."""
    import psycopg

    from events.services.delivery import _SLOT_LOCKS
    from tests.conftest import database_url_for_current_test_db

    settings.WEBHOOK_SENDERS_PER_ENDPOINT = 1
    endpoint = create_endpoint(client, keepalive.url)
    for i in range(3):
        record(acct.id, id=f"cus_{i}")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    with psycopg.connect(database_url_for_current_test_db(), autocommit=True) as other:
        other.execute(
            "SELECT pg_advisory_lock(%s, hashtext(%s))", [_SLOT_LOCKS, f"{endpoint['id']}:0"]
        )
        assert endpoint_deliveries_send(endpoint_id=endpoint["id"]) == {"busy": 1}
        assert keepalive.ids == []
        assert WebhookEndpoint.objects.get(id=endpoint["id"]).send_requested_at is not None
        assert Delivery.objects.filter(status="pending", lease_until__isnull=True).count() == 3
        other.execute(
            "SELECT pg_advisory_unlock(%s, hashtext(%s))", [_SLOT_LOCKS, f"{endpoint['id']}:0"]
        )
    # the other sender is done
    assert endpoint_deliveries_send(endpoint_id=endpoint["id"]) == {"delivered": 3}
    assert len(keepalive.ids) == 3
    assert WebhookEndpoint.objects.get(id=endpoint["id"]).send_requested_at is None


def test_through_pgbouncer_a_sender_takes_no_session_lock(
    client, acct, keepalive, hints, settings, django_capture_on_commit_callbacks
):
    """Transaction pooling hands each statement any server connection, so a session advisory
    lock could outlive its sender there: with DATABASE_POOLER=pgbouncer the slots are off, and
    a sender goes even while another connection holds what would be the endpoint's slot."""
    import psycopg

    from events.services.delivery import _SLOT_LOCKS
    from tests.conftest import database_url_for_current_test_db

    settings.WEBHOOK_SENDERS_PER_ENDPOINT = 1
    settings.DATABASE_POOLER = "pgbouncer"
    endpoint = create_endpoint(client, keepalive.url)
    for i in range(2):
        record(acct.id, id=f"cus_{i}")
    with django_capture_on_commit_callbacks(execute=True):
        events_relay()
    with psycopg.connect(database_url_for_current_test_db(), autocommit=True) as other:
        other.execute(
            "SELECT pg_advisory_lock(%s, hashtext(%s))", [_SLOT_LOCKS, f"{endpoint['id']}:0"]
        )
        assert endpoint_deliveries_send(endpoint_id=endpoint["id"]) == {"delivered": 2}
        locks = other.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND pid <> pg_backend_pid() AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
            [_SLOT_LOCKS],
        ).fetchone()[0]
        assert locks == 0
    assert len(keepalive.ids) == 2
