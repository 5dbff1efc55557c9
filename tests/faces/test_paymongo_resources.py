"""PayMongo's customers, payments (`pay_…`), refunds (`notes`) and `setup_future_usage` on the
wire, each the same object the v1 API shows: what one face writes, the other reads."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from payments.models import Customer, Refund
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.django_db

CUSTOMER = {
    "first_name": "Juan",
    "last_name": "dela Cruz",
    "email": "juan@example.com",
    "phone": "+639171234567",
    "default_device": "phone",
}


def auth(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def send(method: str, path: str, key: str, attributes: dict | None = None):
    body = json.dumps({"data": {"attributes": attributes}}) if attributes is not None else ""
    return Client().generic(
        method, f"/paymongo/v1/{path}", body, content_type="application/json", **auth(key)
    )


def get(path: str, key: str):
    return Client().get(f"/paymongo/v1/{path}", **auth(key))


def the_error(answer, status: int = 400) -> dict:
    assert answer.status_code == status, answer.content
    [error] = answer.json()["errors"]
    return error


def paid_intent(key: str, **attributes) -> dict:
    attributes = {"amount": 5000, "currency": "PHP", "payment_method_allowed": ["card"]} | (
        attributes
    )
    intent = send("POST", "payment_intents", key, attributes).json()["data"]
    answer = send(
        "POST", f"payment_intents/{intent['id']}/attach", key, {"payment_method": "pm_card_visa"}
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["data"]


# --- customers ---------------------------------------------------------------------------------


def test_a_customer_is_created_read_updated_found_and_deleted(acct):
    made = send("POST", "customers", acct.sk, CUSTOMER)
    assert made.status_code == 200, made.content
    customer = made.json()["data"]
    assert customer["type"] == "customer" and customer["id"].startswith("cus_")
    attributes = customer["attributes"]
    assert {k: attributes[k] for k in CUSTOMER} == CUSTOMER
    assert attributes["default_payment_method_id"] is None
    assert attributes["livemode"] is False and attributes["deleted"] is False
    assert isinstance(attributes["created_at"], int)
    assert attributes["updated_at"] >= attributes["created_at"]

    read = get(f"customers/{customer['id']}", acct.sk).json()["data"]
    assert read == customer

    updated = send("PUT", f"customers/{customer['id']}", acct.sk, {"last_name": "Santos"})
    assert updated.status_code == 200, updated.content
    assert updated.json()["data"]["attributes"]["last_name"] == "Santos"
    assert updated.json()["data"]["attributes"]["first_name"] == "Juan"

    found = get("customers?email=juan@example.com", acct.sk).json()
    assert [c["id"] for c in found["data"]] == [customer["id"]] and found["has_more"] is False
    assert get("customers?phone=%2B639170000000", acct.sk).json()["data"] == []

    deleted = send("DELETE", f"customers/{customer['id']}", acct.sk)
    assert deleted.status_code == 200, deleted.content
    assert deleted.json()["data"]["attributes"]["deleted"] is True
    assert the_error(get(f"customers/{customer['id']}", acct.sk), 404)["code"] == (
        "resource_not_found"
    )
    assert get("customers", acct.sk).json()["data"] == []


def test_a_customer_made_here_is_the_v1_customer_and_back(acct):
    made = send("POST", "customers", acct.sk, CUSTOMER).json()["data"]
    stripe = StripeTestClient(key=acct.sk)
    shown = stripe.get(f"/v1/customers/{made['id']}").json()
    assert shown["name"] == "Juan dela Cruz"
    assert shown["email"] == CUSTOMER["email"] and shown["phone"] == CUSTOMER["phone"]
    # a name given whole through v1 is never guessed apart here
    stripe.post(f"/v1/customers/{made['id']}", {"name": "Maria Clara de los Santos"})
    attributes = get(f"customers/{made['id']}", acct.sk).json()["data"]["attributes"]
    assert attributes["first_name"] == "Maria Clara de los Santos"
    assert attributes["last_name"] is None
    # and one made there is read here
    other = stripe.post("/v1/customers", {"name": "Ana Reyes", "email": "ana@example.com"}).json()
    assert get(f"customers/{other['id']}", acct.sk).json()["data"]["attributes"]["email"] == (
        "ana@example.com"
    )


def test_a_default_payment_method_must_be_the_customers_own(acct):
    customer = send("POST", "customers", acct.sk, CUSTOMER).json()["data"]["id"]
    stripe = StripeTestClient(key=acct.sk)
    pm = stripe.post(
        "/v1/payment_methods",
        {
            "type": "card",
            "card[number]": "4242424242424242",
            "card[exp_month]": 12,
            "card[exp_year]": 2034,
        },
    )
    pm_id = pm.json()["id"]
    refused = send("PUT", f"customers/{customer}", acct.sk, {"default_payment_method_id": pm_id})
    error = the_error(refused)
    assert error["source"]["attribute"] == "default_payment_method_id"
    stripe.post(f"/v1/payment_methods/{pm_id}/attach", {"customer": customer})
    answer = send("PUT", f"customers/{customer}", acct.sk, {"default_payment_method_id": pm_id})
    assert answer.json()["data"]["attributes"]["default_payment_method_id"] == pm_id


@pytest.mark.parametrize(
    ("change", "code", "attribute"),
    [
        ({"last_name": None}, "parameter_required", "last_name"),
        ({"last_name": ""}, "parameter_blank", "last_name"),
        ({"phone": "0917-123-4567"}, "parameter_invalid", "phone"),
        ({"email": "not-an-email"}, "parameter_invalid", "email"),
        ({"default_device": "pager"}, "parameter_invalid", "default_device"),
        ({"name": "Juan"}, "parameter_invalid", "name"),
    ],
)
def test_bad_customer_attributes_are_named_and_nothing_is_made(acct, change, code, attribute):
    attributes = {k: v for k, v in (CUSTOMER | change).items() if v is not None}
    error = the_error(send("POST", "customers", acct.sk, attributes))
    assert error["code"] == code
    assert error["source"]["attribute"] == attribute
    assert not Customer.objects.exists()


def test_another_accounts_customer_is_not_found(acct, other_acct):
    theirs = send("POST", "customers", other_acct.sk, CUSTOMER).json()["data"]["id"]
    for answer in (
        get(f"customers/{theirs}", acct.sk),
        send("PUT", f"customers/{theirs}", acct.sk, {"first_name": "X"}),
        send("DELETE", f"customers/{theirs}", acct.sk),
    ):
        assert the_error(answer, 404)["code"] == "resource_not_found"
    assert Customer.objects.get(id=theirs).first_name == "Juan"


def test_a_public_key_cannot_touch_customers(acct):
    error = the_error(send("POST", "customers", acct.pk, CUSTOMER), 403)
    assert error["code"] == "secret_key_required"
    assert not Customer.objects.exists()


# --- payments ----------------------------------------------------------------------------------


def test_payments_carry_paymongo_ids_over_the_same_charges(acct, other_acct):
    intent = paid_intent(acct.sk)
    [payment] = intent["attributes"]["payments"]
    assert payment["id"].startswith("pay_")
    charge_id = "ch_" + payment["id"].removeprefix("pay_")
    charge = StripeTestClient(key=acct.sk).get(f"/v1/charges/{charge_id}").json()
    assert charge["payment_intent"] == intent["id"] and charge["amount"] == 5000

    read = get(f"payments/{payment['id']}", acct.sk).json()["data"]
    assert read["id"] == payment["id"]
    assert read["attributes"]["payment_intent_id"] == intent["id"]
    # the v1 id for it is taken too, and answered with PayMongo's
    assert get(f"payments/{charge_id}", acct.sk).json()["data"]["id"] == payment["id"]
    listed = get("payments", acct.sk).json()["data"]
    assert [p["id"] for p in listed] == [payment["id"]]
    # another account reaches it by neither id
    for shown in (payment["id"], charge_id):
        assert the_error(get(f"payments/{shown}", other_acct.sk), 404)["code"] == (
            "resource_not_found"
        )
    error = the_error(
        send(
            "POST",
            "refunds",
            other_acct.sk,
            {"amount": 1000, "payment_id": payment["id"], "reason": "others"},
        ),
        400,  # an attribute's object: 404 is for the URL's
    )
    assert error["source"]["attribute"] == "payment_id"


def test_an_unknown_payment_is_named_as_a_payment(acct):
    error = the_error(get("payments/pay_nosuchpayment", acct.sk), 404)
    assert error["code"] == "resource_not_found"
    assert "pay_nosuchpayment" in error["detail"] and "ch_" not in error["detail"]
    error = the_error(get("payments?after=pay_nosuchpayment", acct.sk), 400)
    assert error["source"]["attribute"] == "after" and "pay_nosuchpayment" in error["detail"]


# --- refunds -----------------------------------------------------------------------------------


def test_a_refund_keeps_its_notes_and_names_the_payment(acct):
    payment_id = paid_intent(acct.sk)["attributes"]["payments"][0]["id"]
    answer = send(
        "POST",
        "refunds",
        acct.sk,
        {"amount": 2000, "payment_id": payment_id, "reason": "others", "notes": "Double order"},
    )
    assert answer.status_code == 200, answer.content
    refund = answer.json()["data"]["attributes"]
    assert refund["notes"] == "Double order"
    assert refund["reason"] == "others"
    assert refund["payment_id"] == payment_id
    listed = get(f"refunds?payment_id={payment_id}", acct.sk).json()["data"]
    assert [r["attributes"]["notes"] for r in listed] == ["Double order"]
    shown = StripeTestClient(key=acct.sk).get(f"/v1/refunds/{answer.json()['data']['id']}")
    assert shown.json()["description"] == "Double order"
    assert shown.json()["charge"] == "ch_" + payment_id.removeprefix("pay_")


@pytest.mark.parametrize(
    ("change", "status", "code", "attribute"),
    [
        ({"payment_id": "pay_nosuchpayment"}, 400, "resource_not_found", "payment_id"),
        ({"reason": "changed_my_mind"}, 400, "parameter_invalid", "reason"),
        ({"notes": "x" * 256}, 400, "parameter_invalid", "notes"),
        ({"amount": 999999}, 400, "parameter_above_maximum", "amount"),
    ],
)
def test_bad_refunds_are_named_and_nothing_is_refunded(acct, change, status, code, attribute):
    payment_id = paid_intent(acct.sk)["attributes"]["payments"][0]["id"]
    attributes = {"amount": 1000, "payment_id": payment_id, "reason": "duplicate"} | change
    answer = send("POST", "refunds", acct.sk, attributes)
    error = the_error(answer, status)
    assert error["code"] == code
    assert "Payintents-Refused-For" not in answer.headers  # a refund names no stored object
    assert error["source"]["attribute"] == attribute
    assert not Refund.objects.exists()


# --- setup_future_usage ------------------------------------------------------------------------


def test_setup_future_usage_names_the_customer_on_both_faces(acct):
    customer = send("POST", "customers", acct.sk, CUSTOMER).json()["data"]["id"]
    future = {"session_type": "on_session", "customer_id": customer}
    intent = send(
        "POST",
        "payment_intents",
        acct.sk,
        {
            "amount": 2000,
            "currency": "PHP",
            "payment_method_allowed": ["card"],
            "setup_future_usage": future,
        },
    ).json()["data"]
    assert intent["attributes"]["setup_future_usage"] == future
    shown = StripeTestClient(key=acct.sk).get(f"/v1/payment_intents/{intent['id']}").json()
    assert shown["setup_future_usage"] == "on_session" and shown["customer"] == customer


@pytest.mark.parametrize(
    ("future", "status", "attribute"),
    [
        ({"session_type": "off_session", "customer_id": "cus_x"}, 400, "setup_future_usage"),
        ({"session_type": "on_session"}, 400, "setup_future_usage.customer_id"),
        ({"session_type": "on_session", "customer_id": "cus_nosuch"}, 400, None),
    ],
)
def test_a_bad_setup_future_usage_is_refused(acct, future, status, attribute):
    from intents.models import PaymentIntent

    answer = send(
        "POST",
        "payment_intents",
        acct.sk,
        {
            "amount": 2000,
            "currency": "PHP",
            "payment_method_allowed": ["card"],
            "setup_future_usage": future,
        },
    )
    error = the_error(answer, status)
    if attribute:
        assert error["source"]["attribute"].startswith(attribute)
    else:
        assert error["code"] == "resource_not_found" and "cus_nosuch" in error["detail"]
    assert not PaymentIntent.objects.exists()


def test_a_payment_with_setup_future_usage_keeps_its_card_for_the_customer(acct):
    customer = send("POST", "customers", acct.sk, CUSTOMER).json()["data"]["id"]
    card = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    pm = send("POST", "payment_methods", acct.sk, {"type": "card", "details": card})
    pm_id = pm.json()["data"]["id"]
    assert pm.json()["data"]["attributes"]["customer_id"] is None
    future = {"session_type": "on_session", "customer_id": customer}
    intent = send(
        "POST",
        "payment_intents",
        acct.sk,
        {
            "amount": 2000,
            "currency": "PHP",
            "payment_method_allowed": ["card"],
            "setup_future_usage": future,
        },
    ).json()["data"]
    paid = send(
        "POST", f"payment_intents/{intent['id']}/attach", acct.sk, {"payment_method": pm_id}
    )
    assert paid.json()["data"]["attributes"]["status"] == "succeeded"
    kept = get(f"payment_methods/{pm_id}", acct.sk).json()["data"]["attributes"]
    assert kept["customer_id"] == customer
    listed = StripeTestClient(key=acct.sk).get(f"/v1/customers/{customer}/payment_methods")
    assert [m["id"] for m in listed.json()["data"]] == [pm_id]


def test_a_payment_without_setup_future_usage_keeps_no_card(acct):
    customer = send("POST", "customers", acct.sk, CUSTOMER).json()["data"]["id"]
    paid_intent(acct.sk)
    listed = StripeTestClient(key=acct.sk).get(f"/v1/customers/{customer}/payment_methods")
    assert listed.json()["data"] == []


# --- malformed requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "status"),
    [
        ("POST", "customers", b'{"data": {"attributes": ', "application/json", 400),
        ("POST", "customers", b'{"data": []}', "application/json", 400),
        ("POST", "customers", b'{"data": {"attributes": []}}', "application/json", 400),
        ("POST", "customers", b"first_name=Juan", "application/x-www-form-urlencoded", 415),
        ("PATCH", "customers", b"{}", "application/json", 405),
        ("GET", "customers?limit=1000", b"", "application/json", 400),
        ("GET", "customers?color=red", b"", "application/json", 400),
    ],
)
def test_a_malformed_request_is_answered_in_paymongos_envelope(
    acct, method, path, body, content_type, status
):
    answer = Client().generic(
        method, f"/paymongo/v1/{path}", body, content_type=content_type, **auth(acct.sk)
    )
    error = the_error(answer, status)
    assert error["code"] and error["detail"]
    assert not Customer.objects.exists()


def test_a_json_body_without_data_is_refused_not_taken_for_no_change(acct):
    customer = send("POST", "customers", acct.sk, CUSTOMER).json()["data"]["id"]
    answer = Client().generic(
        "PUT",
        f"/paymongo/v1/customers/{customer}",
        b"{}",
        content_type="application/json",
        **auth(acct.sk),
    )
    assert the_error(answer)["source"]["attribute"] == "data"
    # no body at all is no parameters, as before
    assert send("PUT", f"customers/{customer}", acct.sk).status_code == 200
