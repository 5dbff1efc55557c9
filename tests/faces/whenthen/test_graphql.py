"""`/whenthen/graphql` over HTTP: WhenThen's own documents sent as its reference prints them,
the answers' shapes, who may call what, GraphQL-spec errors, the depth and cost limits,
GeoLocation, and the same intent read through `/v1/checkouts`."""

from __future__ import annotations

import copy
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from graphql import get_introspection_query

from api.ratelimit import memory_counter
from checkouts.models import Checkout
from events.models import Event
from tests.checkouts.test_api import create_flow
from tests.faces.whenthen import seed_documents as seed
from tests.helpers import StripeTestClient

URL = "/whenthen/graphql"
PUBLIC_IP = "8.8.8.8"  # in the address table: United States
PRIVATE_IP = "10.1.2.3"


def graphql(document: dict, key: str | None, *, remote_addr: str = PRIVATE_IP, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    response = Client().post(
        URL,
        data=json.dumps(document),
        content_type="application/json",
        REMOTE_ADDR=remote_addr,
        **headers,
        **extra,
    )
    return response


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def field_error(response) -> dict:
    """The one error of a document that ran (HTTP 200, its field null)."""
    assert response.status_code == 200, response.content
    body = response.json()
    [error] = body["errors"]
    assert set(error) >= {"message", "path", "extensions"}
    assert list(body["data"].values()) == [None]
    return error


@pytest.fixture
def flow(acct) -> str:
    return create_flow(StripeTestClient(key=acct.sk), "checkout")


def start_document(flow: str, **variables) -> dict:
    document = copy.deepcopy(seed.STARTINTENT)
    document["variables"]["paymentFlowId"] = flow
    document["variables"].update(variables)
    return document


def started(acct, flow, **variables) -> dict:
    return ok(graphql(start_document(flow, **variables), acct.sk))["startIntent"]


def same_shape(answer, reference, path="") -> None:
    """`answer` has every key of `reference`, nested, and nothing else where both are objects."""
    if isinstance(reference, dict):
        assert isinstance(answer, dict), path
        assert set(answer) == set(reference), (path, set(answer) ^ set(reference))
        for key, value in reference.items():
            if answer[key] is not None and value is not None:
                same_shape(answer[key], value, f"{path}.{key}")
    elif isinstance(reference, list) and reference and answer:
        for item in answer:
            same_shape(item, reference[0], path + "[]")


# --- the reference's own documents ----------------------------------------------------------


def test_seed_start_intent_as_printed_is_refused_for_its_unknown_flow(acct):
    response = graphql(seed.STARTINTENT, acct.sk)
    error = field_error(response)
    assert error["path"] == ["startIntent"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "paymentFlowId"
    assert "e76c5829-9928-425f-a815-7024d9164f2a" in error["message"]
    assert not Checkout.objects.exists()


def test_seed_start_intent_with_a_real_flow_answers_the_documented_shape(acct, flow):
    intent = started(acct, flow)
    expected = {
        key: value
        for key, value in seed.STARTINTENT_ANSWER.items()
        if key not in ()  # every field the document selects
    }
    expected["amount"] = {"formattedAmount": "$59.99"}
    expected["customer"] = {"id": None, "isGuest": True}
    same_shape(intent, {**expected, "location": None, "cart": None})
    assert intent["id"].startswith("chk_")
    assert intent["trackingId"] == "9f45995a-5129-438d-9459-dc4678510918"
    assert intent["paymentFlowId"] == flow
    assert intent["status"] == "INTENT"
    assert intent["currency"] == "USD"
    assert intent["amount"] == {"formattedAmount": "$59.99"}
    assert intent["customer"] == {"id": None, "isGuest": True}
    assert intent["timeline"]["intentStarted"]["status"] == "IN_PROGRESS"
    assert intent["timeline"]["intentStarted"]["date"].endswith("Z")
    assert intent["timeline"]["shipping"] == {"status": "NOT_STARTED", "date": None}
    assert intent["timeline"]["paymentAttempts"] == [{"status": "NOT_STARTED", "date": None}]
    assert intent["timeline"]["completeIntent"] == {"status": "NOT_STARTED", "date": None}
    assert intent["linkedPayments"] == []
    assert intent["location"] is None  # from a private address: no GeoLocation
    assert intent["cart"] is None


def test_seed_get_intent_answers_every_documented_field(acct, flow):
    cart = copy.deepcopy(seed.STARTINTENT_ANSWER["cart"])
    intent_id = started(acct, flow, cart=cart, location={"country": "IRL"})["id"]
    document = copy.deepcopy(seed.GETINTENT)
    document["variables"]["id"] = intent_id
    intent = ok(graphql(document, acct.sk))["getIntent"]
    reference = copy.deepcopy(seed.STARTINTENT_ANSWER)
    del reference["amount"]["currency"]  # getIntent selects formattedAmount and rawAmount
    reference["linkedPayments"] = []
    same_shape(intent, reference)
    assert intent["amount"] == {"formattedAmount": "$59.99", "rawAmount": 5999}
    assert intent["cart"] == cart
    assert intent["location"] == {"country": "IRL"}


def test_seed_get_intent_as_printed_is_not_found(acct):
    error = field_error(graphql(seed.GETINTENT, acct.sk))
    assert error["path"] == ["getIntent"]
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_seed_update_intent_moves_the_steps_it_names(acct, flow):
    intent_id = started(acct, flow)["id"]
    document = copy.deepcopy(seed.UPDATEINTENT)
    document["variables"]["id"] = intent_id
    intent = ok(graphql(document, acct.sk))["updateIntent"]
    assert set(intent) == {
        "id",
        "trackingId",
        "paymentFlowId",
        "status",
        "date",
        "currency",
        "amount",
        "location",
        "customer",
        "timeline",
    }
    assert set(intent["timeline"]) == {
        "intentStarted",
        "shipping",
        "delivery",
        "billing",
        "completeCheckout",
    }
    assert intent["status"] == "ACTIVE"
    assert intent["currency"] == "EUR"
    assert intent["amount"] == {"formattedAmount": "€2.22"}
    assert intent["customer"] == {"id": "2", "isGuest": True}
    assert intent["timeline"]["shipping"]["status"] == "IN_PROGRESS"
    assert intent["timeline"]["delivery"]["status"] == "COMPLETE"
    assert intent["timeline"]["billing"] == {"status": "NOT_STARTED", "date": None}
    assert intent["timeline"]["intentStarted"]["status"] == "COMPLETE"
    row = Checkout.objects.get(id=intent_id)
    assert row.customer["email"] == "john@test.com" and row.amount == 222


def test_seed_complete_intent_completes_with_the_payment_reference(acct, flow):
    intent_id = started(acct, flow)["id"]
    document = copy.deepcopy(seed.COMPLETEINTENT)
    document["variables"]["id"] = intent_id
    intent = ok(graphql(document, acct.sk))["completeIntent"]
    assert intent["status"] == "COMPLETE"
    assert intent["timeline"]["completeCheckout"]["status"] == "COMPLETE"
    assert intent["timeline"]["completeCheckout"]["date"].endswith("Z")
    assert Checkout.objects.get(id=intent_id).payment_reference == "f6sepsen"
    again = field_error(graphql(document, acct.sk))
    assert again["extensions"]["reason"] == "checkout_unexpected_state"


# --- the same intent through /v1/checkouts ----------------------------------------------------


def test_an_intent_started_here_is_the_checkout_rest_shows(acct, flow):
    intent = started(acct, flow, location={"country": "DEU"})
    rest = StripeTestClient(key=acct.sk).get(f"/v1/checkouts/{intent['id']}").json()
    assert rest["tracking_id"] == intent["trackingId"]
    assert rest["payment_flow"] == flow
    assert rest["amount"] == 5999 and rest["currency"] == "usd"
    assert rest["location"] == {"country": "DEU"}
    assert rest["status"] == "intent"
    types = list(Event.objects.filter(object_id=intent["id"]).values_list("type", flat=True))
    assert types == ["checkout.started"]


def test_a_checkout_started_through_rest_is_read_here(acct, flow):
    rest = StripeTestClient(key=acct.sk)
    chk = rest.post(
        "/v1/checkouts",
        {"tracking_id": "order_7", "payment_flow": flow, "amount": 1250, "currency": "eur"},
    ).json()
    document = copy.deepcopy(seed.GETINTENT)
    document["variables"]["id"] = chk["id"]
    intent = ok(graphql(document, acct.sk))["getIntent"]
    assert intent["trackingId"] == "order_7"
    assert intent["amount"] == {"formattedAmount": "€12.50", "rawAmount": 1250}


# --- paymentFlowId ----------------------------------------------------------------------------


def test_start_without_a_payment_flow_is_a_validation_error(acct):
    document = copy.deepcopy(seed.STARTINTENT)
    del document["variables"]["paymentFlowId"]
    response = graphql(document, acct.sk)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert "paymentFlowId" in error["message"]
    assert "data" not in response.json()


def test_a_flow_of_another_account_is_not_found(acct, other_acct):
    foreign = create_flow(StripeTestClient(key=other_acct.sk), "theirs")
    error = field_error(graphql(start_document(foreign), acct.sk))
    assert error["extensions"]["argument"] == "paymentFlowId"
    assert error["extensions"]["reason"] == "resource_missing"


def test_a_flow_of_the_other_mode_is_not_found(acct):
    live_flow = create_flow(StripeTestClient(key=acct.sk_live), "live")
    error = field_error(graphql(start_document(live_flow), acct.sk))
    assert error["extensions"]["argument"] == "paymentFlowId"


def test_an_empty_payment_flow_is_refused(acct):
    error = field_error(graphql(start_document(""), acct.sk))
    assert error["extensions"]["argument"] == "paymentFlowId"
    assert not Checkout.objects.exists()


# --- input errors ---------------------------------------------------------------------------


def test_a_fractional_amount_is_refused_before_anything_runs(acct, flow):
    response = graphql(start_document(flow, amount={"amount": 59.99, "currency": "USD"}), acct.sk)
    assert response.status_code == 400
    assert "Long" in response.json()["errors"][0]["message"]
    assert not Checkout.objects.exists()


def test_a_bad_country_names_its_argument(acct, flow):
    error = field_error(graphql(start_document(flow, location={"country": "XX"}), acct.sk))
    assert error["extensions"]["argument"] == "location.country"
    assert not Checkout.objects.exists()


def test_a_bad_cart_line_names_its_argument(acct, flow):
    cart = {"items": [{"id": "a", "lineTotal": -5}]}
    error = field_error(graphql(start_document(flow, cart=cart), acct.sk))
    assert error["extensions"]["argument"] == "cart.items.0.lineTotal"


def test_an_unknown_currency_is_refused(acct, flow):
    error = field_error(
        graphql(start_document(flow, amount={"amount": 100, "currency": "ZZZ"}), acct.sk)
    )
    assert error["extensions"]["argument"] == "amount.currency"


def test_a_tracking_id_in_use_is_refused(acct, flow):
    started(acct, flow)
    error = field_error(graphql(start_document(flow), acct.sk))
    assert error["extensions"]["reason"] == "resource_already_exists"
    assert Checkout.objects.count() == 1


def test_a_document_that_does_not_parse_is_400(acct):
    response = graphql({"query": "mutation { startIntent(", "variables": {}}, acct.sk)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"].startswith("Syntax Error")
    assert error["locations"]


def test_an_unknown_field_is_400(acct):
    response = graphql({"query": '{ getIntent(id: "x") { nope } }'}, acct.sk)
    assert response.status_code == 400
    assert "nope" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"query": 5}', b'{"query": "{a}", "variables": [1]}']
)
def test_an_unreadable_request_is_400(acct, body):
    response = Client().post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {acct.sk}"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_a_mutation_over_get_is_refused(acct, flow):
    response = Client().get(
        URL,
        {
            "query": seed.STARTINTENT["query"],
            "variables": json.dumps(start_document(flow)["variables"]),
        },
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert response.status_code == 405
    assert not Checkout.objects.exists()


def test_a_query_over_get_runs(acct, flow):
    intent_id = started(acct, flow)["id"]
    response = Client().get(
        URL,
        {
            "query": "query($id: ID!) { getIntent(id: $id) { id status } }",
            "variables": json.dumps({"id": intent_id}),
        },
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
    )
    assert response.json() == {"data": {"getIntent": {"id": intent_id, "status": "INTENT"}}}


# --- introspection and limits ---------------------------------------------------------------


def test_introspection_describes_the_schema(acct):
    data = ok(graphql({"query": get_introspection_query()}, acct.sk))["__schema"]
    types = {t["name"]: t for t in data["types"]}
    assert data["mutationType"]["name"] == "Mutation"
    assert {f["name"] for f in types["Mutation"]["fields"]} == {
        "startIntent",
        "updateIntent",
        "completeIntent",
    }
    assert [v["name"] for v in types["CheckoutStatus"]["enumValues"]] == [
        "INTENT",
        "ACTIVE",
        "INACTIVE",
        "COMPLETE",
    ]
    assert [v["name"] for v in types["FormStepStatus"]["enumValues"]] == [
        "NOT_STARTED",
        "IN_PROGRESS",
        "COMPLETE",
    ]
    assert {f["name"] for f in types["IntentAmount"]["fields"]} == {
        "rawAmount",
        "currency",
        "formattedAmount",
    }
    start = next(f for f in types["Mutation"]["fields"] if f["name"] == "startIntent")
    flow_arg = next(a for a in start["args"] if a["name"] == "paymentFlowId")
    assert flow_arg["type"] == {
        "kind": "NON_NULL",
        "name": None,
        "ofType": {"kind": "SCALAR", "name": "ID", "ofType": None},
    }


def test_a_document_deeper_than_the_limit_is_refused(acct):
    deep = (
        "{ __schema { types { fields { type "
        + "{ ofType " * 14
        + "{ name }"
        + " }" * 14
        + " } } } }"
    )
    response = graphql({"query": deep}, acct.sk)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "DEPTH_LIMIT_EXCEEDED"


def test_many_aliased_mutations_cost_too_much_and_nothing_runs(acct, flow):
    fields = " ".join(
        f'a{n}: startIntent(trackingId: "t{n}", paymentFlowId: "{flow}", '
        f'amount: {{amount: 100, currency: "EUR"}}) {{ id }}'
        for n in range(20)
    )
    response = graphql({"query": f"mutation {{ {fields} }}"}, acct.sk)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert not Checkout.objects.exists()


def test_fragments_spread_over_and_over_cost_too_much(acct):
    fragments = "fragment F0 on Intent { id status }\n" + "".join(
        f"fragment F{n} on Intent {{ ...F{n - 1} ...F{n - 1} }}\n" for n in range(1, 30)
    )
    response = graphql({"query": '{ getIntent(id: "x") { ...F29 } }\n' + fragments}, acct.sk)
    assert response.status_code == 400
    codes = {e.get("extensions", {}).get("code") for e in response.json()["errors"]}
    assert "COST_LIMIT_EXCEEDED" in codes


# --- who may call what ----------------------------------------------------------------------


def test_no_credentials_is_401(db):
    response = graphql(seed.GETINTENT, None)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_key_or_token_is_401(acct):
    for bad in ("sk_test_nope", "chk_nope_secret_nope", "garbage"):
        response = graphql(seed.GETINTENT, bad)
        assert response.status_code == 401, bad


def test_a_public_key_starts_an_intent_and_sees_no_pii(acct, flow):
    document = start_document(
        flow, customer={"id": "c1", "email": "jo@example.com", "name": "Jo", "isGuest": False}
    )
    document["query"] = document["query"].replace(
        "isGuest\n", "isGuest\n        email\n        name\n", 1
    )
    intent = ok(graphql(document, acct.pk, remote_addr=PUBLIC_IP))["startIntent"]
    assert intent["customer"] == {"id": "c1", "isGuest": False, "email": None, "name": None}
    assert intent["location"] is None
    row = Checkout.objects.get(id=intent["id"])
    assert row.customer["email"] == "jo@example.com" and row.country == "USA"


@pytest.mark.parametrize("document", ["GETINTENT", "UPDATEINTENT", "COMPLETEINTENT"])
def test_a_public_key_can_do_nothing_else(acct, flow, document):
    intent_id = started(acct, flow)["id"]
    body = copy.deepcopy(getattr(seed, document))
    body["variables"]["id"] = intent_id
    error = field_error(graphql(body, acct.pk))
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert Checkout.objects.get(id=intent_id).status == "intent"


def _token_of(acct, flow, **variables) -> tuple[str, str]:
    document = start_document(flow, **variables)
    document["query"] = document["query"].replace(
        "trackingId\n", "trackingId\n    clientToken\n", 1
    )
    intent = ok(graphql(document, acct.sk))["startIntent"]
    return intent["id"], intent["clientToken"]


def test_a_client_token_reads_updates_and_completes_its_intent_without_pii(acct, flow):
    intent_id, token = _token_of(
        acct, flow, customer={"email": "jo@example.com", "name": "Jo"}, location={"country": "IRL"}
    )
    get = copy.deepcopy(seed.GETINTENT)
    get["variables"]["id"] = intent_id
    intent = ok(graphql(get, token))["getIntent"]
    assert intent["customer"]["email"] is None and intent["customer"]["name"] is None
    assert intent["location"] is None
    update = copy.deepcopy(seed.UPDATEINTENT)
    update["variables"]["id"] = intent_id
    assert ok(graphql(update, token))["updateIntent"]["status"] == "ACTIVE"
    complete = copy.deepcopy(seed.COMPLETEINTENT)
    complete["variables"]["id"] = intent_id
    assert ok(graphql(complete, token))["completeIntent"]["status"] == "COMPLETE"


def test_a_client_token_reaches_no_other_intent(acct, flow):
    _, token = _token_of(acct, flow)
    other_id = started(acct, flow, trackingId="another")["id"]
    get = copy.deepcopy(seed.GETINTENT)
    get["variables"]["id"] = other_id
    assert field_error(graphql(get, token))["extensions"]["code"] == "NOT_FOUND"
    update = copy.deepcopy(seed.UPDATEINTENT)
    update["variables"]["id"] = other_id
    assert field_error(graphql(update, token))["extensions"]["code"] == "NOT_FOUND"
    assert Checkout.objects.get(id=other_id).status == "intent"


def test_a_client_token_cannot_start_an_intent(acct, flow):
    _, token = _token_of(acct, flow)
    error = field_error(graphql(start_document(flow, trackingId="new"), token))
    assert error["extensions"]["code"] == "FORBIDDEN"


def test_another_accounts_intent_is_not_found(acct, other_acct, flow):
    intent_id = started(acct, flow)["id"]
    get = copy.deepcopy(seed.GETINTENT)
    get["variables"]["id"] = intent_id
    assert field_error(graphql(get, other_acct.sk))["extensions"]["code"] == "NOT_FOUND"
    complete = copy.deepcopy(seed.COMPLETEINTENT)
    complete["variables"]["id"] = intent_id
    assert field_error(graphql(complete, other_acct.sk))["extensions"]["code"] == "NOT_FOUND"
    assert Checkout.objects.get(id=intent_id).status == "intent"


def test_the_live_key_does_not_see_test_intents(acct, flow):
    intent_id = started(acct, flow)["id"]
    get = copy.deepcopy(seed.GETINTENT)
    get["variables"]["id"] = intent_id
    assert field_error(graphql(get, acct.sk_live))["extensions"]["code"] == "NOT_FOUND"


# --- GeoLocation ------------------------------------------------------------------------------


def test_no_location_from_a_public_address_is_located(acct, flow):
    intent = ok(graphql(start_document(flow), acct.sk, remote_addr=PUBLIC_IP))["startIntent"]
    assert intent["location"] == {"country": "USA"}


def test_no_location_from_a_private_address_stays_empty(acct, flow):
    intent = ok(graphql(start_document(flow), acct.sk, remote_addr=PRIVATE_IP))["startIntent"]
    assert intent["location"] is None
    assert Checkout.objects.get(id=intent["id"]).country is None


def test_a_location_given_wins_over_the_address(acct, flow):
    intent = ok(
        graphql(start_document(flow, location={"country": "IRL"}), acct.sk, remote_addr=PUBLIC_IP)
    )["startIntent"]
    assert intent["location"] == {"country": "IRL"}


def test_a_forwarded_for_header_is_not_trusted(acct, flow):
    intent = ok(
        graphql(
            start_document(flow),
            acct.sk,
            remote_addr=PRIVATE_IP,
            HTTP_X_FORWARDED_FOR=PUBLIC_IP,
        )
    )["startIntent"]
    assert intent["location"] is None


# --- the schema as documentation, browsers, limits --------------------------------------------


def test_the_sdl_is_downloadable_without_a_key(db):
    response = Client().get("/whenthen/schema.graphql")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    sdl = response.content.decode()
    assert "startIntent(trackingId: ID!, paymentFlowId: ID!, amount: IntentAmountInput!" in sdl
    assert "enum CheckoutStatus {\n  INTENT\n  ACTIVE\n  INACTIVE\n  COMPLETE\n}" in sdl


def test_the_docs_have_a_section_for_the_face(db):
    schema = Client().get("/openapi.json").json()
    [tag] = [t for t in schema["tags"] if t["name"] == "WhenThen GraphQL"]
    assert "type Mutation" in tag["description"]
    assert schema["paths"]["/whenthen/graphql"]["post"]["tags"] == ["WhenThen GraphQL"]


def test_a_browser_preflight_is_answered(db):
    response = Client().options(
        URL,
        HTTP_ORIGIN="https://shop.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in response["Access-Control-Allow-Headers"]


def test_over_the_rate_limit_is_429(acct, flow, settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMIT_SECRET_PER_WINDOW = 2
    settings.RATE_LIMIT_WINDOW_SECONDS = 60
    settings.RATE_LIMIT_REDIS_URL = ""
    memory_counter.clear()
    get = copy.deepcopy(seed.GETINTENT)
    statuses = [graphql(get, acct.sk).status_code for _ in range(3)]
    memory_counter.clear()
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429


@pytest.mark.parametrize("with_status", [True, False])
def test_skip_and_include_follow_the_variables_of_each_request(acct, flow, with_status):
    intent_id = started(acct, flow)["id"]
    document = {
        "query": "query($id: ID!, $s: Boolean!) { getIntent(id: $id) { id "
        "status @include(if: $s) amount { rawAmount @skip(if: $s) } } }",
        "variables": {"id": intent_id, "s": with_status},
    }
    intent = ok(graphql(document, acct.sk))["getIntent"]
    if with_status:
        assert intent == {"id": intent_id, "status": "INTENT", "amount": {}}
    else:
        assert intent == {"id": intent_id, "amount": {"rawAmount": 5999}}


def test_the_same_document_answers_each_intent_its_own(acct, flow):
    first = started(acct, flow, trackingId="one", amount={"amount": 100, "currency": "EUR"})
    second = started(acct, flow, trackingId="two", amount={"amount": 250, "currency": "USD"})
    for intent in (first, second, first):
        document = copy.deepcopy(seed.GETINTENT)
        document["variables"]["id"] = intent["id"]
        read = ok(graphql(document, acct.sk))["getIntent"]
        assert (read["trackingId"], read["amount"]["formattedAmount"]) == (
            intent["trackingId"],
            intent["amount"]["formattedAmount"],
        )


def test_the_face_makes_no_more_statements_than_the_rest_calls(acct, flow):
    """Start and complete cost the same SQL whichever face they come through."""
    rest = StripeTestClient(key=acct.sk)
    graphql(start_document(flow, trackingId="warm"), acct.sk)  # the key's first use, cached
    with CaptureQueriesContext(connection) as rest_queries:
        chk = rest.post(
            "/v1/checkouts",
            {"tracking_id": "r1", "payment_flow": flow, "amount": 5999, "currency": "usd"},
        ).json()
        rest.post(f"/v1/checkouts/{chk['id']}/complete", {"payment_reference": "f6sepsen"})
    with CaptureQueriesContext(connection) as face_queries:
        intent_id = ok(graphql(start_document(flow, trackingId="g1"), acct.sk))["startIntent"]["id"]
        complete = copy.deepcopy(seed.COMPLETEINTENT)
        complete["variables"]["id"] = intent_id
        ok(graphql(complete, acct.sk))
    assert len(face_queries) <= len(rest_queries), (len(face_queries), len(rest_queries))
