"""POST /v1/payment_flows/{id}/evaluate: where a payment with given facts would go, and why
the other connections are skipped, with nothing written."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from routing.models import Circuit, PaymentFlow, ProcessorConnection
from tests.factories import PaymentMethodFactory
from tests.helpers import StripeTestClient
from tests.security.world import snapshot

BASE = {"amount": "2000", "currency": "usd"}


@pytest.fixture
def procs(client) -> list[str]:
    """The built-in connection, then A and B (oldest first)."""
    builtin = client.get("/v1/processors").json()["data"][0]["id"]
    made = [
        client.post("/v1/processors", {"kind": "simulated", "name": name}).json()["id"]
        for name in ("A", "B")
    ]
    return [builtin, *made]


def flow(client, routing: dict, **data) -> dict:
    response = client.post("/v1/payment_flows", {"name": "F", "routing": routing, **data})
    assert response.status_code == 200, response
    return response.json()


def evaluate(client, flow_id: str, **params) -> dict:
    response = client.post(f"/v1/payment_flows/{flow_id}/evaluate", {**BASE, **params})
    assert response.status_code == 200, response
    return response.json()


def test_priority_answers_the_connections_in_order(client, procs):
    builtin, a, b = procs
    created = flow(client, {"type": "priority", "processors": [b, a, builtin]})
    answer = evaluate(client, created["id"])
    assert answer == {
        "object": "payment_flow_evaluation",
        "payment_flow": created["id"],
        "version": 1,
        "routing_type": "priority",
        "processors": [b, a, builtin],
        "attempts": 1,
        "rule": None,
        "skipped": [],
    }


def test_attempts_are_max_attempts_at_most_the_connections_usable(client, procs):
    builtin, a, b = procs
    created = flow(client, {"type": "priority", "processors": [a, b]}, retry={"max_attempts": "5"})
    assert evaluate(client, created["id"])["attempts"] == 2
    client.post(f"/v1/processors/{b}", {"status": "disabled"})
    assert evaluate(client, created["id"])["attempts"] == 1
    client.post(f"/v1/payment_flows/{created['id']}", {"retry": {"max_attempts": 1}})
    answer = evaluate(client, created["id"])
    assert answer["attempts"] == 1 and answer["version"] == 2


def test_skipped_disabled_and_circuit_open(client, procs):
    builtin, a, b = procs
    created = flow(client, {"type": "priority", "processors": [a, b, builtin]})
    client.post(f"/v1/processors/{a}", {"status": "disabled"})
    ProcessorConnection.objects.filter(id=b).update(
        circuit=Circuit.OPEN, circuit_opened_at=timezone.now()
    )
    answer = evaluate(client, created["id"])
    assert answer["processors"] == [builtin]
    assert answer["skipped"] == [
        {"processor": a, "reason": "disabled"},
        {"processor": b, "reason": "circuit_open"},
    ]
    # the cool-down over, the circuit is half open: the connection may take a trial call
    ProcessorConnection.objects.filter(id=b).update(
        circuit_opened_at=timezone.now() - timedelta(days=1)
    )
    assert evaluate(client, created["id"])["processors"] == [b, builtin]


def test_a_payment_methods_tokens_decide_no_token(client, procs, acct):
    builtin, a, b = procs
    created = flow(client, {"type": "priority", "processors": [a, b, builtin]})
    vaulted = PaymentMethodFactory(account=acct.account, tokens={a: "tok_a", builtin: "tok_s"})
    answer = evaluate(client, created["id"], payment_method=vaulted.id)
    assert answer["processors"] == [a, builtin]
    assert answer["skipped"] == [{"processor": b, "reason": "no_token"}]


def test_a_method_with_only_the_simulated_vaults_token_has_it_at_the_builtin_connection(
    client, procs, acct
):
    builtin, a, b = procs
    created = flow(client, {"type": "priority", "processors": [a, builtin, b]})
    old = PaymentMethodFactory(account=acct.account, tokens={}, processor_token="tok_sim")
    answer = evaluate(client, created["id"], payment_method=old.id)
    assert answer["processors"] == [builtin]
    assert answer["skipped"] == [
        {"processor": a, "reason": "no_token"},
        {"processor": b, "reason": "no_token"},
    ]


def test_card_facts_leave_tokens_unknown(client, procs):
    builtin, a, b = procs
    created = flow(client, {"type": "priority", "processors": [a, b]})
    answer = evaluate(client, created["id"], card={"brand": "visa", "country": "US"})
    assert answer["processors"] == [a, b] and answer["skipped"] == []


def test_volume_split_draws_by_share(client, procs):
    builtin, a, b = procs
    created = flow(
        client,
        {
            "type": "volume_split",
            "split": [{"processor": a, "percent": 90}, {"processor": b, "percent": 10}],
        },
    )
    firsts = Counter()
    for _ in range(200):
        answer = evaluate(client, created["id"])
        assert sorted(answer["processors"]) == sorted([a, b])
        assert answer["routing_type"] == "volume_split" and answer["rule"] is None
        firsts[answer["processors"][0]] += 1
    assert firsts[a] > 150 and firsts[b] > 0


def test_success_rate_puts_the_best_recent_rate_first(client, procs):
    builtin, a, b = procs
    created = flow(
        client,
        {"type": "success_rate", "processors": [a, b], "window": 10, "exploration_percent": 0},
    )
    ProcessorConnection.objects.filter(id=a).update(recent_outcomes="0000000000")
    ProcessorConnection.objects.filter(id=b).update(recent_outcomes="1111111111")
    answer = evaluate(client, created["id"])
    assert answer["processors"] == [b, a]
    assert answer["routing_type"] == "success_rate"


RULES_CASES = [
    # (condition, facts that match, facts that do not)
    ({"currency": ["eur", "gbp"]}, {"currency": "gbp"}, {"currency": "usd"}),
    ({"amount_gte": 1000}, {"amount": "1000"}, {"amount": "999"}),
    ({"amount_lt": 1000}, {"amount": "999"}, {"amount": "1000"}),
    ({"amount_gte": 100, "amount_lt": 200}, {"amount": "150"}, {"amount": "200"}),
    ({"card_brand": ["amex"]}, {"card": {"brand": "amex"}}, {"card": {"brand": "visa"}}),
    ({"card_country": ["de", "FR"]}, {"card": {"country": "fr"}}, {"card": {"country": "US"}}),
    ({"metadata": {"tier": "gold"}}, {"metadata": {"tier": "gold"}}, {"metadata": {"tier": "x"}}),
    ({"metadata": {"tier": "gold"}}, {"metadata": {"tier": "gold", "o": "1"}}, {}),
    (
        {"currency": ["usd"], "card_brand": ["visa"]},
        {"card": {"brand": "visa"}},
        {"card": {"brand": "mastercard"}},
    ),
]


@pytest.mark.parametrize(("condition", "match", "miss"), RULES_CASES)
def test_rules_each_condition(client, procs, condition, match, miss):
    builtin, a, b = procs
    created = flow(
        client,
        {
            "type": "rules",
            "rules": [{"if": condition, "then": {"processors": [a, b]}}],
            "default": {"processors": [builtin]},
        },
    )
    matched = evaluate(client, created["id"], **match)
    assert (matched["rule"], matched["processors"]) == (0, [a, b])
    missed = evaluate(client, created["id"], **miss)
    assert (missed["rule"], missed["processors"]) == (None, [builtin])


def test_the_first_matching_rule_wins_and_a_payment_method_gives_the_card(client, procs, acct):
    builtin, a, b = procs
    created = flow(
        client,
        {
            "type": "rules",
            "rules": [
                {"if": {"card_country": ["DE"]}, "then": {"processors": [b]}},
                {"if": {"card_brand": ["visa"]}, "then": {"processors": [a]}},
                {"if": {"currency": ["usd"]}, "then": {"processors": [b, a]}},
            ],
            "default": {"processors": [builtin]},
        },
    )
    german_visa = PaymentMethodFactory(
        account=acct.account, card_brand="visa", card_country="DE", tokens={a: "t", b: "t"}
    )
    us_visa = PaymentMethodFactory(
        account=acct.account, card_brand="visa", card_country="US", tokens={a: "t", b: "t"}
    )
    assert evaluate(client, created["id"], payment_method=german_visa.id)["rule"] == 0
    answer = evaluate(client, created["id"], payment_method=us_visa.id)
    assert (answer["rule"], answer["processors"]) == (1, [a])
    mastercard = evaluate(client, created["id"], card={"brand": "mastercard"})
    assert (mastercard["rule"], mastercard["processors"]) == (2, [b, a])
    euros = evaluate(client, created["id"], currency="eur", card={"brand": "amex"})
    assert (euros["rule"], euros["processors"]) == (None, [builtin])


def test_evaluate_writes_nothing(client, procs, acct):
    builtin, a, b = procs
    created = flow(
        client,
        {"type": "success_rate", "processors": [a, b, builtin]},
        retry={"max_attempts": 3},
        default=True,
    )
    client.post(f"/v1/processors/{a}", {"status": "disabled"})
    vaulted = PaymentMethodFactory(account=acct.account, tokens={b: "t"})
    before = snapshot()
    events = Event.objects.count()
    for params in ({"payment_method": vaulted.id}, {"card": {"brand": "visa"}}, {}):
        evaluate(client, created["id"], metadata={"order": "1"}, **params)
    assert snapshot() == before
    assert Event.objects.count() == events
    assert PaymentFlow.objects.get(id=created["id"]).version == 1


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"currency": "usd"}, 400, "parameter_missing", "amount"),
        ({"amount": "2000"}, 400, "parameter_missing", "currency"),
        ({**BASE, "amount": "0"}, 400, "parameter_invalid_integer", "amount"),
        ({**BASE, "amount": "12.5"}, 400, "parameter_invalid_integer", "amount"),
        ({**BASE, "currency": "usdx"}, 400, "parameter_invalid_string", "currency"),
        ({**BASE, "card": {"brand": "maestro"}}, 400, "parameter_invalid_string", "card[brand]"),
        ({**BASE, "card": {"country": "XX"}}, 400, "parameter_invalid_string", "card[country]"),
        ({**BASE, "card": {"cvc": "123"}}, 400, "parameter_unknown", "card[cvc]"),
        (
            {**BASE, "card": {"brand": "visa"}, "payment_method": "pm_x"},
            400,
            "parameters_exclusive",
            "card",
        ),
        (
            {**BASE, "payment_method": "pm_nobodyOwnsThis0000"},
            400,
            "resource_missing",
            "payment_method",
        ),
        ({**BASE, "livemode": "true"}, 400, "parameter_unknown", "livemode"),
    ],
)
def test_bad_input(client, procs, params, status, code, param):
    created = flow(client, {"type": "priority", "processors": procs})
    response = client.post(f"/v1/payment_flows/{created['id']}/evaluate", params)
    assert response.status_code == status, response
    assert (response.error["code"], response.error["param"]) == (code, param)


def test_scoping(client, procs, acct, other_acct):
    created = flow(client, {"type": "priority", "processors": procs})
    path = f"/v1/payment_flows/{created['id']}/evaluate"
    # another account's flow and payment method are missing; so is this one from live mode
    them = StripeTestClient(key=other_acct.sk)
    response = them.post(path, BASE)
    assert response.status_code == 404 and response.error["code"] == "resource_missing"
    assert StripeTestClient(key=acct.sk_live).post(path, BASE).status_code == 404
    assert (
        client.post("/v1/payment_flows/flow_nobodyOwnsThis0000/evaluate", BASE).status_code == 404
    )
    theirs = PaymentMethodFactory(account=other_acct.account)
    response = client.post(path, {**BASE, "payment_method": theirs.id})
    assert response.status_code == 400 and response.error["param"] == "payment_method"
    live_pm = PaymentMethodFactory(account=acct.account, livemode=True)
    assert client.post(path, {**BASE, "payment_method": live_pm.id}).status_code == 400
    # publishable keys are refused
    response = client.post(path, BASE, key=acct.pk)
    assert response.status_code == 403 and response.error["code"] == "secret_key_required"


def test_json_bodies(client, procs):
    created = flow(client, {"type": "priority", "processors": procs})
    response = client.post(
        f"/v1/payment_flows/{created['id']}/evaluate",
        {"amount": 500, "currency": "eur", "card": {"brand": "jcb", "country": "jp"}},
        json=True,
    )
    assert response.status_code == 200, response
    assert response.json()["processors"] == procs
