"""A real gunicorn, started with runall's command line: its access log never holds a card
number or a key sent as a path id (nor a query string), and a long but ordinary request line
and a header-heavy request still reach the application's JSON, not gunicorn's error page."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time

import pytest

from api.management.commands.runall import gunicorn_argv
from tests.conftest import ROOT

CARD = "4111111111111111"
SPACED_CARD = "5555 5555 5555 4444"
KEY = "sk_live_" + "A1b2C3d4E5f6G7h8I9j0K1l2"
SECRET = "pi_3AbcDEF_secret_ZyXwVuTsRq"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    """One gunicorn for the module (its start and the static files' collection are most of the
    module's time); each test reads only the access lines written after it began (`lines`)."""
    tmp_path = tmp_path_factory.mktemp("access_log")
    port = _free_port()
    log_path = tmp_path / "access.log"
    env = {**os.environ, "PAYINTENTS_DEV": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("PYTEST_VERSION", None)
    # Outside pytest the pages name their static files through collectstatic's manifest, as a
    # deployment's do (runall collects them before it starts gunicorn): collect them here too.
    env["STATIC_ROOT"] = str(tmp_path / "static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    argv = gunicorn_argv(host="127.0.0.1", port=port, workers=1)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    assert proc.poll() is None, log_path.read_text()
                    time.sleep(0.1)
            yield port, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


def lines_after(log_path, start: int) -> str:
    """The access log from byte `start` on: what the current test's requests wrote."""
    return log_path.read_bytes()[start:].decode(errors="replace")


def _request(port: int, method: str, path: str, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, response.getheader("Content-Type"), body


def test_the_access_log_never_holds_a_card_number_or_key_sent_as_a_path_id(gunicorn):
    port, log_path = gunicorn
    start = log_path.stat().st_size
    paths = [
        f"/v1/payment_intents/{CARD}",
        f"/v1/payment_intents/{CARD}/confirm",
        "/v1/customers/" + SPACED_CARD.replace(" ", "%20"),
        f"/v1/payment_methods/{KEY}",
        f"/v1/payment_intents/{SECRET}",
        f"/v1/payment_intents?client_secret={SECRET}&card={CARD}",
    ]
    for path in paths:
        status, content_type, _ = _request(port, "GET", path)
        assert content_type.startswith("application/json")
        assert status == 401
    time.sleep(0.5)  # gunicorn writes the access line after the response
    text = lines_after(log_path, start)
    assert text.count("GET /v1/") == len(paths), text  # the lines are really there
    assert "/v1/payment_intents/{redacted}/confirm" in text
    for secret in (CARD, SPACED_CARD, SPACED_CARD.replace(" ", "%20"), KEY, KEY[8:], "ZyXwVuTsRq"):
        assert secret not in text, secret


def test_long_request_lines_and_many_headers_reach_the_application(gunicorn):
    port, _ = gunicorn
    query = "&".join(f"expand[]=data.customer{i}" for i in range(200))  # ~5 KB request line
    headers = {f"X-Extra-{i}": "v" * 100 for i in range(120)}
    status, content_type, body = _request(port, "GET", f"/v1/payment_intents?{query}", headers)
    assert content_type.startswith("application/json"), body[:200]
    assert status == 401
    assert len(query) > 4094  # past gunicorn's default limit of 4094 bytes


def test_the_access_log_never_holds_a_hosted_page_client_token(gunicorn):
    port, log_path = gunicorn
    start = log_path.stat().st_size
    token = "ctok_" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6"
    for path in (f"/checkout/{token}", f"/checkout/{token}/return"):
        _request(port, "GET", path)
    time.sleep(0.5)  # gunicorn writes the access line after the response
    text = lines_after(log_path, start)
    assert text.count("GET /checkout/") == 2, text  # the lines are really there
    assert token not in text and token[5:] not in text, text
