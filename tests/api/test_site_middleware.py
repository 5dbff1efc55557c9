"""The site's middleware (sessions, CSRF, the console's user and messages, static files, frame
options) serves the console and the hosted pages; an API request goes straight past it
(`api.middleware.SiteOnly`). What each side still gets is checked here."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client

FORM = "application/x-www-form-urlencoded"


def test_an_api_answer_has_its_length_and_security_headers_and_no_cookie_business(client, acct):
    logged_in = Client()
    logged_in.force_login(get_user_model().objects.create_superuser("bob", "b@example.com", "pw"))
    # even a console session's cookie sent along is not read: the key alone authenticates
    response = logged_in.post(
        "/v1/payment_intents",
        "amount=1000&currency=usd",
        content_type=FORM,
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs
    assert "Set-Cookie" not in response and not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert "X-Frame-Options" not in response
    # and without a key, the session does not stand in for one
    refused = logged_in.post("/v1/payment_intents", "amount=1000&currency=usd", content_type=FORM)
    assert refused.status_code == 401


def test_a_head_answer_keeps_the_length_of_the_get_and_no_body(client):
    pi = client.post("/v1/payment_intents", {"amount": 1000, "currency": "usd"}).json()
    got = client.django.get(
        f"/v1/payment_intents/{pi['id']}", HTTP_AUTHORIZATION=f"Bearer {client.key}"
    )
    head = client.django.head(
        f"/v1/payment_intents/{pi['id']}", HTTP_AUTHORIZATION=f"Bearer {client.key}"
    )
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == got["Content-Length"] == str(len(got.content))


def test_the_console_still_has_its_session_csrf_and_frame_options(db):
    browser = Client(enforce_csrf_checks=True)
    login = browser.get("/admin/login/")
    assert login.status_code == 200
    assert login["X-Frame-Options"] == "DENY"
    assert "csrftoken" in login.cookies
    # a POST without the CSRF token is refused by the console's CSRF check
    refused = browser.post("/admin/login/", {"username": "x", "password": "y"})
    assert refused.status_code == 403
