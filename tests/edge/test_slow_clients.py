"""Slow and stalled clients do not starve the server (runall's worker,
`api.gunicorn_worker.BufferingThreadWorker`): with fifty connections that sent their headers
and never their body, and more that sent half a request line, /healthz and a payment still
answer, and when the stalled clients go away none of their requests runs. gunicorn's own
errors are the API's JSON envelope on /v1/ and plain text elsewhere. (The time these take is
measured in bench/slow_clients.py; the bounds here only tell an answer from a hang.)"""

from __future__ import annotations

import json
import socket

import pytest
import requests

from payments.models import Customer
from tests.conftest import make_account
from tests.edge.server import Server

STALLED = 50
LIVENESS_SECONDS = 5


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("slow"))
    yield s
    s.stop()


def _stall(server: Server, sk: str) -> list[socket.socket]:
    socks = []
    for _ in range(STALLED):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(
            (
                f"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {sk}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                "description=stalled"
            ).encode()
        )
        socks.append(sock)
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET /healthz HT")
        socks.append(sock)
    return socks


def test_stalled_clients_do_not_stop_healthz_or_a_payment(server, transactional_db):
    keys = make_account()
    socks = _stall(server, keys.sk)
    try:
        for _ in range(3):
            health = requests.get(f"{server.url}/healthz", timeout=LIVENESS_SECONDS)
            assert health.status_code in (200, 503)
            paid = requests.post(
                f"{server.url}/v1/payment_intents",
                data={
                    "amount": 1000,
                    "currency": "usd",
                    "confirm": "true",
                    "payment_method": "pm_card_visa",
                },
                headers={"Authorization": f"Bearer {keys.sk}"},
                timeout=LIVENESS_SECONDS,
            )
            assert paid.status_code == 200, paid.text
            assert paid.json()["status"] == "succeeded"
    finally:
        for sock in socks:
            sock.close()
    # their half requests never ran, not even once the clients went away
    requests.get(f"{server.url}/healthz", timeout=LIVENESS_SECONDS)
    assert not Customer.objects.filter(account_id=keys.id).exists()


def _raw(server: Server, data: bytes) -> tuple[int, str, bytes]:
    raw = server.raw(data)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split(" ")[1]), headers.get("Content-Type", ""), body


def test_gunicorn_s_own_errors_are_the_envelope_on_the_api_and_plain_text_elsewhere(server):
    too_long = "x" * 9000
    status, content_type, body = _raw(
        server, f"GET /v1/customers?{too_long} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    )
    assert status == 400 and content_type == "application/json", body[:200]
    assert json.loads(body)["error"]["type"] == "invalid_request_error"
    status, content_type, body = _raw(
        server, b"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n"
    )
    assert status == 400 and content_type == "application/json", body[:200]
    assert "error" in json.loads(body)
    status, content_type, body = _raw(
        server, b"GET /docs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n"
    )
    assert status == 400 and content_type.startswith("text/plain"), body[:200]
    assert b"<html" not in body
