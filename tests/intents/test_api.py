"""Validation (§3), browser access, 3-D Secure via the hosted page, list/expand, query counts."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.intents.conftest import db_intent

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways

URL = "/v1/payment_intents"


# --- §3 validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,code,param",
    [
        ({"currency": "usd"}, "parameter_missing", "amount"),
        ({"amount": 2000}, "parameter_missing", "currency"),
        ({"amount": 49, "currency": "usd"}, "amount_too_small", "amount"),
        ({"amount": 29, "currency": "gbp"}, "amount_too_small", "amount"),
        ({"amount": 100_000_000, "currency": "usd"}, "amount_too_large", "amount"),
        ({"amount": "12.5", "currency": "usd"}, "parameter_invalid_integer", "amount"),
        ({"amount": 1005, "currency": "kwd"}, "parameter_invalid_integer", "amount"),
        ({"amount": 2000, "currency": "xyz"}, "parameter_invalid_string", "currency"),
        ({"amount": 2000, "currency": "usd", "status": "succeeded"}, "parameter_unknown", "status"),
        (
            {"amount": 2000, "currency": "usd", "amount_received": 5},
            "parameter_unknown",
            "amount_received",
        ),
        (
            {"amount": 2000, "currency": "usd", "capture_method": "later"},
            "parameter_invalid_string",
            "capture_method",
        ),
    ],
)
def test_create_validation_errors(client, params, code, param):
    r = client.post(URL, params)
    assert r.status_code == 400, r
    assert r.error["type"] == "invalid_request_error"
    assert r.error["code"] == code
    assert r.error["param"] == param


def test_invalid_create_stores_nothing(client):
    from intents.models import PaymentIntent

    client.post(URL, {"amount": 10, "currency": "usd"})
    assert PaymentIntent.objects.count() == 0


def test_zero_decimal_currency_takes_whole_units(client):
    r = client.post(URL, {"amount": 500, "currency": "JPY"})
    assert r.status_code == 200
    assert r.json()["currency"] == "jpy" and r.json()["amount"] == 500


def test_three_decimal_currency_amount_ending_in_zero_is_accepted(client):
    assert client.post(URL, {"amount": 1010, "currency": "kwd"}).status_code == 200


def test_json_and_form_bodies_give_the_same_intent(client):
    form = client.post(URL, {"amount": 2000, "currency": "usd", "metadata": {"k": "v"}}).json()
    js = client.post(
        URL, {"amount": 2000, "currency": "usd", "metadata": {"k": "v"}}, json=True
    ).json()
    assert (form["amount"], form["metadata"]) == (js["amount"], js["metadata"])


def test_a_json_null_shipping_is_none_on_create_and_removes_it_on_update(client):
    """Found by the fuzz tests: the document says `shipping` is nullable, and a JSON null was
    refused as a missing parameter."""
    shipping = {"name": "Jo", "address": {"line1": "1 Main St"}}
    created = client.post(URL, {"amount": 2000, "currency": "usd", "shipping": None}, json=True)
    assert created.status_code == 200, created
    assert created.json()["shipping"] is None
    pi = client.post(URL, {"amount": 2000, "currency": "usd", "shipping": shipping}).json()
    assert pi["shipping"]["name"] == "Jo"
    updated = client.post(f"{URL}/{pi['id']}", {"shipping": None}, json=True)
    assert updated.status_code == 200, updated
    assert updated.json()["shipping"] is None


@pytest.mark.parametrize(
    "metadata,code,param",
    [
        ({"k" * 41: "v"}, "parameter_invalid_metadata_key", "metadata[" + "k" * 41 + "]"),
        ({"a[b": "v"}, "parameter_invalid_metadata_key", "metadata[a[b]"),
        ({"k": "v" * 501}, "parameter_invalid_metadata_value", "metadata[k]"),
        ({f"k{i}": "v" for i in range(51)}, "parameter_invalid_metadata", "metadata"),
    ],
)
def test_metadata_validation(client, metadata, code, param):
    r = client.post(URL, {"amount": 2000, "currency": "usd", "metadata": metadata}, json=True)
    assert r.status_code == 400
    assert r.error["code"] == code
    assert r.error["param"] == param


def test_metadata_merge_past_fifty_keys_is_rejected(client, create_intent):
    pi = create_intent(metadata={f"k{i}": "v" for i in range(50)})
    r = client.post(f"{URL}/{pi['id']}", {"metadata": {"one_more": "v"}})
    assert r.error["code"] == "parameter_invalid_metadata"
    assert len(db_intent(pi["id"]).metadata) == 50


def test_capture_amount_must_be_an_integer(client, confirmed):
    pi = confirmed().json()
    r = client.post(f"{URL}/{pi['id']}/capture", {"amount_to_capture": "1.5"})
    assert r.error["code"] == "parameter_invalid_integer"
    assert r.error["param"] == "amount_to_capture"


# --- scoping and browser access ----------------------------------------------------------------


def test_other_accounts_intent_is_404(create_intent, other_acct, client):
    pi = create_intent()
    r = client.get(f"{URL}/{pi['id']}", key=other_acct.sk)
    assert r.status_code == 404
    assert r.error["code"] == "resource_missing" and r.error["param"] == "id"


def test_live_key_does_not_see_test_intent(create_intent, acct, client):
    pi = create_intent()
    assert client.get(f"{URL}/{pi['id']}", key=acct.sk_live).status_code == 404


def test_publishable_retrieve_with_client_secret_shows_the_publishable_subset(
    create_intent, acct, client
):
    pi = create_intent(metadata={"secret": "x"})
    r = client.get(f"{URL}/{pi['id']}", {"client_secret": pi["client_secret"]}, key=acct.pk)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == pi["id"] and body["status"] == "requires_payment_method"
    for hidden in ("metadata", "customer", "amount_capturable", "amount_received", "latest_charge"):
        assert hidden not in body


def test_publishable_retrieve_without_client_secret_is_refused(create_intent, acct, client):
    pi = create_intent()
    r = client.get(f"{URL}/{pi['id']}", key=acct.pk)
    assert r.status_code == 400
    assert r.error["param"] == "client_secret"


def test_publishable_retrieve_with_another_intents_secret_is_404(create_intent, acct, client):
    a, b = create_intent(), create_intent()
    r = client.get(f"{URL}/{a['id']}", {"client_secret": b["client_secret"]}, key=acct.pk)
    assert r.status_code == 404
    assert r.error["code"] == "resource_missing"
    assert b["id"] not in r.content.decode()


def test_publishable_confirm_with_client_secret(create_intent, acct, client):
    pi = create_intent()
    r = client.post(
        f"{URL}/{pi['id']}/confirm",
        {"payment_method": "pm_card_visa", "client_secret": pi["client_secret"]},
        key=acct.pk,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "succeeded"
    assert "amount_received" not in r.json()


def test_publishable_confirm_rejects_secret_only_params(create_intent, acct, client):
    pi = create_intent()
    r = client.post(
        f"{URL}/{pi['id']}/confirm",
        {
            "payment_method": "pm_card_visa",
            "client_secret": pi["client_secret"],
            "off_session": True,
        },
        key=acct.pk,
    )
    assert r.status_code == 400
    assert r.error["code"] == "parameter_unknown" and r.error["param"] == "off_session"
    assert db_intent(pi["id"]).status == "requires_payment_method"


def test_publishable_confirm_of_a_manual_confirmation_intent_is_refused(
    create_intent, acct, client
):
    pi = create_intent(confirmation_method="manual", payment_method="pm_card_visa")
    r = client.post(
        f"{URL}/{pi['id']}/confirm", {"client_secret": pi["client_secret"]}, key=acct.pk
    )
    assert r.status_code == 403
    assert r.error["code"] == "secret_key_required"
    assert db_intent(pi["id"]).status == "requires_confirmation"
    assert client.post(f"{URL}/{pi['id']}/confirm").json()["status"] == "succeeded"


@pytest.mark.parametrize("action", ["capture", "cancel", "increment_authorization"])
def test_publishable_key_cannot_use_secret_only_actions(create_intent, acct, client, action):
    pi = create_intent()
    r = client.post(
        f"{URL}/{pi['id']}/{action}", {"client_secret": pi["client_secret"]}, key=acct.pk
    )
    assert r.status_code == 403
    assert r.error["code"] == "secret_key_required"


def test_publishable_key_cannot_create_update_or_list(create_intent, acct, client):
    pi = create_intent()
    assert client.post(URL, {"amount": 2000, "currency": "usd"}, key=acct.pk).status_code == 403
    assert client.get(URL, key=acct.pk).status_code == 403
    r = client.post(f"{URL}/{pi['id']}", {"description": "x"}, key=acct.pk)
    assert r.status_code == 403


# --- 3-D Secure through the hosted page --------------------------------------------------------


def _start_3ds(client, create_intent, pm="pm_card_authenticationRequired", **params):
    pi = create_intent(**params)
    body = client.post(
        f"{URL}/{pi['id']}/confirm",
        {"payment_method": pm, "return_url": "https://shop.test/done?cart=9"},
    ).json()
    assert body["status"] == "requires_action"
    return body


def _page(client, url):
    parts = urlsplit(url)
    return client.django.get(f"{parts.path}?{parts.query}"), parts


def _press(client, url, outcome):
    page, parts = _page(client, url)
    assert page.status_code == 200
    assert b"Complete" in page.content and b"Fail" in page.content
    token = parse_qs(parts.query)["token"][0]
    return client.django.post(parts.path, {"token": token, "outcome": outcome})


def test_three_d_secure_complete_succeeds_and_redirects_to_return_url(client, create_intent):
    body = _start_3ds(client, create_intent)
    response = _press(client, body["next_action"]["redirect_to_url"]["url"], "complete")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    query = parse_qs(target.query)
    assert (target.netloc, target.path) == ("shop.test", "/done")
    assert query["cart"] == ["9"]
    assert query["payment_intent"] == [body["id"]]
    assert query["payment_intent_client_secret"] == [body["client_secret"]]
    after = client.get(f"{URL}/{body['id']}").json()
    assert after["status"] == "succeeded" and after["next_action"] is None


def test_three_d_secure_complete_with_manual_capture_requires_capture(client, create_intent):
    body = _start_3ds(client, create_intent, capture_method="manual")
    _press(client, body["next_action"]["redirect_to_url"]["url"], "complete")
    assert db_intent(body["id"]).status == "requires_capture"


def test_three_d_secure_complete_then_decline_for_3178_card(client, create_intent):
    body = _start_3ds(
        client, create_intent, "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds"
    )
    response = _press(client, body["next_action"]["redirect_to_url"]["url"], "complete")
    assert response.status_code == 302
    intent = db_intent(body["id"])
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error["decline_code"] == "insufficient_funds"


def test_three_d_secure_fail_leaves_requires_payment_method(client, create_intent):
    body = _start_3ds(client, create_intent)
    response = _press(client, body["next_action"]["redirect_to_url"]["url"], "fail")
    assert response.status_code == 302
    assert "payment_intent=" + body["id"] in response["Location"]
    after = client.get(f"{URL}/{body['id']}").json()
    assert after["status"] == "requires_payment_method"
    assert after["last_payment_error"]["code"] == "payment_intent_authentication_failure"
    assert after["last_payment_error"]["payment_method"]["object"] == "payment_method"


def test_three_d_secure_page_submitted_twice_changes_nothing_more(client, create_intent):
    from events.models import Event

    body = _start_3ds(client, create_intent)
    url = body["next_action"]["redirect_to_url"]["url"]
    parts = urlsplit(url)
    token = parse_qs(parts.query)["token"][0]
    client.django.post(parts.path, {"token": token, "outcome": "complete"})
    client.django.post(parts.path, {"token": token, "outcome": "fail"})
    assert db_intent(body["id"]).status == "succeeded"
    assert Event.objects.filter(object_id=body["id"], type="payment_intent.succeeded").count() == 1


def test_three_d_secure_page_with_a_forged_token_is_404(client, create_intent):
    body = _start_3ds(client, create_intent)
    response = client.django.post(
        f"/authenticate/payment_intents/{body['id']}", {"token": "forged", "outcome": "complete"}
    )
    assert response.status_code == 404
    assert db_intent(body["id"]).status == "requires_action"


# --- list, expand, events --------------------------------------------------------------------


def test_list_is_newest_first_and_paginates(client, create_intent):
    ids = [create_intent()["id"] for _ in range(3)]
    page = client.get(URL, {"limit": 2}).json()
    assert page["object"] == "list" and page["url"] == URL
    assert [p["id"] for p in page["data"]] == ids[::-1][:2]
    assert page["has_more"] is True
    rest = client.get(URL, {"limit": 2, "starting_after": page["data"][-1]["id"]}).json()
    assert [p["id"] for p in rest["data"]] == [ids[0]] and rest["has_more"] is False


def test_list_filters_by_customer(client, create_intent):
    customer = client.post("/v1/customers", {"email": "a@example.com"}).json()
    mine = create_intent(customer=customer["id"])
    create_intent()
    page = client.get(URL, {"customer": customer["id"]}).json()
    assert [p["id"] for p in page["data"]] == [mine["id"]]


def test_list_expand_uses_data_prefix(client, create_intent):
    create_intent(payment_method="pm_card_visa", confirm=True)
    page = client.get(URL, {"expand": ["data.latest_charge"]}).json()
    assert page["data"][0]["latest_charge"]["object"] == "charge"
    assert client.get(URL, {"expand": ["latest_charge"]}).status_code == 400


def test_retrieve_expands_payment_method_and_latest_charge(client, create_intent):
    pi = create_intent(payment_method="pm_card_visa", confirm=True)
    body = client.get(f"{URL}/{pi['id']}", {"expand": ["latest_charge", "payment_method"]}).json()
    assert body["latest_charge"]["object"] == "charge"
    assert body["latest_charge"]["amount"] == 2000
    assert body["payment_method"]["object"] == "payment_method"


def test_confirm_event_carries_previous_attributes(client, create_intent):
    from events.models import Event

    pi = create_intent(payment_method="pm_card_visa", confirm=True)
    event = Event.objects.get(object_id=pi["id"], type="payment_intent.succeeded")
    assert event.data["object"]["status"] == "succeeded"
    assert event.data["previous_attributes"]["status"] == "requires_confirmation"
    assert event.data["previous_attributes"]["amount_received"] == 0


def test_search_returns_a_search_result(client, create_intent):
    pytest.importorskip("intents.search")
    pi = create_intent(metadata={"order": "77"})
    create_intent()
    r = client.get(f"{URL}/search", {"query": "metadata['order']:'77'"})
    assert r.status_code == 200, r
    body = r.json()
    assert body["object"] == "search_result" and body["url"] == f"{URL}/search"
    assert [p["id"] for p in body["data"]] == [pi["id"]]


def test_search_pages_with_next_page(client, create_intent):
    pytest.importorskip("intents.search")
    ids = [create_intent()["id"] for _ in range(3)]
    first = client.get(f"{URL}/search", {"query": "currency:'usd'", "limit": 2}).json()
    assert first["has_more"] is True and first["next_page"]
    second = client.get(
        f"{URL}/search", {"query": "currency:'usd'", "limit": 2, "page": first["next_page"]}
    ).json()
    seen = [p["id"] for p in first["data"] + second["data"]]
    assert sorted(seen) == sorted(ids) and second["next_page"] is None


# --- query counts ----------------------------------------------------------------------------


def _warm(client, create_intent):
    create_intent()  # auth caches, content types etc.


def test_create_query_count_is_small(client, create_intent, django_assert_max_num_queries):
    _warm(client, create_intent)
    with django_assert_max_num_queries(8):
        assert client.post(URL, {"amount": 2000, "currency": "usd"}).status_code == 200


def test_retrieve_query_count_does_not_grow_with_data(
    client, create_intent, django_assert_max_num_queries
):
    pi = create_intent(payment_method="pm_card_visa", confirm=True)
    for _ in range(5):
        create_intent(payment_method="pm_card_visa", confirm=True)
    with django_assert_max_num_queries(4):
        assert client.get(f"{URL}/{pi['id']}").status_code == 200


def test_confirm_query_count_is_small(client, create_intent, django_assert_max_num_queries):
    pi = create_intent(payment_method="pm_card_visa")
    with django_assert_max_num_queries(16):
        assert client.post(f"{URL}/{pi['id']}/confirm").status_code == 200


def test_capture_query_count_is_small(client, confirmed, django_assert_max_num_queries):
    pi = confirmed().json()
    with django_assert_max_num_queries(14):
        assert client.post(f"{URL}/{pi['id']}/capture").status_code == 200
