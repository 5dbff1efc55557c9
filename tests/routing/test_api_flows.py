"""/v1/payment_flows through HTTP: create / retrieve / update / list / delete, every validation
rule, the default flow, versions, what the flows teach the connections (`learns`), scoping
and events."""

from __future__ import annotations

import pytest

from events.models import Event
from routing.models import PaymentFlow, ProcessorConnection
from tests.helpers import StripeTestClient

URL = "/v1/payment_flows"


@pytest.fixture
def procs(client) -> list[str]:
    """The built-in connection and two more, oldest first."""
    builtin = client.get("/v1/processors").json()["data"][0]["id"]
    made = [
        client.post("/v1/processors", {"kind": "simulated", "name": name}).json()["id"]
        for name in ("A", "B")
    ]
    return [builtin, *made]


def create(client, routing: dict, **data) -> dict:
    response = client.post(URL, {"name": "Flow", "routing": routing, **data})
    assert response.status_code == 200, response
    return response.json()


def events(type: str) -> list[Event]:
    return list(Event.objects.filter(type=type).order_by("created"))


# --- create, retrieve, list --------------------------------------------------------------------


def test_create_a_priority_flow(client, procs):
    created = create(client, {"type": "priority", "processors": procs[1:]}, metadata={"k": "v"})
    assert created["id"].startswith("flow_")
    assert created["object"] == "payment_flow"
    assert created["name"] == "Flow"
    assert created["routing"] == {"type": "priority", "processors": procs[1:]}
    assert created["retry"] == {"max_attempts": 1, "on": ["soft_decline", "processor_error"]}
    assert created["version"] == 1
    assert created["default"] is False
    assert created["livemode"] is False
    assert isinstance(created["created"], int)
    assert created["metadata"] == {"k": "v"}
    assert client.get(f"{URL}/{created['id']}").json() == created
    [event] = events("payment_flow.created")
    assert event.data["object"] == created


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
def test_every_routing_type_in_its_canonical_shape(client, procs, as_json):
    a, b, c = procs
    cases = [
        ({"type": "priority", "processors": [b, a]}, {"type": "priority", "processors": [b, a]}),
        (
            {
                "type": "volume_split",
                "split": [{"processor": a, "percent": "70"}, {"processor": b, "percent": 30}],
            },
            {
                "type": "volume_split",
                "split": [{"processor": a, "percent": 70}, {"processor": b, "percent": 30}],
            },
        ),
        (
            {
                "type": "rules",
                "rules": [
                    {
                        "if": {
                            "currency": ["EUR", "gbp"],
                            "amount_gte": "100",
                            "amount_lt": 10000,
                            "card_brand": ["visa", "visa"],
                            "card_country": ["de"],
                            "metadata": {"tier": "gold"},
                        },
                        "then": {"processors": [c]},
                    },
                    {"if": {"card_brand": ["amex"]}, "then": {"processors": [b, a]}},
                ],
                "default": {"processors": [a]},
            },
            {
                "type": "rules",
                "rules": [
                    {
                        "if": {
                            "currency": ["eur", "gbp"],
                            "amount_gte": 100,
                            "amount_lt": 10000,
                            "card_brand": ["visa"],
                            "card_country": ["DE"],
                            "metadata": {"tier": "gold"},
                        },
                        "then": {"processors": [c]},
                    },
                    {"if": {"card_brand": ["amex"]}, "then": {"processors": [b, a]}},
                ],
                "default": {"processors": [a]},
            },
        ),
        (
            {"type": "success_rate", "processors": [a, b]},
            {"type": "success_rate", "processors": [a, b], "window": 200, "exploration_percent": 5},
        ),
        (
            {"type": "success_rate", "processors": [a], "window": 50, "exploration_percent": 0},
            {"type": "success_rate", "processors": [a], "window": 50, "exploration_percent": 0},
        ),
    ]
    for given, shown in cases:
        response = client.post(URL, {"name": "F", "routing": given}, json=as_json)
        assert response.status_code == 200, (given, response)
        assert response.json()["routing"] == shown
        assert PaymentFlow.objects.get(id=response.json()["id"]).routing == shown


