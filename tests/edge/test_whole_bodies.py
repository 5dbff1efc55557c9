"""A request is acted on only when its whole body arrived: over a real socket to a real
gunicorn, a chunked capture or refund is read in full (not as an empty body, which captured or
refunded everything), and a body shorter than its Content-Length, or a chunked body cut off,
changes nothing and answers with the error envelope."""

from __future__ import annotations

import json

import pytest
import requests

from payments.models import Refund
from tests.conftest import make_account
from tests.edge.server import Server


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("bodies"))
    yield s
    s.stop()


def _intent(server: Server, sk: str, *, capture: str) -> dict:
    answer = requests.post(
        f"{server.url}/v1/payment_intents",
        data={
            "amount": 5000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "capture_method": capture,
        },
        headers={"Authorization": f"Bearer {sk}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _request(path: str, sk: str, head: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {sk}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n{head}\r\n"
    ).encode() + body


def _chunked(body: bytes) -> bytes:
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def _answer(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_a_chunked_capture_captures_the_amount_it_names(server, transactional_db):
    keys = make_account()
    pi = _intent(server, keys.sk, capture="manual")
    raw = server.raw(
        _request(
            f"/v1/payment_intents/{pi['id']}/capture",
            keys.sk,
            "Transfer-Encoding: chunked\r\n",
            _chunked(b"amount_to_capture=1000"),
        )
    )
    status, body = _answer(raw)
    assert status == 200, body
    assert body["amount_received"] == 1000


def test_a_chunked_partial_refund_refunds_the_amount_it_names(server, transactional_db):
    keys = make_account()
    pi = _intent(server, keys.sk, capture="automatic")
    body = f"payment_intent={pi['id']}&amount=100".encode()
    status, answer = _answer(
        server.raw(
            _request("/v1/refunds", keys.sk, "Transfer-Encoding: chunked\r\n", _chunked(body))
        )
    )
    assert status == 200, answer
    assert answer["amount"] == 100


def test_a_body_shorter_than_its_content_length_changes_nothing(server, transactional_db):
    keys = make_account()
    pi = _intent(server, keys.sk, capture="automatic")
    whole = f"payment_intent={pi['id']}&amount=1000".encode()
    cut = whole[:-2]  # "amount=10" arrives, the client is cut off
    status, answer = _answer(
        server.raw(_request("/v1/refunds", keys.sk, f"Content-Length: {len(whole)}\r\n", cut))
    )
    assert status == 400
    assert answer["error"]["code"] == "request_body_incomplete"
    assert not Refund.objects.filter(account_id=keys.id).exists()


def test_a_chunked_body_cut_off_changes_nothing(server, transactional_db):
    keys = make_account()
    pi = _intent(server, keys.sk, capture="automatic")
    body = f"payment_intent={pi['id']}&amount=1000".encode()
    cut = f"{len(body):x}\r\n".encode() + body[:-2]  # the chunk never ends
    raw = server.raw(_request("/v1/refunds", keys.sk, "Transfer-Encoding: chunked\r\n", cut))
    assert not Refund.objects.filter(account_id=keys.id).exists()
    if raw:  # the server may answer 400 or just close the connection
        status, answer = _answer(raw)
        assert status == 400, answer


def test_a_chunked_body_past_the_size_limit_is_refused(server, transactional_db):
    keys = make_account()
    body = b"description=" + b"x" * (300 * 1024)
    status, answer = _answer(
        server.raw(
            _request("/v1/customers", keys.sk, "Transfer-Encoding: chunked\r\n", _chunked(body))
        )
    )
    assert status == 413, answer
    assert answer["error"]["code"] == "request_too_large"
