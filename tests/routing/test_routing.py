"""Routing and retries as a merchant meets them: connections and flows made through the API,
payments confirmed through the API, what each charge and event says.

Both ways a money movement runs (`processor_mode`): the simulator in-process (one
transaction) and as a remote processor (two phases)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from payments.models import Attempt, Charge
from routing.models import ProcessorConnection
from tests.helpers import StripeTestClient

pytestmark = pytest.mark.usefixtures("processor_mode")

PI = "/v1/payment_intents"


def connect(client, name: str, behavior: str = "normal", **simulated) -> str:
    response = client.post(
        "/v1/processors",
        {
            "kind": "simulated",
            "name": name,
            "simulated": {"behavior": behavior, **{k: str(v) for k, v in simulated.items()}},
        },
    )
    assert response.status_code == 200, response
    return response.json()["id"]


def flow(client, routing: dict, retry: dict | None = None, **extra) -> str:
    data = {"name": "Flow", "routing": routing, **extra}
    if retry:
        data["retry"] = retry
    response = client.post("/v1/payment_flows", data)
    assert response.status_code == 200, response
    return response.json()["id"]


def pay(client, flow_id: str | None = None, card: str = "pm_card_visa", **params):
    data = {"amount": "2000", "currency": "usd", "payment_method": card, "confirm": "true"}
    if flow_id:
        data["payment_flow"] = flow_id
    data.update(params)
    return client.post(PI, data)


def charges(pi_id: str) -> list[Charge]:
    return list(Charge.objects.filter(payment_intent_id=pi_id).order_by("attempt_number"))


def events_of(client, type: str) -> list[dict]:
    return client.get("/v1/events", {"type": type, "limit": "100"}).json()["data"]


def test_without_a_flow_the_builtin_connection_makes_the_charge(client):
    response = pay(client)
    assert response.status_code == 200, response
    pi = response.json()
    assert pi["status"] == "succeeded" and pi["payment_flow"] is None
    charge = client.get(f"/v1/charges/{pi['latest_charge']}").json()
    builtin = ProcessorConnection.objects.get(builtin=True, livemode=False)
    assert charge["processor"] == builtin.id
    assert (charge["payment_flow"], charge["payment_flow_version"], charge["attempt"]) == (
        None,
        None,
        1,
    )
    attempt = Attempt.objects.get(charge_id=charge["id"])
    assert attempt.processor == builtin.id and attempt.outcome == "succeeded"
    assert attempt.latency_ms is not None


def test_a_soft_decline_is_retried_on_the_next_connection(client):
    first = connect(client, "A", "decline", decline_code="try_again_later")
    second = connect(client, "B")
    flow_id = flow(
        client, {"type": "priority", "processors": [first, second]}, {"max_attempts": "3"}
    )
    response = pay(client, flow_id)
    assert response.status_code == 200, response
    pi = response.json()
    assert pi["status"] == "succeeded"
    made = charges(pi["id"])
    assert [(c.processor_id, c.status, c.attempt_number) for c in made] == [
        (first, "failed", 1),
        (second, "succeeded", 2),
    ]
    assert made[0].failure_code == "card_declined"
    assert made[0].outcome["reason"] == "try_again_later"
    assert pi["latest_charge"] == made[1].id
    assert {c.payment_flow for c in made} == {flow_id}
    assert [e["data"]["object"]["id"] for e in events_of(client, "charge.failed")] == [made[0].id]
    assert events_of(client, "payment_intent.payment_failed") == []
    assert len(events_of(client, "payment_intent.succeeded")) == 1
    listed = client.get("/v1/charges", {"payment_intent": pi["id"]}).json()["data"]
    assert sorted(c["attempt"] for c in listed) == [1, 2]


def test_a_hard_decline_is_never_retried(client):
    first, second = connect(client, "A"), connect(client, "B")
    flow_id = flow(
        client, {"type": "priority", "processors": [first, second]}, {"max_attempts": "2"}
    )
    response = pay(client, flow_id, card="pm_card_chargeDeclinedInsufficientFunds")
    assert response.status_code == 402
    assert response.error["decline_code"] == "insufficient_funds"
    pi = response.error["payment_intent"]
    assert [c.processor_id for c in charges(pi["id"])] == [first]
    assert len(events_of(client, "payment_intent.payment_failed")) == 1


def test_a_processor_error_is_retried_when_the_flow_says_so(client):
    down, up = connect(client, "Down", "outage"), connect(client, "Up")
    retrying = flow(client, {"type": "priority", "processors": [down, up]}, {"max_attempts": "2"})
    response = pay(client, retrying)
    assert response.json()["status"] == "succeeded", response
    made = charges(response.json()["id"])
    assert [(c.processor_id, c.status, c.failure_code) for c in made] == [
        (down, "failed", "processing_error"),
        (up, "succeeded", None),
    ]
    assert Attempt.objects.get(charge_id=made[0].id).outcome == "processor_error"

    soft_only = flow(
        client,
        {"type": "priority", "processors": [down, up]},
        {"max_attempts": "2", "on": ["soft_decline"]},
    )
    response = pay(client, soft_only)
    assert response.status_code == 402
    assert response.error["type"] == "card_error" and response.error["code"] == "processing_error"
    assert len(charges(response.error["payment_intent"]["id"])) == 1


def test_max_attempts_bounds_the_chain(client):
    a = connect(client, "A", "decline", decline_code="issuer_not_available")
    b = connect(client, "B", "decline", decline_code="reenter_transaction")
    c = connect(client, "C")
    flow_id = flow(client, {"type": "priority", "processors": [a, b, c]}, {"max_attempts": "2"})
    response = pay(client, flow_id)
    assert response.status_code == 402
    assert response.error["decline_code"] == "reenter_transaction"
    made = charges(response.error["payment_intent"]["id"])
    assert [(x.processor_id, x.attempt_number) for x in made] == [(a, 1), (b, 2)]


def test_nothing_is_retried_once_the_customer_took_part_in_3d_secure(client):
    a, b = connect(client, "A"), connect(client, "B")
    flow_id = flow(client, {"type": "priority", "processors": [a, b]}, {"max_attempts": "2"})
    response = pay(client, flow_id, card="pm_card_threeDSecure2Required")
    pi = response.json()
    assert pi["status"] == "requires_action"
    assert [c.processor_id for c in charges(pi["id"])] == [a]


def test_capture_and_refund_go_back_to_the_connection_that_made_the_charge(client):
    a = connect(client, "A", "decline", decline_code="try_again_later")
    b = connect(client, "B")
    flow_id = flow(client, {"type": "priority", "processors": [a, b]}, {"max_attempts": "2"})
    pi = pay(client, flow_id, capture_method="manual").json()
    assert pi["status"] == "requires_capture"
    charge_id = pi["latest_charge"]
    assert Charge.objects.get(id=charge_id).processor_id == b
    # B goes down: the capture is not re-routed to A (which is up for captures)
    assert client.post(f"/v1/processors/{a}", {"simulated": {"behavior": "normal"}}).status_code
    assert client.post(f"/v1/processors/{b}", {"simulated": {"behavior": "outage"}}).status_code
    response = client.post(f"{PI}/{pi['id']}/capture")
    assert response.status_code == 402
    assert response.error["code"] == "processing_error"
    capture = Attempt.objects.filter(payment_intent_id=pi["id"], kind="capture").get()
    assert capture.processor == b
    client.post(f"/v1/processors/{b}", {"simulated": {"behavior": "normal"}})
    assert client.post(f"{PI}/{pi['id']}/capture").json()["status"] == "succeeded"
    refund = client.post("/v1/refunds", {"payment_intent": pi["id"], "amount": "500"}).json()
    assert refund["status"] == "succeeded"
    assert Attempt.objects.get(refund_id=refund["id"], kind="refund").processor == b


def test_a_flow_of_another_account_or_none_at_all_is_refused(client, other_acct):
    theirs_client = StripeTestClient(key=other_acct.sk)
    theirs = flow(theirs_client, {"type": "priority", "processors": [connect(theirs_client, "X")]})
    for name in (theirs, "flow_doesnotexist"):
        response = client.post(PI, {"amount": "2000", "currency": "usd", "payment_flow": name})
        assert response.status_code == 400
        assert (response.error["code"], response.error["param"]) == (
            "resource_missing",
            "payment_flow",
        )
    assert not client.get(PI).json()["data"]


def test_the_default_flow_routes_a_payment_that_names_none(client):
    a, b = connect(client, "A"), connect(client, "B")
    flow(client, {"type": "priority", "processors": [b, a]}, default="true")
    pi = pay(client).json()
    charge = Charge.objects.get(id=pi["latest_charge"])
    assert charge.processor_id == b and charge.payment_flow is not None
    assert pi["payment_flow"] is None  # the intent names none; the charge says which ran


def test_a_rule_routes_by_currency_and_amount(client):
    a, b = connect(client, "A"), connect(client, "B")
    flow_id = flow(
        client,
        {
            "type": "rules",
            "rules": [
                {"if": {"currency": ["eur"], "amount_gte": "1000"}, "then": {"processors": [b]}}
            ],
            "default": {"processors": [a]},
        },
    )
    eur = pay(client, flow_id, currency="eur").json()
    usd = pay(client, flow_id).json()
    small = pay(client, flow_id, currency="eur", amount="500").json()
    assert Charge.objects.get(id=eur["latest_charge"]).processor_id == b
    assert Charge.objects.get(id=usd["latest_charge"]).processor_id == a
    assert Charge.objects.get(id=small["latest_charge"]).processor_id == a


def test_nowhere_to_go_is_a_402_processing_error_and_changes_nothing(client):
    builtin = client.get("/v1/processors").json()["data"][0]["id"]
    assert client.post(f"/v1/processors/{builtin}", {"status": "disabled"}).status_code == 200
    pi = client.post(PI, {"amount": "2000", "currency": "usd"}).json()
    response = client.post(f"{PI}/{pi['id']}/confirm", {"payment_method": "pm_card_visa"})
    assert response.status_code == 402
    assert (response.error["type"], response.error["code"]) == ("card_error", "processing_error")
    assert charges(pi["id"]) == []
    assert client.get(f"{PI}/{pi['id']}").json()["status"] == "requires_payment_method"


# Which connection a split picks is decided before any call, the same in both processor modes;
# 300 payments (the slowest test of the suite) are sent once, in the one-transaction mode.
@pytest.mark.parametrize("processor_mode", ["one_transaction"], indirect=True)
def test_a_volume_split_sends_each_connection_its_share(client, settings):
    a, b = connect(client, "A"), connect(client, "B")
    flow_id = flow(
        client,
        {
            "type": "volume_split",
            "split": [{"processor": a, "percent": "70"}, {"processor": b, "percent": "30"}],
        },
    )
    total = 300
    for _ in range(total):
        assert pay(client, flow_id).status_code == 200
    share = Charge.objects.filter(processor_id=a).count() / total
    # binomial(300, 0.7): the standard deviation is 2.6 points; 8 points is three of them
    assert 0.62 <= share <= 0.78, share


@pytest.mark.django_db(transaction=True)  # what it learns is written once each payment commits
def test_success_rate_routing_learns_which_connection_authorises(client):
    weak = connect(client, "Weak", "decline", decline_code="try_again_later")
    strong = connect(client, "Strong")
    flow_id = flow(
        client,
        {
            "type": "success_rate",
            "processors": [weak, strong],
            "window": "20",
            "exploration_percent": "0",
        },
        {"max_attempts": "2"},
    )
    for _ in range(12):
        assert pay(client, flow_id).json()["status"] == "succeeded"
    weak_row = ProcessorConnection.objects.get(id=weak)
    assert weak_row.learns and weak_row.recent_outcomes and "1" not in weak_row.recent_outcomes
    assert "0" not in ProcessorConnection.objects.get(id=strong).recent_outcomes
    # learnt: the strong connection is now tried first, so no more failed first attempts
    before = Charge.objects.filter(processor_id=weak).count()
    for _ in range(5):
        pi = pay(client, flow_id).json()
        assert Charge.objects.get(id=pi["latest_charge"]).attempt_number == 1
    assert Charge.objects.filter(processor_id=weak).count() == before


def test_a_circuit_opens_after_errors_and_closes_after_a_good_trial(client, settings):
    settings.PROCESSOR_CIRCUIT_ERRORS = 3
    settings.PROCESSOR_CIRCUIT_SECONDS = 30
    down, up = connect(client, "Down", "outage"), connect(client, "Up")
    flow_id = flow(client, {"type": "priority", "processors": [down, up]}, {"max_attempts": "2"})
    for _ in range(3):
        assert pay(client, flow_id).json()["status"] == "succeeded"
    assert client.get(f"/v1/processors/{down}").json()["circuit"] == "open"
    opened = events_of(client, "processor.circuit_opened")
    assert [e["data"]["object"]["id"] for e in opened] == [down]
    # open: skipped, no attempt made there
    calls = Attempt.objects.filter(processor=down).count()
    assert pay(client, flow_id).json()["status"] == "succeeded"
    assert Attempt.objects.filter(processor=down).count() == calls
    evaluation = client.post(
        f"/v1/payment_flows/{flow_id}/evaluate", {"amount": "2000", "currency": "usd"}
    ).json()
    assert {"processor": down, "reason": "circuit_open"} in evaluation["skipped"]
    # the cool-down passes and the connection is back: one trial call closes the circuit
    client.post(f"/v1/processors/{down}", {"simulated": {"behavior": "normal"}})
    ProcessorConnection.objects.filter(id=down).update(
        circuit_opened_at=ProcessorConnection.objects.get(id=down).circuit_opened_at
        - timedelta(seconds=31)
    )
    pi = pay(client, flow_id).json()
    assert Charge.objects.get(id=pi["latest_charge"]).processor_id == down
    assert client.get(f"/v1/processors/{down}").json()["circuit"] == "closed"
    assert [e["data"]["object"]["id"] for e in events_of(client, "processor.circuit_closed")] == [
        down
    ]


def test_captures_that_fail_at_the_processor_count_towards_its_circuit(client, settings):
    settings.PROCESSOR_CIRCUIT_ERRORS = 2
    connection = connect(client, "Only")
    flow_id = flow(client, {"type": "priority", "processors": [connection]})
    intents = [pay(client, flow_id, capture_method="manual").json() for _ in range(2)]
    assert client.post(f"/v1/processors/{connection}", {"simulated": {"behavior": "outage"}})
    for pi in intents:
        response = client.post(f"{PI}/{pi['id']}/capture")
        assert (response.status_code, response.error["code"]) == (402, "processing_error")
    assert client.get(f"/v1/processors/{connection}").json()["circuit"] == "open"
    assert [e["data"]["object"]["id"] for e in events_of(client, "processor.circuit_opened")] == [
        connection
    ]
    # open: a confirm has nowhere to go, and says so without calling it
    response = pay(client, flow_id)
    assert (response.status_code, response.error["code"]) == (402, "processing_error")
    assert not Charge.objects.filter(payment_intent_id=response.error["payment_intent"]["id"])