def test_retry_is_taken_with_its_defaults(client, procs):
    created = create(
        client,
        {"type": "priority", "processors": procs},
        retry={"max_attempts": "3", "on": ["processor_error"]},
    )
    assert created["retry"] == {"max_attempts": 3, "on": ["processor_error"]}
    only_max = create(client, {"type": "priority", "processors": procs}, retry={"max_attempts": 2})
    assert only_max["retry"] == {"max_attempts": 2, "on": ["soft_decline", "processor_error"]}


def test_list_is_newest_first_and_paginated(client, procs):
    ids = [create(client, {"type": "priority", "processors": procs})["id"] for _ in range(3)]
    page = client.get(URL, {"limit": "2"}).json()
    assert page["object"] == "list" and page["url"] == URL
    assert [f["id"] for f in page["data"]] == [ids[2], ids[1]] and page["has_more"] is True
    rest = client.get(URL, {"starting_after": ids[1]}).json()
    assert [f["id"] for f in rest["data"]] == [ids[0]] and rest["has_more"] is False


# --- validation --------------------------------------------------------------------------------

P1, P2 = "{p1}", "{p2}"  # replaced by real connection ids


def _rule(**condition) -> dict:
    return {
        "type": "rules",
        "rules": [{"if": condition, "then": {"processors": [P1]}}],
        "default": {"processors": [P1]},
    }


