"""/v1/checkouts through HTTP: every state, field rule and error of a tracked checkout. Its
`payment_flow` names one of the caller's payment flows (made here through /v1/payment_flows)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from checkouts.models import Checkout
from events.models import Event
from tests.helpers import StripeTestClient

URL = "/v1/checkouts"
ITEM = {
    "id": "item_1",
    "quantity": 2,
    "title": "Mug",
    "variant_title": "Blue",
    "weight": 350,
    "taxable": True,
    "requires_shipping": True,
    "price": 1250,
    "sku": "MUG-B",
    "line_total": 2500,
    "image": "https://shop.example.com/mug.png",
    "discounted_price": 1000,
    "total_discount": 500,
}
START = {
    "tracking_id": "order_1001",
    "payment_flow": None,  # the `flows` fixture puts its "default" flow's id here for each test
    "amount": 2500,
    "currency": "eur",
    "customer": {
        "id": "cus_own_7",
        "email": "jo@example.com",
        "name": "Jo Bloggs",
        "is_guest": False,
    },
    "location": {"country": "IRL"},
    "cart": {"id": "cart_9", "weight": 700, "item_count": 2, "items": [ITEM]},
}


def create_flow(client, name: str) -> str:
    """A payment flow of the client's account and mode, made through the API: its `flow_…` id."""
    [builtin] = client.get("/v1/processors").json()["data"]
    response = client.post(
        "/v1/payment_flows",
        {"name": name, "routing": {"type": "priority", "processors": [builtin["id"]]}},
    )
    assert response.status_code == 200, response
    return response.json()["id"]


@pytest.fixture(autouse=True)
def flows(client, monkeypatch) -> dict[str, str]:
    """Two payment flows of the account (test mode), by name; START runs against "default"."""
    made = {name: create_flow(client, name) for name in ("default", "express")}
    monkeypatch.setitem(START, "payment_flow", made["default"])
    return made


def start(client, **overrides):
    response = client.post(URL, {**START, **overrides})
    assert response.status_code == 200, response
    return response.json()


def events_of(checkout_id: str) -> list[str]:
    return list(
        Event.objects.filter(object_id=checkout_id)
        .order_by("created", "id")
        .values_list("type", flat=True)
    )


def test_start_records_every_field_and_is_at_intent(client, flows):
    chk = start(client)
    assert chk["id"].startswith("chk_")
    assert chk["object"] == "checkout"
    assert chk["status"] == "intent"
    assert chk["tracking_id"] == "order_1001"
    assert chk["payment_flow"] == flows["default"]
    assert chk["amount"] == 2500 and chk["currency"] == "eur"
    assert chk["customer"] == {
        "id": "cus_own_7",
        "email": "jo@example.com",
        "name": "Jo Bloggs",
        "is_guest": False,
    }
    assert chk["location"] == {"country": "IRL"}
    assert chk["cart"]["items"] == [ITEM]
    assert chk["source"] == "tracked"
    assert chk["timeline"]["intent_started"]["status"] == "in_progress"
    assert chk["timeline"]["shipping"] == {"status": "not_started", "date": None}
    assert chk["timeline"]["payment_attempts"] == []
    assert chk["timeline"]["complete"] == {"status": "not_started", "date": None}
    assert chk["linked_payments"] == []
    assert chk["client_secret"].startswith(chk["id"] + "_secret_")
    assert events_of(chk["id"]) == ["checkout.started"]


def test_first_update_makes_it_active_and_keeps_each_step_change(client):
    chk = start(client)
    url = f"{URL}/{chk['id']}"
    first = client.post(url, {"shipping": {"status": "in_progress"}}).json()
    assert first["status"] == "active"
    assert first["timeline"]["intent_started"]["status"] == "complete"
    assert first["timeline"]["shipping"]["status"] == "in_progress"
    client.post(url, {"shipping": {"status": "complete"}, "delivery": {"status": "in_progress"}})
    redone = client.post(url, {"shipping": {"status": "in_progress"}}).json()  # back to redo it
    assert redone["timeline"]["shipping"]["status"] == "in_progress"
    history = [(c["step"], c["status"]) for c in redone["timeline"]["history"]]
    assert history == [
        ("intent_started", "complete"),
        ("shipping", "in_progress"),
        ("shipping", "complete"),
        ("delivery", "in_progress"),
        ("shipping", "in_progress"),
    ]
    row = Checkout.objects.get(id=chk["id"])
    assert row.active_at is not None
    assert row.shipping_completed_at is not None  # the first time it was complete stays
    assert events_of(chk["id"]) == ["checkout.started"] + ["checkout.updated"] * 3


