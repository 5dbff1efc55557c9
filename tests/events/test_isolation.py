"""Slow endpoints do not hold the worker: a real worker (2 processes) on Redis, real HTTP
receivers on 127.0.0.1, three of them hanging on every request, more than the worker has
processes."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from events.models import DeliveryAttempt, WebhookEndpoint
from tests.conftest import wait_for
from tests.events.helpers import create_endpoint, record

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class Hanging:
    """Takes each request and answers only when released (or after 20 s)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = 0
        hanging = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hanging.arrived += 1
                hanging.release.wait(20)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanging():
    made: list[Hanging] = []

    def make() -> Hanging:
        made.append(Hanging())
        return made[-1]

    yield make
    for server in made:
        server.stop()


def test_endpoints_that_hang_do_not_delay_a_healthy_one(
    client, acct, receiver, hanging, webhook_worker
):
    """Three endpoints hang on their first delivery (the worker has two processes); a healthy
    endpoint's events are all delivered while those three requests are still waiting on their
    answers: no slow attempt has ended (timed out) yet, none is paused."""
    slow = [hanging() for _ in range(3)]
    slow_ids = [create_endpoint(client, s.url, events=["customer.created"])["id"] for s in slow]
    create_endpoint(client, receiver.url, events=["charge.succeeded"])
    record(acct.id, "customer.created")
    wait_for(lambda: all(s.arrived for s in slow), message="every slow endpoint's request open")
    started = time.monotonic()
    healthy = {record(acct.id, "charge.succeeded", id=f"ch_{i}").id for i in range(5)}
    wait_for(lambda: receiver.event_ids() == healthy, message="the healthy endpoint's events")
    assert not DeliveryAttempt.objects.filter(endpoint_id__in=slow_ids).exists(), (
        "a slow endpoint's attempt ended before the healthy endpoint got its events "
        f"({time.monotonic() - started:.1f} s)"
    )
    assert not WebhookEndpoint.objects.filter(id__in=slow_ids, paused_until__isnull=False).exists()
    # the slow sends go on in their threads and end at the timeout: recorded, then paused
    wait_for(
        lambda: DeliveryAttempt.objects.filter(endpoint_id__in=slow_ids).count() == 3,
        timeout=15,
        message="each slow endpoint's attempt recorded at its timeout",
    )
    assert set(
        DeliveryAttempt.objects.filter(endpoint_id__in=slow_ids).values_list("error", flat=True)
    ) == {"timed out after 3 s"}
    assert WebhookEndpoint.objects.filter(id__in=slow_ids, paused_until__isnull=False).count() == 3
