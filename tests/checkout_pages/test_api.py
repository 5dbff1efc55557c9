"""/v1/checkout_intents through HTTP: every field rule, state and error of a checkout intent."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from checkout_pages.models import CheckoutIntent
from events.models import Event
from tests.checkout_pages.conftest import COMPLETED, RETURN, create, page_path
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways


def event_types(object_id: str) -> list[str]:
    return list(
        Event.objects.filter(object_id=object_id).order_by("created").values_list("type", flat=True)
    )


# --- create ------------------------------------------------------------------------------------


def test_create_shows_every_field_and_the_token_once(client, checkout):
    assert checkout["id"].startswith("cint_")
    assert checkout["object"] == "checkout_intent"
    assert checkout["status"] == "pending"
    assert checkout["type"] == "checkout_page"
    assert checkout["amount"] == 2000 and checkout["currency"] == "usd"
    assert checkout["capture"] == "automatic"
    assert checkout["redirects"] == {"completed_url": COMPLETED, "return_url": RETURN}
    token = checkout["client_token"]
    assert token.startswith("ctok_") and checkout["id"] not in token
    assert checkout["url"].endswith(f"/checkout/{token}")
    assert checkout["attempts"] == [] and checkout["payment_intent"] is None
    assert 23 * 3600 <= checkout["expires_at"] - checkout["created"] <= 24 * 3600
    retrieved = client.get(f"/v1/checkout_intents/{checkout['id']}").json()
    assert retrieved["client_token"] is None and retrieved["url"] is None
    row = CheckoutIntent.objects.get(id=checkout["id"])
    assert token not in str(CheckoutIntent.objects.filter(id=row.id).values().first())
    assert event_types(checkout["id"]) == ["checkout_intent.created"]


def test_create_in_json_with_every_field(client, acct):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    response = client.post(
        "/v1/checkout_intents",
        {
            "type": "checkout_plugin",
            "amount": 1500,
            "currency": "eur",
            "amount_editable": True,
            "amount_min": 1000,
            "amount_max": 5000,
            "capture": "manual",
            "customer": customer["id"],
            "description": "Donation",
            "metadata": {"campaign": "spring"},
            "order_number": "A-17",
            "invoice": "in_42",
            "billing_address": True,
            "save_payment_method": True,
            "allowed_origins": ["https://Shop.Example.com", "http://localhost:3000/"],
            "redirects": {"completed_url": COMPLETED},
            "expires_at": int(time.time()) + 3600,
        },
        json=True,
    )
    assert response.status_code == 200, response
    body = response.json()
    assert body["allowed_origins"] == ["https://shop.example.com", "http://localhost:3000"]
    assert (body["amount_min"], body["amount_max"], body["capture"]) == (1000, 5000, "manual")
    assert body["metadata"] == {"campaign": "spring"}
    assert body["url"] is None  # only a checkout_page has a hosted URL


@pytest.mark.parametrize(
    "params, param, code",
    [
        ({"type": "nonsense"}, "type", "parameter_invalid_string"),
        ({"redirects": {"completed_url": ""}}, "redirects[completed_url]", "parameter_missing"),
        (
            {"redirects": {"completed_url": "javascript:alert(1)"}},
            "redirects[completed_url]",
            "url_invalid",
        ),
        ({"redirects": {"completed_url": "/relative"}}, "redirects[completed_url]", "url_invalid"),
        (
            {"redirects": {"completed_url": COMPLETED, "return_url": "ftp://x"}},
            "redirects[return_url]",
            "url_invalid",
        ),
        (
            {"redirects": {"completed_url": COMPLETED, "other": "x"}},
            "redirects[other]",
            "parameter_unknown",
        ),
        ({"amount": 10}, "amount", "amount_too_small"),
        ({"amount": "12.5"}, "amount", "parameter_invalid_integer"),
        ({"currency": "zzz"}, "currency", "parameter_invalid_string"),
        ({"capture": "later"}, "capture", "parameter_invalid_string"),
        (
            {"allowed_origins": ["https://shop.example.com"]},
            "allowed_origins",
            "parameter_invalid_string",
        ),
        ({"amount_min": 100}, "amount_min", "parameter_invalid_string"),
        ({"customer": "cus_nobody"}, "customer", "resource_missing"),
        ({"expires_at": int(time.time()) + 60}, "expires_at", "parameter_invalid_integer"),
        ({"expires_at": int(time.time()) + 31 * 86400}, "expires_at", "parameter_invalid_integer"),
        ({"client_token": "ctok_mine"}, "client_token", "parameter_unknown"),
    ],
)
def test_create_rules(client, params, param, code):
    response = create(client, **params)
    assert response.status_code in (400, 404), response
    assert (response.error["param"], response.error["code"]) == (param, code)
    assert not CheckoutIntent.objects.exists()


def test_expires_at_within_the_bounds_is_kept(client):
    soon = int(time.time()) + 31 * 60
    late = int(time.time()) + 29 * 86400
    assert create(client, expires_at=soon).json()["expires_at"] == soon
    assert create(client, expires_at=late).json()["expires_at"] == late


@pytest.mark.parametrize(
    "params, param",
    [
        ({}, "amount"),  # neither amount nor amount_editable
        ({"amount": 2000}, "currency"),
        (
            {"amount": 2000, "currency": "usd", "amount_editable": "true", "amount_min": 3000},
            "amount",
        ),
        (
            {"currency": "usd", "amount_editable": "true", "amount_min": 3000, "amount_max": 1000},
            "amount_min",
        ),
        (
            {"amount": 2000, "currency": "usd", "allowed_origins": ["https://a.example/path"]},
            "allowed_origins[0]",
        ),
        ({"amount": 2000, "currency": "usd", "allowed_origins": ["*"]}, "allowed_origins[0]"),
    ],
)
def test_payment_form_rules(client, params, param):
    response = client.post("/v1/checkout_intents", {"type": "payment_form", **params})
    assert response.status_code == 400, response
    assert response.error["param"] == param


def test_payment_method_form_needs_a_customer_and_takes_no_amount(client):
    missing = client.post("/v1/checkout_intents", {"type": "payment_method_form"})
    assert (missing.status_code, missing.error["param"]) == (400, "customer")
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    with_amount = client.post(
        "/v1/checkout_intents",
        {
            "type": "payment_method_form",
            "customer": customer["id"],
            "amount": 100,
            "currency": "usd",
        },
    )
    assert (with_amount.status_code, with_amount.error["param"]) == (400, "amount")
    ok = client.post(
        "/v1/checkout_intents", {"type": "payment_method_form", "customer": customer["id"]}
    )
    assert ok.status_code == 200 and ok.json()["amount"] is None


def test_amount_editable_without_amount_is_accepted(client):
    response = client.post(
        "/v1/checkout_intents",
        {"type": "payment_form", "currency": "usd", "amount_editable": "true", "amount_max": 10000},
    )
    assert response.status_code == 200, response
    assert response.json()["amount"] is None


def test_create_is_idempotent(client):
    body = {
        "type": "checkout_page",
        "amount": 2000,
        "currency": "usd",
        "redirects": {"completed_url": COMPLETED},
    }
    first = client.post("/v1/checkout_intents", body, headers={"Idempotency-Key": "ci-1"})
    again = client.post("/v1/checkout_intents", body, headers={"Idempotency-Key": "ci-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert CheckoutIntent.objects.count() == 1


# --- retrieve, expand, list --------------------------------------------------------------------


def test_expand_payment_intent_and_customer(client, browser_client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    ci = create(client, customer=customer["id"]).json()
    browser_client.submit(page_path(ci["client_token"]), {"number": "4000000000000002"})
    body = client.get(
        f"/v1/checkout_intents/{ci['id']}", {"expand": ["payment_intent", "customer"]}
    ).json()
    assert body["payment_intent"]["object"] == "payment_intent"
    assert body["payment_intent"]["metadata"]["checkout_intent"] == ci["id"]
    assert body["customer"]["id"] == customer["id"]
    bad = client.get(f"/v1/checkout_intents/{ci['id']}", {"expand": ["attempts"]})
    assert (bad.status_code, bad.error["code"]) == (400, "parameter_invalid_expand")
    listed = client.get("/v1/checkout_intents", {"expand": ["data.payment_intent"]}).json()
    assert listed["data"][0]["payment_intent"]["id"] == body["payment_intent"]["id"]


def test_list_filters(client):
    customer = client.post("/v1/customers", {"email": "j@example.com"}).json()
    page = create(client).json()
    form = client.post(
        "/v1/checkout_intents", {"type": "payment_method_form", "customer": customer["id"]}
    ).json()
    canceled = create(client).json()
    client.post(f"/v1/checkout_intents/{canceled['id']}/cancel")
    lapsed = create(client).json()
    CheckoutIntent.objects.filter(id=lapsed["id"]).update(expires_at=timezone.now())

    def ids(**params):
        response = client.get("/v1/checkout_intents", params)
        assert response.status_code == 200, response
        return [row["id"] for row in response.json()["data"]]

    assert ids() == [lapsed["id"], canceled["id"], form["id"], page["id"]]
    assert ids(type="payment_method_form") == [form["id"]]
    assert ids(customer=customer["id"]) == [form["id"]]
    assert ids(status="canceled") == [canceled["id"]]
    assert ids(status="expired") == [lapsed["id"]]
    assert ids(status="pending") == [form["id"], page["id"]]
    assert ids(limit=2) == [lapsed["id"], canceled["id"]]
    assert ids(starting_after=canceled["id"]) == [form["id"], page["id"]]
    assert ids(**{"created[gte]": page["created"] + 3600}) == []
    bad = client.get("/v1/checkout_intents", {"status": "open"})
    assert (bad.status_code, bad.error["param"]) == (400, "status")


def test_query_counts(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):  # with the tracked checkout it starts
        created = create(client)
    assert created.status_code == 200
    with django_assert_max_num_queries(5):
        retrieved = client.get(f"/v1/checkout_intents/{created.json()['id']}")
    assert retrieved.status_code == 200


# --- update --------------------------------------------------------------------------------------


def test_update_changes_given_fields_and_emits_updated(client, checkout):
    response = client.post(
        f"/v1/checkout_intents/{checkout['id']}",
        {"amount": 2500, "description": "Three tickets", "metadata": {"k": "v"}},
    )
    assert response.status_code == 200, response
    body = response.json()
    assert (body["amount"], body["description"], body["metadata"]) == (
        2500,
        "Three tickets",
        {"k": "v"},
    )
    assert body["redirects"]["completed_url"] == COMPLETED
    event = Event.objects.get(type="checkout_intent.updated")
    assert event.data["previous_attributes"]["amount"] == 2000


def test_type_is_immutable(client, checkout):
    response = client.post(f"/v1/checkout_intents/{checkout['id']}", {"type": "payment_form"})
    assert (response.status_code, response.error["param"]) == (400, "type")
    same = client.post(f"/v1/checkout_intents/{checkout['id']}", {"type": "checkout_page"})
    assert same.status_code == 400
    assert CheckoutIntent.objects.get(id=checkout["id"]).type == "checkout_page"


def test_update_rules_hold_together(client, checkout):
    response = client.post(
        f"/v1/checkout_intents/{checkout['id']}", {"redirects": {"completed_url": ""}}
    )
    assert (response.status_code, response.error["param"]) == (400, "redirects[completed_url]")
    bad_url = client.post(
        f"/v1/checkout_intents/{checkout['id']}", {"redirects": {"return_url": "javascript:x"}}
    )
    assert (bad_url.status_code, bad_url.error["param"]) == (400, "redirects[return_url]")
    assert CheckoutIntent.objects.get(id=checkout["id"]).return_url == RETURN


def test_an_update_refused_for_the_stored_type_says_so_in_its_code(client, checkout):
    """A rule the stored intent breaks once updated (its type, which never changes) answers the
    rule's code with `_for_object` appended; one the request breaks alone, the rule's code."""
    path = f"/v1/checkout_intents/{checkout['id']}"  # a checkout_page: never framed
    framed = client.post(path, {"allowed_origins": ["https://shop.example.com"]})
    assert framed.status_code == 400
    assert (framed.error["param"], framed.error["code"]) == (
        "allowed_origins",
        "parameter_invalid_string_for_object",
    )
    unset = client.post(path, {"redirects": {"completed_url": ""}})
    assert unset.error["code"] == "parameter_missing_for_object"
    editable = client.post(path, {"amount_editable": False, "amount_min": 100})
    assert (editable.error["param"], editable.error["code"]) == (
        "amount_min",
        "parameter_invalid_string",
    )
    assert CheckoutIntent.objects.get(id=checkout["id"]).allowed_origins == []


def test_an_amount_too_small_for_the_stored_currency_says_so_in_its_code(client, checkout):
    """An update's amount checked against the currency the intent keeps (the request gives
    none) answers `amount_too_small_for_object`; with the currency given, `amount_too_small`."""
    path = f"/v1/checkout_intents/{checkout['id']}"
    stored = client.post(path, {"amount": 1})
    assert (stored.status_code, stored.error["code"]) == (400, "amount_too_small_for_object")
    given = client.post(path, {"amount": 1, "currency": "usd"})
    assert (given.status_code, given.error["code"]) == (400, "amount_too_small")
    assert CheckoutIntent.objects.get(id=checkout["id"]).amount == checkout["amount"]


@pytest.mark.parametrize(("json", "empty"), [(True, None), (True, ""), (False, "")])
def test_allowed_origins_null_or_empty_clears_them(client, json, empty):
    """Found by the fuzz tests: a form's `allowed_origins=` cleared them, a JSON null was
    refused, and the document said neither. The empty value is null in JSON too (a nullable
    list; a list that takes no null refuses it as no array)."""
    made = create(client, type="checkout_plugin", allowed_origins=["https://shop.example.com"])
    assert made.json()["allowed_origins"] == ["https://shop.example.com"]
    path = f"/v1/checkout_intents/{made.json()['id']}"
    cleared = client.post(path, {"allowed_origins": empty}, json=json)
    assert cleared.status_code == 200, cleared
    assert cleared.json()["allowed_origins"] == []


def test_update_after_finish_is_refused(client, checkout, browser_client):
    browser_client.submit(page_path(checkout["client_token"]))
    response = client.post(f"/v1/checkout_intents/{checkout['id']}", {"amount": 3000})
    assert response.status_code == 400
    assert response.error["code"] == "checkout_intent_unexpected_state"
    assert "finished" in response.error["message"]


def test_update_after_expiry_on_read_is_refused(client, checkout):
    CheckoutIntent.objects.filter(id=checkout["id"]).update(expires_at=timezone.now())
    response = client.post(f"/v1/checkout_intents/{checkout['id']}", {"amount": 3000})
    assert response.error["code"] == "checkout_intent_unexpected_state"
    assert "expired" in response.error["message"]


# --- cancel, expire ----------------------------------------------------------------------------


def test_cancel_and_its_open_payment_intent(client, checkout, browser_client):
    browser_client.submit(page_path(checkout["client_token"]), {"number": "4000000000000002"})
    response = client.post(f"/v1/checkout_intents/{checkout['id']}/cancel")
    assert response.status_code == 200, response
    body = response.json()
    assert body["status"] == "canceled" and body["canceled_at"]
    pi = client.get(f"/v1/payment_intents/{body['payment_intent']}").json()
    assert (pi["status"], pi["cancellation_reason"]) == ("canceled", "abandoned")
    again = client.post(f"/v1/checkout_intents/{checkout['id']}/cancel")
    assert again.error["code"] == "checkout_intent_unexpected_state"
    assert "checkout_intent.canceled" in event_types(checkout["id"])


def test_expire_now(client, checkout):
    response = client.post(f"/v1/checkout_intents/{checkout['id']}/expire")
    assert response.status_code == 200, response
    assert response.json()["status"] == "expired" and response.json()["expired_at"]
    assert "checkout_intent.expired" in event_types(checkout["id"])
    rotate = client.post(f"/v1/checkout_intents/{checkout['id']}/client_token")
    assert rotate.error["code"] == "checkout_intent_unexpected_state"


def test_expired_on_read_before_the_sweep(client, checkout):
    CheckoutIntent.objects.filter(id=checkout["id"]).update(expires_at=timezone.now())
    body = client.get(f"/v1/checkout_intents/{checkout['id']}").json()
    assert body["status"] == "expired" and body["expired_at"] == body["expires_at"]
    assert CheckoutIntent.objects.get(id=checkout["id"]).status == "pending"  # reads never write


# --- client token -------------------------------------------------------------------------------


def test_rotation_refuses_the_old_token_at_once(client, checkout, acct, browser_client):
    old = checkout["client_token"]
    response = client.post(f"/v1/checkout_intents/{checkout['id']}/client_token")
    assert response.status_code == 200, response
    new = response.json()["client_token"]
    assert new != old and response.json()["url"].endswith(new)
    assert browser_client.get(page_path(old)).status_code == 404
    assert browser_client.get(page_path(new)).status_code == 200
    stale = client.get(f"/v1/checkout_intents/{checkout['id']}", {"client_token": old}, key=acct.pk)
    assert stale.status_code == 404
    fresh = client.get(f"/v1/checkout_intents/{checkout['id']}", {"client_token": new}, key=acct.pk)
    assert fresh.status_code == 200


def test_a_form_rendered_before_rotation_cannot_pay(client, checkout, browser_client):
    path = page_path(checkout["client_token"])
    token = browser_client.form_token(path)
    new = client.post(f"/v1/checkout_intents/{checkout['id']}/client_token").json()["client_token"]
    refused = browser_client.submit(page_path(new), token=token)
    assert refused.status_code == 403
    assert CheckoutIntent.objects.get(id=checkout["id"]).payment_intent_id is None


# --- publishable key -----------------------------------------------------------------------------


def test_publishable_key_with_the_token_sees_the_public_subset(client, checkout, acct):
    response = client.get(
        f"/v1/checkout_intents/{checkout['id']}",
        {"client_token": checkout["client_token"]},
        key=acct.pk,
    )
    assert response.status_code == 200, response
    body = response.json()
    for hidden in (
        "metadata",
        "customer",
        "attempts",
        "invoice",
        "allowed_origins",
        "client_token",
        "url",
    ):
        assert hidden not in body
    assert body["amount"] == 2000 and body["status"] == "pending"


def test_publishable_key_without_or_with_a_wrong_token_is_refused(client, checkout, acct):
    url = f"/v1/checkout_intents/{checkout['id']}"
    missing = client.get(url, key=acct.pk)
    assert (missing.status_code, missing.error["param"]) == (400, "client_token")
    wrong = client.get(url, {"client_token": "ctok_" + "x" * 32}, key=acct.pk)
    assert wrong.status_code == 404
    update = client.post(url, {"amount": 1}, key=acct.pk)
    assert update.status_code == 403
    assert client.post(f"{url}/cancel", key=acct.pk).status_code == 403
    assert client.get("/v1/checkout_intents", key=acct.pk).status_code == 403
    expand = client.get(
        url, {"client_token": checkout["client_token"], "expand": ["customer"]}, key=acct.pk
    )
    assert expand.status_code == 400


def test_another_accounts_token_is_refused(client, checkout, acct, other_acct):
    theirs = create(StripeTestClient(key=other_acct.sk)).json()
    # their token, their key, our intent's id
    response = client.get(
        f"/v1/checkout_intents/{checkout['id']}",
        {"client_token": theirs["client_token"]},
        key=other_acct.pk,
    )
    assert response.status_code == 404
    # our token with their key
    response = client.get(
        f"/v1/checkout_intents/{checkout['id']}",
        {"client_token": checkout["client_token"]},
        key=other_acct.pk,
    )
    assert response.status_code == 404
    # their token with our key, their id
    response = client.get(
        f"/v1/checkout_intents/{theirs['id']}",
        {"client_token": theirs["client_token"]},
        key=acct.pk,
    )
    assert response.status_code == 404


def test_webhook_endpoints_accept_the_checkout_event_types(client):
    types = [
        "checkout_intent.created",
        "checkout_intent.updated",
        "checkout_intent.finished",
        "checkout_intent.payment_failed",
        "checkout_intent.expired",
        "checkout_intent.canceled",
    ]
    response = client.post(
        "/v1/webhook_endpoints", {"url": "https://93.184.215.14/hook", "enabled_events": types}
    )
    assert response.status_code == 200, response
    assert response.json()["enabled_events"] == types
