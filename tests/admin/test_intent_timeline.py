"""One intent, one page: its whole story in time order — the attempts (with decline codes),
3-D Secure, the capture, refunds, the events and each webhook delivery with its HTTP status —
read in a constant number of queries however long the story is."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.admin.utils import quote
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import account_create
from events.models import Event
from intents.models import PaymentIntent
from intents.services import charges_capture_pending
from payments.models import Charge, Refund
from tests.admin.conftest import run_action
from tests.factories import (
    ChargeFactory,
    DeliveryAttemptFactory,
    EventFactory,
    PaymentIntentFactory,
    WebhookEndpointFactory,
)

START = timezone.now() - timedelta(hours=1)


def _page(pi_id: str) -> str:
    return f"/admin/intents/paymentintent/{quote(pi_id)}/change/"


def _rows(body: str) -> list[tuple[str, str, str]]:
    """The timeline's rows as (when, what kind, what) with the links' markup taken out."""
    table = body.split('<table id="timeline">', 1)[1].split("</table>", 1)[0]
    return [
        tuple(re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S))
        for row in re.findall(r"<tr class.*?</tr>", table, re.S)
    ]


def _story(attempts: int) -> PaymentIntent:
    """An intent with `attempts` declined charges then one that passed 3-D Secure and was
    captured and partly refunded; an event per step, each delivered to an endpoint."""
    account, _ = account_create(name="Story")
    scope = {"account": account, "livemode": False}
    pi = PaymentIntentFactory(**scope, amount=2000, created=START)
    endpoint = WebhookEndpointFactory(**scope, url="https://hooks.example.com/story")
    at = START
    for n in range(attempts):
        at += timedelta(minutes=1)
        declined = ChargeFactory(
            **scope,
            payment_intent=pi,
            status=Charge.Status.FAILED,
            failure_code="card_declined",
            failure_message="Your card has insufficient funds.",
            outcome={"reason": "insufficient_funds"},
            created=at,
        )
        event = EventFactory(
            **scope, type="charge.failed", object_id=declined.id, created=at + timedelta(seconds=1)
        )
        DeliveryAttemptFactory(
            **scope,
            event=event,
            endpoint=endpoint,
            http_status=500 + n % 2,
            succeeded=False,
            created=at + timedelta(seconds=2),
        )
    at += timedelta(minutes=1)
    paid = ChargeFactory(
        **scope,
        payment_intent=pi,
        three_d_secure="passed",
        captured=True,
        amount_captured=2000,
        created=at,
    )
    captured = EventFactory(
        **scope,
        type="charge.captured",
        object_id=paid.id,
        created=at + timedelta(minutes=1),
        operator="admin:alice",
        request_id="req_console0000001",
    )
    DeliveryAttemptFactory(
        **scope,
        event=captured,
        endpoint=endpoint,
        http_status=200,
        created=at + timedelta(minutes=1, seconds=1),
    )
    Refund.objects.create(
        **scope,
        charge=paid,
        payment_intent=pi,
        amount=500,
        currency="usd",
        reason="requested_by_customer",
        created=at + timedelta(minutes=2),
    )
    return pi


def test_the_timeline_tells_the_story_in_time_order(operator, db):
    pi = _story(attempts=2)
    rows = _rows(operator.get(_page(pi.id)).content.decode())
    kinds = [kind for _, kind, _ in rows]
    assert kinds == [
        "attempt",
        "event",
        "webhook",  # first decline, its event, its delivery (HTTP 500)
        "attempt",
        "event",
        "webhook",  # second decline (HTTP 501)
        "attempt",
        "3-D Secure",  # the charge that passed it
        "capture",
        "event",
        "webhook",  # captured by the operator, delivered (HTTP 200)
        "refund",
    ]
    times = [when for when, _, _ in rows]
    assert times == sorted(times)
    text = "\n".join(" ".join(row) for row in rows)
    assert "card_declined / insufficient_funds" in text
    assert "HTTP 500" in text and "HTTP 501" in text and "HTTP 200" in text
    assert "3-D Secure" in text and "passed" in text
    assert "captured $20.00" in text
    assert "$5.00" in text and "requested_by_customer" in text
    assert "by admin:alice" in text


def test_the_intent_page_reads_the_same_queries_for_2_and_for_10_attempts(
    operator, db, django_assert_max_num_queries
):
    def queries(pi: PaymentIntent) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = operator.get(_page(pi.id))
        assert response.status_code == 200
        assert len(_rows(response.content.decode())) > 0
        return len(captured)

    short, long = _story(attempts=2), _story(attempts=10)
    assert len(_rows(operator.get(_page(long.id)).content.decode())) == 3 * 10 + 6
    assert queries(long) == queries(short)
    with django_assert_max_num_queries(12):
        operator.get(_page(long.id))


def test_a_console_capture_appears_on_the_timeline_with_its_operator(operator, pay):
    pi = pay(amount=2000)
    run_action(operator, PaymentIntent, "capture", [pi["id"]], amount_to_capture="8.00")
    rows = _rows(operator.get(_page(pi["id"])).content.decode())
    text = "\n".join(" ".join(row) for row in rows)
    assert "captured $8.00" in text
    assert "payment_intent.succeeded" in text
    assert "by admin:alice" in text


def test_an_automatic_async_capture_is_on_the_timeline_at_its_charge_updated(operator, pay):
    pi = pay(amount=2000, capture_method="automatic_async")
    assert charges_capture_pending() == 1
    updated = Event.objects.get(object_id=pi["latest_charge"], type="charge.updated")
    # the charge row changes later again (a refund, say): the capture keeps its own time
    Charge.objects.filter(id=pi["latest_charge"]).update(
        updated=timezone.now() + timedelta(hours=2)
    )
    rows = _rows(operator.get(_page(pi["id"])).content.decode())
    (capture,) = [row for row in rows if row[1] == "capture"]
    assert "captured $20.00" in capture[2]
    assert capture[0] == updated.created.strftime("%Y-%m-%d %H:%M:%S UTC")
