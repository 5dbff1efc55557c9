"""Idempotent POSTs (docs/security.md), on a test view with a counted side effect (one Event per run)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.idempotency import idempotency_claim, params_hash
from api.models import IdempotencyKey
from events.models import Event
from tests.helpers import StripeTestClient
from tests.security.urls_for_tests import KILL_SWITCH, WIDGET_EVENT

pytestmark = pytest.mark.urls("tests.security.urls_for_tests")

URL = "/v1/test_widgets"


def runs(acct, livemode=False) -> int:
    return Event.objects.filter(type=WIDGET_EVENT, account=acct.account, livemode=livemode).count()


def idem(key: str) -> dict:
    return {"Idempotency-Key": key}


def test_retry_replays_status_and_body_byte_for_byte(client, acct):
    first = client.post(URL, {"amount": 100}, headers=idem("k1"))
    second = client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert first.status_code == 200
    assert second.status_code == 200
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert runs(acct) == 1


def test_replay_names_the_original_request(client):
    first = client.post(URL, {"amount": 100}, headers=idem("k1"))
    second = client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert second.headers["Original-Request"] == first.headers["Request-Id"]
    assert second.headers["Request-Id"] != first.headers["Request-Id"]
    assert second.headers["Idempotency-Key"] == "k1"


def test_form_and_json_of_the_same_params_are_the_same_request(client, acct):
    first = client.post(URL, {"amount": 100}, headers=idem("k1"))
    second = client.post(URL, {"amount": 100}, headers=idem("k1"), json=True)
    assert second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.content == first.content
    assert runs(acct) == 1


def test_canonical_params_ignore_key_order_and_scalar_types():
    assert params_hash({"a": 1, "b": {"y": True, "x": None}}) == params_hash(
        {"b": {"x": "", "y": "true"}, "a": "1"}
    )
    assert params_hash({"a": 1}) != params_hash({"a": 2})


def test_same_key_with_other_params_is_an_idempotency_error(client, acct):
    client.post(URL, {"amount": 100}, headers=idem("k1"))
    response = client.post(URL, {"amount": 200}, headers=idem("k1"))
    assert response.status_code == 400
    assert response.error["type"] == "idempotency_error"
    assert "same parameters" in response.error["message"]
    assert runs(acct) == 1


def test_same_key_on_another_path_is_an_idempotency_error(client, acct):
    client.post(URL, {"amount": 100}, headers=idem("k1"))
    response = client.post("/v1/test_widgets_other", {"amount": 100}, headers=idem("k1"))
    assert response.status_code == 400
    assert response.error["type"] == "idempotency_error"
    assert "/v1/test_widgets" in response.error["message"]
    assert runs(acct) == 1


def test_key_longer_than_255_characters_is_rejected_before_executing(client, acct):
    response = client.post(URL, {"amount": 100}, headers=idem("k" * 256))
    assert response.status_code == 400
    assert response.error["type"] == "invalid_request_error"
    assert runs(acct) == 0
    assert not IdempotencyKey.objects.exists()


def test_key_of_255_characters_is_accepted(client, acct):
    response = client.post(URL, {"amount": 100}, headers=idem("k" * 255))
    assert response.status_code == 200
    assert IdempotencyKey.objects.get().key == "k" * 255


def test_parameter_error_stores_nothing_and_a_corrected_retry_executes(client, acct):
    bad = client.post(URL, {"amount": 100, "status": "succeeded"}, headers=idem("k1"))
    assert bad.status_code == 400
    assert bad.error["code"] == "parameter_unknown"
    assert not IdempotencyKey.objects.exists()
    good = client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert good.status_code == 200
    assert "Idempotent-Replayed" not in good.headers
    assert runs(acct) == 1


def test_unauthenticated_request_stores_nothing(db, anon_client):
    response = anon_client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_decline_is_stored_and_replayed_without_a_second_attempt(client, acct):
    first = client.post(URL, {"amount": 100, "outcome": "decline"}, headers=idem("k1"))
    second = client.post(URL, {"amount": 100, "outcome": "decline"}, headers=idem("k1"))
    assert first.status_code == 402
    assert second.status_code == 402
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert runs(acct) == 1


def test_server_error_is_stored_and_replayed(client, acct):
    first = client.post(URL, {"amount": 100, "outcome": "crash"}, headers=idem("k1"))
    second = client.post(URL, {"amount": 100, "outcome": "crash"}, headers=idem("k1"))
    assert first.status_code == 500
    assert first.error["type"] == "api_error"
    assert second.status_code == 500
    assert second.content == first.content
    assert runs(acct) == 1


def test_state_error_is_stored_and_replayed(client):
    first = client.post(URL, {"amount": 100, "outcome": "state"}, headers=idem("k1"))
    second = client.post(URL, {"amount": 100, "outcome": "state"}, headers=idem("k1"))
    assert first.status_code == 400
    assert first.error["code"] == "payment_intent_unexpected_state"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.content == first.content


def _locked_row(acct, key: str, params: dict, locked_at, path: str = URL) -> IdempotencyKey:
    return IdempotencyKey.objects.create(
        account=acct.account,
        livemode=False,
        key=key,
        request_method="POST",
        request_path=path,
        request_params_hash=params_hash(params),
        locked_at=locked_at,
    )


def test_key_still_executing_is_409_and_nothing_is_stored(client, acct):
    row = _locked_row(acct, "k1", {"amount": "100"}, timezone.now())
    response = client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert response.status_code == 409
    assert response.error["type"] == "idempotency_error"
    assert response.error["code"] == "idempotency_key_in_use"
    row.refresh_from_db()
    assert row.response_status is None
    assert row.locked_at is not None
    assert runs(acct) == 0


def test_stale_lock_is_taken_over_and_the_retry_executes_once(client, acct, settings):
    settings.INFLIGHT_TIMEOUT_SECONDS = 30
    _locked_row(acct, "k1", {"amount": "100"}, timezone.now() - timedelta(seconds=31))
    first = client.post(URL, {"amount": 100}, headers=idem("k1"))
    again = client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert runs(acct) == 1


def test_only_one_request_takes_over_a_stale_lock(acct, settings):
    settings.INFLIGHT_TIMEOUT_SECONDS = 30
    _locked_row(acct, "k1", {"amount": "100"}, timezone.now() - timedelta(seconds=31))
    args = dict(
        account_id=acct.id,
        livemode=False,
        key="k1",
        method="POST",
        path=URL,
        params={"amount": "100"},
    )
    claim = idempotency_claim(**args)
    from api.errors import IdempotencyKeyInUse

    with pytest.raises(IdempotencyKeyInUse):
        idempotency_claim(**args)
    assert IdempotencyKey.objects.get().locked_at == claim.locked_at


def test_stale_owner_cannot_overwrite_the_result_of_the_request_that_took_over(
    client, acct, settings
):
    settings.INFLIGHT_TIMEOUT_SECONDS = 30
    args = dict(
        account_id=acct.id, livemode=False, key="k1", method="POST", path=URL, params={"amount": 1}
    )
    stale = idempotency_claim(**args)
    IdempotencyKey.objects.update(locked_at=timezone.now() - timedelta(seconds=31))
    stale.locked_at = IdempotencyKey.objects.get().locked_at
    fresh = idempotency_claim(**args)

    class Answer:
        status_code = 200
        content = b'{"from":"fresh"}'
        data = {}

        def __contains__(self, name):
            return False

    fresh.finish(Answer())
    Answer.content = b'{"from":"stale"}'
    stale.finish(Answer())
    assert bytes(IdempotencyKey.objects.get().response_body) == b'{"from":"fresh"}'


@pytest.mark.django_db(transaction=True)
def test_request_killed_mid_flight_leaves_key_claimable_after_the_lock_timeout(acct, settings):
    settings.INFLIGHT_TIMEOUT_SECONDS = 30
    client = StripeTestClient(key=acct.sk)
    outcome: list = []

    def killed_request():
        try:
            client.post(URL, {"amount": 100}, headers=idem("k1"))
        except SystemExit:
            outcome.append("killed")
        finally:
            connection.close()

    KILL_SWITCH.set()
    try:
        thread = threading.Thread(target=killed_request)
        thread.start()
        thread.join()
    finally:
        KILL_SWITCH.clear()
    assert outcome == ["killed"]
    row = IdempotencyKey.objects.get()
    assert row.locked_at is not None and row.response_status is None

    blocked = client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert blocked.status_code == 409

    # The lock timeout passes (the row's clock moves back instead of the test sleeping).
    IdempotencyKey.objects.update(locked_at=row.locked_at - timedelta(seconds=31))
    retry = client.post(URL, {"amount": 100}, headers=idem("k1"))
    replay = client.post(URL, {"amount": 100}, headers=idem("k1"))
    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry.headers
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == retry.content
    assert runs(acct) == 1


def test_keys_are_scoped_to_account_and_mode(client, acct, other_acct):
    client.post(URL, {"amount": 100}, headers=idem("shared"))
    other = client.post(URL, {"amount": 100}, headers=idem("shared"), key=other_acct.sk)
    live = client.post(URL, {"amount": 100}, headers=idem("shared"), key=acct.sk_live)
    assert "Idempotent-Replayed" not in other.headers
    assert "Idempotent-Replayed" not in live.headers
    assert runs(acct) == 1
    assert runs(acct, livemode=True) == 1
    assert runs(other_acct) == 1


def test_get_ignores_the_idempotency_key(client):
    client.get(URL, headers=idem("k1"))
    assert not IdempotencyKey.objects.exists()


def test_no_idempotency_query_without_the_header(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, {"amount": 100})
    assert response.status_code == 200
    assert not [q for q in queries.captured_queries if IdempotencyKey._meta.db_table in q["sql"]]


def test_purge_deletes_keys_older_than_the_retention_only(client, acct, settings):
    from api.tasks import idempotency_keys_purge

    settings.IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600
    client.post(URL, {"amount": 100}, headers=idem("old"))
    client.post(URL, {"amount": 100}, headers=idem("new"))
    IdempotencyKey.objects.filter(key="old").update(
        created=timezone.now() - timedelta(hours=24, seconds=1)
    )
    deleted = idempotency_keys_purge()
    assert deleted == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_purge_runs_from_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["api.idempotency_keys_purge"]
    from config.celery import app

    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_retries_execute_once(acct):
    barrier = threading.Barrier(30)
    answers: list = []
    lock = threading.Lock()

    def send():
        client = StripeTestClient(key=acct.sk)
        try:
            barrier.wait()
            response = client.post(URL, {"amount": 100, "sleep_ms": 300}, headers=idem("race"))
            with lock:
                answers.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert runs(acct) == 1
    assert len(answers) == 30
    ok = [a for a in answers if a.status_code == 200]
    busy = [a for a in answers if a.status_code == 409]
    assert len(ok) + len(busy) == 30
    assert len({a.content for a in ok}) == 1
    assert all(a.error["code"] == "idempotency_key_in_use" for a in busy)
    later = StripeTestClient(key=acct.sk).post(
        URL, {"amount": 100, "sleep_ms": 300}, headers=idem("race")
    )
    assert later.headers["Idempotent-Replayed"] == "true"
    assert later.content == ok[0].content


def test_a_database_outage_is_not_stored_as_the_keys_answer_but_a_500_is():
    from api.idempotency import should_store

    outage = {"error": {"type": "api_error", "message": "The database is unavailable."}}
    assert should_store(503, outage) is False
    assert should_store(500, {"error": {"type": "api_error"}}) is True
