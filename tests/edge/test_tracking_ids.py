"""A publishable key cannot block or probe a merchant's tracking ids: a tracking id a browser
gives names its checkout but claims nothing, so the merchant's server can still start (or
move) a checkout with it, and the browser's start never tells whether the id is in use."""

from __future__ import annotations

from tests.helpers import StripeTestClient

START = {"tracking_id": "order_1001", "amount": 5999, "currency": "eur"}


def test_a_publishable_key_cannot_block_the_merchants_next_tracking_id(acct):
    browser = StripeTestClient(key=acct.pk).post("/v1/checkouts", START)
    assert browser.status_code == 200, browser
    server = StripeTestClient(key=acct.sk).post("/v1/checkouts", START)
    assert server.status_code == 200, server
    assert server.json()["id"] != browser.json()["id"]


def test_a_publishable_key_cannot_probe_a_tracking_id_in_use(acct):
    server = StripeTestClient(key=acct.sk).post("/v1/checkouts", START)
    assert server.status_code == 200, server
    browser = StripeTestClient(key=acct.pk).post("/v1/checkouts", START)
    assert browser.status_code == 200, browser
    assert server.json()["id"] not in browser.content.decode()


def test_a_publishable_update_cannot_block_or_probe_either(acct):
    sk, pk = StripeTestClient(key=acct.sk), StripeTestClient(key=acct.pk)
    own = pk.post("/v1/checkouts", {**START, "tracking_id": "page_1"}).json()
    held = sk.post("/v1/checkouts", START).json()
    moved = pk.post(
        f"/v1/checkouts/{own['id']}",
        {"client_secret": own["client_secret"], "tracking_id": START["tracking_id"]},
    )
    assert moved.status_code == 200, moved
    assert held["id"] not in moved.content.decode()
    # the merchant's id stays the merchant's: a second server start with it is still refused
    again = sk.post("/v1/checkouts", START)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "resource_already_exists"


def test_the_server_still_holds_one_open_checkout_per_tracking_id(acct):
    sk = StripeTestClient(key=acct.sk)
    assert sk.post("/v1/checkouts", START).status_code == 200
    again = sk.post("/v1/checkouts", START)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "resource_already_exists"
