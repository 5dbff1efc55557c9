"""A page on the merchant's own origin calls /v1/ from the browser with a publishable key (the
tracking snippet of docs/checkout-tracking.md): the preflight is answered without a key, every
/v1/ answer allows any origin, and nothing outside /v1/ gets CORS headers."""

from __future__ import annotations

import pytest
from django.test import Client

ORIGIN = "https://shop.example.com"
START = {"tracking_id": "order_1001", "amount": 5999, "currency": "eur"}


def preflight(path: str, method: str = "POST"):
    return Client().options(
        path,
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type",
    )


@pytest.mark.django_db
def test_a_preflight_without_a_key_is_answered_with_what_a_browser_may_send():
    response = preflight("/v1/checkouts")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "idempotency-key" in allowed
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.django_db
def test_a_preflight_for_an_id_route_is_answered_too():
    response = preflight("/v1/checkouts/chk_123")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_answers_under_v1_allow_any_origin_and_expose_the_request_id(acct):
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {acct.pk}", "HTTP_ORIGIN": ORIGIN}
    started = client.post("/v1/checkouts", START, content_type="application/json", **auth)
    assert started.status_code == 200, started.content
    assert started["Access-Control-Allow-Origin"] == "*"
    assert "Request-Id" in started["Access-Control-Expose-Headers"]
    # An error is readable by the page too (the envelope says what went wrong).
    refused = client.get("/v1/payment_intents", **auth)
    assert refused.status_code == 403
    assert refused["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_an_options_that_is_not_a_preflight_still_needs_a_key():
    response = Client().options("/v1/checkouts", HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/healthz", "/docs/"])
def test_nothing_outside_v1_gets_cors_headers(path):
    response = Client().get(path, HTTP_ORIGIN=ORIGIN)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in preflight(path, "GET")


TRACKING_SNIPPET = """
const done = arguments[arguments.length - 1];
const API = arguments[0] + "/v1/checkouts";
const KEY = arguments[1];
async function call(path, params) {
  const response = await fetch(API + path, {
    method: "POST",
    headers: {"Authorization": "Bearer " + KEY, "Content-Type": "application/json"},
    body: JSON.stringify(params),
  });
  return response.json();
}
call("", {tracking_id: "order_1001", amount: 5999, currency: "eur", customer: {is_guest: true}})
  .then(c => call("/" + c.id, {client_secret: c.client_secret, shipping: {status: "in_progress"}}))
  .then(c => done({status: c.status, shipping: c.timeline.shipping.status}))
  .catch(e => done({error: String(e)}));
"""


@pytest.mark.django_db(transaction=True)
def test_the_documented_tracking_snippet_works_from_another_origin(browser, live_server):
    from tests.conftest import make_account

    keys = make_account()
    # The page on one of localhost and 127.0.0.1, the API on the other: two origins, so the
    # browser preflights and reads the answers only if CORS allows it.
    page = live_server.url
    swap = ("localhost", "127.0.0.1") if "localhost" in page else ("127.0.0.1", "localhost")
    api = page.replace(*swap)
    assert api != page
    browser.get(f"{page}/healthz")
    browser.set_script_timeout(20)
    result = browser.execute_async_script(TRACKING_SNIPPET, api, keys.pk)
    assert result == {"status": "active", "shipping": "in_progress"}
