"""/v1/refunds through HTTP: full, partial and repeated refunds, the refusals, the charge's
amounts and refunds list, metadata, lists, cancel, events, isolation, keys and idempotency."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from payments.attempts import new_attempt
from payments.models import Attempt, Charge, Refund
from payments.processors.simulated import SimulatedProcessor
from payments.services import refunds_resolve_due

pytestmark = pytest.mark.usefixtures("processor_mode")  # every movement, both ways

URL = "/v1/refunds"


@pytest.fixture
def paid(client):
    """A succeeded intent (`capture_method` automatic unless given), its JSON body."""

    def make(amount=1000, pm="pm_card_visa", **params):
        params.setdefault("capture_method", "automatic")
        response = client.post(
            "/v1/payment_intents",
            {"amount": amount, "currency": "usd", "payment_method": pm, "confirm": True, **params},
        )
        assert response.status_code == 200, response
        return response.json()

    return make


def refund(client, **params):
    return client.post(URL, params)


def charge_of(pi: dict) -> Charge:
    return Charge.objects.get(id=pi["latest_charge"])


def event_types(object_id: str) -> list[str]:
    return list(
        Event.objects.filter(object_id=object_id)
        .order_by("created", "id")
        .values_list("type", flat=True)
    )


# --- create ----------------------------------------------------------------------------------


def test_full_refund_by_payment_intent(client, paid):
    pi = paid(1000)
    response = refund(client, payment_intent=pi["id"], reason="requested_by_customer")
    assert response.status_code == 200, response
    body = response.json()
    assert body["id"].startswith("re_")
    assert body["object"] == "refund"
    assert body["amount"] == 1000
    assert body["currency"] == "usd"
    assert body["status"] == "succeeded"
    assert body["reason"] == "requested_by_customer"
    assert body["charge"] == pi["latest_charge"]
    assert body["payment_intent"] == pi["id"]
    assert body["failure_reason"] is None
    charge = client.get(f"/v1/charges/{pi['latest_charge']}").json()
    assert charge["amount_refunded"] == 1000
    assert charge["refunded"] is True
    assert charge["refunds"]["total_count"] == 1
    assert [r["id"] for r in charge["refunds"]["data"]] == [body["id"]]
    # the intent stays succeeded
    assert client.get(f"/v1/payment_intents/{pi['id']}").json()["status"] == "succeeded"


def test_partial_refund_leaves_the_rest_refundable(client, paid):
    pi = paid(1000)
    assert refund(client, payment_intent=pi["id"], amount=300).json()["amount"] == 300
    charge = client.get(f"/v1/charges/{pi['latest_charge']}").json()
    assert charge["amount_refunded"] == 300
    assert charge["refunded"] is False
    rest = refund(client, payment_intent=pi["id"]).json()  # default: what is left
    assert rest["amount"] == 700


def test_repeated_partial_refunds_until_the_capture_is_used_up(client, paid):
    pi = paid(1000)
    for amount in (300, 300, 400):
        response = refund(client, payment_intent=pi["id"], amount=amount)
        assert response.status_code == 200, response
    charge = client.get(f"/v1/charges/{pi['latest_charge']}").json()
    assert charge["amount_refunded"] == 1000
    assert charge["refunded"] is True
    assert [r["amount"] for r in charge["refunds"]["data"]] == [400, 300, 300]
    assert charge["refunds"]["total_count"] == 3


def test_more_than_is_left_is_amount_too_large_and_changes_nothing(client, paid):
    pi = paid(1000)
    refund(client, payment_intent=pi["id"], amount=600)
    response = refund(client, payment_intent=pi["id"], amount=401)
    assert response.status_code == 400
    assert response.error["code"] == "amount_too_large"
    assert response.error["param"] == "amount"
    assert Refund.objects.filter(charge_id=pi["latest_charge"]).count() == 1
    charge = charge_of(pi)
    assert (charge.amount_refunded, charge.amount_refund_pending) == (600, 0)


def test_more_than_was_captured_is_amount_too_large(client, paid):
    pi = paid(1000)
    response = refund(client, payment_intent=pi["id"], amount=1001)
    assert response.status_code == 400
    assert response.error["code"] == "amount_too_large"


def test_a_fully_refunded_charge_is_charge_already_refunded(client, paid):
    pi = paid(1000)
    refund(client, payment_intent=pi["id"])
    response = refund(client, payment_intent=pi["id"])
    assert response.status_code == 400
    assert response.error["code"] == "charge_already_refunded"
    by_charge = refund(client, charge=pi["latest_charge"])
    assert by_charge.error["code"] == "charge_already_refunded"
    assert Refund.objects.count() == 1


def test_refund_of_an_uncaptured_intent_is_refused(client, paid):
    pi = paid(1000, capture_method="manual")
    assert pi["status"] == "requires_capture"
    response = refund(client, payment_intent=pi["id"])
    assert response.status_code == 400
    assert response.error["code"] == "payment_intent_unexpected_state"
    assert response.error["param"] == "payment_intent"
    assert "requires_capture" in response.error["message"]
    by_charge = refund(client, charge=pi["latest_charge"])
    assert by_charge.status_code == 400
    assert by_charge.error["code"] == "charge_not_refundable"
    assert Refund.objects.count() == 0


def test_refund_of_an_intent_without_a_payment_is_refused(client):
    pi = client.post("/v1/payment_intents", {"amount": 1000, "currency": "usd"}).json()
    response = refund(client, payment_intent=pi["id"])
    assert response.status_code == 400
    assert response.error["code"] == "payment_intent_unexpected_state"
    assert "requires_payment_method" in response.error["message"]


def test_refund_of_a_declined_charge_is_charge_not_refundable(client):
    response = client.post(
        "/v1/payment_intents",
        {
            "amount": 1000,
            "currency": "usd",
            "payment_method": "pm_card_chargeDeclined",
            "confirm": True,
        },
    )
    charge_id = response.error["payment_intent"]["latest_charge"]
    refused = refund(client, charge=charge_id)
    assert refused.status_code == 400
    assert refused.error["code"] == "charge_not_refundable"


def test_refund_by_charge(client, paid):
    pi = paid(1500)
    body = refund(client, charge=pi["latest_charge"], amount=500).json()
    assert body["status"] == "succeeded"
    assert body["charge"] == pi["latest_charge"]
    assert body["payment_intent"] == pi["id"]
    assert charge_of(pi).amount_refunded == 500


def test_charge_of_another_intent_is_refused(client, paid):
    first, second = paid(), paid()
    response = refund(client, payment_intent=first["id"], charge=second["latest_charge"])
    assert response.status_code == 400
    assert response.error["param"] == "charge"


def test_neither_intent_nor_charge_is_parameter_missing(client):
    response = refund(client, amount=100)
    assert response.status_code == 400
    assert response.error["code"] == "parameter_missing"


def test_unknown_intent_or_charge_is_400_naming_the_param(client):
    response = refund(client, payment_intent="pi_nope")
    assert response.status_code == 400
    assert response.error["param"] == "payment_intent"
    response = refund(client, charge="ch_nope")
    assert response.status_code == 400
    assert response.error["param"] == "charge"


@pytest.mark.parametrize(
    ("params", "code", "param"),
    [
        ({"amount": 0}, "parameter_invalid_integer", "amount"),
        ({"amount": "12.5"}, "parameter_invalid_integer", "amount"),
        ({"reason": "bored"}, "parameter_invalid_string", "reason"),
        ({"status": "succeeded"}, "parameter_unknown", "status"),
    ],
)
def test_bad_input_is_a_400_that_changes_nothing(client, paid, params, code, param):
    pi = paid()
    response = refund(client, payment_intent=pi["id"], **params)
    assert response.status_code == 400
    assert (response.error["code"], response.error["param"]) == (code, param)
    assert Refund.objects.count() == 0


def test_json_and_form_bodies_give_the_same_refund(client, paid):
    pi = paid(1000)
    form = client.post(URL, {"payment_intent": pi["id"], "amount": 100, "metadata": {"a": "1"}})
    json = client.post(
        URL, {"payment_intent": pi["id"], "amount": 100, "metadata": {"a": "1"}}, json=True
    )
    assert form.status_code == json.status_code == 200
    strip = ("id", "created")
    assert {k: v for k, v in form.json().items() if k not in strip} == {
        k: v for k, v in json.json().items() if k not in strip
    }


def test_refund_right_after_an_automatic_async_payment(client, paid):
    """The default capture method: the intent is succeeded while the capture is still owed to
    the processor; the payment can be refunded already."""
    pi = paid(1000, capture_method="automatic_async")
    assert charge_of(pi).capture_pending
    body = refund(client, payment_intent=pi["id"], amount=250).json()
    assert body["status"] == "succeeded"
    assert refund(client, payment_intent=pi["id"], amount=751).error["code"] == "amount_too_large"


# --- events ----------------------------------------------------------------------------------


def test_a_succeeded_refund_writes_refund_created_and_charge_refunded(client, paid):
    pi = paid(1000)
    body = refund(client, payment_intent=pi["id"], amount=400).json()
    assert event_types(body["id"]) == ["refund.created"]
    created = Event.objects.get(object_id=body["id"], type="refund.created")
    assert created.data["object"]["status"] == "succeeded"
    assert created.data["object"]["amount"] == 400
    charge_event = Event.objects.get(object_id=pi["latest_charge"], type="charge.refunded")
    shown = charge_event.data["object"]
    assert shown["amount_refunded"] == 400
    assert shown["refunded"] is False
    assert [r["id"] for r in shown["refunds"]["data"]] == [body["id"]]
    assert charge_event.data["previous_attributes"]["amount_refunded"] == 0
    # a second refund: its own charge.refunded
    refund(client, payment_intent=pi["id"])
    events = Event.objects.filter(object_id=pi["latest_charge"], type="charge.refunded")
    assert sorted(e.data["object"]["amount_refunded"] for e in events) == [400, 1000]


def test_webhook_endpoints_accept_every_refund_event_type(client):
    response = client.post(
        "/v1/webhook_endpoints",
        {
            "url": "https://93.184.215.14/hook",
            "enabled_events": [
                "refund.created",
                "refund.updated",
                "refund.failed",
                "charge.refunded",
                "charge.refund.updated",
            ],
        },
    )
    assert response.status_code == 200, response


# --- pending refunds (the resolution; the real worker is tests/e2e) --------------------------


def test_refund_fail_card_is_pending_then_failed_and_gives_the_amount_back(client, paid, settings):
    settings.REFUND_RESOLVE_DELAY_SECONDS = 0
    pi = paid(1000, pm="pm_card_refundFail")
    assert pi["status"] == "succeeded"
    body = refund(client, payment_intent=pi["id"], amount=600).json()
    assert body["status"] == "pending"
    charge = charge_of(pi)
    assert (charge.amount_refunded, charge.amount_refund_pending) == (0, 600)
    # while pending, its amount is held back
    assert refund(client, payment_intent=pi["id"], amount=401).error["code"] == "amount_too_large"

    assert refunds_resolve_due() == 1

    shown = client.get(f"{URL}/{body['id']}").json()
    assert shown["status"] == "failed"
    assert shown["failure_reason"] == "expired_or_canceled_card"
    assert event_types(body["id"]) == [
        "refund.created",
        "refund.updated",
        "charge.refund.updated",
        "refund.failed",
    ]
    updated = Event.objects.get(object_id=body["id"], type="charge.refund.updated")
    assert updated.data["previous_attributes"]["status"] == "pending"
    charge.refresh_from_db()
    assert (charge.amount_refunded, charge.amount_refund_pending) == (0, 0)
    assert not Event.objects.filter(type="charge.refunded").exists()
    # the amount is refundable again
    assert refund(client, payment_intent=pi["id"], amount=1000).json()["status"] == "pending"


def test_a_pending_refund_is_not_resolved_before_it_is_due(client, paid, settings):
    settings.REFUND_RESOLVE_DELAY_SECONDS = 3600
    pi = paid(1000, pm="pm_card_refundFail")
    body = refund(client, payment_intent=pi["id"]).json()
    assert refunds_resolve_due() == 0
    assert Refund.objects.get(id=body["id"]).status == "pending"


def test_a_processor_error_leaves_the_refund_pending_for_the_sweep(
    client, paid, settings, monkeypatch
):
    """A refund call that raised has an unknown outcome: the refund stays pending (its amount
    held back) and the sweep asks the processor again."""
    settings.REFUND_RESOLVE_DELAY_SECONDS = 0
    pi = paid(1000)

    def broken(self, **kwargs):
        raise ConnectionError("processor unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(SimulatedProcessor, "refund", broken)
        body = refund(client, payment_intent=pi["id"], amount=100)
    assert body.status_code == 200
    assert body.json()["status"] == "pending"
    assert charge_of(pi).amount_refund_pending == 100
    assert refunds_resolve_due() == 1
    assert Refund.objects.get(id=body.json()["id"]).status == "succeeded"
    charge = charge_of(pi)
    assert (charge.amount_refunded, charge.amount_refund_pending) == (100, 0)
    assert event_types(pi["latest_charge"]).count("charge.refunded") == 1


# --- retrieve, update, list ------------------------------------------------------------------


def test_retrieve(client, paid):
    pi = paid()
    body = refund(client, payment_intent=pi["id"], amount=100).json()
    assert client.get(f"{URL}/{body['id']}").json() == body


def test_metadata_update_merges_and_writes_refund_updated(client, paid):
    pi = paid()
    body = refund(client, payment_intent=pi["id"], amount=100, metadata={"a": "1", "b": "2"}).json()
    response = client.post(f"{URL}/{body['id']}", {"metadata": {"b": "", "c": "3"}})
    assert response.status_code == 200, response
    assert response.json()["metadata"] == {"a": "1", "c": "3"}
    assert client.get(f"{URL}/{body['id']}").json()["metadata"] == {"a": "1", "c": "3"}
    assert event_types(body["id"]) == ["refund.created", "refund.updated", "charge.refund.updated"]
    updated = Event.objects.get(object_id=body["id"], type="refund.updated")
    assert updated.data["previous_attributes"] == {"metadata": {"a": "1", "b": "2"}}


def test_update_accepts_only_metadata(client, paid):
    pi = paid()
    body = refund(client, payment_intent=pi["id"], amount=100).json()
    for params in ({"amount": 5}, {"reason": "duplicate"}, {"status": "canceled"}):
        response = client.post(f"{URL}/{body['id']}", params)
        assert response.status_code == 400
        assert response.error["code"] == "parameter_unknown"
    assert Refund.objects.get(id=body["id"]).amount == 100


def test_list_filters_by_charge_and_payment_intent(client, paid):
    first, second = paid(), paid()
    a = refund(client, payment_intent=first["id"], amount=100).json()["id"]
    b = refund(client, payment_intent=first["id"], amount=100).json()["id"]
    c = refund(client, payment_intent=second["id"], amount=100).json()["id"]
    everything = client.get(URL).json()
    assert everything["object"] == "list"
    assert everything["url"] == URL
    assert [r["id"] for r in everything["data"]] == [c, b, a]
    by_intent = client.get(URL, {"payment_intent": first["id"]}).json()
    assert [r["id"] for r in by_intent["data"]] == [b, a]
    by_charge = client.get(URL, {"charge": second["latest_charge"]}).json()
    assert [r["id"] for r in by_charge["data"]] == [c]
    of_charge = client.get(f"/v1/charges/{first['latest_charge']}/refunds").json()
    assert [r["id"] for r in of_charge["data"]] == [b, a]


def test_list_filters_by_created_and_paginates(client, paid):
    pi = paid(1000)
    ids = [refund(client, payment_intent=pi["id"], amount=100).json()["id"] for _ in range(3)]
    Refund.objects.filter(id=ids[0]).update(created="2020-01-01T00:00:00Z")
    cutoff = 1577836800 + 60  # a minute after the first refund's (moved) creation
    newer = client.get(URL, {"created": {"gt": cutoff}}).json()
    assert sorted(r["id"] for r in newer["data"]) == sorted(ids[1:])
    older = client.get(URL, {"created": {"lte": cutoff}}).json()
    assert [r["id"] for r in older["data"]] == [ids[0]]
    page = client.get(URL, {"limit": 1}).json()
    assert page["has_more"] is True
    rest = client.get(URL, {"limit": 5, "starting_after": page["data"][0]["id"]}).json()
    assert len(rest["data"]) == 2 and rest["has_more"] is False


# --- cancel ----------------------------------------------------------------------------------


def test_a_pending_refund_can_be_canceled_and_gives_its_amount_back(client, paid, settings):
    settings.REFUND_RESOLVE_DELAY_SECONDS = 3600
    pi = paid(1000, pm="pm_card_refundFail")
    body = refund(client, payment_intent=pi["id"], amount=700).json()
    response = client.post(f"{URL}/{body['id']}/cancel")
    assert response.status_code == 200, response
    assert response.json()["status"] == "canceled"
    charge = charge_of(pi)
    assert (charge.amount_refunded, charge.amount_refund_pending) == (0, 0)
    assert event_types(body["id"]) == ["refund.created", "refund.updated", "charge.refund.updated"]
    # canceled is final: a second cancel is refused, the sweep leaves it alone
    again = client.post(f"{URL}/{body['id']}/cancel")
    assert again.status_code == 400
    assert again.error["code"] == "refund_unexpected_state"
    settings.REFUND_RESOLVE_DELAY_SECONDS = 0
    assert refunds_resolve_due() == 0
    assert refund(client, payment_intent=pi["id"], amount=1000).status_code == 200


def test_a_cancel_while_another_call_on_the_refund_is_under_way_is_refused_and_not_stored(
    client, paid, settings
):
    """Refused for a moment and changed nothing: a retry with the same Idempotency-Key, once
    the other call has settled, runs again instead of replaying the refusal."""
    settings.REFUND_RESOLVE_DELAY_SECONDS = 3600
    pi = paid(1000, pm="pm_card_refundFail")
    body = refund(client, payment_intent=pi["id"], amount=700).json()
    row = Refund.objects.get(id=body["id"])
    under_way = new_attempt(
        "refund_resolve", target=row, refund_id=row.id, charge_id=row.charge_id, amount=700
    )
    under_way.save(force_insert=True)
    key = {"Idempotency-Key": "cancel-once"}
    refused = client.post(f"{URL}/{body['id']}/cancel", headers=key)
    assert refused.status_code == 400
    assert refused.error["code"] == "refund_unexpected_state"
    assert "in progress" in refused.error["message"]
    assert Refund.objects.get(id=body["id"]).status == "pending"
    Attempt.objects.filter(id=under_way.id).update(status="aborted")
    again = client.post(f"{URL}/{body['id']}/cancel", headers=key)
    assert again.status_code == 200, again
    assert again.json()["status"] == "canceled"


def test_a_succeeded_refund_cannot_be_canceled(client, paid):
    pi = paid()
    body = refund(client, payment_intent=pi["id"], amount=100).json()
    response = client.post(f"{URL}/{body['id']}/cancel")
    assert response.status_code == 400
    assert response.error["code"] == "refund_unexpected_state"
    assert "succeeded" in response.error["message"]
    assert Refund.objects.get(id=body["id"]).status == "succeeded"
    assert charge_of(pi).amount_refunded == 100


def test_a_pending_live_refund_cannot_be_canceled(client, acct, paid):
    pi = paid(1000)
    live = Refund.objects.create(
        account=acct.account,
        livemode=True,
        charge=charge_of(pi),
        payment_intent_id=pi["id"],
        amount=100,
        currency="usd",
    )
    response = client.post(f"{URL}/{live.id}/cancel", key=acct.sk_live)
    assert response.status_code == 400
    assert response.error["code"] == "refund_unexpected_state"


# --- isolation, keys, idempotency --------------------------------------------------------------


def test_another_accounts_refund_is_404(client, paid, other_acct):
    pi = paid()
    body = refund(client, payment_intent=pi["id"], amount=100).json()
    other = type(client)(key=other_acct.sk)
    assert other.get(f"{URL}/{body['id']}").status_code == 404
    assert other.post(f"{URL}/{body['id']}", {"metadata": {"x": "1"}}).status_code == 404
    assert other.post(f"{URL}/{body['id']}/cancel").status_code == 404
    assert other.get(URL).json()["data"] == []
    assert other.get(URL, {"charge": pi["latest_charge"]}).json()["data"] == []
    # the objects named in a body: 400, as Stripe answers them
    assert other.post(URL, {"payment_intent": pi["id"]}).status_code == 400
    assert other.post(URL, {"charge": pi["latest_charge"]}).status_code == 400
    assert other.get(f"/v1/charges/{pi['latest_charge']}/refunds").status_code == 404
    assert Refund.objects.get(id=body["id"]).metadata == {}


def test_test_mode_refund_is_invisible_to_the_live_key(client, acct, paid):
    pi = paid()
    body = refund(client, payment_intent=pi["id"], amount=100).json()
    assert client.get(f"{URL}/{body['id']}", key=acct.sk_live).status_code == 404


def test_publishable_key_is_refused(client, acct, paid):
    pi = paid()
    response = client.post(URL, {"payment_intent": pi["id"]}, key=acct.pk)
    assert response.status_code == 403
    assert response.error["code"] == "secret_key_required"
    assert client.get(URL, key=acct.pk).status_code == 403
    assert Refund.objects.count() == 0


def test_idempotent_create_replays_without_a_second_refund(client, paid):
    pi = paid(1000)
    headers = {"Idempotency-Key": "refund-order-42"}
    first = client.post(URL, {"payment_intent": pi["id"], "amount": 300}, headers=headers)
    second = client.post(URL, {"payment_intent": pi["id"], "amount": 300}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Refund.objects.count() == 1
    assert charge_of(pi).amount_refunded == 300
    other = client.post(URL, {"payment_intent": pi["id"], "amount": 200}, headers=headers)
    assert other.status_code == 400
    assert other.error["type"] == "idempotency_error"


def test_refund_events_carry_the_request_and_idempotency_key(client, paid):
    pi = paid()
    response = client.post(
        URL, {"payment_intent": pi["id"], "amount": 100}, headers={"Idempotency-Key": "k-1"}
    )
    event = Event.objects.get(object_id=response.json()["id"], type="refund.created")
    assert event.request_id == response.headers["Request-Id"]
    assert event.idempotency_key == "k-1"


# --- query count -----------------------------------------------------------------------------


TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT")


@pytest.mark.parametrize(
    ("in_process", "budget"), [(True, 7), (False, 10)], ids=["one_transaction", "two_phases"]
)
def test_refund_create_query_count(client, paid, settings, in_process, budget):
    """The key, then, in one transaction: lock the charge, read its refunds, insert the refund, update the
    charge, the events in one insert, the attempt (inserted already applied): 7. Two phases:
    phase 1 (lock the charge, insert the refund, hold its amount back, record the attempt),
    then phase 2 (lock the refund with its charge, settle the attempt, update both, the
    events in one insert): 10. Transaction boundaries aside (savepoints inside the test's
    transaction)."""
    settings.SIMULATED_PROCESSOR_IN_PROCESS = in_process
    pi = paid(5000)
    refund(client, payment_intent=pi["id"], amount=100)  # warm: auth caches
    with CaptureQueriesContext(connection) as captured:
        assert refund(client, payment_intent=pi["id"], amount=100).status_code == 200
    statements = [
        q["sql"] for q in captured.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)
    ]
    assert len(statements) <= budget, statements
    assert charge_of(pi).amount_refunded == 200
