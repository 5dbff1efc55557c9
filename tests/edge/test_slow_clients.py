"""Slow and stalled clients do not starve the server (runall's worker,
`api.gunicorn_worker.BufferingThreadWorker`): with fifty connections that sent their headers
and never their body, and more that sent half a request line, /healthz and a payment still
answer, and when the stalled clients go away none of their requests runs. A connection that
sends nothing is closed; requests pipelined on one connection are answered one by one, in order,
each run only once it is whole. gunicorn's own errors are the API's JSON envelope on /v1/ and
plain text elsewhere. (The time these take is
measured in bench/slow_clients.py; the bounds here only tell an answer from a hang.)"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from api.gunicorn_worker import request_length
from payments.models import Customer
from tests.conftest import make_account
from tests.edge.server import Server

STALLED = 50
LIVENESS_SECONDS = 5
# gunicorn's --keep-alive is 2 s; this only tells a close from a connection held open for good
IDLE_BOUND_SECONDS = 10


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


def _responses(raw: bytes) -> list[tuple[int, bytes]]:
    """The HTTP responses one after the other in `raw` (each with a Content-Length)."""
    answers = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        length = int(headers["content-length"])
        answers.append((int(lines[0].split(" ")[1]), rest[:length]))
        raw = rest[length:]
    return answers


def _post_customer(sk: str, description: str, *, length: int | None = None) -> bytes:
    body = f"description={description}".encode()
    return (
        f"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {sk}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {length or len(body)}\r\n\r\n"
    ).encode() + body


def test_pipelined_requests_are_each_answered_in_order(server, transactional_db):
    keys = make_account()
    listing = (
        f"GET /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {keys.sk}\r\n\r\n"
    ).encode()
    # three requests in one write, the second chunked; then the client stops sending
    chunked_body = b"description=second"
    chunked = (
        (
            f"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {keys.sk}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
            f"{len(chunked_body):x}\r\n"
        ).encode()
        + chunked_body
        + b"\r\n0\r\n\r\n"
    )
    answers = _responses(server.raw(_post_customer(keys.sk, "first") + chunked + listing))
    assert [status for status, _ in answers] == [200, 200, 200], answers
    first, second, listed = (json.loads(body) for _, body in answers)
    assert (first["description"], second["description"]) == ("first", "second")
    # the list ran after both creates, newest first
    assert [c["id"] for c in listed["data"]] == [second["id"], first["id"]]


def test_a_pipelined_request_cut_off_is_not_run(server, transactional_db):
    keys = make_account()
    whole = _post_customer(keys.sk, "whole")
    cut = _post_customer(keys.sk, "cut", length=100)  # 15 of its 100 bytes arrive
    answers = _responses(server.raw(whole + cut))
    assert [status for status, _ in answers] == [200, 400], answers
    assert json.loads(answers[1][1])["error"]["code"] == "request_body_incomplete"
    assert list(
        Customer.objects.filter(account_id=keys.id).values_list("description", flat=True)
    ) == ["whole"]


def test_a_pipelined_request_is_run_once_its_rest_arrives(server, transactional_db):
    keys = make_account()
    second = _post_customer(keys.sk, "second")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(_post_customer(keys.sk, "first") + second[:40])
        reader = sock.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 200")
        # the first is answered; of the second nothing has run
        assert list(
            Customer.objects.filter(account_id=keys.id).values_list("description", flat=True)
        ) == ["first"]
        sock.sendall(second[40:])
        sock.shutdown(socket.SHUT_WR)
        rest = reader.read()
    assert b"HTTP/1.1 200" in rest
    assert sorted(
        Customer.objects.filter(account_id=keys.id).values_list("description", flat=True)
    ) == ["first", "second"]


def _closed_by_server(sock: socket.socket) -> float:
    """Seconds until the server closes `sock` (recv gives b"": nothing more was sent)."""
    start = time.monotonic()
    sock.settimeout(IDLE_BOUND_SECONDS)
    assert sock.recv(65536) == b""
    return time.monotonic() - start


def test_a_connection_that_sends_nothing_is_closed(server):
    # just accepted: not a byte sent
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        assert _closed_by_server(sock) < IDLE_BOUND_SECONDS
    # kept alive after an answer, then nothing more
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reader = sock.makefile("rb")
        status = reader.readline()
        assert status.split(b" ")[1] in (b"200", b"503")
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        assert len(reader.read(length)) == length
        assert _closed_by_server(sock) < IDLE_BOUND_SECONDS


def test_a_request_s_length_counts_all_of_its_body_and_nothing_after_it():
    head = b"POST /v1/customers HTTP/1.1\r\nContent-Length: 3\r\nHost: 127.0.0.1\r\n\r\n"
    assert request_length(head + b"ab") is None  # (Content-Length not the last header)
    assert request_length(head + b"abc") == len(head) + 3
    assert request_length(head + b"abcGET / HTTP/1.1\r\n\r\n") == len(head) + 3
    chunked = (
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: x\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    )
    assert request_length(chunked[:-2]) is None
    assert request_length(chunked + b"GET / HTTP/1.1") == len(chunked)
    get = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    assert request_length(get + b"GET") == len(get)
