"""Capture and cancel from the console: through the intent services (the state machine under its
lock), with an intermediate page, refusals as messages, and an audit trail (a LogEntry, and
events that carry the operator and the console request's id)."""

from __future__ import annotations

import html

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.utils import quote

from events.models import Event
from intents.models import PaymentIntent
from tests.admin.conftest import OPERATOR, changelist, intent, messages_of, run_action

INTENTS = changelist(PaymentIntent)


def test_capture_action_first_asks_for_the_amount(operator, pay):
    pi = pay(amount=2000)
    page = run_action(operator, PaymentIntent, "capture", [pi["id"]])
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="amount_to_capture"' in body
    assert "capturable $20.00" in body
    assert intent(pi["id"]).status == "requires_capture"  # nothing done until confirmed


def test_partial_capture_through_the_form(operator, pay):
    pi = pay(amount=2000)
    response = run_action(operator, PaymentIntent, "capture", [pi["id"]], amount_to_capture="15.00")
    assert response.status_code == 302
    assert response["Location"] == f"{INTENTS}{quote(pi['id'])}/change/"
    captured = intent(pi["id"])
    assert (captured.status, captured.amount_received) == ("succeeded", 1500)
    assert messages_of(response) == [f"Payment intent {pi['id']}: Captured $15.00."]


@pytest.mark.parametrize(
    ("currency", "typed", "minor", "shown"),
    [
        ("usd", "50.00", 5000, "$50.00"),
        ("usd", "1,050.5", 105050, "$1,050.50"),
        ("jpy", "2500", 2500, "¥2,500"),
        ("kwd", "1.250", 1250, "1.250 KWD"),
    ],
)
def test_capture_takes_major_units_with_the_currencys_own_exponent(
    operator, pay, currency, typed, minor, shown
):
    pi = pay(amount=200_000, currency=currency)
    response = run_action(operator, PaymentIntent, "capture", [pi["id"]], amount_to_capture=typed)
    assert response.status_code == 302
    captured = intent(pi["id"])
    assert (captured.status, captured.amount_received) == ("succeeded", minor)
    assert messages_of(response) == [f"Payment intent {pi['id']}: Captured {shown}."]


@pytest.mark.parametrize(
    ("currency", "typed", "error"),
    [
        ("usd", "50.001", "Enter an amount in USD with at most 2 decimals, such as 15.00."),
        ("jpy", "25.5", "Enter an amount in JPY with no decimals, such as 15."),
        ("kwd", "1.2505", "Enter an amount in KWD with at most 3 decimals, such as 15.000."),
        ("usd", "-5", "Enter an amount in USD with at most 2 decimals, such as 15.00."),
        ("usd", "0.00", "Enter an amount greater than zero."),
    ],
)
def test_an_amount_the_currency_cannot_hold_is_refused_at_the_field(
    operator, pay, currency, typed, error
):
    pi = pay(amount=200_000, currency=currency)
    response = run_action(operator, PaymentIntent, "capture", [pi["id"]], amount_to_capture=typed)
    assert response.status_code == 200  # the form again, with the field's error
    assert error in html.unescape(response.content.decode())
    assert intent(pi["id"]).status == "requires_capture"
    assert not LogEntry.objects.exists()


def test_the_form_names_the_currency_it_reads(operator, pay):
    pi = pay(amount=2000, currency="jpy")
    body = html.unescape(
        run_action(operator, PaymentIntent, "capture", [pi["id"]]).content.decode()
    )
    assert "In JPY, as people write it (such as 15)." in body


def test_an_amount_for_intents_in_different_currencies_is_refused(operator, pay):
    usd, eur = pay(amount=2000), pay(amount=2000, currency="eur")
    ids = [usd["id"], eur["id"]]
    response = run_action(operator, PaymentIntent, "capture", ids, amount_to_capture="10")
    assert response.status_code == 200
    assert "different currencies" in html.unescape(response.content.decode())
    assert {intent(i).status for i in ids} == {"requires_capture"}
    everything = run_action(operator, PaymentIntent, "capture", ids, amount_to_capture="")
    assert everything.status_code == 302  # empty: all that is capturable, in each one's currency
    assert {intent(i).amount_received for i in ids} == {2000}


def test_full_capture_when_the_amount_is_left_empty(operator, pay):
    pi = pay(amount=3000)
    response = run_action(operator, PaymentIntent, "capture", [pi["id"]], amount_to_capture="")
    assert response.status_code == 302
    assert intent(pi["id"]).amount_received == 3000