INVALID = [
    # (params, code, param)
    ({"name": "F"}, "parameter_missing", "routing"),
    ({"routing": {"type": "priority", "processors": [P1]}}, "parameter_missing", "name"),
    (
        {"name": "x" * 101, "routing": {"type": "priority", "processors": [P1]}},
        "max_length",
        "name",
    ),
    ({"name": "F", "routing": {"processors": [P1]}}, "parameter_missing", "routing[type]"),
    ({"name": "F", "routing": {"type": "cheapest"}}, "parameter_invalid_string", "routing[type]"),
    ({"name": "F", "routing": {"type": "priority"}}, "parameter_missing", "routing[processors]"),
    (
        {"name": "F", "routing": {"type": "priority", "processors": [P1, P2, P1]}},
        "parameter_invalid_string",
        "routing[processors][2]",
    ),
    (
        {"name": "F", "routing": {"type": "priority", "processors": [P1], "window": 100}},
        "parameter_unknown",
        "routing[window]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "priority",
                "processors": [P1],
                "split": [{"processor": P1, "percent": 100}],
            },
        },
        "parameter_unknown",
        "routing[split]",
    ),
    (
        {"name": "F", "routing": {"type": "priority", "processors": [P1], "nope": "1"}},
        "parameter_unknown",
        "routing[nope]",
    ),
    (
        {"name": "F", "routing": {"type": "success_rate"}},
        "parameter_missing",
        "routing[processors]",
    ),
    (
        {"name": "F", "routing": {"type": "success_rate", "processors": [P1], "window": 9}},
        "parameter_invalid_integer",
        "routing[window]",
    ),
    (
        {"name": "F", "routing": {"type": "success_rate", "processors": [P1], "window": 1001}},
        "parameter_invalid_integer",
        "routing[window]",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "success_rate", "processors": [P1], "exploration_percent": 51},
        },
        "parameter_invalid_integer",
        "routing[exploration_percent]",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "success_rate", "processors": [P1], "exploration_percent": -1},
        },
        "parameter_invalid_integer",
        "routing[exploration_percent]",
    ),
    ({"name": "F", "routing": {"type": "volume_split"}}, "parameter_missing", "routing[split]"),
    (
        {
            "name": "F",
            "routing": {
                "type": "volume_split",
                "split": [{"processor": P1, "percent": 60}, {"processor": P2, "percent": 30}],
            },
        },
        "parameter_invalid_integer",
        "routing[split]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "volume_split",
                "split": [{"processor": P1, "percent": 0}, {"processor": P2, "percent": 100}],
            },
        },
        "parameter_invalid_integer",
        "routing[split][0][percent]",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "volume_split", "split": [{"processor": P1, "percent": 101}]},
        },
        "parameter_invalid_integer",
        "routing[split][0][percent]",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "volume_split", "split": [{"processor": P1, "percent": "50.5"}]},
        },
        "parameter_invalid_integer",
        "routing[split][0][percent]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "volume_split",
                "split": [{"processor": P1, "percent": 50}, {"processor": P1, "percent": 50}],
            },
        },
        "parameter_invalid_string",
        "routing[split][1][processor]",
    ),
    (
        {"name": "F", "routing": {"type": "volume_split", "split": [{"percent": 100}]}},
        "parameter_missing",
        "routing[split][0][processor]",
    ),
    (
        {"name": "F", "routing": {"type": "volume_split", "split": [{"processor": P1}]}},
        "parameter_missing",
        "routing[split][0][percent]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "rules",
                "rules": [{"if": {"card_brand": ["visa"]}, "then": {"processors": [P1]}}],
            },
        },
        "parameter_missing",
        "routing[default]",
    ),
    (
        {"name": "F", "routing": {"type": "rules", "default": {"processors": [P1]}}},
        "parameter_missing",
        "routing[rules]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "rules",
                "rules": [{"if": {"card_brand": ["visa"]}}],
                "default": {"processors": [P1]},
            },
        },
        "parameter_missing",
        "routing[rules][0][then]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "rules",
                "rules": [{"then": {"processors": [P1]}}],
                "default": {"processors": [P1]},
            },
        },
        "parameter_missing",
        "routing[rules][0][if]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "rules",
                "rules": [{"if": {"card_brand": ["visa"]}, "then": {"processors": [P1]}}],
                "default": {"processors": ""},
            },
        },
        "parameter_missing",
        "routing[default][processors]",
    ),
    (
        {"name": "F", "routing": _rule(currency=["usdx"])},
        "parameter_invalid_string",
        "routing[rules][0][if][currency][0]",
    ),
    (
        {"name": "F", "routing": _rule(card_brand=["visa", "maestro"])},
        "parameter_invalid_string",
        "routing[rules][0][if][card_brand][1]",
    ),
    (
        {"name": "F", "routing": _rule(card_country=["XX"])},
        "parameter_invalid_string",
        "routing[rules][0][if][card_country][0]",
    ),
    (
        {"name": "F", "routing": _rule(card_country=["USA"])},
        "parameter_invalid_string",
        "routing[rules][0][if][card_country][0]",
    ),
    (
        # two letters and nothing around them, as the schema's pattern says (no lenient strip)
        {"name": "F", "routing": _rule(card_country=[" DE "])},
        "parameter_invalid_string",
        "routing[rules][0][if][card_country][0]",
    ),
    (
        {"name": "F", "routing": _rule(currency=["usd "])},
        "parameter_invalid_string",
        "routing[rules][0][if][currency][0]",
    ),
    (
        {"name": "F", "routing": _rule(amount_gte=-1)},
        "parameter_invalid_integer",
        "routing[rules][0][if][amount_gte]",
    ),
    (
        {"name": "F", "routing": _rule(amount_gte="ten")},
        "parameter_invalid_integer",
        "routing[rules][0][if][amount_gte]",
    ),
    (
        {"name": "F", "routing": _rule(amount_gte=500, amount_lt=500)},
        "parameter_invalid_integer",
        "routing[rules][0][if][amount_lt]",
    ),
    (
        {"name": "F", "routing": _rule(metadata={"tier": ""})},
        "parameter_invalid_string",
        "routing[rules][0][if][metadata][tier]",
    ),
    (
        {"name": "F", "routing": _rule(metadata="gold")},
        "parameter_invalid_hash",
        "routing[rules][0][if][metadata]",
    ),
    (
        {"name": "F", "routing": _rule(weekday=["monday"])},
        "parameter_unknown",
        "routing[rules][0][if][weekday]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "volume_split",
                "split": [{"processor": P1, "percent": 100, "weight": 1}],
            },
        },
        "parameter_unknown",
        "routing[split][0][weight]",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "priority", "processors": [P1]},
            "retry": {"max_attempts": 0},
        },
        "parameter_invalid_integer",
        "retry[max_attempts]",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "priority", "processors": [P1]},
            "retry": {"max_attempts": 6},
        },
        "parameter_invalid_integer",
        "retry[max_attempts]",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "priority", "processors": [P1]},
            "retry": {"on": ["hard_decline"]},
        },
        "parameter_invalid_string",
        "retry[on][0]",
    ),
    (
        {"name": "F", "routing": {"type": "priority", "processors": [P1]}, "default": "maybe"},
        "parameter_invalid_boolean",
        "default",
    ),
    (
        {"name": "F", "routing": {"type": "priority", "processors": [P1]}, "version": 7},
        "parameter_unknown",
        "version",
    ),
    (
        {
            "name": "F",
            "routing": {"type": "priority", "processors": [P1, "proc_nobodyOwnsThis0000"]},
        },
        "resource_missing",
        "routing[processors][1]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "rules",
                "rules": [
                    {
                        "if": {"currency": ["usd"]},
                        "then": {"processors": [P2, "proc_nobody00000000"]},
                    }
                ],
                "default": {"processors": [P1]},
            },
        },
        "resource_missing",
        "routing[rules][0][then][processors][1]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "rules",
                "rules": [{"if": {"currency": ["usd"]}, "then": {"processors": [P1]}}],
                "default": {"processors": ["proc_nobody00000000"]},
            },
        },
        "resource_missing",
        "routing[default][processors][0]",
    ),
    (
        {
            "name": "F",
            "routing": {
                "type": "volume_split",
                "split": [
                    {"processor": P1, "percent": 50},
                    {"processor": "proc_nobody00000000", "percent": 50},
                ],
            },
        },
        "resource_missing",
        "routing[split][1][processor]",
    ),
]


