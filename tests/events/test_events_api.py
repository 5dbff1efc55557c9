from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.scope import Scope
from events.models import Event
from events.services import event_emit, events_purge
from tests.events.helpers import record
from tests.helpers import StripeTestClient


def test_event_has_the_spec_shape(client, acct):
    event = record(acct.id, "customer.created", id="cus_1", email="a@b.c")
    body = client.get(f"/v1/events/{event.id}").json()
    assert set(body) == {
        "id",
        "object",
        "api_version",
        "created",
        "data",
        "livemode",
        "pending_webhooks",
        "request",
        "type",
    }
    assert body["object"] == "event"
    assert body["type"] == "customer.created"
    assert body["data"]["object"]["email"] == "a@b.c"
    assert body["request"] == {"id": None, "idempotency_key": None}
    assert body["livemode"] is False
    assert isinstance(body["created"], int)


def test_previous_attributes_are_what_changed_from_the_object_before(client, acct):
    before = {"id": "cus_1", "email": "old@x.y", "name": "Jo"}
    after = {"id": "cus_1", "email": "new@x.y", "name": "Jo"}
    with transaction.atomic():
        [event] = event_emit(
            scope=Scope(account_id=acct.id, livemode=False),
            changes=[("customer.updated", after, before)],
        )
    body = client.get(f"/v1/events/{event.id}").json()
    assert body["data"]["previous_attributes"] == {"email": "old@x.y"}


def test_type_filter_with_wildcard(client, acct):
    record(acct.id, "payment_intent.created")
    record(acct.id, "payment_intent.succeeded")
    record(acct.id, "charge.succeeded")
    types = [
        e["type"] for e in client.get("/v1/events", {"type": "payment_intent.*"}).json()["data"]
    ]
    assert sorted(types) == ["payment_intent.created", "payment_intent.succeeded"]
    exact = client.get("/v1/events", {"type": "charge.succeeded"}).json()["data"]
    assert [e["type"] for e in exact] == ["charge.succeeded"]


def test_types_filter(client, acct):
    record(acct.id, "payment_intent.created")
    record(acct.id, "charge.succeeded")
    record(acct.id, "customer.created")
    data = client.get("/v1/events", {"types": ["charge.succeeded", "customer.created"]}).json()
    assert sorted(e["type"] for e in data["data"]) == ["charge.succeeded", "customer.created"]


def test_type_and_types_together_are_rejected(client):
    response = client.get("/v1/events", {"type": "charge.succeeded", "types": ["charge.failed"]})
    assert response.status_code == 400
    assert response.error["param"] == "types"


def test_created_filter(client, acct):
    old = record(acct.id, "customer.created")
    Event.objects.filter(id=old.id).update(created=timezone.now() - timedelta(days=2))
    new = record(acct.id, "customer.created")
    cutoff = int((timezone.now() - timedelta(days=1)).timestamp())
    data = client.get("/v1/events", {"created": {"gte": cutoff}}).json()["data"]
    assert [e["id"] for e in data] == [new.id]


def test_list_paginates_newest_first(client, acct):
    ids = [record(acct.id, "customer.created").id for _ in range(5)]
    first = client.get("/v1/events", {"limit": 2}).json()
    assert first["has_more"] is True
    assert [e["id"] for e in first["data"]] == ids[::-1][:2]
    second = client.get(
        "/v1/events", {"limit": 3, "starting_after": first["data"][-1]["id"]}
    ).json()
    assert [e["id"] for e in second["data"]] == ids[::-1][2:]
    assert second["has_more"] is False


def test_other_account_and_other_mode_do_not_see_the_event(client, acct, other_acct):
    event = record(acct.id, "customer.created")
    other = StripeTestClient(key=other_acct.sk)
    assert other.get(f"/v1/events/{event.id}").status_code == 404
    assert other.get("/v1/events").json()["data"] == []
    live = StripeTestClient(key=acct.sk_live)
    assert live.get(f"/v1/events/{event.id}").status_code == 404


def test_events_older_than_retention_are_hidden_and_purged(client, acct):
    old = record(acct.id, "customer.created")
    Event.objects.filter(id=old.id).update(created=timezone.now() - timedelta(days=31))
    kept = record(acct.id, "customer.created")
    assert client.get(f"/v1/events/{old.id}").status_code == 404
    assert events_purge() == 1
    assert list(Event.objects.values_list("id", flat=True)) == [kept.id]


def test_unknown_event_is_404_naming_id(client):
    response = client.get("/v1/events/evt_nope")
    assert response.status_code == 404
    assert response.error["param"] == "id"
