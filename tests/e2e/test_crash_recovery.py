"""kill -9 of a real gunicorn worker in the middle of a keyed confirm, a keyed create with
`confirm=true` and a keyed refund, on PostgreSQL.

Most of these run the simulator as a remote processor (`SIMULATED_PROCESSOR_IN_PROCESS=0`: two
phases around the call, each its own transaction), the path with points between commits. The
last ones run it in-process, where a movement is one transaction: a kill during the call
leaves nothing of the attempt on either side, and a retry pays once.

The worker is killed during the processor call (the processor did the authorisation or the
refund; its answer never came back) or after phase 2 committed (before the answer was stored
with its key). The client then retries with the same Idempotency-Key, immediately, after the key
lock's timeout or after the recorded attempt's (one setting, INFLIGHT_TIMEOUT_SECONDS, 2 s here),
retrying on 409 as a client does: every retry ends in the single outcome of the payment (one
intent, one authorisation, captured; one refund, made once at the processor), and no charge is
left pending. Without any retry, the reconciler's beat run settles an abandoned attempt on its
own.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from api.models import IdempotencyKey
from events.models import Event
from intents.models import PaymentIntent
from payments.models import Attempt, Charge, Refund, SimulatedProcessorRecord
from tests.conftest import (
    ROOT,
    WorkerProcess,
    database_url_for_current_test_db,
    make_account,
    redis_url,
    wait_for,
)

TIMEOUT = 2  # INFLIGHT_TIMEOUT_SECONDS of every process in this module

pytestmark = [pytest.mark.redis, pytest.mark.long(90)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """One gunicorn master with one sync worker serving tests.e2e.crash_wsgi."""

    def __init__(self, tmp: Path, *, in_process: bool = False):
        self.port = _free_port()
        self.reached = tmp / "reached"
        self.url = f"http://127.0.0.1:{self.port}"
        self.slow_processor = tmp / "slow-processor"
        self.pause_before_store = tmp / "pause-before-store"
        self.log_path = tmp / "gunicorn.log"
        env = dict(os.environ)
        env.pop("PYTEST_VERSION", None)
        env.update(
            PAYINTENTS_DEV="1",
            DATABASE_URL=database_url_for_current_test_db(),
            REDIS_URL=redis_url(),
            CELERY_BROKER_URL=redis_url(),
            RATE_LIMIT_ENABLED="0",
            INFLIGHT_TIMEOUT_SECONDS=str(TIMEOUT),
            CRASH_SLOW_PROCESSOR_FLAG=str(self.slow_processor),
            CRASH_PAUSE_BEFORE_STORE_FLAG=str(self.pause_before_store),
            CRASH_REACHED_FLAG=str(self.reached),
            SIMULATED_PROCESSOR_IN_PROCESS="1" if in_process else "0",
        )
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "tests.e2e.crash_wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._ready, timeout=30, message=f"gunicorn to serve:\n{self.log()}")

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pid(self) -> int:
        return int(re.findall(r"Booting worker with pid: (\d+)", self.log())[-1])

    def kill_worker(self) -> None:
        pid = self.worker_pid()
        os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: self.worker_pid() != pid and self._ready(),
            timeout=30,
            message="gunicorn to boot a new worker",
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker, tmp_path_factory):
    """The simulator acting as a remote processor: two phases, each its own transaction."""
    server = Gunicorn(tmp_path_factory.mktemp("crash"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gunicorn_one_transaction(django_db_setup, django_db_blocker, tmp_path_factory):
    """The simulator in-process (the default): a movement is one transaction."""
    server = Gunicorn(tmp_path_factory.mktemp("crash-one"), in_process=True)
    yield server
    server.stop()


def _post(server: Gunicorn, key: str, path: str, data: dict | None = None, idem: str | None = None):
    headers = {"Authorization": f"Bearer {key}"}
    if idem:
        headers["Idempotency-Key"] = idem
    return requests.post(f"{server.url}{path}", data=data or {}, headers=headers, timeout=60)


def _start_and_kill(server: Gunicorn, sk: str, *, kill: str, idem: str | None) -> str:
    """Create an intent (automatic capture), send its confirm, SIGKILL the worker at `kill`
    ("during_call" or "after_commit"); returns the intent id."""
    pi = _post(
        server,
        sk,
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "automatic",
        },
    ).json()
    flag = server.slow_processor if kill == "during_call" else server.pause_before_store
    flag.touch()
    lost: list = []

    def confirm():
        try:
            _post(server, sk, f"/v1/payment_intents/{pi['id']}/confirm", idem=idem)
        except requests.RequestException as exc:  # the worker died under the request
            lost.append(exc)

    thread = threading.Thread(target=confirm)
    thread.start()
    try:
        if kill == "during_call":
            wait_for(
                lambda: SimulatedProcessorRecord.objects.filter(
                    operation="authorize", reference__in=_charge_ids(pi["id"])
                ).exists(),
                message="the processor to make the authorisation",
            )
        else:
            wait_for(
                lambda: PaymentIntent.objects.filter(id=pi["id"], status="succeeded").exists(),
                message="phase 2 to commit",
            )
        server.kill_worker()
    finally:
        flag.unlink()
        thread.join(timeout=30)
    assert lost, "the first request was answered: the kill did not land in it"
    intent = PaymentIntent.objects.get(id=pi["id"])
    if kill == "during_call":
        assert intent.status == "requires_confirmation"
        assert _recorded_kinds(pi["id"]) == ["authorize"]
    if idem:
        assert IdempotencyKey.objects.get(key=idem).response_status is None
    return pi["id"]


def _recorded_kinds(target: str) -> list[str]:
    """The kinds of the attempts recorded on `target` and not settled: calls in flight."""
    return list(
        Attempt.objects.filter(target=target, status="recorded").values_list("kind", flat=True)
    )


def _charge_ids(pi_id: str) -> list[str]:
    return list(Charge.objects.filter(payment_intent_id=pi_id).values_list("id", flat=True))


def _assert_one_payment(pi_id: str) -> None:
    """One authorisation at the processor, captured; our side agrees; nothing pending."""
    authorizations = SimulatedProcessorRecord.objects.filter(
        operation="authorize", reference__in=_charge_ids(pi_id)
    )
    assert authorizations.count() == 1
    assert '"captured": true' in authorizations.get().outcome
    intent = PaymentIntent.objects.get(id=pi_id)
    assert intent.status == "succeeded" and not _recorded_kinds(pi_id)
    assert intent.amount_received == 2000
    charges = Charge.objects.filter(payment_intent_id=pi_id)
    assert not charges.filter(status="pending").exists()
    assert charges.filter(status="succeeded", captured=True).count() == 1
    assert Event.objects.filter(object_id=pi_id, type="payment_intent.succeeded").count() == 1


def _retry_while_locked(server: Gunicorn, sk: str, path: str, data: dict | None = None):
    """Retry with the same key as a client does: again while told 409 (the dead request's lock
    is fresh, nothing stored); the first other answer is returned."""
    answers = []
    deadline = time.time() + 6 * TIMEOUT
    while time.time() < deadline:
        answers.append(_post(server, sk, path, data, idem="crash-key"))
        if answers[-1].status_code != 409:
            break
        time.sleep(0.2)
    assert all(a.status_code == 409 for a in answers[:-1])
    return answers[-1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill", ["during_call", "after_commit"])
@pytest.mark.parametrize(
    "delay",
    [0, TIMEOUT + 0.3, 2 * TIMEOUT + 0.5],
    ids=["immediately", "after_the_lock_timeout", "after_the_attempt_timeout"],
)
def test_a_retry_after_a_kill_9_ends_in_the_single_outcome_of_the_payment(gunicorn, kill, delay):
    acct = make_account()
    pi_id = _start_and_kill(gunicorn, acct.sk, kill=kill, idem="crash-key")
    time.sleep(delay)
    path = f"/v1/payment_intents/{pi_id}/confirm"
    final = _retry_while_locked(gunicorn, acct.sk, path)
    assert final.status_code == 200, final.text
    assert final.json()["id"] == pi_id and final.json()["status"] == "succeeded"
    again = _post(gunicorn, acct.sk, path, idem="crash-key")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.content == final.content
    _assert_one_payment(pi_id)


@pytest.mark.django_db(transaction=True)
def test_the_reconcilers_beat_run_alone_settles_an_abandoned_attempt(gunicorn, settings):
    acct = make_account()
    pi_id = _start_and_kill(gunicorn, acct.sk, kill="during_call", idem=None)
    assert Charge.objects.get(payment_intent_id=pi_id).status == "pending"
    import redis

    redis.Redis.from_url(redis_url()).flushdb()
    worker = WorkerProcess(
        broker_url=redis_url(),
        beat=True,
        extra_env={"INFLIGHT_TIMEOUT_SECONDS": str(TIMEOUT), "INTENTS_SWEEP_SECONDS": "1"},
    ).start()
    try:
        wait_for(
            lambda: PaymentIntent.objects.filter(id=pi_id, status="succeeded").exists(),
            timeout=40,
            message="the reconciler's beat run to settle the attempt",
        )
    finally:
        worker.stop()
    _assert_one_payment(pi_id)


# --- a keyed create with confirm=true, and a keyed refund -------------------------------------

CREATE_AND_CONFIRM = {
    "amount": 2000,
    "currency": "usd",
    "payment_method": "pm_card_visa",
    "capture_method": "automatic",
    "confirm": "true",
}
# The create-and-confirm and the refund go through the same key lock and attempt timeouts as the
# confirm, whose test above walks all three retry times; here the two ends of it: a retry at once
# (answered 409 until the lock expires) and one after the recorded attempt's timeout. The retry
# just after the lock's timeout (between the two) is the confirm's alone: it is one mechanism.
DELAYS = pytest.mark.parametrize(
    "delay",
    [0, 2 * TIMEOUT + 0.5],
    ids=["immediately", "after_the_attempt_timeout"],
)


def _send_and_kill(server: Gunicorn, sk: str, path: str, data: dict, *, kill: str, landed) -> None:
    """POST `data` to `path` with the Idempotency-Key "crash-key" and SIGKILL the worker at
    `kill` ("during_call" or "after_commit") once `landed()` says the request got there."""
    flag = server.slow_processor if kill == "during_call" else server.pause_before_store
    flag.touch()
    lost: list = []

    def send():
        try:
            _post(server, sk, path, data, idem="crash-key")
        except requests.RequestException as exc:  # the worker died under the request
            lost.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    try:
        wait_for(landed, message=f"the request to reach the kill point ({kill})")
        server.kill_worker()
    finally:
        flag.unlink()
        thread.join(timeout=30)
    assert lost, "the first request was answered: the kill did not land in it"
    assert IdempotencyKey.objects.get(key="crash-key").response_status is None


def _retry_until_answered(server: Gunicorn, sk: str, path: str, data: dict):
    """`_retry_while_locked`, then the answer is replayed as it was."""
    final = _retry_while_locked(server, sk, path, data)
    again = _post(server, sk, path, data, idem="crash-key")
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.status_code == final.status_code and again.content == final.content
    return final


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill", ["during_call", "after_commit"])
@DELAYS
def test_a_retried_create_and_confirm_after_a_kill_9_is_one_intent_and_one_payment(
    gunicorn, kill, delay
):
    acct = make_account()
    intents = PaymentIntent.objects.filter(account=acct.account)
    if kill == "during_call":
        landed = SimulatedProcessorRecord.objects.filter(
            operation="authorize",
            reference__in=Charge.objects.filter(account=acct.account).values("id"),
        ).exists
    else:
        landed = intents.filter(status="succeeded").exists
    _send_and_kill(
        gunicorn, acct.sk, "/v1/payment_intents", CREATE_AND_CONFIRM, kill=kill, landed=landed
    )
    first = intents.get()
    if kill == "during_call":
        assert first.status == "requires_confirmation"
        assert _recorded_kinds(first.id) == ["authorize"]
    time.sleep(delay)
    final = _retry_until_answered(gunicorn, acct.sk, "/v1/payment_intents", CREATE_AND_CONFIRM)
    assert final.status_code == 200, final.text
    assert final.json()["id"] == first.id and final.json()["status"] == "succeeded"
    assert intents.count() == 1
    _assert_one_payment(first.id)
    assert Event.objects.filter(object_id=first.id, type="payment_intent.created").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill", ["during_call", "after_commit"])
@DELAYS
def test_a_retried_refund_after_a_kill_9_is_one_refund_made_once(gunicorn, kill, delay):
    acct = make_account()
    pi = _post(gunicorn, acct.sk, "/v1/payment_intents", CREATE_AND_CONFIRM).json()
    charge_id = pi["latest_charge"]
    refunds = SimulatedProcessorRecord.objects.filter(operation="refund", reference=charge_id)
    if kill == "during_call":
        landed = refunds.exists
    else:
        landed = Refund.objects.filter(charge_id=charge_id, status="succeeded").exists
    params = {"payment_intent": pi["id"]}
    _send_and_kill(gunicorn, acct.sk, "/v1/refunds", params, kill=kill, landed=landed)
    first = Refund.objects.get(charge_id=charge_id)
    if kill == "during_call":
        assert first.status == "pending" and _recorded_kinds(first.id) == ["refund"]
    time.sleep(delay)
    final = _retry_until_answered(gunicorn, acct.sk, "/v1/refunds", params)
    assert final.status_code == 200, final.text
    assert final.json()["id"] == first.id and final.json()["status"] == "succeeded"
    assert final.json()["amount"] == 2000
    assert Refund.objects.filter(charge_id=charge_id).count() == 1
    assert refunds.count() == 1  # the processor made it once
    charge = Charge.objects.get(id=charge_id)
    assert charge.amount_refunded == 2000 and charge.amount_refund_pending == 0
    assert Event.objects.filter(object_id=first.id, type="refund.created").count() == 1
    assert Event.objects.filter(object_id=charge_id, type="charge.refunded").count() == 1


# --- the in-process processor: one transaction ------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("delay", [0, TIMEOUT + 0.3], ids=["immediately", "after_the_lock_timeout"])
def test_one_transaction_a_kill_9_during_the_call_leaves_nothing_and_a_retry_pays_once(
    gunicorn_one_transaction, delay
):
    server = gunicorn_one_transaction
    acct = make_account()
    pi = _post(
        server,
        acct.sk,
        "/v1/payment_intents",
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "automatic",
        },
    ).json()
    records_before = SimulatedProcessorRecord.objects.count()
    server.reached.unlink(missing_ok=True)
    server.slow_processor.touch()
    lost: list = []

    def confirm():
        try:
            _post(server, acct.sk, f"/v1/payment_intents/{pi['id']}/confirm", idem="crash-key")
        except requests.RequestException as exc:
            lost.append(exc)

    thread = threading.Thread(target=confirm)
    thread.start()
    try:
        wait_for(server.reached.exists, message="the processor to make the authorisation")
        # made, inside the movement's open transaction: nobody outside sees any of it yet
        assert SimulatedProcessorRecord.objects.count() == records_before
        assert not Charge.objects.filter(payment_intent_id=pi["id"]).exists()
        server.kill_worker()
    finally:
        server.slow_processor.unlink()
        thread.join(timeout=30)
    assert lost, "the first request was answered: the kill did not land in it"
    # The transaction died with the worker: nothing of the attempt, on either side.
    intent = PaymentIntent.objects.get(id=pi["id"])
    assert intent.status == "requires_confirmation" and intent.latest_charge_id is None
    assert not Attempt.objects.filter(payment_intent_id=pi["id"]).exists()
    assert not Charge.objects.filter(payment_intent_id=pi["id"]).exists()
    assert SimulatedProcessorRecord.objects.count() == records_before
    assert IdempotencyKey.objects.get(key="crash-key").response_status is None

    time.sleep(delay)
    final = _retry_while_locked(server, acct.sk, f"/v1/payment_intents/{pi['id']}/confirm")
    assert final.status_code == 200, final.text
    assert final.json()["status"] == "succeeded"
    _assert_one_payment(pi["id"])


@pytest.mark.django_db(transaction=True)
def test_one_transaction_a_kill_9_after_the_commit_is_answered_by_the_retry(
    gunicorn_one_transaction,
):
    server = gunicorn_one_transaction
    acct = make_account()
    pi_id = _start_and_kill(server, acct.sk, kill="after_commit", idem="crash-key")
    final = _retry_while_locked(server, acct.sk, f"/v1/payment_intents/{pi_id}/confirm")
    assert final.status_code == 200, final.text
    assert final.json()["id"] == pi_id and final.json()["status"] == "succeeded"
    _assert_one_payment(pi_id)
