"""`Idempotency-Key` on WhenThen's mutations: the same key with the same document answers once
and replays that answer; another document under the key is a GraphQL request error; a
credential never gets the answer made for another. The race of one key sent at once runs on
PostgreSQL with real threads."""

from __future__ import annotations

import copy
import json
import threading

import pytest
from django.db import connection
from django.test import Client

from checkouts.models import Checkout
from events.models import Event
from tests.checkouts.test_api import create_flow
from tests.faces.whenthen import seed_documents as seed
from tests.faces.whenthen.test_graphql import URL, graphql, ok, start_document
from tests.helpers import StripeTestClient


@pytest.fixture
def flow(acct) -> str:
    return create_flow(StripeTestClient(key=acct.sk), "checkout")


def keyed(document: dict, key: str, idempotency_key: str):
    return graphql(document, key, HTTP_IDEMPOTENCY_KEY=idempotency_key)


@pytest.mark.django_db
def test_start_intent_sent_twice_with_one_key_starts_one_intent(acct, flow):
    document = start_document(flow)
    first = keyed(document, acct.sk, "order-1001-start")
    again = keyed(document, acct.sk, "order-1001-start")
    assert ok(first)["startIntent"]["id"].startswith("chk_")
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Checkout.objects.count() == 1
    assert Event.objects.filter(type="checkout.started").count() == 1


@pytest.mark.django_db
def test_complete_intent_retried_with_its_key_is_answered_as_the_first_time(acct, flow):
    intent = ok(keyed(start_document(flow), acct.sk, "k-start"))["startIntent"]
    document = copy.deepcopy(seed.COMPLETEINTENT)
    document["variables"]["id"] = intent["id"]
    first = keyed(document, acct.sk, "k-complete")
    assert ok(first)["completeIntent"]["status"] == "COMPLETE"
    again = keyed(document, acct.sk, "k-complete")
    assert again.content == first.content  # not "completed again": the first answer
    unkeyed = graphql(document, acct.sk)
    assert unkeyed.json()["errors"][0]["extensions"]["reason"] == "checkout_unexpected_state"
    assert Event.objects.filter(type="checkout.completed").count() == 1


@pytest.mark.django_db
def test_another_document_under_the_same_key_is_a_graphql_request_error(acct, flow):
    keyed(start_document(flow), acct.sk, "reused")
    other = keyed(start_document(flow, trackingId="another-order"), acct.sk, "reused")
    assert other.status_code == 400
    body = other.json()
    assert "data" not in body
    [error] = body["errors"]
    assert set(error) == {"message", "extensions"} and "same parameters" in error["message"]
    assert error["extensions"] == {"code": "BAD_REQUEST", "reason": "idempotency_error"}
    assert Checkout.objects.count() == 1


@pytest.mark.django_db
def test_the_publishable_key_is_never_replayed_the_secret_keys_answer(acct, flow):
    document = start_document(flow)
    keyed(document, acct.sk, "shared")
    from_browser = keyed(document, acct.pk, "shared")
    assert from_browser.status_code == 400
    assert from_browser.json()["errors"][0]["extensions"]["reason"] == "idempotency_error"


@pytest.mark.django_db
def test_a_query_and_a_document_that_cannot_run_claim_no_key(acct, flow):
    broken = keyed({"query": "mutation { startIntent("}, acct.sk, "k1")
    assert broken.status_code == 400
    intent = ok(keyed(start_document(flow), acct.sk, "k1"))["startIntent"]  # key still free
    document = copy.deepcopy(seed.GETINTENT)
    document["variables"]["id"] = intent["id"]
    assert ok(keyed(document, acct.sk, "k1"))["getIntent"]["id"] == intent["id"]


@pytest.mark.django_db
def test_a_mutation_refused_for_its_arguments_releases_the_key(acct, flow):
    """As on /v1/: what validation refuses is not kept, so the corrected retry runs."""
    wrong = start_document(flow)
    wrong["variables"]["paymentFlowId"] = "flow_doesnotexist"
    refused = keyed(wrong, acct.sk, "order-9-start")
    assert refused.status_code == 200
    assert refused.json()["errors"][0]["extensions"]["reason"] == "resource_missing"
    missing = copy.deepcopy(wrong)
    missing["variables"]["paymentFlowId"] = ""
    refused = keyed(missing, acct.sk, "order-9-start")
    assert refused.json()["errors"][0]["extensions"]["reason"] == "parameter_missing"
    assert "Idempotent-Replayed" not in refused
    corrected = keyed(start_document(flow), acct.sk, "order-9-start")
    assert ok(corrected)["startIntent"]["id"].startswith("chk_")
    assert keyed(start_document(flow), acct.sk, "order-9-start")["Idempotent-Replayed"] == "true"
    assert Checkout.objects.count() == 1


@pytest.mark.django_db
def test_an_empty_key_is_refused(acct, flow):
    answer = keyed(start_document(flow), acct.sk, "  ")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["reason"] == "idempotency_key_invalid"
    assert not Checkout.objects.exists()


SENDERS = 8


@pytest.mark.django_db(transaction=True)
def test_one_key_sent_at_once_from_eight_threads_starts_one_intent(acct, flow):
    body = json.dumps(start_document(flow))
    barrier = threading.Barrier(SENDERS)
    answers: list[tuple[int, bytes]] = []

    def send() -> None:
        try:
            barrier.wait()
            response = Client().post(
                URL,
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
                HTTP_IDEMPOTENCY_KEY="race",
            )
            answers.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == SENDERS
    assert {status for status, _ in answers} <= {200, 409}
    started = {content for status, content in answers if status == 200}
    assert len(started) == 1  # every 200 is the one answer, replayed
    assert Checkout.objects.count() == 1
    assert Event.objects.filter(type="checkout.started").count() == 1
    for status, content in answers:
        if status == 409:
            [error] = json.loads(content)["errors"]
            assert error["extensions"]["code"] == "CONFLICT"
    # after the race, the key replays the one answer
    last = Client().post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acct.sk}",
        HTTP_IDEMPOTENCY_KEY="race",
    )
    assert last.content in started
