"""A request that dies between recording its attempt and applying the processor's answer: the
simulated processor remembers attempts by id, the reconciler settles what was left in flight, and
a retry with the same Idempotency-Key answers what the first request would have answered.

Both phases run in their own transactions here (`SIMULATED_PROCESSOR_IN_PROCESS` off), as
with a remote processor. A crash is a `Killed` (a BaseException, as SystemExit is: nothing in the request catches it)
raised at the chosen point; the clock moving past the timeout is the rows' timestamps moved back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.idempotency import IdempotencyClaim
from api.models import IdempotencyKey
from events.models import Event
from intents.models import PaymentIntent
from payments.attempts import release_recorded
from payments.models import Attempt, Charge, SimulatedProcessorRecord
from payments.processors.base import AuthorizationResult, CaptureResult, Decline, Received
from payments.processors.simulated import SimulatedProcessor
from payments.services import attempts_reconcile

URL = "/v1/payment_intents"


@pytest.fixture(autouse=True)
def _two_phases(settings):
    """These crashes land between the phases of a movement: the path of a processor that is
    not in-process (a network call). The in-process path runs as one transaction and has no
    such point (tests/intents/test_one_transaction.py)."""
    settings.SIMULATED_PROCESSOR_IN_PROCESS = False


class Killed(BaseException):
    """The worker serving the request is gone."""


def _killed_during_the_call(monkeypatch, *, reached_processor: bool = True) -> None:
    """The next authorisation dies in the call: after the processor did it (its answer lost on
    the way back) or before the processor received it."""
    authorize = SimulatedProcessor.authorize

    def dying(self, **kwargs):
        monkeypatch.setattr(SimulatedProcessor, "authorize", authorize)
        if reached_processor:
            authorize(self, **kwargs)
        raise Killed()

    monkeypatch.setattr(SimulatedProcessor, "authorize", dying)


def _killed_after_commit(monkeypatch) -> None:
    """The next keyed request dies after its phase 2 committed, before its answer is stored."""
    finish = IdempotencyClaim.finish

    def dying(self, response):
        monkeypatch.setattr(IdempotencyClaim, "finish", finish)
        raise Killed()

    monkeypatch.setattr(IdempotencyClaim, "finish", dying)


def _send_and_die(client, path, data, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    with pytest.raises(Killed):
        client.post(path, data, headers=headers)


def _time_passes(*, lock: bool = True, attempt: bool = True) -> None:
    """The shared timeout (INFLIGHT_TIMEOUT_SECONDS) passes for the key lock and/or the recorded
    attempts."""
    ago = timedelta(seconds=settings.INFLIGHT_TIMEOUT_SECONDS + 1)
    if lock:
        for row in IdempotencyKey.objects.filter(locked_at__isnull=False):
            IdempotencyKey.objects.filter(pk=row.pk).update(locked_at=row.locked_at - ago)
    if attempt:
        for row in Attempt.objects.filter(status="recorded"):
            Attempt.objects.filter(pk=row.pk).update(claimed_at=row.claimed_at - ago)


def _recorded(target: str) -> list[Attempt]:
    """The attempts recorded on `target` and not yet settled: a call in flight."""
    return list(Attempt.objects.filter(target=target, status="recorded"))


def _authorizations(pi_id: str) -> list[SimulatedProcessorRecord]:
    charges = Charge.objects.filter(payment_intent_id=pi_id).values_list("id", flat=True)
    return list(
        SimulatedProcessorRecord.objects.filter(operation="authorize", reference__in=charges)
    )


# --- the simulated processor remembers attempts by id ------------------------------------------


def _authorize(token: str, attempt_id: str | None):
    return SimulatedProcessor().authorize(
        attempt_id=attempt_id,
        reference="ch_test",
        token=token,
        amount=2000,
        currency="usd",
        capture=True,
        off_session=False,
        three_d_secure_passed=False,
        livemode=False,
    )


@pytest.mark.django_db
def test_the_same_attempt_id_is_answered_once_and_then_remembered():
    visa = "simtok_succeed_x"
    declined = "simtok_genericdecline_x"
    first = _authorize(visa, "att_one")
    # Asked again with the same id, even with other arguments: the first answer, nothing new.
    again = _authorize(declined, "att_one")
    assert first.status == again.status == "succeeded" and again.captured
    assert SimulatedProcessorRecord.objects.count() == 1
    assert _authorize(declined, "att_two").status == "declined"
    assert SimulatedProcessorRecord.objects.count() == 2


@pytest.mark.django_db
def test_lookup_tells_what_the_processor_did_with_an_attempt_or_none():
    processor = SimulatedProcessor()
    _authorize("simtok_insufficientfunds_x", "att_declined")
    processor.capture(attempt_id="att_capture", reference="ch_test", amount=700)
    processor.void(attempt_id="att_void", reference="ch_test")
    declined = processor.lookup(attempt_id="att_declined")
    assert declined.operation == "authorize"
    assert declined.outcome.status == "declined"
    assert declined.outcome.decline.decline_code == "insufficient_funds"
    captured = processor.lookup(attempt_id="att_capture")
    assert captured.operation == "capture" and captured.outcome.amount_captured == 700
    assert processor.lookup(attempt_id="att_void") == Received(operation="void", outcome=None)
    assert processor.lookup(attempt_id="att_never_sent") is None


@pytest.mark.django_db
def test_a_call_without_attempt_id_is_answered_and_not_remembered():
    assert _authorize("simtok_succeed_x", None).status == "succeeded"
    assert not SimulatedProcessorRecord.objects.exists()


# --- a retry with the same Idempotency-Key after a crash ---------------------------------------


def _keyed_confirm(client, create_intent, pm="pm_card_visa", **params):
    params.setdefault("capture_method", "automatic")
    pi = create_intent(payment_method=pm, **params)
    return pi, f"{URL}/{pi['id']}/confirm"


def test_a_retry_while_the_lock_is_fresh_is_409_and_changes_nothing(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent)
    _killed_during_the_call(monkeypatch)
    _send_and_die(client, path, {}, key="k")
    busy = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert busy.status_code == 409 and busy.error["code"] == "idempotency_key_in_use"
    intent = PaymentIntent.objects.get(id=pi["id"])
    assert intent.status == "requires_confirmation"
    assert [a.kind for a in _recorded(pi["id"])] == ["authorize"]


@pytest.mark.parametrize("attempt_stale", [False, True])
def test_a_retry_after_the_lock_timeout_settles_the_dead_requests_attempt_and_answers_it(
    client, create_intent, monkeypatch, attempt_stale
):
    pi, path = _keyed_confirm(client, create_intent)
    _killed_during_the_call(monkeypatch)
    _send_and_die(client, path, {}, key="k")
    assert Charge.objects.get(payment_intent_id=pi["id"]).status == "pending"
    _time_passes(lock=True, attempt=attempt_stale)
    retry = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200, retry.json()
    assert retry.json()["status"] == "succeeded"
    assert "Idempotent-Replayed" not in retry.headers
    replay = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == retry.content
    # One authorisation at the processor, one charge, captured; nothing pending or in flight.
    assert len(_authorizations(pi["id"])) == 1
    charge = Charge.objects.get(payment_intent_id=pi["id"])
    assert charge.status == "succeeded" and charge.captured
    assert not _recorded(pi["id"])
    assert Event.objects.filter(object_id=pi["id"], type="payment_intent.succeeded").count() == 1


def test_a_retry_after_a_kill_after_the_commit_answers_200_not_unexpected_state(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent)
    _killed_after_commit(monkeypatch)
    _send_and_die(client, path, {}, key="k")
    assert PaymentIntent.objects.get(id=pi["id"]).status == "succeeded"
    _time_passes()
    retry = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200, retry.json()
    assert retry.json()["id"] == pi["id"] and retry.json()["status"] == "succeeded"
    assert len(_authorizations(pi["id"])) == 1
    assert Charge.objects.filter(payment_intent_id=pi["id"]).count() == 1


def test_a_retry_of_a_declined_confirm_that_died_answers_the_decline(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent, pm="pm_card_chargeDeclined")
    _killed_during_the_call(monkeypatch)
    _send_and_die(client, path, {}, key="k")
    _time_passes()
    retry = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 402
    assert retry.error["decline_code"] == "generic_decline"
    assert retry.error["payment_intent"]["status"] == "requires_payment_method"
    assert len(_authorizations(pi["id"])) == 1
    assert Charge.objects.get(payment_intent_id=pi["id"]).status == "failed"


def test_a_retry_whose_first_run_never_reached_the_processor_runs_it_once(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent)
    _killed_during_the_call(monkeypatch, reached_processor=False)
    _send_and_die(client, path, {}, key="k")
    _time_passes()
    retry = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200 and retry.json()["status"] == "succeeded"
    assert len(_authorizations(pi["id"])) == 1
    statuses = sorted(
        Charge.objects.filter(payment_intent_id=pi["id"]).values_list("status", flat=True)
    )
    assert statuses == ["failed", "succeeded"]  # the attempt never received, and the one made


# --- an in-flight conflict is never a key's stored answer --------------------------------------


def test_a_conflict_with_another_requests_call_in_flight_is_not_stored(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent)
    _killed_during_the_call(monkeypatch)
    _send_and_die(client, path, {})  # another request, no key, still "in flight"
    refused = client.post(path, {}, headers={"Idempotency-Key": "other"})
    assert refused.status_code == 400
    assert refused.error["code"] == "payment_intent_unexpected_state"
    assert not IdempotencyKey.objects.filter(key="other").exists()
    # Once the dead request's attempt is settled, the same key executes (no replay of the 400).
    _time_passes()
    attempts_reconcile()
    again = client.post(path, {}, headers={"Idempotency-Key": "other"})
    assert "Idempotent-Replayed" not in again.headers
    assert again.error["code"] == "payment_intent_unexpected_state"  # it is succeeded now
    assert "status of succeeded" in again.error["message"]


# --- the reconciler ----------------------------------------------------------------------------


def test_the_reconciler_applies_what_the_processor_did_with_an_abandoned_attempt(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent, capture_method="manual")
    _killed_during_the_call(monkeypatch)
    _send_and_die(client, path, {})
    assert attempts_reconcile() == 0  # not stale yet: maybe still under way
    _time_passes()
    assert attempts_reconcile() == 1
    intent = PaymentIntent.objects.get(id=pi["id"])
    assert intent.status == "requires_capture" and not _recorded(pi["id"])
    assert intent.amount_capturable == 2000
    assert Charge.objects.get(payment_intent_id=pi["id"]).status == "succeeded"
    assert Attempt.objects.get(target=pi["id"], kind="authorize").status == "applied"
    assert attempts_reconcile() == 0
    assert len(_authorizations(pi["id"])) == 1
    assert (
        Event.objects.filter(
            object_id=pi["id"], type="payment_intent.amount_capturable_updated"
        ).count()
        == 1
    )


def test_the_reconciler_aborts_an_attempt_the_processor_never_received(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent)
    _killed_during_the_call(monkeypatch, reached_processor=False)
    _send_and_die(client, path, {})
    _time_passes()
    assert attempts_reconcile() == 1
    intent = PaymentIntent.objects.get(id=pi["id"])
    assert intent.status == "requires_confirmation" and not _recorded(pi["id"])
    assert Attempt.objects.get(target=pi["id"], kind="authorize").status == "aborted"
    assert Charge.objects.get(payment_intent_id=pi["id"]).status == "failed"
    assert not _authorizations(pi["id"])
    # Not blocked: a new confirm goes through.
    assert client.post(path, {}).json()["status"] == "succeeded"


def test_a_request_meeting_a_stale_attempt_settles_it_before_acting(
    client, create_intent, monkeypatch
):
    pi, path = _keyed_confirm(client, create_intent, capture_method="manual")
    _killed_during_the_call(monkeypatch)
    _send_and_die(client, path, {})
    _time_passes()
    captured = client.post(f"{URL}/{pi['id']}/capture", {})
    assert captured.status_code == 200 and captured.json()["status"] == "succeeded"
    assert captured.json()["amount_received"] == 2000
    assert len(_authorizations(pi["id"])) == 1


def test_the_reconciler_makes_a_release_a_crash_left_owed(client, create_intent, settings):
    pi, path = _keyed_confirm(client, create_intent, capture_method="manual")
    client.post(path, {})
    charge = Charge.objects.get(payment_intent_id=pi["id"])
    # A phase marked the charge released and recorded its release, then died before making it.
    Charge.objects.filter(id=charge.id).update(released=True)
    owed = release_recorded(charge).attempt
    assert attempts_reconcile() == 0  # not stale yet: the phase may still be making it
    owed_since = timezone.now() - timedelta(seconds=settings.INFLIGHT_TIMEOUT_SECONDS + 1)
    Attempt.objects.filter(id=owed.id).update(claimed_at=owed_since)
    assert attempts_reconcile() == 1
    owed.refresh_from_db()
    assert owed.status == "applied" and not _recorded(charge.id)
    assert (
        SimulatedProcessorRecord.objects.filter(operation="void", reference=charge.id).count() == 1
    )


def test_the_reconciler_runs_from_the_beat_schedule():
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["intents-reconcile-attempts"]
    app.loader.import_default_modules()
    assert entry["task"] in app.tasks


# --- a keyed create with confirm=true that died -------------------------------------------------

CREATE_AND_CONFIRM = {
    "amount": 2000,
    "currency": "usd",
    "payment_method": "pm_card_visa",
    "capture_method": "automatic",
    "confirm": "true",
}


@pytest.mark.parametrize("kill", ["during_call", "after_commit"])
def test_a_retried_create_and_confirm_that_died_finds_its_intent_and_answers_its_outcome(
    client, monkeypatch, kill
):
    if kill == "during_call":
        _killed_during_the_call(monkeypatch)
    else:
        _killed_after_commit(monkeypatch)
    _send_and_die(client, URL, CREATE_AND_CONFIRM, key="k")
    first = PaymentIntent.objects.get()
    _time_passes()
    retry = client.post(URL, CREATE_AND_CONFIRM, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200, retry.json()
    assert retry.json()["id"] == first.id and retry.json()["status"] == "succeeded"
    replay = client.post(URL, CREATE_AND_CONFIRM, headers={"Idempotency-Key": "k"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == retry.content
    # One intent, one authorisation at the processor, one charge (captured), one of each event.
    assert PaymentIntent.objects.count() == 1
    assert len(_authorizations(first.id)) == 1
    charge = Charge.objects.get(payment_intent_id=first.id)
    assert charge.status == "succeeded" and charge.captured
    for type in ("payment_intent.created", "payment_intent.succeeded"):
        assert Event.objects.filter(object_id=first.id, type=type).count() == 1


def test_a_retried_create_and_confirm_whose_card_was_declined_answers_the_decline(
    client, monkeypatch
):
    _killed_during_the_call(monkeypatch)
    declined = {**CREATE_AND_CONFIRM, "payment_method": "pm_card_chargeDeclined"}
    _send_and_die(client, URL, declined, key="k")
    _time_passes()
    retry = client.post(URL, declined, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 402
    assert retry.error["decline_code"] == "generic_decline"
    intent = PaymentIntent.objects.get()
    assert retry.error["payment_intent"]["id"] == intent.id
    assert intent.status == "requires_payment_method" and not _recorded(intent.id)
    assert len(_authorizations(intent.id)) == 1
    assert Charge.objects.get(payment_intent_id=intent.id).status == "failed"
    replay = client.post(URL, declined, headers={"Idempotency-Key": "k"})
    assert replay.status_code == 402 and replay.content == retry.content


def test_a_retried_create_and_confirm_after_the_reconciler_settled_it_answers_that(
    client, monkeypatch
):
    _killed_during_the_call(monkeypatch)
    _send_and_die(client, URL, CREATE_AND_CONFIRM, key="k")
    _time_passes()
    assert attempts_reconcile() == 1
    retry = client.post(URL, CREATE_AND_CONFIRM, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200 and retry.json()["status"] == "succeeded"
    assert PaymentIntent.objects.count() == 1
    assert len(_authorizations(retry.json()["id"])) == 1


def test_a_retried_create_whose_confirm_never_reached_the_processor_confirms_it_once(
    client, monkeypatch
):
    _killed_during_the_call(monkeypatch, reached_processor=False)
    _send_and_die(client, URL, CREATE_AND_CONFIRM, key="k")
    _time_passes()
    retry = client.post(URL, CREATE_AND_CONFIRM, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200 and retry.json()["status"] == "succeeded"
    assert PaymentIntent.objects.count() == 1
    assert len(_authorizations(retry.json()["id"])) == 1


def test_a_retried_create_whose_confirm_the_reconciler_aborted_confirms_it_once(
    client, monkeypatch
):
    _killed_during_the_call(monkeypatch, reached_processor=False)
    _send_and_die(client, URL, CREATE_AND_CONFIRM, key="k")
    _time_passes()
    assert attempts_reconcile() == 1
    assert Attempt.objects.get(kind="authorize").status == "aborted"
    retry = client.post(URL, CREATE_AND_CONFIRM, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 200 and retry.json()["status"] == "succeeded"
    assert PaymentIntent.objects.count() == 1
    assert len(_authorizations(retry.json()["id"])) == 1


def test_a_create_under_a_fresh_key_makes_its_own_intent_without_looking_for_one(client):
    """Only a takeover looks for an earlier run's intent: a fresh claim creates at once (no
    read of the intents table before its INSERT), and the same parameters under another key
    are another intent."""
    one = client.post(URL, CREATE_AND_CONFIRM, headers={"Idempotency-Key": "a"}).json()
    with CaptureQueriesContext(connection) as captured:
        two = client.post(
            URL, {**CREATE_AND_CONFIRM, "confirm": "false"}, headers={"Idempotency-Key": "b"}
        )
    assert two.status_code == 200
    table = PaymentIntent._meta.db_table
    reads = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]
    ]
    assert reads == []
    assert one["id"] != two.json()["id"] and PaymentIntent.objects.count() == 2


# --- a refused capture that died before its answer was stored -----------------------------------


def _refusing_captures(monkeypatch) -> None:
    """The processor refuses every capture (e.g. the authorisation lapsed on its side)."""
    monkeypatch.setattr(
        SimulatedProcessor,
        "_capture",
        staticmethod(
            lambda amount: CaptureResult(
                succeeded=False,
                amount_captured=0,
                decline=Decline("card_declined", "generic_decline", "Your card was declined."),
            )
        ),
    )


def _authorized(client, create_intent) -> str:
    pi = create_intent(payment_method="pm_card_visa", capture_method="manual", confirm="true")
    assert pi["status"] == "requires_capture"
    return f"{URL}/{pi['id']}/capture"


@pytest.mark.parametrize("kill", ["during_call", "after_commit"])
def test_a_retry_of_a_refused_capture_that_died_answers_the_refusal(
    client, create_intent, monkeypatch, kill
):
    path = _authorized(client, create_intent)
    _refusing_captures(monkeypatch)
    if kill == "during_call":
        capture = SimulatedProcessor.capture

        def dying(self, **kwargs):
            monkeypatch.setattr(SimulatedProcessor, "capture", capture)
            capture(self, **kwargs)
            raise Killed()

        monkeypatch.setattr(SimulatedProcessor, "capture", dying)
    else:
        _killed_after_commit(monkeypatch)
    _send_and_die(client, path, {}, key="k")
    _time_passes()
    retry = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 402, retry.json()
    assert retry.error["decline_code"] == "generic_decline"
    assert retry.error["payment_intent"]["status"] == "requires_capture"
    replay = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == retry.content
    intent = PaymentIntent.objects.get()
    assert intent.status == "requires_capture" and not _recorded(intent.id)
    assert SimulatedProcessorRecord.objects.filter(operation="capture").count() == 1


def test_a_retry_of_a_refused_capture_the_reconciler_settled_answers_the_refusal(
    client, create_intent, monkeypatch
):
    path = _authorized(client, create_intent)
    _refusing_captures(monkeypatch)
    capture = SimulatedProcessor.capture

    def dying(self, **kwargs):
        monkeypatch.setattr(SimulatedProcessor, "capture", capture)
        capture(self, **kwargs)
        raise Killed()

    monkeypatch.setattr(SimulatedProcessor, "capture", dying)
    _send_and_die(client, path, {}, key="k")
    _time_passes()
    assert attempts_reconcile() == 1  # a refusal settles the attempt: not a failure
    # The refusal is the refused attempt's answer (answered: it changed nothing on the intent).
    refused = Attempt.objects.get(kind="capture")
    assert refused.status == "answered"
    assert refused.answer["decline"]["code"] == "card_declined"
    assert PaymentIntent.objects.get().status == "requires_capture"
    retry = client.post(path, {}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 402 and retry.error["decline_code"] == "generic_decline"


def test_a_refusal_is_forgotten_when_the_next_attempt_begins(client, create_intent, monkeypatch):
    path = _authorized(client, create_intent)
    _refusing_captures(monkeypatch)
    assert client.post(path, {}).status_code == 402
    monkeypatch.undo()
    captured = client.post(path, {}, headers={"Idempotency-Key": "next"})
    assert captured.status_code == 200 and captured.json()["status"] == "succeeded"
    # The refusal stays on its own attempt; the next capture is a new attempt, applied.
    refused, made = Attempt.objects.filter(kind="capture").order_by("created")
    assert refused.status == "answered" and refused.answer["succeeded"] is False
    assert made.status == "applied" and made.answer["succeeded"] is True


def test_a_retry_of_a_refused_increment_that_died_answers_the_refusal(
    client, create_intent, monkeypatch
):
    capture_path = _authorized(client, create_intent)
    path = capture_path.replace("/capture", "/increment_authorization")
    monkeypatch.setattr(
        SimulatedProcessor,
        "_increment",
        lambda self, reference, token, new_amount: AuthorizationResult(
            status="declined",
            decline=Decline(
                "card_declined", "insufficient_funds", "Your card has insufficient funds."
            ),
        ),
    )
    _killed_after_commit(monkeypatch)
    _send_and_die(client, path, {"amount": 2500}, key="k")
    _time_passes()
    retry = client.post(path, {"amount": 2500}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 402, retry.json()
    assert retry.error["decline_code"] == "insufficient_funds"
    intent = PaymentIntent.objects.get()
    assert intent.amount == 2000 and intent.status == "requires_capture"
