"""/v1/processors through HTTP: the built-in connection, create / retrieve / update / list /
delete, the API key that is never shown again, validation, scoping and events."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from core.crypto import decrypt
from events.models import Event
from routing.models import Circuit, PaymentFlow, ProcessorConnection
from tests.helpers import StripeTestClient

URL = "/v1/processors"
API_KEY = "sk_test_51Hupstream000000000000000000wXyZ"
PUBLIC_BASE = "https://93.184.215.14"  # an IP literal: no DNS needed, and public


def create(client, **data) -> dict:
    body = {"kind": "simulated", "name": "Second", **data}
    response = client.post(URL, body)
    assert response.status_code == 200, response
    return response.json()


def create_stripe(client, **stripe) -> dict:
    return create(client, kind="stripe", name="Upstream", stripe={"api_key": API_KEY, **stripe})


def events(type: str) -> list[Event]:
    return list(Event.objects.filter(type=type).order_by("created"))


# --- the built-in connection -------------------------------------------------------------------


def test_every_account_starts_with_one_simulated_connection_per_mode(client, acct):
    test = client.get(URL).json()
    assert test["object"] == "list" and test["url"] == URL and test["has_more"] is False
    [builtin] = test["data"]
    assert builtin["kind"] == "simulated"
    assert builtin["livemode"] is False
    assert builtin["status"] == "active" and builtin["circuit"] == "closed"
    assert builtin["simulated"] == {
        "behavior": "normal",
        "decline_code": "try_again_later",
        "latency_ms": 0,
    }
    assert builtin["stripe"] is None
    [live] = client.get(URL, key=acct.sk_live).json()["data"]
    assert live["livemode"] is True and live["id"] != builtin["id"]
    # reading again makes no second one
    assert len(client.get(URL).json()["data"]) == 1
    assert ProcessorConnection.objects.filter(builtin=True).count() == 2


def test_the_builtin_connection_can_be_disabled_but_not_deleted(client):
    builtin = client.get(URL).json()["data"][0]
    response = client.delete(f"{URL}/{builtin['id']}")
    assert response.status_code == 400
    assert response.error["code"] == "processor_builtin_for_object"
    assert response.error["param"] == "id"
    disabled = client.post(f"{URL}/{builtin['id']}", {"status": "disabled"}).json()
    assert disabled["status"] == "disabled"
    assert client.get(f"{URL}/{builtin['id']}").json()["status"] == "disabled"


# --- create, retrieve, list --------------------------------------------------------------------


def test_create_a_simulated_connection(client):
    created = create(
        client,
        name="Flaky",
        simulated={"behavior": "decline", "decline_code": "do_not_honor", "latency_ms": "250"},
        metadata={"team": "payments"},
    )
    assert created["id"].startswith("proc_")
    assert created["object"] == "processor"
    assert created["name"] == "Flaky"
    assert created["kind"] == "simulated"
    assert created["livemode"] is False
    assert isinstance(created["created"], int)
    assert created["status"] == "active" and created["circuit"] == "closed"
    assert created["simulated"] == {
        "behavior": "decline",
        "decline_code": "do_not_honor",
        "latency_ms": 250,
    }
    assert created["stripe"] is None
    assert created["metadata"] == {"team": "payments"}
    assert client.get(f"{URL}/{created['id']}").json() == created
    [event] = events("processor.created")
    assert event.data["object"] == created
    assert event.object_id == created["id"]


def test_a_simulated_connection_defaults_to_normal(client):
    created = create(client)
    assert created["simulated"] == {
        "behavior": "normal",
        "decline_code": "try_again_later",
        "latency_ms": 0,
    }


def test_json_bodies_are_accepted(client):
    response = client.post(
        URL,
        {"kind": "simulated", "name": "JSON", "simulated": {"behavior": "outage"}},
        json=True,
    )
    assert response.status_code == 200, response
    assert response.json()["simulated"]["behavior"] == "outage"


def test_list_is_newest_first_and_paginated(client):
    builtin = client.get(URL).json()["data"][0]
    ids = [create(client, name=f"P{n}")["id"] for n in range(3)]
    page = client.get(URL, {"limit": "2"}).json()
    assert [p["id"] for p in page["data"]] == [ids[2], ids[1]]
    assert page["has_more"] is True
    rest = client.get(URL, {"limit": "2", "starting_after": ids[1]}).json()
    assert [p["id"] for p in rest["data"]] == [ids[0], builtin["id"]]
    assert rest["has_more"] is False
    before = client.get(URL, {"ending_before": ids[0]}).json()
    assert [p["id"] for p in before["data"]] == [ids[2], ids[1]]


def test_an_idempotent_create_makes_one_connection(client):
    headers = {"Idempotency-Key": "proc-create-1"}
    first = client.post(URL, {"kind": "simulated", "name": "Once"}, headers=headers)
    second = client.post(URL, {"kind": "simulated", "name": "Once"}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert ProcessorConnection.objects.filter(name="Once").count() == 1


# --- the stripe connection's key ---------------------------------------------------------------


def test_the_api_key_is_stored_encrypted_and_never_shown(client):
    created = create_stripe(client)
    assert created["kind"] == "stripe"
    assert created["simulated"] is None
    assert created["stripe"] == {"api_base": "https://api.stripe.com", "api_key_last4": "wXyZ"}
    row = ProcessorConnection.objects.get(id=created["id"])
    assert API_KEY not in row.api_key_encrypted
    assert decrypt(row.api_key_encrypted) == API_KEY
    assert row.api_base == ""  # Stripe's own
    retrieved = client.get(f"{URL}/{created['id']}").content.decode()
    listed = client.get(URL).content.decode()
    event = json.dumps(Event.objects.get(type="processor.created").data)
    for text in (json.dumps(created), retrieved, listed, event):
        assert API_KEY not in text
        assert "api_key_encrypted" not in text
        assert '"api_key"' not in text


def test_a_new_api_key_replaces_the_old_one_and_is_not_shown(client):
    created = create_stripe(client)
    new_key = "rk_test_51Hnewkey000000000000000000AbCd"
    response = client.post(f"{URL}/{created['id']}", {"stripe": {"api_key": new_key}})
    assert response.status_code == 200, response
    assert response.json()["stripe"]["api_key_last4"] == "AbCd"
    assert new_key not in response.content.decode()
    row = ProcessorConnection.objects.get(id=created["id"])
    assert decrypt(row.api_key_encrypted) == new_key
    [event] = events("processor.updated")
    assert new_key not in json.dumps(event.data) and API_KEY not in json.dumps(event.data)
    assert event.data["previous_attributes"] == {
        "stripe": {"api_base": "https://api.stripe.com", "api_key_last4": "wXyZ"}
    }


def test_api_base_must_reach_a_public_address(client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    for url in ("http://127.0.0.1:12111", "http://10.0.0.1", "ftp://example.com", "http:///x"):
        response = client.post(
            URL,
            {"kind": "stripe", "name": "Local", "stripe": {"api_key": API_KEY, "api_base": url}},
        )
        assert response.status_code == 400, url
        assert response.error["code"] == "url_invalid"
        assert response.error["param"] == "stripe[api_base]"
    assert not ProcessorConnection.objects.filter(kind="stripe").exists()
    created = create_stripe(client, api_base=PUBLIC_BASE + "/")
    assert created["stripe"]["api_base"] == PUBLIC_BASE


def test_loopback_api_base_where_webhooks_allow_it(client, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    created = create_stripe(client, api_base="http://127.0.0.1:12111")
    assert created["stripe"]["api_base"] == "http://127.0.0.1:12111"


def test_api_base_is_checked_on_update_and_an_empty_one_is_stripes(client, settings):
    created = create_stripe(client, api_base=PUBLIC_BASE)
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    refused = client.post(f"{URL}/{created['id']}", {"stripe": {"api_base": "http://10.1.1.1"}})
    assert refused.status_code == 400 and refused.error["param"] == "stripe[api_base]"
    assert ProcessorConnection.objects.get(id=created["id"]).api_base == PUBLIC_BASE
    reset = client.post(f"{URL}/{created['id']}", {"stripe": {"api_base": ""}}).json()
    assert reset["stripe"]["api_base"] == "https://api.stripe.com"


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "param"),
    [
        ({"name": "No kind"}, "parameter_missing", "kind"),
        ({"kind": "paypal", "name": "X"}, "parameter_invalid_string", "kind"),
        ({"kind": "simulated"}, "parameter_missing", "name"),
        ({"kind": "simulated", "name": ""}, "parameter_invalid_empty", "name"),
        ({"kind": "simulated", "name": "x" * 101}, "max_length", "name"),
        (
            {"kind": "simulated", "name": "X", "simulated": {"behavior": "sulk"}},
            "parameter_invalid_string",
            "simulated[behavior]",
        ),
        (
            {"kind": "simulated", "name": "X", "simulated": {"latency_ms": "10001"}},
            "parameter_invalid_integer",
            "simulated[latency_ms]",
        ),
        (
            {"kind": "simulated", "name": "X", "simulated": {"latency_ms": "-1"}},
            "parameter_invalid_integer",
            "simulated[latency_ms]",
        ),
        (
            {"kind": "simulated", "name": "X", "simulated": {"decline_code": "Not A Code"}},
            "parameter_invalid_string",
            "simulated[decline_code]",
        ),
        (
            {"kind": "simulated", "name": "X", "simulated": {"nope": "1"}},
            "parameter_unknown",
            "simulated[nope]",
        ),
        (
            {"kind": "simulated", "name": "X", "stripe": {"api_key": API_KEY}},
            "parameter_unknown",
            "stripe",
        ),
        ({"kind": "stripe", "name": "X"}, "parameter_missing", "stripe[api_key]"),
        (
            {"kind": "stripe", "name": "X", "stripe": {"api_base": PUBLIC_BASE}},
            "parameter_missing",
            "stripe[api_key]",
        ),
        (
            {"kind": "stripe", "name": "X", "stripe": {"api_key": "pk_test_abcdefghijkl"}},
            "parameter_invalid_string",
            "stripe[api_key]",
        ),
        (
            {"kind": "stripe", "name": "X", "stripe": {"api_key": "short"}},
            "parameter_invalid_string",
            "stripe[api_key]",
        ),
        (
            {
                "kind": "stripe",
                "name": "X",
                "stripe": {"api_key": API_KEY},
                "simulated": {"behavior": "outage"},
            },
            "parameter_unknown",
            "simulated",
        ),
        ({"kind": "simulated", "name": "X", "circuit": "open"}, "parameter_unknown", "circuit"),
        ({"kind": "simulated", "name": "X", "livemode": "true"}, "parameter_unknown", "livemode"),
    ],
)
def test_bad_input_is_refused_naming_the_param_and_changes_nothing(client, data, code, param):
    client.get(URL)  # the built-in connection exists before
    before = ProcessorConnection.objects.count()
    response = client.post(URL, data)
    assert response.status_code == 400, response
    assert response.error["type"] == "invalid_request_error"
    assert response.error["code"] == code
    assert response.error["param"] == param
    assert ProcessorConnection.objects.count() == before
    assert not Event.objects.filter(type__startswith="processor.").exists()


@pytest.mark.parametrize(
    ("data", "code", "param"),
    [
        ({"status": "paused"}, "parameter_invalid_string", "status"),
        ({"name": ""}, "parameter_invalid_empty", "name"),
        ({"stripe": {"api_key": API_KEY}}, "parameter_unknown_for_object", "stripe"),
        ({"kind": "stripe"}, "parameter_unknown", "kind"),
    ],
)
def test_bad_updates_are_refused(client, data, code, param):
    created = create(client)
    response = client.post(f"{URL}/{created['id']}", data)
    assert response.status_code == 400, response
    assert (response.error["code"], response.error["param"]) == (code, param)
    assert client.get(f"{URL}/{created['id']}").json() == created


def test_simulated_settings_on_a_stripe_connection_are_refused(client):
    created = create_stripe(client)
    response = client.post(f"{URL}/{created['id']}", {"simulated": {"behavior": "outage"}})
    assert response.status_code == 400
    assert (response.error["code"], response.error["param"]) == (
        "parameter_unknown_for_object",
        "simulated",
    )


# --- update ------------------------------------------------------------------------------------


def test_update_changes_what_is_given_with_an_event(client):
    created = create(client, metadata={"a": "1", "b": "2"}, simulated={"latency_ms": "5"})
    response = client.post(
        f"{URL}/{created['id']}",
        {"name": "Renamed", "simulated": {"behavior": "timeout"}, "metadata": {"a": ""}},
    )
    assert response.status_code == 200, response
    updated = response.json()
    assert updated["name"] == "Renamed"
    assert updated["simulated"] == {
        "behavior": "timeout",
        "decline_code": "try_again_later",
        "latency_ms": 5,
    }
    assert updated["metadata"] == {"b": "2"}
    [event] = events("processor.updated")
    assert event.data["object"] == updated
    assert event.data["previous_attributes"]["name"] == "Second"
    assert event.data["previous_attributes"]["simulated"]["behavior"] == "normal"


def test_status_goes_through_disable_and_enable(client):
    created = create(client)
    disabled = client.post(f"{URL}/{created['id']}", {"status": "disabled"}).json()
    assert disabled["status"] == "disabled"
    assert ProcessorConnection.objects.get(id=created["id"]).status == "disabled"
    again = client.post(f"{URL}/{created['id']}", {"status": "disabled"})
    assert again.status_code == 200 and again.json()["status"] == "disabled"
    enabled = client.post(f"{URL}/{created['id']}", {"status": "active"}).json()
    assert enabled["status"] == "active"
    statuses = [e.data["previous_attributes"]["status"] for e in events("processor.updated")]
    assert statuses == ["active", "disabled"]  # the no-op wrote no event


def test_an_update_that_changes_nothing_writes_no_event(client):
    created = create(client, name="Same")
    response = client.post(f"{URL}/{created['id']}", {"name": "Same"})
    assert response.status_code == 200
    assert events("processor.updated") == []


def test_the_circuit_shows_open_while_open_and_half_open(client):
    created = create(client)
    row = ProcessorConnection.objects.get(id=created["id"])
    row.circuit = Circuit.OPEN
    row.circuit_opened_at = timezone.now()
    row.save()
    assert client.get(f"{URL}/{created['id']}").json()["circuit"] == "open"
    row.circuit_opened_at = timezone.now() - timedelta(days=1)  # half open
    row.save()
    assert client.get(f"{URL}/{created['id']}").json()["circuit"] == "open"


# --- delete ------------------------------------------------------------------------------------


def test_delete_hides_the_connection_and_keeps_the_row(client):
    created = create(client)
    response = client.delete(f"{URL}/{created['id']}")
    assert response.status_code == 200, response
    assert response.json() == {"id": created["id"], "object": "processor", "deleted": True}
    assert client.get(f"{URL}/{created['id']}").status_code == 404
    assert created["id"] not in [p["id"] for p in client.get(URL).json()["data"]]
    assert ProcessorConnection.objects.get(id=created["id"]).deleted_at is not None
    [event] = events("processor.deleted")
    assert event.data["object"]["id"] == created["id"]
    assert client.delete(f"{URL}/{created['id']}").status_code == 404
    assert client.post(f"{URL}/{created['id']}", {"name": "x"}).status_code == 404


def test_delete_is_refused_while_a_flow_names_the_connection(client):
    created = create(client)
    flow = client.post(
        "/v1/payment_flows",
        {"name": "F", "routing": {"type": "priority", "processors": [created["id"]]}},
    ).json()
    response = client.delete(f"{URL}/{created['id']}")
    assert response.status_code == 400
    assert response.error["code"] == "resource_in_use_for_object"
    assert flow["id"] in response.error["message"]
    assert ProcessorConnection.objects.get(id=created["id"]).deleted_at is None
    assert events("processor.deleted") == []
    # disabling is the way while named; after the flow goes, so can the connection
    assert client.post(f"{URL}/{created['id']}", {"status": "disabled"}).status_code == 200
    assert client.delete(f"/v1/payment_flows/{flow['id']}").status_code == 200
    assert client.delete(f"{URL}/{created['id']}").status_code == 200


def test_a_deleted_connection_cannot_be_named_by_a_flow(client):
    created = create(client)
    client.delete(f"{URL}/{created['id']}")
    response = client.post(
        "/v1/payment_flows",
        {"name": "F", "routing": {"type": "priority", "processors": [created["id"]]}},
    )
    assert response.status_code == 400
    assert response.error["code"] == "resource_missing"
    assert response.error["param"] == "routing[processors][0]"
    assert not PaymentFlow.objects.exists()


# --- keys and scope ----------------------------------------------------------------------------


def test_publishable_keys_are_refused(client, acct):
    created = create(client)
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
    assert ProcessorConnection.objects.get(id=created["id"]).deleted_at is None


def test_another_accounts_connection_is_missing(client, other_acct):
    theirs = create(StripeTestClient(key=other_acct.sk), name="Theirs")
    assert client.get(f"{URL}/{theirs['id']}").status_code == 404
    response = client.post(f"{URL}/{theirs['id']}", {"status": "disabled"})
    assert response.status_code == 404
    assert response.error["code"] == "resource_missing"
    assert client.delete(f"{URL}/{theirs['id']}").status_code == 404
    assert theirs["id"] not in client.get(URL).content.decode()
    row = ProcessorConnection.objects.get(id=theirs["id"])
    assert row.status == "active" and row.deleted_at is None


def test_test_and_live_connections_never_mix(client, acct):
    test = create(client, name="Test one")
    live_client = StripeTestClient(key=acct.sk_live)
    live = create(live_client, name="Live one")
    assert live["livemode"] is True and test["livemode"] is False
    assert live_client.get(f"{URL}/{test['id']}").status_code == 404
    assert client.get(f"{URL}/{live['id']}").status_code == 404
    assert test["id"] not in live_client.get(URL).content.decode()
    assert live["id"] not in client.get(URL).content.decode()
    # a flow in test mode cannot name a live connection
    response = client.post(
        "/v1/payment_flows",
        {"name": "F", "routing": {"type": "priority", "processors": [test["id"], live["id"]]}},
    )
    assert response.status_code == 400
    assert response.error["param"] == "routing[processors][1]"


def test_webhook_endpoints_accept_the_processor_and_flow_event_types(client):
    types = [
        "processor.created",
        "processor.updated",
        "processor.deleted",
        "payment_flow.created",
        "payment_flow.updated",
        "payment_flow.deleted",
    ]
    response = client.post(
        "/v1/webhook_endpoints", {"url": "https://93.184.215.14/hook", "enabled_events": types}
    )
    assert response.status_code == 200, response
    assert response.json()["enabled_events"] == types


def test_an_update_for_the_other_kind_is_refused_for_the_stored_kind_and_changes_nothing(client):
    """`stripe[…]` on a simulated processor (or the reverse) depends on the stored kind, not on
    the request alone: `parameter_unknown_for_object` (a create, whose `kind` is in the request,
    answers `parameter_unknown`)."""
    simulated = create(client, kind="simulated", name="Sim")
    stripe = create_stripe(client, api_key=API_KEY)
    for connection, body, param in (
        (simulated, {"stripe": {"api_key": API_KEY}, "name": "Renamed"}, "stripe"),
        (stripe, {"simulated": {"behavior": "outage"}, "name": "Renamed"}, "simulated"),
    ):
        response = client.post(f"{URL}/{connection['id']}", body)
        assert response.status_code == 400, response
        assert response.error["code"] == "parameter_unknown_for_object"
        assert response.error["param"] == param
        assert client.get(f"{URL}/{connection['id']}").json()["name"] == connection["name"]
