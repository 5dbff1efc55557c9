"""Every answer of the API is the JSON envelope (or a bodiless HEAD): unknown URLs and trailing
slashes for every method with CSRF enforced, OPTIONS without docstrings, a database that cannot
be reached. CSRF still protects the console."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client, RequestFactory

from intents.models import PaymentIntent
from tests.conftest import ROOT
from tests.helpers import ApiResponse
from tests.security.world import v1_routes

METHODS = ("GET", "POST", "DELETE", "PUT", "PATCH")


class CsrfClient:
    """Django's test client with CSRF enforced, as a browser-less client meets the server."""

    def __init__(self, key: str):
        self.django = Client(enforce_csrf_checks=True, raise_request_exception=False)
        self.key = key

    def send(self, method: str, path: str, body: bytes = b"") -> ApiResponse:
        return ApiResponse(
            self.django.generic(
                method,
                path,
                body,
                content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=f"Bearer {self.key}",
            )
        )


def _assert_json_404(response) -> None:
    assert response.status_code == 404, response
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.error["type"] == "invalid_request_error"
    assert response.error["code"] == "resource_missing"


def test_unknown_urls_answer_the_json_404_for_every_method(acct):
    client = CsrfClient(acct.sk)
    for path in ("/v1/nothing_here", "/v1/payment_intents/pi_x/unknown_action"):
        for method in METHODS:
            _assert_json_404(client.send(method, path, b"amount=1"))
    for method in METHODS:  # outside the API: plain text, never the CSRF page
        response = client.send(method, "/nothing", b"amount=1")
        assert response.status_code == 404, (method, response)
        assert response.headers["Content-Type"].startswith("text/plain"), method


def test_a_trailing_slash_on_every_v1_route_answers_the_json_404(acct):
    client = CsrfClient(acct.sk)
    for route in v1_routes():
        for method in METHODS:
            _assert_json_404(client.send(method, route.url("pi_123") + "/", b"amount=1"))


def test_the_key_authenticated_api_needs_no_csrf_token(acct):
    response = CsrfClient(acct.sk).send("POST", "/v1/payment_intents", b"amount=2000&currency=usd")
    assert response.status_code == 200, response


def test_csrf_still_protects_the_console_login():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403


# --- HEAD -------------------------------------------------------------------------------------


def _wsgi(method: str, path: str, key: str) -> tuple[str, dict, bytes]:
    """The application's own WSGI answer, without any server or test client stripping it."""
    environ = RequestFactory().generic(method, path, HTTP_AUTHORIZATION=f"Bearer {key}").environ
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    body = b"".join(WSGIHandler()(environ, start_response))
    return captured["status"], captured["headers"], body


@pytest.mark.django_db(transaction=True)
def test_head_sends_the_headers_of_get_and_no_body(acct):
    for path in ("/v1/payment_intents", "/healthz", "/v1/nothing_here", "/v1/payment_intents/x/"):
        get_status, get_headers, get_body = _wsgi("GET", path, acct.sk)
        status, headers, body = _wsgi("HEAD", path, acct.sk)
        assert get_body, path
        assert body == b"", (path, body)
        assert status == get_status
        assert headers["Content-Length"] == str(len(get_body))
        assert headers["Content-Type"] == get_headers["Content-Type"]


# --- OPTIONS ----------------------------------------------------------------------------------


def test_options_on_every_v1_route_is_a_minimal_answer_without_docstrings(acct):
    client = CsrfClient(acct.sk)
    routes = v1_routes()
    for route in routes:
        response = client.send("OPTIONS", route.url("pi_123"))
        assert response.status_code == 200, (route.template, response)
        assert response.json() == {}, (route.template, response)
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert set(route.methods) <= allowed
        doc = (route.view_class.__doc__ or "").strip().splitlines()
        if doc:
            assert doc[0] not in response.content.decode()


def test_options_without_a_key_is_the_401_envelope():
    response = ApiResponse(Client().options("/v1/payment_intents"))
    assert response.status_code == 401
    assert response.error["type"] == "invalid_request_error"


# --- database down ----------------------------------------------------------------------------


def test_database_errors_answer_503_with_retry_after_and_write_nothing(acct, monkeypatch):
    client = CsrfClient(acct.sk)
    before = PaymentIntent.objects.count()

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    responses = [
        client.send("POST", "/v1/payment_intents", b"amount=2000&currency=usd"),
        client.send("GET", "/v1/payment_intents"),
        client.send("GET", "/v1/customers"),
    ]
    monkeypatch.undo()
    for response in responses:
        assert response.status_code == 503, response
        assert response.error["type"] == "api_error"
        assert int(response.headers["Retry-After"]) > 0
    assert PaymentIntent.objects.count() == before


def test_a_database_on_a_closed_port_answers_503_not_500():
    """A separate process whose DATABASE_URL points at a port nothing listens on."""
    script = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client(raise_request_exception=False).get('/v1/payment_intents',"
        " HTTP_AUTHORIZATION='Bearer sk_test_0123456789abcdefghijklmnop');"
        "print(json.dumps({'status': r.status_code, 'retry': r.headers.get('Retry-After'),"
        " 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PAYINTENTS_DEV": "1",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",
    }
    env.pop("PYTEST_VERSION", None)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    answer = json.loads(out.stdout.decode().strip().splitlines()[-1])
    assert answer["status"] == 503, answer
    assert answer["retry"]
    assert answer["body"]["error"]["type"] == "api_error"
