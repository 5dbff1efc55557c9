"""payments.services at the unit level: the helpers the intent lifecycle uses, and the attach
race under real concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from api.errors import from_domain
from core.scope import Scope
from events.models import Event
from payments.exceptions import CardDeclined, IncorrectNumber, PaymentMethodUnexpectedState
from payments.models import Customer, PaymentMethod
from payments.presenters import payment_method_details_to_api
from payments.processors.base import AuthorizationResult, Decline
from payments.services import (
    charge_outcome_for,
    payment_method_attach,
    payment_method_create_from_data,
    payment_method_resolve,
    raw_card_from_params,
)

YEAR = datetime.now(UTC).year + 3


def test_raw_card_from_params_converts_types():
    card = raw_card_from_params(
        {"number": "4242424242424242", "exp_month": "7", "exp_year": YEAR, "cvc": ""}
    )
    assert (card.exp_month, card.exp_year, card.cvc) == (7, YEAR, None)


def test_payment_method_data_card_error_names_the_nested_param(acct):
    with pytest.raises(IncorrectNumber) as exc:
        payment_method_create_from_data(
            scope=Scope(account_id=acct.id, livemode=False),
            data={"type": "card", "card": {"number": "1234", "exp_month": 1, "exp_year": YEAR}},
        )
    assert exc.value.param == "payment_method_data[card][number]"
    assert PaymentMethod.objects.count() == 0


def test_payment_method_data_creates_a_method_with_metadata_and_billing(acct):
    pm = payment_method_create_from_data(
        scope=Scope(account_id=acct.id, livemode=False),
        data={
            "type": "card",
            "card": {"number": "5555555555554444", "exp_month": 1, "exp_year": YEAR},
            "billing_details": {"name": "Jo"},
            "metadata": {"k": "v"},
        },
    )
    assert (pm.card_brand, pm.metadata, pm.billing_details) == (
        "mastercard",
        {"k": "v"},
        {"name": "Jo"},
    )


def test_payment_method_details_to_api_for_a_card(acct):
    pm = payment_method_resolve(
        scope=Scope(account_id=acct.id, livemode=False), payment_method_id="pm_card_amex"
    )
    details = payment_method_details_to_api(pm, three_d_secure="passed")
    assert details["type"] == "card"
    card = details["card"]
    assert (card["brand"], card["last4"], card["funding"], card["country"]) == (
        "amex",
        "0005",
        "credit",
        "US",
    )
    assert card["fingerprint"] == pm.card_fingerprint
    assert card["three_d_secure"]["result"] == "authenticated"


def test_charge_outcome_for_success_is_authorized():
    outcome = charge_outcome_for(AuthorizationResult(status="succeeded"))
    assert (outcome["type"], outcome["network_status"], outcome["reason"]) == (
        "authorized",
        "approved_by_network",
        None,
    )


def test_charge_outcome_for_decline_is_issuer_declined_with_reason():
    decline = Decline(
        code="card_declined",
        decline_code="insufficient_funds",
        message="Your card has insufficient funds.",
    )
    outcome = charge_outcome_for(
        AuthorizationResult(
            status="declined", decline=decline, network_status="declined_by_network"
        )
    )
    assert (outcome["type"], outcome["reason"]) == ("issuer_declined", "insufficient_funds")


def test_card_error_for_a_decline_is_a_402_with_decline_code():
    error = CardDeclined.from_decline(
        Decline(code="expired_card", decline_code="expired_card", message="Your card has expired."),
        payment_intent={"id": "pi_1"},
    )
    assert isinstance(error, CardDeclined)
    answer = from_domain(error)
    envelope = answer.envelope()["error"]
    assert answer.http_status == 402
    assert (envelope["type"], envelope["code"], envelope["decline_code"]) == (
        "card_error",
        "expired_card",
        "expired_card",
    )
    assert envelope["payment_intent"] == {"id": "pi_1"}


def test_attach_to_a_customer_of_another_account_is_refused(acct, other_acct):
    pm = payment_method_resolve(
        scope=Scope(account_id=acct.id, livemode=False), payment_method_id="pm_card_visa"
    )
    foreign = Customer.objects.create(account=other_acct.account, livemode=False)
    from core.errors import ResourceMissing

    with pytest.raises(ResourceMissing):
        payment_method_attach(scope=Scope.of(pm), payment_method_id=pm.id, customer_id=foreign.id)
    pm.refresh_from_db()
    assert pm.customer_id is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_attach_to_two_customers_lets_exactly_one_win(acct):
    pm = payment_method_resolve(
        scope=Scope(account_id=acct.id, livemode=False), payment_method_id="pm_card_visa"
    )
    customers = [Customer.objects.create(account=acct.account, livemode=False) for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attach(customer):
        try:
            barrier.wait()
            payment_method_attach(
                scope=Scope.of(pm), payment_method_id=pm.id, customer_id=customer.id
            )
            outcomes.append("ok")
        except PaymentMethodUnexpectedState:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attach, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Event.objects.filter(type="payment_method.attached").count() == 1
    pm.refresh_from_db()
    assert pm.customer_id in {c.id for c in customers}
