"""A real GraphQL client (`gql` over `requests`) against a live server: it fetches the schema by
introspection, validates WhenThen's documents against it locally, and drives an intent from
start to complete; the payment is made through the Stripe face with the official `stripe`
library (a PaymentIntent linked to the intent), and the intent shows it."""

from __future__ import annotations

import json

import pytest
import stripe
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport
from graphql import GraphQLSchema

from tests.conftest import make_account
from tests.faces.whenthen import seed_documents as seed


@pytest.fixture
def keys(transactional_db):
    return make_account("Acme")


def gql_client(live_server, token: str) -> Client:
    transport = RequestsHTTPTransport(
        url=f"{live_server.url}/whenthen/graphql",
        headers={"Authorization": f"Bearer {token}"},
        retries=0,
        timeout=30,
    )
    return Client(transport=transport, fetch_schema_from_transport=True)


@pytest.fixture
def stripe_client(live_server, keys) -> stripe.StripeClient:
    return stripe.StripeClient(
        keys.sk, base_addresses={"api": live_server.url}, max_network_retries=0
    )


@pytest.fixture
def flow(stripe_client) -> str:
    [builtin] = json.loads(stripe_client.raw_request("get", "/v1/processors").body)["data"]
    made = stripe_client.raw_request(
        "post",
        "/v1/payment_flows",
        name="checkout",
        routing={"type": "priority", "processors": [builtin["id"]]},
    )
    return json.loads(made.body)["id"]


def test_the_client_fetches_the_schema_and_validates_the_seed_documents(live_server, keys):
    with gql_client(live_server, keys.sk) as session:
        schema = session.client.schema
    assert isinstance(schema, GraphQLSchema)
    assert schema.get_type("IntentAmount").fields.keys() == {
        "rawAmount",
        "currency",
        "formattedAmount",
    }
    client = Client(schema=schema)
    for document in (seed.STARTINTENT, seed.GETINTENT, seed.UPDATEINTENT, seed.COMPLETEINTENT):
        client.validate(gql(document["query"]))  # raises if the document does not fit


def test_start_update_complete_through_the_client(live_server, keys, flow):
    with gql_client(live_server, keys.sk) as session:
        started = session.execute(
            gql(seed.STARTINTENT["query"]),
            variable_values={**seed.STARTINTENT["variables"], "paymentFlowId": flow},
        )["startIntent"]
        assert started["status"] == "INTENT"
        intent_id = started["id"]

        updated = session.execute(
            gql(seed.UPDATEINTENT["query"]),
            variable_values={**seed.UPDATEINTENT["variables"], "id": intent_id},
        )["updateIntent"]
        assert updated["status"] == "ACTIVE"
        assert updated["timeline"]["delivery"]["status"] == "COMPLETE"

        completed = session.execute(
            gql(seed.COMPLETEINTENT["query"]),
            variable_values={"id": intent_id, "paymentReference": "f6sepsen"},
        )["completeIntent"]
        assert completed["status"] == "COMPLETE"

        with pytest.raises(TransportQueryError) as refused:
            session.execute(
                gql(seed.COMPLETEINTENT["query"]),
                variable_values={"id": intent_id, "paymentReference": "again"},
            )
        assert refused.value.errors[0]["extensions"]["reason"] == "checkout_unexpected_state"


def test_a_payment_through_the_stripe_face_shows_on_the_intent(
    live_server, keys, flow, stripe_client
):
    with gql_client(live_server, keys.sk) as session:
        intent_id = session.execute(
            gql(seed.STARTINTENT["query"]),
            variable_values={**seed.STARTINTENT["variables"], "paymentFlowId": flow},
        )["startIntent"]["id"]
        session.execute(
            gql(seed.UPDATEINTENT["query"]),
            variable_values={"id": intent_id, "shipping": {"status": "COMPLETE"}},
        )

        declined = stripe_client.payment_intents.create(
            params={"amount": 5999, "currency": "usd", "checkout": intent_id}  # type: ignore[typeddict-unknown-key]
        )
        with pytest.raises(stripe.CardError):
            stripe_client.payment_intents.confirm(
                declined.id, params={"payment_method": "pm_card_chargeDeclined"}
            )
        paid = stripe_client.payment_intents.create(
            params={
                "amount": 5999,
                "currency": "usd",
                "checkout": intent_id,  # type: ignore[typeddict-unknown-key]
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )
        assert paid.status == "succeeded"

        intent = session.execute(gql(seed.GETINTENT["query"]), variable_values={"id": intent_id})[
            "getIntent"
        ]
    assert intent["status"] == "COMPLETE"
    assert [(p["paymentId"], p["status"], p["title"]) for p in intent["linkedPayments"]] == [
        (declined.id, "FAILED", "Payment attempt #1"),
        (paid.id, "SUCCEEDED", "Payment attempt #2"),
    ]
    assert [a["status"] for a in intent["timeline"]["paymentAttempts"]] == ["COMPLETE", "COMPLETE"]
    assert intent["timeline"]["completeIntent"]["status"] == "COMPLETE"
    assert intent["amount"]["rawAmount"] == 5999
