"""Refunds from the console, on an intent or on a charge: through the refunds service (its
check under the charge's lock), all or part, with a reason; refusals as messages; the audit
trail in the log and in the events `/v1/events` shows."""

from __future__ import annotations

import html
import re

from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import quote

from events.models import Event
from intents.models import PaymentIntent
from payments.models import Charge, Refund
from tests.admin.conftest import OPERATOR, messages_of, run_action


def _paid(pay, amount: int = 2000) -> dict:
    return pay(amount=amount, capture_method="automatic")


def test_refund_action_asks_for_an_amount_and_a_reason(operator, pay):
    pi = _paid(pay)
    page = run_action(operator, PaymentIntent, "refund", [pi["id"]])
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="amount"' in body
    for reason in ("duplicate", "fraudulent", "requested_by_customer"):
        assert f'value="{reason}"' in body
    assert not Refund.objects.exists()


def test_partial_refund_of_an_intent_with_a_reason(operator, pay):
    pi = _paid(pay)
    response = run_action(
        operator,
        PaymentIntent,
        "refund",
        [pi["id"]],
        amount="5.00",
        reason="requested_by_customer",
    )
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.status) == (
        500,
        "requested_by_customer",
        "succeeded",
    )
    charge = Charge.objects.get(payment_intent_id=pi["id"])
    assert (charge.amount_refunded, charge.refunded) == (500, False)
    assert messages_of(response) == [
        f"Payment intent {pi['id']}: Refunded $5.00 ({refund.id}, succeeded)."
    ]


def test_full_refund_of_a_charge_from_its_page(operator, pay):
    pi = _paid(pay, amount=3000)
    charge = Charge.objects.get(payment_intent_id=pi["id"])
    page = operator.get(f"/admin/payments/charge/{quote(charge.id)}/change/").content.decode()
    assert 'id="console-refund_charge"' in page
    response = run_action(operator, Charge, "refund_charge", [charge.id], amount="", reason="")
    assert response["Location"] == f"/admin/payments/charge/{quote(charge.id)}/change/"
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.refunded) == (3000, True)
    assert Refund.objects.get().reason is None


def test_over_refund_is_refused_with_the_services_message(operator, pay):
    pi = _paid(pay)
    run_action(operator, PaymentIntent, "refund", [pi["id"]], amount="15.00", reason="")
    response = run_action(operator, PaymentIntent, "refund", [pi["id"]], amount="10", reason="")
    message = messages_of(response)[-1]  # the first refund's message was never shown
    assert message == (
        f"Payment intent {pi['id']}: Refund amount ($10.00) is greater than unrefunded "
        "amount on charge ($5.00)."
    )
    assert list(Refund.objects.values_list("amount", flat=True)) == [1500]
    assert Charge.objects.get(payment_intent_id=pi["id"]).amount_refunded == 1500
    assert LogEntry.objects.count() == 1


def test_refund_of_an_uncaptured_intent_is_refused_and_changes_nothing(operator, pay):
    pi = pay()  # requires_capture
    response = run_action(
        operator, PaymentIntent, "refund", [pi["id"]], amount="", reason="duplicate"
    )
    assert response.status_code == 302
    (message,) = messages_of(response)
    assert "requires_capture" in message
    assert not Refund.objects.exists()
    assert not LogEntry.objects.exists()


def test_a_console_refund_shows_in_the_events_api_with_the_operator(operator, pay, client):
    pi = _paid(pay)
    response = run_action(
        operator, PaymentIntent, "refund", [pi["id"]], amount="7", reason="fraudulent"
    )
    request_id = response["Request-Id"]
    refund = Refund.objects.get()
    entry = LogEntry.objects.get()
    assert (entry.object_id, entry.user.username) == (pi["id"], "alice")
    assert (
        entry.change_message == f"Refunded $7.00 ({refund.id}, succeeded). (request {request_id})"
    )

    caused = dict(Event.objects.filter(request_id=request_id).values_list("type", "operator"))
    assert {"refund.created", "charge.refunded"} <= set(caused)
    assert set(caused.values()) == {OPERATOR}  # every event of the refund names the operator
    listed = client.get("/v1/events", {"type": "charge.refunded"}).json()["data"]
    (refunded,) = listed
    assert refunded["data"]["object"]["amount_refunded"] == 700
    assert refunded["request"] == {"id": request_id, "idempotency_key": None, "operator": OPERATOR}


def test_refund_takes_major_units_and_the_intent_page_shows_what_was_refunded(operator, pay):
    pi = _paid(pay, amount=8800)
    page = f"/admin/intents/paymentintent/{quote(pi['id'])}/change/"
    assert _refunded_on(operator.get(page)) == "$0.00"
    response = run_action(operator, PaymentIntent, "refund", [pi["id"]], amount="10", reason="")
    assert Refund.objects.get().amount == 1000
    assert messages_of(response)[0].startswith(f"Payment intent {pi['id']}: Refunded $10.00 (")
    assert _refunded_on(operator.get(page)) == "$10.00"


def test_refund_of_a_three_decimal_currency_reads_three_decimals(operator, pay):
    pi = pay(amount=5000, currency="kwd", capture_method="automatic")
    run_action(operator, PaymentIntent, "refund", [pi["id"]], amount="1.25", reason="")
    assert Refund.objects.get().amount == 1250
    refused = run_action(operator, PaymentIntent, "refund", [pi["id"]], amount="0.0005", reason="")
    assert refused.status_code == 200
    assert "at most 3 decimals" in refused.content.decode()
    assert Refund.objects.count() == 1


def _refunded_on(response) -> str:
    """The figure in the intent page's "refunded" field."""
    match = re.search(
        r'field-refunded_display.*?<div class="readonly">(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    assert match, "no refunded field on the page"
    return html.unescape(match.group(1)).strip()
