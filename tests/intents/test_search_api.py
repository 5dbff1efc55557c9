"""GET /v1/payment_intents/search through HTTP: scope, pages, and errors in the envelope."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import StripeTestClient

URL = "/v1/payment_intents/search"


def create(client: StripeTestClient, **params) -> dict:
    params.setdefault("amount", 2000)
    params.setdefault("currency", "usd")
    response = client.post("/v1/payment_intents", params)
    assert response.status_code == 200, response
    return response.json()


def found(response) -> list[str]:
    assert response.status_code == 200, response
    return [intent["id"] for intent in response.json()["data"]]


def test_search_answers_a_search_result(client):
    hit = create(client, metadata={"order": "1"})
    create(client, metadata={"order": "2"})
    response = client.get(URL, {"query": "metadata['order']:'1'"})
    body = response.json()
    assert body["object"] == "search_result"
    assert body["url"] == URL
    assert body["has_more"] is False
    assert body["next_page"] is None
    assert found(response) == [hit["id"]]


def test_search_finds_by_status_and_amount(client):
    hit = create(client, amount=2500, confirm=True, payment_method="pm_card_visa")
    create(client, amount=500, confirm=True, payment_method="pm_card_visa")
    create(client, amount=5000)
    response = client.get(URL, {"query": "status:'succeeded' AND amount>1000"})
    assert found(response) == [hit["id"]]


def test_search_never_shows_another_accounts_intents(client, other_acct):
    mine = create(client, metadata={"tag": "shared"})
    create(StripeTestClient(key=other_acct.sk), metadata={"tag": "shared"})
    assert found(client.get(URL, {"query": "metadata['tag']:'shared'"})) == [mine["id"]]


def test_search_with_live_key_does_not_see_test_intents(client, acct):
    create(client, metadata={"tag": "test-only"})
    response = client.get(URL, {"query": "metadata['tag']:'test-only'"}, key=acct.sk_live)
    assert found(response) == []


def test_search_pages_with_next_page(client):
    ids = [create(client, metadata={"batch": "p"})["id"] for _ in range(3)]
    first = client.get(URL, {"query": "metadata['batch']:'p'", "limit": 2})
    assert first.json()["has_more"] is True
    assert first.json()["next_page"]
    second = client.get(
        URL, {"query": "metadata['batch']:'p'", "limit": 2, "page": first.json()["next_page"]}
    )
    assert second.json()["has_more"] is False
    assert found(first) + found(second) == list(reversed(ids))


def test_malformed_query_is_a_400_naming_the_position(client):
    response = client.get(URL, {"query": "status:'succeeded' AND amount>>5"})
    assert response.status_code == 400
    error = response.error
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "parameter_invalid_string"
    assert error["param"] == "query"
    assert "at position 30" in error["message"]


def test_unknown_field_is_a_400(client):
    response = client.get(URL, {"query": "colour:'red'"})
    assert response.status_code == 400
    assert "unknown field 'colour'" in response.error["message"]


def test_mixed_and_or_is_a_400(client):
    response = client.get(URL, {"query": "amount>1 AND amount<9 OR amount:5"})
    assert response.status_code == 400
    assert "cannot be combined" in response.error["message"]


def test_missing_query_is_parameter_missing(client):
    response = client.get(URL)
    assert response.status_code == 400
    assert response.error["code"] == "parameter_missing"
    assert response.error["param"] == "query"


def test_publishable_key_cannot_search(client, acct):
    response = client.get(URL, {"query": "amount>1"}, key=acct.pk)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "page",
    [
        "page_garbage!!",
        "page_" + base64.urlsafe_b64encode(b"[1, 2]").decode(),
        "page_" + base64.urlsafe_b64encode(json.dumps({"c": 5, "i": "x"}).encode()).decode(),
        "page_"
        + base64.urlsafe_b64encode(
            json.dumps({"c": "2024-01-01T00:00:00+00:00", "i": "pi_\x00"}).encode()
        ).decode(),
    ],
)
def test_forged_page_token_is_a_400(client, page):
    response = client.get(URL, {"query": "amount>1", "page": page})
    assert response.status_code == 400, response
    assert response.error["param"] == "page"


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80))
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_fuzz_any_query_answers_200_or_400(client, query):
    response = client.get(URL, {"query": query})
    assert response.status_code in (200, 400), response
    if response.status_code == 400:
        assert response.error["param"] == "query"
