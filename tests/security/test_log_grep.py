"""Grep the logs of a full payment flow, captured at DEBUG with every SQL statement and its
parameters: no card number, CVC, secret key, client secret or webhook secret appears."""

from __future__ import annotations

import logging
import re

from django.db import connection

from api.logging import ScrubSecretsFilter
from tests.helpers import StripeTestClient, form_body

CARD = "4000000000000002"  # declines
GOOD_CARD = "5555555555554444"
CVC = "987"


def test_full_flow_leaves_no_secret_in_the_logs(acct, caplog):
    caplog.handler.addFilter(ScrubSecretsFilter())
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    careless = logging.getLogger("payintents.careless")
    client = StripeTestClient(key=acct.sk)
    card = {"number": CARD, "exp_month": "12", "exp_year": "2040", "cvc": CVC}
    good = {**card, "number": GOOD_CARD}
    old_debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True  # log every SQL statement with its parameters
    try:
        body = {"type": "card", "card": good}
        careless.debug("request body %s", form_body(body))  # what a careless developer logs
        careless.info("headers %s", {"Authorization": f"Bearer {acct.sk}"})
        pm = client.post("/v1/payment_methods", body).json()
        pi = client.post("/v1/payment_intents", {"amount": 2000, "currency": "usd"}).json()
        careless.debug("created %r", pi)
        declined = client.post(
            f"/v1/payment_intents/{pi['id']}/confirm",
            {"payment_method_data": {"type": "card", "card": card}},
            headers={"Idempotency-Key": "flow-1"},
        )
        assert declined.status_code == 402
        browser = StripeTestClient(key=acct.pk)
        retrieved = browser.get(
            f"/v1/payment_intents/{pi['id']}", {"client_secret": pi["client_secret"]}
        )
        assert retrieved.status_code == 200
        confirmed = browser.post(
            f"/v1/payment_intents/{pi['id']}/confirm",
            {"payment_method": pm["id"], "client_secret": pi["client_secret"]},
        )
        assert confirmed.status_code == 200, confirmed
        client.get("/v1/payment_intents", key=acct.sk + "x")  # a 401 with a (masked) key
        hook = client.post(
            "/v1/webhook_endpoints", {"url": "https://93.184.215.14/hook", "enabled_events": ["*"]}
        )
        webhook_secret = hook.json().get("secret", "") if hook.status_code == 200 else ""
    finally:
        connection.force_debug_cursor = old_debug_cursor

    text = caplog.text
    assert "INSERT INTO" in text  # the SQL was captured: the test looks at real log lines
    assert "[card number]" in text and "_secret_…" in text  # secrets flowed in and were caught
    for secret in (CARD, GOOD_CARD, acct.sk, acct.sk[8:], pi["client_secret"]):
        assert secret not in text
    assert pi["client_secret"].split("_secret_")[1] not in text
    assert not re.search(rf"cvc\W{{0,8}}{CVC}", text, re.I)
    assert not re.search(r"whsec_[A-Za-z0-9+/=]{8,}", text)
    if webhook_secret:
        assert webhook_secret not in text