def test_update_changes_the_fields_given(client):
    chk = start(client)
    updated = client.post(
        f"{URL}/{chk['id']}",
        {
            "amount": 3100,
            "currency": "usd",
            "location": {"country": "usa"},
            "customer": {"is_guest": True},
        },
    ).json()
    assert (updated["amount"], updated["currency"]) == (3100, "usd")
    assert updated["location"] == {"country": "USA"}
    assert updated["customer"]["is_guest"] is True
    assert updated["customer"]["email"] == "jo@example.com"


@pytest.mark.parametrize(
    "params, param",
    [
        ({"location": {"country": "IE"}}, "location[country]"),
        ({"location": {"country": "XYZ"}}, "location[country]"),
        ({"amount": "12.50"}, "amount"),
        ({"amount": -1}, "amount"),
        ({"cart": {"items": [{"price": "9.99"}]}}, "cart[items][0][price]"),
        ({"cart": {"items": [{"line_total": 1.5}]}}, "cart[items][0][line_total]"),
        ({"cart": {"item_count": "two"}}, "cart[item_count]"),
        ({"currency": "zzz"}, "currency"),
    ],
)
def test_bad_fields_on_start_are_400s_that_create_nothing(client, params, param):
    response = client.post(URL, {**START, **params}, json=True)
    assert response.status_code == 400, response
    assert response.error["param"] == param
    assert not Checkout.objects.exists()


def test_start_needs_a_tracking_id_and_an_amount(client):
    for missing in ("tracking_id", "amount", "currency"):
        params = {k: v for k, v in START.items() if k != missing}
        response = client.post(URL, params)
        assert response.status_code == 400
        assert response.error["code"] == "parameter_missing"
        assert response.error["param"] == missing


@pytest.mark.parametrize("body,json", [({"tracking_id": None}, True), ({"tracking_id": ""}, False)])
def test_a_tracking_id_cannot_be_unset_and_nothing_changes(client, body, json):
    """Found by the long fuzz: a null tracking id on update was a 500 (the column is NOT NULL)."""
    chk = start(client)
    response = client.post(
        f"{URL}/{chk['id']}", {**body, "shipping": {"status": "in_progress"}}, json=json
    )
    assert response.status_code == 400, response
    assert response.error["param"] == "tracking_id"
    again = client.get(f"{URL}/{chk['id']}").json()
    assert again["tracking_id"] == chk["tracking_id"]
    assert again["status"] == chk["status"]


def test_a_payment_flow_not_of_the_callers_account_and_mode_is_refused_and_nothing_is_made(
    client, acct, other_acct
):
    theirs = create_flow(StripeTestClient(key=other_acct.sk), "theirs")
    live = create_flow(StripeTestClient(key=acct.sk_live), "live")
    for caller in (client, StripeTestClient(key=acct.pk)):
        for flow in (theirs, live, "flow_doesnotexist"):
            response = caller.post(URL, {**START, "payment_flow": flow})
            assert response.status_code == 400, (flow, response)
            assert response.error["code"] == "resource_missing"
            assert response.error["param"] == "payment_flow"
            assert flow in response.error["message"]
    assert not Checkout.objects.exists()
    assert not Event.objects.filter(type__startswith="checkout.").exists()


def test_an_update_may_name_only_the_callers_own_payment_flow(client, other_acct, flows):
    chk = start(client)
    url = f"{URL}/{chk['id']}"
    theirs = create_flow(StripeTestClient(key=other_acct.sk), "theirs")
    for flow in (theirs, "flow_doesnotexist"):
        response = client.post(url, {"payment_flow": flow})
        assert response.status_code == 400, (flow, response)
        assert (response.error["code"], response.error["param"]) == (
            "resource_missing",
            "payment_flow",
        )
    row = Checkout.objects.get(id=chk["id"])
    assert (row.payment_flow, row.status) == (flows["default"], "intent")
    assert events_of(chk["id"]) == ["checkout.started"]
    moved = client.post(url, {"payment_flow": flows["express"]})
    assert moved.status_code == 200, moved
    assert moved.json()["payment_flow"] == flows["express"]


def test_unknown_parameters_are_refused(client):
    response = client.post(URL, {**START, "cart": {"items": [{**ITEM, "colour": "red"}]}})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"
    chk = start(client)
    response = client.post(f"{URL}/{chk['id']}", {"shipping": {"status": "done"}})
    assert response.status_code == 400
    assert response.error["param"] == "shipping[status]"
    assert Checkout.objects.get(id=chk["id"]).status == "intent"


