"""A PaymentIntent linked to a checkout with `checkout=`: every confirm attempt is recorded on
the checkout in the attempt's own transaction, and a success completes it."""

from __future__ import annotations

import pytest

from checkouts.models import Checkout
from events.models import Event
from intents.models import PaymentIntent
from tests.helpers import StripeTestClient

PI = "/v1/payment_intents"


def start(client, tracking_id="order_1") -> dict:
    response = client.post(
        "/v1/checkouts", {"tracking_id": tracking_id, "amount": 4200, "currency": "usd"}
    )
    assert response.status_code == 200, response
    return response.json()


def test_a_decline_then_a_success_completes_the_checkout_with_two_linked_payments(client):
    chk = start(client)
    client.post(f"/v1/checkouts/{chk['id']}", {"billing": {"status": "complete"}})
    pi = client.post(PI, {"amount": 4200, "currency": "usd", "checkout": chk["id"]}).json()
    declined = client.post(f"{PI}/{pi['id']}/confirm", {"payment_method": "pm_card_chargeDeclined"})
    assert declined.status_code == 402
    midway = client.get(f"/v1/checkouts/{chk['id']}").json()
    assert midway["status"] == "active"
    assert [p["status"] for p in midway["linked_payments"]] == ["failed"]
    paid = client.post(f"{PI}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"

    done = client.get(f"/v1/checkouts/{chk['id']}").json()
    assert done["status"] == "complete"  # no call to complete
    assert done["payment_reference"] == pi["id"]
    assert done["linked_payments"] == [
        {
            "payment_intent": pi["id"],
            "status": "failed",
            "created": done["linked_payments"][0]["created"],
            "title": "Payment attempt #1",
        },
        {
            "payment_intent": pi["id"],
            "status": "succeeded",
            "created": done["linked_payments"][1]["created"],
            "title": "Payment attempt #2",
        },
    ]
    attempts = done["timeline"]["payment_attempts"]
    assert [(a["status"], a["decline_code"]) for a in attempts] == [
        ("failed", "generic_decline"),
        ("succeeded", None),
    ]
    assert done["timeline"]["complete"]["status"] == "complete"
    row = Checkout.objects.get(id=chk["id"])
    assert row.declined_attempts == 1 and row.last_decline_code == "generic_decline"
    assert row.payment_attempted_at is not None and row.completed_at is not None
    types = list(
        Event.objects.filter(object_id=chk["id"])
        .order_by("created", "id")
        .values_list("type", flat=True)
    )
    assert types[-3:] == [
        "checkout.payment_attempted",
        "checkout.payment_attempted",
        "checkout.completed",
    ]


def test_a_three_d_secure_attempt_is_one_attempt_whose_status_moves(client):
    chk = start(client)
    pi = client.post(
        PI,
        {
            "amount": 4200,
            "currency": "usd",
            "checkout": chk["id"],
            "payment_method": "pm_card_authenticationRequired",
            "confirm": True,
            "return_url": "https://shop.example.com/back",
        },
    ).json()
    assert pi["status"] == "requires_action"
    shown = client.get(f"/v1/checkouts/{chk['id']}").json()
    assert [p["status"] for p in shown["linked_payments"]] == ["requires_action"]
    from intents.services import payment_intent_authenticate

    intent = PaymentIntent.objects.get(id=pi["id"])
    payment_intent_authenticate(
        payment_intent_id=intent.id, charge_id=intent.latest_charge_id, succeeded=True
    )
    done = client.get(f"/v1/checkouts/{chk['id']}").json()
    assert [p["title"] for p in done["linked_payments"]] == ["Payment attempt #1"]
    assert done["linked_payments"][0]["status"] == "succeeded"
    assert done["status"] == "complete"


def test_checkout_on_update_links_and_an_empty_string_unlinks(client):
    chk = start(client)
    pi = client.post(PI, {"amount": 4200, "currency": "usd"}).json()
    assert client.post(f"{PI}/{pi['id']}", {"checkout": chk["id"]}).status_code == 200
    assert PaymentIntent.objects.get(id=pi["id"]).checkout_id == chk["id"]
    assert client.post(f"{PI}/{pi['id']}", {"checkout": ""}).status_code == 200
    assert PaymentIntent.objects.get(id=pi["id"]).checkout_id is None


def test_linking_another_accounts_or_a_complete_checkout_is_refused(client, other_acct):
    theirs = start(StripeTestClient(key=other_acct.sk))
    response = client.post(PI, {"amount": 4200, "currency": "usd", "checkout": theirs["id"]})
    assert response.status_code == 400 and response.error["param"] == "checkout"
    chk = start(client)
    client.post(f"/v1/checkouts/{chk['id']}/complete")
    refused = client.post(PI, {"amount": 4200, "currency": "usd", "checkout": chk["id"]})
    assert refused.status_code == 400 and refused.error["code"] == "checkout_unexpected_state"
    assert not PaymentIntent.objects.exists()


def test_an_intent_without_a_checkout_confirms_with_no_extra_query(
    client, django_assert_num_queries
):
    """The link costs nothing when absent: the same confirm, with and without a checkout,
    differs only by the checkout's own lock, update and events."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def confirm_queries(checkout_id):
        params = {"amount": 4200, "currency": "usd", "payment_method": "pm_card_visa"}
        if checkout_id:
            params["checkout"] = checkout_id
        pi = client.post(PI, params).json()
        with CaptureQueriesContext(connection) as ctx:
            assert client.post(f"{PI}/{pi['id']}/confirm").status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    plain = confirm_queries(None)
    linked = confirm_queries(start(client)["id"])
    assert not any("checkouts_checkout" in sql for sql in plain)
    touching = [sql for sql in linked if "checkouts_checkout" in sql]
    assert len(touching) == 2  # the lock and the update: nothing else reads the checkout
    assert len(linked) - len(plain) <= 6  # + its events (payment_attempted, completed)


@pytest.mark.parametrize("value", ["chk_nope", "pi_123"])
def test_an_unknown_checkout_is_a_400_on_the_checkout_param(client, value):
    response = client.post(PI, {"amount": 4200, "currency": "usd", "checkout": value})
    assert response.status_code == 400 and response.error["param"] == "checkout"