def test_capture_of_more_than_capturable_is_refused_with_the_services_message(operator, pay):
    pi = pay(amount=2000)
    response = run_action(operator, PaymentIntent, "capture", [pi["id"]], amount_to_capture="50")
    assert response.status_code == 302
    (message,) = messages_of(response)
    assert message == (
        f"Payment intent {pi['id']}: The amount to capture ($50.00) must be less than or equal "
        "to the PaymentIntent's amount_capturable ($20.00)."
    )
    assert intent(pi["id"]).status == "requires_capture"
    assert not LogEntry.objects.exists()


def test_capture_of_a_canceled_intent_is_a_message_and_changes_nothing(operator, pay, client):
    pi = pay(amount=2000)
    client.post(f"/v1/payment_intents/{pi['id']}/cancel")
    events_before = Event.objects.count()
    response = operator.post(
        INTENTS,
        {
            "action": "capture",
            "_selected_action": [pi["id"]],
            "amount_to_capture": "",
            "apply": "1",
        },
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "because it has a status of canceled" in body
    refused = intent(pi["id"])
    assert (refused.status, refused.amount_received) == ("canceled", 0)
    assert Event.objects.count() == events_before
    assert not LogEntry.objects.exists()


def test_cancel_asks_for_a_reason_among_stripes_choices(operator, pay):
    pi = pay()
    page = run_action(operator, PaymentIntent, "cancel", [pi["id"]])
    body = page.content.decode()
    for reason in ("requested_by_customer", "duplicate", "fraudulent", "abandoned"):
        assert f'value="{reason}"' in body
    assert intent(pi["id"]).status == "requires_capture"


def test_cancel_with_a_reason(operator, pay):
    pi = pay()
    response = run_action(
        operator, PaymentIntent, "cancel", [pi["id"]], cancellation_reason="fraudulent"
    )
    assert response.status_code == 302
    canceled = intent(pi["id"])
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "fraudulent")


def test_cancel_with_an_unknown_reason_shows_the_form_again(operator, pay):
    pi = pay()
    response = run_action(
        operator, PaymentIntent, "cancel", [pi["id"]], cancellation_reason="bored"
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert intent(pi["id"]).status == "requires_capture"


def test_cancel_of_several_intents_reports_each_refusal(operator, pay, client):
    waiting, done = pay(), pay(capture_method="automatic")
    response = run_action(
        operator,
        PaymentIntent,
        "cancel",
        [waiting["id"], done["id"]],
        cancellation_reason="duplicate",
    )
    assert response["Location"] == INTENTS
    messages = messages_of(response)
    assert f"Payment intent {waiting['id']}: Canceled (duplicate)." in messages
    assert any(
        m.startswith(f"Payment intent {done['id']}: ") and "status of succeeded" in m
        for m in messages
    )
    assert intent(waiting["id"]).status == "canceled"
    assert intent(done["id"]).status == "succeeded"


# --- the audit trail -------------------------------------------------------------------------


def test_capture_is_logged_and_its_events_carry_the_operator(operator, pay, client):
    pi = pay(amount=2000)
    response = run_action(operator, PaymentIntent, "capture", [pi["id"]], amount_to_capture="12")
    request_id = response["Request-Id"]
    assert request_id.startswith("req_")

    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user.username) == (CHANGE, pi["id"], "alice")
    assert entry.get_change_message() == f"Captured $12.00. (request {request_id})"

    listed = client.get("/v1/events", {"type": "payment_intent.succeeded"}).json()["data"]
    (succeeded,) = [e for e in listed if e["data"]["object"]["id"] == pi["id"]]
    assert succeeded["request"] == {
        "id": request_id,
        "idempotency_key": None,
        "operator": OPERATOR,
    }
    captured = client.get("/v1/events", {"type": "charge.captured"}).json()["data"]
    assert [e["request"]["operator"] for e in captured] == [OPERATOR]


def test_cancel_event_carries_the_operator(operator, pay, client):
    pi = pay()
    response = run_action(
        operator, PaymentIntent, "cancel", [pi["id"]], cancellation_reason="duplicate"
    )
    (canceled,) = client.get("/v1/events", {"type": "payment_intent.canceled"}).json()["data"]
    assert canceled["request"]["id"] == response["Request-Id"]
    assert canceled["request"]["operator"] == OPERATOR
    assert LogEntry.objects.get().get_change_message().startswith("Canceled (duplicate).")


def test_events_made_through_the_api_have_no_operator(pay, client):
    pay()
    for event in client.get("/v1/events").json()["data"]:
        assert "operator" not in event["request"]
        assert event["request"]["id"].startswith("req_")


def test_the_intents_page_offers_its_actions_as_buttons(operator, pay):
    pi = pay()
    page = operator.get(f"{INTENTS}{quote(pi['id'])}/change/")
    body = page.content.decode()
    assert 'id="console-capture"' in body
    assert 'id="console-cancel"' in body
    # read-only: the state and amounts change only through the actions
    assert 'name="status"' not in body
    assert 'name="amount"' not in body
    assert "_save" not in body