def test_a_country_from_the_full_iso_list_is_accepted(client):
    for code in ("ALA", "ZWE", "VAT", "ATA", "SSD"):
        assert start(client, tracking_id=code, location={"country": code})["location"] == {
            "country": code
        }


def test_complete_is_terminal_and_update_or_complete_again_are_refused(client):
    chk = start(client)
    url = f"{URL}/{chk['id']}"
    done = client.post(f"{url}/complete", {"payment_reference": "ch_ext_123"}).json()
    assert done["status"] == "complete"
    assert done["payment_reference"] == "ch_ext_123"
    assert done["timeline"]["complete"]["status"] == "complete"
    again = client.post(f"{url}/complete", {"payment_reference": "ch_ext_456"})
    assert again.status_code == 400
    assert again.error["code"] == "checkout_unexpected_state"
    update = client.post(url, {"billing": {"status": "complete"}})
    assert update.status_code == 400
    assert update.error["code"] == "checkout_unexpected_state"
    assert client.get(url).json()["payment_reference"] == "ch_ext_123"
    assert events_of(chk["id"]) == ["checkout.started", "checkout.completed"]


def test_a_tracking_id_names_one_open_checkout(client, acct):
    first = start(client)
    reused = client.post(URL, START)
    assert reused.status_code == 400
    assert reused.error["code"] == "resource_already_exists"
    assert reused.error["param"] == "tracking_id"
    other = start(client, tracking_id="order_1002")
    clash = client.post(f"{URL}/{other['id']}", {"tracking_id": "order_1001"})
    assert clash.status_code == 400 and clash.error["param"] == "tracking_id"
    # the live mode is another namespace, and once complete the id is free again
    live = StripeTestClient(key=acct.sk_live)
    live_flow = create_flow(live, "default")
    assert live.post(URL, {**START, "payment_flow": live_flow}).status_code == 200
    client.post(f"{URL}/{first['id']}/complete")
    assert start(client)["tracking_id"] == "order_1001"