def _with_ids(value, ids: dict):
    if isinstance(value, dict):
        return {k: _with_ids(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_ids(v, ids) for v in value]
    return ids.get(value, value) if isinstance(value, str) else value


@pytest.mark.parametrize("as_json", [False, True], ids=["form", "json"])
@pytest.mark.parametrize(
    ("params", "code", "param"), INVALID, ids=[f"{c}:{p}" for _, c, p in INVALID]
)
def test_bad_input_is_refused_naming_the_param_and_changes_nothing(
    client, procs, params, code, param, as_json
):
    params = _with_ids(params, {P1: procs[1], P2: procs[2]})
    learns = list(ProcessorConnection.objects.values_list("id", "learns"))
    response = client.post(URL, params, json=as_json)
    assert response.status_code == 400, response
    assert response.error["type"] == "invalid_request_error"
    assert (response.error["code"], response.error["param"]) == (code, param), response.error
    assert not PaymentFlow.objects.exists()
    assert not Event.objects.filter(type__startswith="payment_flow.").exists()
    assert list(ProcessorConnection.objects.values_list("id", "learns")) == learns


def test_an_empty_rule_condition_is_refused(client, procs):
    response = client.post(
        URL,
        {
            "name": "F",
            "routing": {
                "type": "rules",
                "rules": [{"if": {}, "then": {"processors": [procs[0]]}}],
                "default": {"processors": [procs[0]]},
            },
        },
        json=True,
    )
    assert response.status_code == 400
    assert (response.error["code"], response.error["param"]) == (
        "parameter_missing",
        "routing[rules][0][if]",
    )


def test_another_accounts_connection_cannot_be_named(client, procs, other_acct):
    theirs = StripeTestClient(key=other_acct.sk).get("/v1/processors").json()["data"][0]["id"]
    response = client.post(
        URL, {"name": "F", "routing": {"type": "priority", "processors": [procs[0], theirs]}}
    )
    assert response.status_code == 400
    assert (response.error["code"], response.error["param"]) == (
        "resource_missing",
        "routing[processors][1]",
    )
    assert not PaymentFlow.objects.exists()


def test_a_bad_update_changes_nothing(client, procs):
    created = create(client, {"type": "priority", "processors": procs})
    response = client.post(
        f"{URL}/{created['id']}",
        {
            "name": "New",
            "routing": {"type": "volume_split", "split": [{"processor": procs[0], "percent": 99}]},
        },
    )
    assert response.status_code == 400
    assert response.error["param"] == "routing[split]"
    assert client.get(f"{URL}/{created['id']}").json() == created
    missing = client.post(
        f"{URL}/{created['id']}",
        {"name": "New", "routing": {"type": "priority", "processors": ["proc_nobody00000000"]}},
    )
    assert missing.status_code == 400 and missing.error["code"] == "resource_missing"
    assert client.get(f"{URL}/{created['id']}").json() == created
    assert events("payment_flow.updated") == []


# --- update: versions and events ---------------------------------------------------------------


def test_every_update_that_changes_the_flow_adds_one_to_its_version(client, procs):
    created = create(client, {"type": "priority", "processors": procs}, metadata={"a": "1"})
    renamed = client.post(f"{URL}/{created['id']}", {"name": "Renamed"}).json()
    assert renamed["version"] == 2 and renamed["name"] == "Renamed"
    routed = client.post(
        f"{URL}/{created['id']}",
        {"routing": {"type": "success_rate", "processors": procs[1:], "window": 20}},
    ).json()
    assert routed["version"] == 3
    assert routed["routing"] == {
        "type": "success_rate",
        "processors": procs[1:],
        "window": 20,
        "exploration_percent": 5,
    }
    retried = client.post(f"{URL}/{created['id']}", {"retry": {"on": ["soft_decline"]}}).json()
    assert retried["version"] == 4
    assert retried["retry"] == {"max_attempts": 1, "on": ["soft_decline"]}
    merged = client.post(f"{URL}/{created['id']}", {"retry": {"max_attempts": 4}}).json()
    assert merged["retry"] == {"max_attempts": 4, "on": ["soft_decline"]}
    assert merged["version"] == 5
    # nothing changed: no new version, no event
    same = client.post(f"{URL}/{created['id']}", {"name": "Renamed", "metadata": {"a": "1"}})
    assert same.json()["version"] == 5
    updates = events("payment_flow.updated")
    assert len(updates) == 4
    assert updates[0].data["previous_attributes"] == {"name": "Flow", "version": 1}
    assert updates[1].data["object"]["routing"]["type"] == "success_rate"
    assert updates[1].data["previous_attributes"]["routing"]["type"] == "priority"
    assert PaymentFlow.objects.get(id=created["id"]).version == 5


def test_metadata_merges(client, procs):
    created = create(
        client, {"type": "priority", "processors": procs}, metadata={"a": "1", "b": "2"}
    )
    updated = client.post(f"{URL}/{created['id']}", {"metadata": {"a": "", "c": "3"}}).json()
    assert updated["metadata"] == {"b": "2", "c": "3"}


# --- the default flow --------------------------------------------------------------------------


def test_at_most_one_default_flow_per_account_and_mode(client, procs, acct):
    routing = {"type": "priority", "processors": procs}
    first = create(client, routing, default="true")
    assert first["default"] is True
    second = create(client, routing, default=True)
    assert second["default"] is True
    assert client.get(f"{URL}/{first['id']}").json()["default"] is False
    [taken] = [e for e in events("payment_flow.updated") if e.object_id == first["id"]]
    assert taken.data["previous_attributes"] == {"default": True}
    assert taken.data["object"]["version"] == first["version"]  # its routing did not change
    # back to the first through an update
    again = client.post(f"{URL}/{first['id']}", {"default": "true"}).json()
    assert again["default"] is True and again["version"] == 2
    assert client.get(f"{URL}/{second['id']}").json()["default"] is False
    assert PaymentFlow.objects.filter(is_default=True).count() == 1
    # `false` leaves the account without one
    client.post(f"{URL}/{first['id']}", {"default": "false"})
    assert not PaymentFlow.objects.filter(is_default=True).exists()
    # live mode has its own default
    live = StripeTestClient(key=acct.sk_live)
    live_builtin = live.get("/v1/processors").json()["data"][0]["id"]
    live_flow = create(live, {"type": "priority", "processors": [live_builtin]}, default=True)
    create(client, routing, default=True)
    assert live.get(f"{URL}/{live_flow['id']}").json()["default"] is True


# --- delete ------------------------------------------------------------------------------------


def test_delete_removes_the_flow(client, procs):
    created = create(client, {"type": "priority", "processors": procs}, default=True)
    response = client.delete(f"{URL}/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"id": created["id"], "object": "payment_flow", "deleted": True}
    assert client.get(f"{URL}/{created['id']}").status_code == 404
    assert not PaymentFlow.objects.exists()
    [event] = events("payment_flow.deleted")
    assert event.data["object"] == created
    assert client.delete(f"{URL}/{created['id']}").status_code == 404


# --- learning connections ----------------------------------------------------------------------


def test_connections_learn_exactly_while_a_success_rate_flow_names_them(client, procs):
    def learning() -> set[str]:
        return set(ProcessorConnection.objects.filter(learns=True).values_list("id", flat=True))

    assert learning() == set()
    rate = create(client, {"type": "success_rate", "processors": procs[1:]})
    assert learning() == set(procs[1:])
    ProcessorConnection.objects.filter(id=procs[1]).update(recent_outcomes="1101")
    create(client, {"type": "priority", "processors": procs})
    assert learning() == set(procs[1:])
    client.post(
        f"{URL}/{rate['id']}", {"routing": {"type": "success_rate", "processors": [procs[2]]}}
    )
    assert learning() == {procs[2]}
    assert ProcessorConnection.objects.get(id=procs[1]).recent_outcomes == ""  # forgotten
    client.delete(f"{URL}/{rate['id']}")
    assert learning() == set()


# --- keys and scope ----------------------------------------------------------------------------


def test_publishable_keys_are_refused(client, procs, acct):
    created = create(client, {"type": "priority", "processors": procs})
    for method, path in (
        ("GET", URL),
        ("POST", URL),
        ("GET", f"{URL}/{created['id']}"),
        ("POST", f"{URL}/{created['id']}"),
        ("DELETE", f"{URL}/{created['id']}"),
    ):
        response = client.raw(method, path, b"", key=acct.pk)
        assert response.status_code == 403, (method, path)
        assert response.error["code"] == "secret_key_required"
    assert PaymentFlow.objects.filter(id=created["id"]).exists()


def test_another_accounts_flow_is_missing(client, procs, other_acct):
    them = StripeTestClient(key=other_acct.sk)
    their_builtin = them.get("/v1/processors").json()["data"][0]["id"]
    theirs = create(them, {"type": "priority", "processors": [their_builtin]})
    assert client.get(f"{URL}/{theirs['id']}").status_code == 404
    response = client.post(f"{URL}/{theirs['id']}", {"name": "Mine now"})
    assert response.status_code == 404 and response.error["code"] == "resource_missing"
    assert client.delete(f"{URL}/{theirs['id']}").status_code == 404
    assert theirs["id"] not in client.get(URL).content.decode()
    assert them.get(f"{URL}/{theirs['id']}").json() == theirs


def test_test_and_live_flows_never_mix(client, procs, acct):
    created = create(client, {"type": "priority", "processors": procs})
    live = StripeTestClient(key=acct.sk_live)
    assert live.get(f"{URL}/{created['id']}").status_code == 404
    assert live.post(f"{URL}/{created['id']}", {"name": "x"}).status_code == 404
    assert live.get(URL).json()["data"] == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_defaults_leave_exactly_one(acct):
    """Six requests make a new flow the default at once (PostgreSQL, real threads): each
    answers 200, and one flow is the default at the end (the partial unique index is met by
    the losers, which run again and take the default over)."""
    import threading

    from django.db import connection

    client = StripeTestClient(key=acct.sk)
    builtin = client.get("/v1/processors").json()["data"][0]["id"]
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def make_default() -> None:
        try:
            barrier.wait()
            response = StripeTestClient(key=acct.sk).post(
                URL,
                {
                    "name": "F",
                    "routing": {"type": "priority", "processors": [builtin]},
                    "default": "true",
                },
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=make_default) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    assert PaymentFlow.objects.count() == 6
    assert PaymentFlow.objects.filter(is_default=True).count() == 1
