"""Charges through HTTP: retrieve and list (filters, scoping). Charges are written by the intent
services; here they are made directly so these tests cover only the read side and the shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.ids import generate_id
from core.scope import Scope
from intents.models import PaymentIntent
from payments.models import Charge, Customer
from payments.presenters import payment_method_details_to_api
from payments.processors.base import RawCard
from payments.services import payment_method_create
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways


def make_charge(account, *, livemode=False, customer=None, intent=None, **fields) -> Charge:
    pm = payment_method_create(
        scope=Scope(account_id=account.id, livemode=livemode),
        card=RawCard(number="4111111111111111", exp_month=12, exp_year=datetime.now(UTC).year + 3),
    )
    if intent is None:
        intent = PaymentIntent.objects.create(
            account=account,
            livemode=livemode,
            amount=1000,
            currency="usd",
            customer=customer,
            client_secret=generate_id("pi_secret"),
            receipt_email="r@example.com",
        )
    values = {
        "amount": 1000,
        "currency": "usd",
        "status": Charge.Status.SUCCEEDED,
        "captured": True,
        "amount_captured": 1000,
        "payment_method_details": payment_method_details_to_api(pm),
        **fields,
    }
    return Charge.objects.create(
        account=account,
        livemode=livemode,
        payment_intent=intent,
        payment_method=pm,
        customer=customer,
        **values,
    )


def test_retrieve_charge_answers_stripe_shape(client, acct):
    charge = make_charge(acct.account)
    response = client.get(f"/v1/charges/{charge.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == charge.id
    assert body["object"] == "charge"
    assert (body["amount"], body["amount_captured"], body["amount_refunded"]) == (1000, 1000, 0)
    assert body["captured"] is True
    assert body["paid"] is True
    assert body["refunded"] is False
    assert body["status"] == "succeeded"
    assert body["payment_intent"] == charge.payment_intent_id
    assert body["payment_method"] == charge.payment_method_id
    assert body["balance_transaction"] is None
    assert body["receipt_email"] == "r@example.com"
    assert body["livemode"] is False
    card = body["payment_method_details"]["card"]
    assert body["payment_method_details"]["type"] == "card"
    assert (card["brand"], card["last4"]) == ("visa", "1111")
    assert card["three_d_secure"] is None


def test_failed_charge_shows_failure_code_and_is_not_paid(client, acct):
    charge = make_charge(
        acct.account,
        status=Charge.Status.FAILED,
        captured=False,
        amount_captured=0,
        failure_code="card_declined",
        failure_message="Your card was declined.",
    )
    body = client.get(f"/v1/charges/{charge.id}").json()
    assert body["paid"] is False
    assert body["status"] == "failed"
    assert (body["failure_code"], body["failure_message"]) == (
        "card_declined",
        "Your card was declined.",
    )


def test_charge_shows_three_d_secure_result(client, acct):
    charge = make_charge(acct.account, three_d_secure="passed")
    body = client.get(f"/v1/charges/{charge.id}").json()
    assert body["payment_method_details"]["card"]["three_d_secure"]["result"] == "authenticated"


def test_fully_refunded_charge_is_refunded(client, acct):
    partial = make_charge(acct.account, amount_refunded=400)
    full = make_charge(acct.account, amount_refunded=1000)
    assert client.get(f"/v1/charges/{partial.id}").json()["refunded"] is False
    assert client.get(f"/v1/charges/{full.id}").json()["refunded"] is True


def test_retrieve_another_accounts_charge_is_404(client, other_acct):
    charge = make_charge(other_acct.account)
    response = client.get(f"/v1/charges/{charge.id}")
    assert response.status_code == 404
    assert response.error["code"] == "resource_missing"
    assert response.error["param"] == "id"


def test_retrieve_a_live_charge_with_a_test_key_is_404(client, acct):
    charge = make_charge(acct.account, livemode=True)
    assert client.get(f"/v1/charges/{charge.id}").status_code == 404
    live = StripeTestClient(key=acct.sk_live)
    assert live.get(f"/v1/charges/{charge.id}").status_code == 200


def test_publishable_key_cannot_read_charges(acct):
    charge = make_charge(acct.account)
    browser = StripeTestClient(key=acct.pk)
    assert browser.get(f"/v1/charges/{charge.id}").status_code == 403
    assert browser.get("/v1/charges").error["code"] == "secret_key_required"


def test_list_charges_newest_first(client, acct):
    first, second = make_charge(acct.account), make_charge(acct.account)
    body = client.get("/v1/charges").json()
    assert body["object"] == "list"
    assert body["url"] == "/v1/charges"
    assert [c["id"] for c in body["data"]] == [second.id, first.id]


def test_list_charges_filters_by_payment_intent(client, acct):
    wanted = make_charge(acct.account)
    make_charge(acct.account)
    body = client.get("/v1/charges", {"payment_intent": wanted.payment_intent_id}).json()
    assert [c["id"] for c in body["data"]] == [wanted.id]


def test_list_charges_filters_by_customer(client, acct):
    customer = Customer.objects.create(account=acct.account, livemode=False)
    wanted = make_charge(acct.account, customer=customer)
    make_charge(acct.account)
    body = client.get("/v1/charges", {"customer": customer.id}).json()
    assert [c["id"] for c in body["data"]] == [wanted.id]


def test_list_charges_filters_by_created(client, acct):
    charge = make_charge(acct.account)
    created = int(charge.created.timestamp())
    assert client.get("/v1/charges", {"created": {"lt": created}}).json()["data"] == []
    assert len(client.get("/v1/charges", {"created": created}).json()["data"]) == 1


def test_list_charges_never_shows_another_account(client, other_acct):
    make_charge(other_acct.account)
    assert client.get("/v1/charges").json()["data"] == []


def test_list_charges_with_unknown_param_is_rejected(client):
    response = client.get("/v1/charges", {"status": "succeeded"})
    assert response.status_code == 400
    assert response.error["code"] == "parameter_unknown"
    assert response.error["param"] == "status"


def test_list_charges_starting_after_foreign_charge_is_400(client, other_acct):
    foreign = make_charge(other_acct.account)
    response = client.get("/v1/charges", {"starting_after": foreign.id})
    assert response.status_code == 400
    assert response.error["param"] == "starting_after"


def test_list_charges_query_count_does_not_grow_with_page_size(
    client, acct, django_assert_max_num_queries
):
    for _ in range(5):
        make_charge(acct.account)
    with django_assert_max_num_queries(8):
        response = client.get("/v1/charges", {"limit": 5})
    assert len(response.json()["data"]) == 5