def test_the_partial_unique_index_holds_without_the_check(acct):
    from django.db import IntegrityError, transaction

    common = {"account": acct.account, "livemode": False, "tracking_id": "t", "steps": {}}
    first = Checkout.objects.create(client_secret="a", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Checkout.objects.create(client_secret="b", **common)
    Checkout.objects.filter(id=first.id).update(status="complete")
    Checkout.objects.create(client_secret="c", **common)  # only open checkouts are unique
    Checkout.objects.create(client_secret="d", **{**common, "livemode": True})


def test_left_alone_it_reads_inactive_at_once_and_an_update_brings_it_back(client, settings):
    chk = start(client)
    url = f"{URL}/{chk['id']}"
    client.post(url, {"shipping": {"status": "in_progress"}})
    Checkout.objects.filter(id=chk["id"]).update(
        last_activity_at=timezone.now() - timedelta(seconds=settings.CHECKOUT_INACTIVE_SECONDS + 1)
    )
    shown = client.get(url).json()
    assert shown["status"] == "inactive"
    assert Checkout.objects.get(id=chk["id"]).status == "active"  # a read never writes
    listed = client.get(URL, {"status": "inactive"}).json()["data"]
    assert [c["id"] for c in listed] == [chk["id"]]
    assert client.get(URL, {"status": "active"}).json()["data"] == []
    back = client.post(url, {"shipping": {"status": "complete"}}).json()
    assert back["status"] == "active"
    row = Checkout.objects.get(id=chk["id"])
    assert row.was_inactive and row.inactive_at is not None
    assert events_of(chk["id"])[-3:] == [
        "checkout.inactive",
        "checkout.reactivated",
        "checkout.updated",
    ]
    done = client.post(f"{url}/complete").json()
    assert done["status"] == "complete"


def test_the_sweep_writes_inactive_with_its_event_once(client, settings):
    from checkouts.services import checkouts_mark_inactive

    stale = start(client)
    fresh = start(client, tracking_id="order_2")
    Checkout.objects.filter(id=stale["id"]).update(
        last_activity_at=timezone.now() - timedelta(seconds=settings.CHECKOUT_INACTIVE_SECONDS)
    )
    assert checkouts_mark_inactive() == 1
    assert checkouts_mark_inactive() == 0
    assert Checkout.objects.get(id=stale["id"]).status == "inactive"
    assert Checkout.objects.get(id=fresh["id"]).status == "intent"
    assert events_of(stale["id"]) == ["checkout.started", "checkout.inactive"]


def test_list_filters_and_paginates(client, flows):
    a = start(client, tracking_id="a", payment_flow=flows["express"])
    b = start(client, tracking_id="b")
    c = start(client, tracking_id="c")
    client.post(f"{URL}/{b['id']}", {"billing": {"status": "in_progress"}})
    client.post(f"{URL}/{c['id']}/complete")
    ids = lambda r: [x["id"] for x in r.json()["data"]]  # noqa: E731
    assert ids(client.get(URL)) == [c["id"], b["id"], a["id"]]
    assert ids(client.get(URL, {"status": "active"})) == [b["id"]]
    assert ids(client.get(URL, {"status": "complete"})) == [c["id"]]
    assert ids(client.get(URL, {"status": "intent"})) == [a["id"]]
    assert ids(client.get(URL, {"tracking_id": "b"})) == [b["id"]]
    assert ids(client.get(URL, {"payment_flow": flows["express"]})) == [a["id"]]
    assert ids(client.get(URL, {"payment_flow": flows["default"]})) == [c["id"], b["id"]]
    page = client.get(URL, {"limit": 2}).json()
    assert page["has_more"] is True and len(page["data"]) == 2
    rest = client.get(URL, {"limit": 2, "starting_after": page["data"][-1]["id"]})
    assert ids(rest) == [a["id"]]
    assert client.get(URL, {"status": "lost"}).status_code == 400
    created = client.get(URL, {"created": {"gte": a["created"]}})
    assert len(ids(created)) == 3


def test_another_accounts_checkout_is_404_on_every_route(client, other_acct):
    chk = start(client)
    other = StripeTestClient(key=other_acct.sk)
    for method, path in (
        ("GET", f"{URL}/{chk['id']}"),
        ("POST", f"{URL}/{chk['id']}"),
        ("POST", f"{URL}/{chk['id']}/complete"),
    ):
        response = other.get(path) if method == "GET" else other.post(path, {})
        assert response.status_code == 404, (method, path)
        assert response.error["code"] == "resource_missing"
    assert other.get(URL).json()["data"] == []
    assert Checkout.objects.get(id=chk["id"]).status == "intent"


# --- the browser: a publishable key with the checkout's client secret -----------------------


def test_a_publishable_key_tracks_a_checkout_but_never_sees_email_name_or_location(acct):
    browser = StripeTestClient(key=acct.pk)
    started = browser.post(URL, START)
    assert started.status_code == 200, started
    chk = started.json()
    secret = chk["client_secret"]
    pii = ("jo@example.com", "Jo Bloggs", "IRL")
    updated = browser.post(
        f"{URL}/{chk['id']}",
        {"client_secret": secret, "shipping": {"status": "complete"}, "customer": {"name": "Jo B"}},
    )
    retrieved = browser.get(f"{URL}/{chk['id']}", {"client_secret": secret})
    for response in (started, updated, retrieved):
        assert response.status_code == 200, response
        body = response.json()
        assert "location" not in body and "metadata" not in body
        assert set(body["customer"]) == {"id", "is_guest"}
        assert not any(value in response.content.decode() for value in pii + ("Jo B",))
    assert updated.json()["timeline"]["shipping"]["status"] == "complete"
    full = StripeTestClient(key=acct.sk).get(f"{URL}/{chk['id']}").json()
    assert full["customer"]["name"] == "Jo B" and full["location"] == {"country": "IRL"}


def test_a_publishable_key_needs_the_right_client_secret(acct):
    browser = StripeTestClient(key=acct.pk)
    chk = browser.post(URL, START).json()
    no_secret = browser.get(f"{URL}/{chk['id']}")
    assert no_secret.status_code == 400 and no_secret.error["param"] == "client_secret"
    wrong = browser.post(f"{URL}/{chk['id']}", {"client_secret": "chk_x_secret_y"})
    assert wrong.status_code == 404
    for path in (URL, f"{URL}/{chk['id']}/complete", "/v1/checkout_insights"):
        refused = browser.get(path) if "insights" in path or path == URL else browser.post(path)
        assert refused.status_code == 403, path
    assert Checkout.objects.get(id=chk["id"]).status == "intent"


def test_a_publishable_key_may_not_set_metadata(acct):
    browser = StripeTestClient(key=acct.pk)
    response = browser.post(URL, {**START, "metadata": {"a": "b"}})
    assert response.status_code == 400 and response.error["code"] == "parameter_unknown"


def test_start_is_idempotent_with_a_key(client):
    headers = {"Idempotency-Key": "chk-start-1"}
    first = client.post(URL, START, headers=headers)
    second = client.post(URL, START, headers=headers)
    assert first.content == second.content
    assert Checkout.objects.count() == 1
