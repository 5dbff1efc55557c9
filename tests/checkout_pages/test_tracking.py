"""A paying checkout intent drives its own tracked checkout (`source: hosted`): started with
it, its billing step moved by the page, every attempt of the PaymentIntent it opens recorded on
it, completed by the payment — so insights count hosted pages beside merchants' own. The checkout
intent's payment flow (a `flow_…` of the account, or none) is the tracked checkout's and the
PaymentIntent's."""

from __future__ import annotations

from checkout_pages.models import CheckoutIntent
from checkouts.models import Checkout
from events.models import Event
from tests.checkout_pages.conftest import create, page_path
from tests.checkouts.test_api import create_flow
from tests.helpers import StripeTestClient


def test_creating_a_checkout_intent_starts_a_hosted_checkout(client):
    ci = create(client, amount=4200, currency="eur").json()
    assert ci["checkout"].startswith("chk_")
    chk = client.get(f"/v1/checkouts/{ci['checkout']}").json()
    assert (chk["status"], chk["source"], chk["tracking_id"]) == ("intent", "hosted", ci["id"])
    assert (chk["amount"], chk["currency"], chk["payment_flow"]) == (4200, "eur", None)
    assert ci["payment_flow"] is None  # it names no flow: nor does its tracked checkout
    assert chk["linked_payments"] == []
    assert Event.objects.filter(object_id=chk["id"], type="checkout.started").count() == 1
    assert client.get(f"/v1/checkout_intents/{ci['id']}").json()["checkout"] == chk["id"]


def test_a_checkout_intents_payment_flow_is_its_tracked_checkouts_and_its_payments(
    client, browser_client
):
    flow = create_flow(client, "Hosted page")
    created = create(client, payment_flow=flow)
    assert created.status_code == 200, created
    ci = created.json()
    assert ci["payment_flow"] == flow
    started = client.get(f"/v1/checkouts/{ci['checkout']}").json()
    assert (started["source"], started["payment_flow"]) == ("hosted", flow)

    paid = browser_client.submit(page_path(ci["client_token"]))
    assert paid.status_code == 303
    ci = client.get(f"/v1/checkout_intents/{ci['id']}").json()
    pi = client.get(f"/v1/payment_intents/{ci['payment_intent']}").json()
    assert (pi["status"], pi["checkout"], pi["payment_flow"]) == ("succeeded", started["id"], flow)
    charge = client.get(f"/v1/charges/{pi['latest_charge']}").json()
    assert (charge["payment_flow"], charge["payment_flow_version"]) == (flow, 1)  # it ran the flow
    chk = client.get(f"/v1/checkouts/{ci['checkout']}").json()
    assert (chk["status"], chk["payment_flow"]) == ("complete", flow)


def test_a_checkout_intent_may_name_only_the_accounts_own_payment_flow(client, other_acct):
    theirs = create_flow(StripeTestClient(key=other_acct.sk), "theirs")
    for flow in (theirs, "flow_doesnotexist"):
        response = create(client, payment_flow=flow)
        assert response.status_code == 400, (flow, response)
        assert (response.error["code"], response.error["param"]) == (
            "resource_missing",
            "payment_flow",
        )
    assert not CheckoutIntent.objects.exists()
    assert not Checkout.objects.exists()


def test_a_payment_method_form_takes_no_payment_and_tracks_no_checkout(client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    ci = client.post(
        "/v1/checkout_intents", {"type": "payment_method_form", "customer": customer["id"]}
    ).json()
    assert ci["checkout"] is None
    assert not Checkout.objects.exists()


def test_showing_the_page_puts_billing_under_way_once(client, checkout, browser_client):
    path = page_path(checkout["client_token"])
    browser_client.get(path)
    chk = client.get(f"/v1/checkouts/{checkout['checkout']}").json()
    assert chk["status"] == "active"
    assert chk["timeline"]["billing"]["status"] == "in_progress"
    browser_client.get(path)
    updates = Event.objects.filter(object_id=chk["id"], type="checkout.updated").count()
    assert updates == 1  # shown again: nothing new


def test_paying_on_the_hosted_page_after_a_decline_completes_the_hosted_checkout(
    client, checkout, browser_client
):
    path = page_path(checkout["client_token"])
    browser_client.get(path)
    declined = browser_client.submit(path, {"number": "4000000000000002"})
    assert declined.status_code == 402
    midway = client.get(f"/v1/checkouts/{checkout['checkout']}").json()
    assert midway["status"] == "active"
    assert midway["timeline"]["billing"]["status"] == "complete"
    assert [p["status"] for p in midway["linked_payments"]] == ["failed"]
    paid = browser_client.submit(path)
    assert paid.status_code == 303

    ci = client.get(f"/v1/checkout_intents/{checkout['id']}").json()
    pi = client.get(f"/v1/payment_intents/{ci['payment_intent']}").json()
    assert pi["checkout"] == checkout["checkout"]
    chk = client.get(f"/v1/checkouts/{checkout['checkout']}").json()
    assert (chk["status"], chk["source"]) == ("complete", "hosted")
    assert chk["payment_reference"] == pi["id"]
    assert [(p["payment_intent"], p["status"], p["title"]) for p in chk["linked_payments"]] == [
        (pi["id"], "failed", "Payment attempt #1"),
        (pi["id"], "succeeded", "Payment attempt #2"),
    ]
    assert [a["decline_code"] for a in chk["timeline"]["payment_attempts"]] == [
        "generic_decline",
        None,
    ]

    insights = client.get("/v1/checkout_insights", {"group_by": "source"}).json()
    hosted = {b["bucket"]: b for b in insights["data"]}["hosted"]
    assert (hosted["started"], hosted["payment_attempted"], hosted["completed"]) == (1, 1, 1)
    assert hosted["money"][0]["currency"] == "usd"
    assert hosted["money"][0]["completed_amount"] == 2000
    assert hosted["money"][0]["declined_attempts"] == 1


def test_the_amount_the_customer_types_is_the_tracked_amount(client, browser_client):
    ci = client.post(
        "/v1/checkout_intents",
        {
            "type": "checkout_page",
            "currency": "usd",
            "amount_editable": "true",
            "redirects": {"completed_url": "https://shop.example.com/done"},
        },
    ).json()
    started = client.get(f"/v1/checkouts/{ci['checkout']}").json()
    assert (started["amount"], started["currency"]) == (None, "usd")
    browser_client.submit(page_path(ci["client_token"]), {"amount": "12.50"})
    chk = client.get(f"/v1/checkouts/{ci['checkout']}").json()
    assert (chk["status"], chk["amount"], chk["currency"]) == ("complete", 1250, "usd")


def test_a_canceled_checkout_intent_leaves_its_checkout_to_go_inactive(client, checkout):
    assert client.post(f"/v1/checkout_intents/{checkout['id']}/cancel").status_code == 200
    chk = client.get(f"/v1/checkouts/{checkout['checkout']}").json()
    assert chk["status"] == "intent"  # as it was: it goes inactive, then counts as lost


def test_a_tracked_checkout_completed_by_the_merchant_does_not_stop_the_payment(
    client, checkout, browser_client
):
    client.post(f"/v1/checkouts/{checkout['checkout']}/complete", {"payment_reference": "x"})
    paid = browser_client.submit(page_path(checkout["client_token"]))
    assert paid.status_code == 303
    ci = client.get(f"/v1/checkout_intents/{checkout['id']}").json()
    assert ci["status"] == "finished"
    assert client.get(f"/v1/payment_intents/{ci['payment_intent']}").json()["checkout"] is None
