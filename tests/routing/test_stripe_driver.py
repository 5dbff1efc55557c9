"""The `stripe` driver against a real upstream: a second instance of this service (its own port,
its own database; `tests/routing/upstream.py`), driven directly through `StripeProcessor` and
checked upstream with the official library, as a merchant would look at its Stripe account."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

import pytest
import requests
import stripe

from payments.exceptions import (
    IncorrectNumber,
    InvalidCvc,
    InvalidExpiryMonth,
    InvalidExpiryYear,
)
from payments.processors.base import ProcessorError, RawCard
from payments.processors.stripe import StripeProcessor
from tests.routing.upstream import upstream  # noqa: F401  (the fixture)

VISA = "4242424242424242"
_ids = count(1)


def ids() -> tuple[str, str]:
    """A fresh (attempt id, charge id) pair: unique across runs, as the upstream's idempotency
    keys are per account and the database is new for each module."""
    n = next(_ids)
    stamp = time.time_ns()
    return f"att_test{stamp}{n}", f"ch_test{stamp}{n}"


@pytest.fixture(scope="module")
def driver(upstream) -> StripeProcessor:  # noqa: F811
    return StripeProcessor(
        api_key=upstream.secret_key,
        api_base=upstream.base_url,
        timeout=10,
        return_url="https://shop.example.com/return",
    )


@pytest.fixture(scope="module")
def look(upstream) -> stripe.StripeClient:  # noqa: F811
    """The merchant's own view of its upstream account."""
    return stripe.StripeClient(
        upstream.secret_key, base_addresses={"api": upstream.base_url}, max_network_retries=0
    )


def card(number: str = VISA, **kwargs) -> RawCard:
    kwargs.setdefault("exp_month", 12)
    kwargs.setdefault("exp_year", 2040)
    kwargs.setdefault("cvc", "123")
    return RawCard(number=number, **kwargs)


def token_for(driver: StripeProcessor, number: str = VISA) -> str:
    return driver.tokenize(card=card(number), livemode=False).token


def pay(driver: StripeProcessor, number: str = VISA, *, amount=1000, capture=True, **kwargs):
    attempt_id, reference = ids()
    params = dict(
        attempt_id=attempt_id,
        reference=reference,
        token=token_for(driver, number),
        amount=amount,
        currency="usd",
        capture=capture,
        off_session=False,
        three_d_secure_passed=False,
        livemode=False,
    )
    params.update(kwargs)
    return driver.authorize(**params), params


# --- the vault ---------------------------------------------------------------------------------


def test_tokenize_vaults_the_card_upstream_and_keeps_what_may_be_stored(driver, look):
    tokenized = driver.tokenize(card=card(), livemode=False)
    assert tokenized.token.startswith("pm_")
    assert (tokenized.brand, tokenized.last4, tokenized.exp_month, tokenized.exp_year) == (
        "visa",
        "4242",
        12,
        2040,
    )
    assert tokenized.funding == "credit" and tokenized.country == "US"
    assert tokenized.fingerprint
    method = look.v1.payment_methods.retrieve(tokenized.token)
    assert method.card.last4 == "4242"
    # the same card, the same fingerprint
    assert driver.tokenize(card=card(), livemode=False).fingerprint == tokenized.fingerprint


@pytest.mark.parametrize(
    "raw, error",
    [
        (card("4242424242424241"), IncorrectNumber),
        (card(exp_month=13), InvalidExpiryMonth),
        (card(exp_year=2001), InvalidExpiryYear),
        (card(cvc="12a"), InvalidCvc),
    ],
)
def test_a_card_the_upstream_refuses_raises_our_card_error(driver, raw, error):
    with pytest.raises(error):
        driver.tokenize(card=raw, livemode=False)


def test_the_card_number_and_cvc_never_reach_a_log(driver, caplog):
    caplog.set_level(logging.DEBUG)
    driver.tokenize(card=card("4000056655665556", cvc="987"), livemode=False)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "4000056655665556" not in logged
    # The CVC as a value of its own: "987" may well be part of a timestamp or an id.
    assert not re.search(r"(?<![0-9A-Za-z])987(?![0-9A-Za-z])", logged), logged
    # not even scrubbed (api.logging does that to every line): the library's request bodies
    # never leave its logger
    assert "Post details" not in logged


# --- payments ---------------------------------------------------------------------------------


def test_authorize_with_capture_pays_upstream(driver, look):
    result, params = pay(driver, amount=1234)
    assert result.status == "succeeded" and result.captured
    assert result.reference.startswith("pi_")
    assert result.network_status == "approved_by_network" and result.risk_level == "normal"
    intent = look.v1.payment_intents.retrieve(result.reference)
    assert (intent.status, intent.amount, intent.amount_received) == ("succeeded", 1234, 1234)
    assert intent.payment_method == params["token"]
    assert intent.metadata.to_dict() == {
        "payintents_charge": params["reference"],
        "payintents_attempt": params["attempt_id"],
    }


def test_a_manual_authorisation_then_a_partial_capture(driver, look):
    result, params = pay(driver, amount=1000, capture=False)
    assert result.status == "succeeded" and not result.captured
    assert look.v1.payment_intents.retrieve(result.reference).status == "requires_capture"

    attempt_id, _ = ids()
    captured = driver.capture(
        attempt_id=attempt_id,
        reference=params["reference"],
        amount=600,
        processor_reference=result.reference,
    )
    assert captured.succeeded and captured.amount_captured == 600
    # asked again with the same attempt id: the same answer, nothing captured twice
    again = driver.capture(
        attempt_id=attempt_id,
        reference=params["reference"],
        amount=600,
        processor_reference=result.reference,
    )
    assert again == captured
    intent = look.v1.payment_intents.retrieve(result.reference)
    assert (intent.status, intent.amount_received) == ("succeeded", 600)


def test_void_releases_the_authorisation_and_a_second_void_is_harmless(driver, look):
    result, params = pay(driver, capture=False)
    for _ in range(2):
        attempt_id, _ = ids()
        driver.void(
            attempt_id=attempt_id,
            reference=params["reference"],
            processor_reference=result.reference,
        )
    assert look.v1.payment_intents.retrieve(result.reference).status == "canceled"


def test_increment_raises_the_authorisation_upstream(driver, look):
    result, params = pay(driver, amount=1000, capture=False)
    attempt_id, _ = ids()
    incremented = driver.increment(
        attempt_id=attempt_id,
        reference=params["reference"],
        token=params["token"],
        new_amount=1500,
        processor_reference=result.reference,
    )
    assert incremented.status == "succeeded" and incremented.extra == {"amount": 1500}
    assert incremented.reference == result.reference
    intent = look.v1.payment_intents.retrieve(result.reference)
    assert (intent.status, intent.amount, intent.amount_capturable) == (
        "requires_capture",
        1500,
        1500,
    )
    captured = driver.capture(
        attempt_id=ids()[0],
        reference=params["reference"],
        amount=1500,
        processor_reference=result.reference,
    )
    assert captured.amount_captured == 1500


@pytest.mark.parametrize(
    "number, decline_code",
    [("4000000000000002", "generic_decline"), ("4000000000009995", "insufficient_funds")],
)
def test_a_decline_is_a_declined_answer_on_the_upstream_payment(driver, look, number, decline_code):
    result, _ = pay(driver, number)
    assert result.status == "declined"
    assert result.decline.code == "card_declined"
    assert result.decline.decline_code == decline_code
    assert result.decline.message
    assert result.network_status == "declined_by_network"
    assert result.reference.startswith("pi_")
    intent = look.v1.payment_intents.retrieve(result.reference)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.decline_code == decline_code


def test_3d_secure_answers_the_upstreams_challenge_page_then_its_outcome(driver, upstream):  # noqa: F811
    result, params = pay(driver, "4000000000003220", capture=False)
    assert result.status == "requires_action"
    assert result.reference.startswith("pi_")
    redirect_url = result.extra["redirect_url"]
    assert redirect_url.startswith(f"{upstream.base_url}/")

    # asked before the customer finished: still the challenge, no payment
    passed = dict(params, attempt_id=ids()[0], three_d_secure_passed=True)
    early = driver.authorize(**passed, processor_reference=result.reference)
    assert early.status == "declined"
    assert early.decline.code == "authentication_required"

    # the customer completes the challenge on the upstream's page
    page = requests.post(
        redirect_url, data={"outcome": "complete"}, allow_redirects=False, timeout=10
    )
    assert page.status_code == 302
    assert page.headers["Location"].startswith("https://shop.example.com/return?")
    assert driver.authenticate(
        reference=params["reference"],
        token=params["token"],
        succeeded=True,
        processor_reference=result.reference,
    )
    done = driver.authorize(
        **dict(passed, attempt_id=ids()[0]), processor_reference=result.reference
    )
    assert done.status == "succeeded" and not done.captured
    assert done.reference == result.reference


def test_a_failed_challenge_upstream_is_a_decline(driver):
    result, params = pay(driver, "4000000000003220")
    page = requests.post(
        result.extra["redirect_url"], data={"outcome": "fail"}, allow_redirects=False, timeout=10
    )
    assert page.status_code == 302
    after = driver.authorize(
        **dict(params, attempt_id=ids()[0], three_d_secure_passed=True),
        processor_reference=result.reference,
    )
    assert after.status == "declined"
    assert after.decline.code == "payment_intent_authentication_failure"
    assert after.network_status == "not_sent_to_network"
    assert after.reference == result.reference


def verify(driver: StripeProcessor, number: str = VISA, **kwargs):
    attempt_id, _ = ids()
    params = dict(
        attempt_id=attempt_id,
        reference=f"seti_test{time.time_ns()}",
        token=token_for(driver, number),
        usage="off_session",
        three_d_secure_passed=False,
        livemode=False,
        **kwargs,
    )
    return driver.verify(**params), params


def test_verify_checks_the_card_with_an_upstream_setup_intent(driver, look):
    result, params = verify(driver)
    assert result.status == "succeeded" and result.reference.startswith("seti_")
    setup = look.v1.setup_intents.retrieve(result.reference)
    assert (setup.status, setup.payment_method) == ("succeeded", params["token"])
    assert setup.metadata["payintents_attempt"] == params["attempt_id"]
    # asked again with the same attempt id: the same setup, made once
    assert driver.verify(**params).reference == result.reference


def test_verify_of_a_declining_card_is_a_declined_answer(driver, look):
    result, _ = verify(driver, "4000000000009995")
    assert result.status == "declined"
    assert (result.decline.code, result.decline.decline_code) == (
        "card_declined",
        "insufficient_funds",
    )
    assert look.v1.setup_intents.retrieve(result.reference).status == "requires_payment_method"


def test_verify_of_a_3d_secure_card_answers_the_upstreams_challenge_then_its_outcome(driver):
    result, params = verify(driver, "4000000000003220")
    assert result.status == "requires_action" and result.extra["redirect_url"]
    passed = dict(params, attempt_id=ids()[0], three_d_secure_passed=True)
    early = driver.verify(**passed, processor_reference=result.reference)
    assert early.decline.code == "authentication_required"
    page = requests.post(
        result.extra["redirect_url"],
        data={"outcome": "complete"},
        allow_redirects=False,
        timeout=10,
    )
    assert page.status_code == 302
    done = driver.verify(**dict(passed, attempt_id=ids()[0]), processor_reference=result.reference)
    assert (done.status, done.reference) == ("succeeded", result.reference)


def test_off_session_a_card_that_needs_3d_secure_is_declined(driver):
    result, _ = pay(driver, "4000000000003220", off_session=True)
    assert result.status == "declined"
    assert result.decline.code == "authentication_required"
    assert result.network_status == "not_sent_to_network"


def test_an_asynchronous_payment_answers_processing(driver):
    result, params = pay(driver, "4000000000000077")
    assert result.status == "processing" and result.reference.startswith("pi_")
    # the upstream's worker (none runs here) has not resolved it: still processing
    resolved = driver.resolve_async(
        attempt_id=ids()[0],
        reference=params["reference"],
        token=params["token"],
        capture=True,
        processor_reference=result.reference,
    )
    assert resolved.status == "processing" and resolved.reference == result.reference


def test_a_replayed_authorisation_answers_the_first_payment_and_pays_once(driver, look):
    result, params = pay(driver, amount=777)
    again = driver.authorize(**params)
    assert again == result
    found = look.v1.payment_intents.search(
        params={"query": f"metadata['payintents_attempt']:'{params['attempt_id']}'"}
    )
    assert [intent.id for intent in found.data] == [result.reference]
    # the ledger asks `lookup` only of a driver that cannot replay; it still answers
    received = driver.lookup(attempt_id=params["attempt_id"])
    assert received.operation == "authorize" and received.outcome.reference == result.reference
    assert received.outcome.status == "succeeded"
    with pytest.raises(ProcessorError, match="unknown"):
        driver.lookup(attempt_id="att_never_sent")


# --- refunds ----------------------------------------------------------------------------------


def test_a_partial_refund_is_made_once_upstream(driver, look):
    result, params = pay(driver, amount=1000)
    refund_id = f"re_ours{time.time_ns()}"
    refund = dict(
        reference=refund_id,
        charge_reference=params["reference"],
        token=params["token"],
        amount=300,
        currency="usd",
        processor_reference=result.reference,
    )
    made = driver.refund(**refund)
    assert made.status == "succeeded" and made.reference.startswith("re_")
    assert driver.refund(**refund) == made  # asked again: the same refund
    listed = look.v1.refunds.list(params={"payment_intent": result.reference})
    assert [(r.id, r.amount, r.status) for r in listed.data] == [(made.reference, 300, "succeeded")]
    assert look.v1.payment_intents.retrieve(result.reference).amount_received == 1000

    resolved = driver.resolve_refund(
        reference=refund_id, token=params["token"], processor_reference=made.reference
    )
    assert resolved == made
    # a refund that completed cannot be stopped
    assert driver.cancel_refund(reference=refund_id, processor_reference=made.reference) is False


# --- failures of the upstream itself ----------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_upstream_is_a_processor_error_at_once(upstream):  # noqa: F811
    driver = StripeProcessor(
        api_key=upstream.secret_key, api_base=f"http://127.0.0.1:{_closed_port()}", timeout=5
    )
    started = time.monotonic()
    with pytest.raises(ProcessorError, match="could not be reached") as info:
        driver.tokenize(card=card(), livemode=False)
    assert time.monotonic() - started < 2
    assert upstream.secret_key not in str(info.value)
    assert VISA not in str(info.value)


def test_an_upstream_that_never_answers_times_out_as_a_processor_error(upstream):  # noqa: F811
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        driver = StripeProcessor(
            api_key=upstream.secret_key,
            api_base=f"http://127.0.0.1:{silent.getsockname()[1]}",
            timeout=0.5,
        )
        started = time.monotonic()
        with pytest.raises(ProcessorError, match="could not be reached"):
            driver.void(attempt_id="att_x", reference="ch_x", processor_reference="pi_x")
        assert time.monotonic() - started < 3


class _Failing(BaseHTTPRequestHandler):
    status = 500

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"error": {"type": "api_error", "message": "Something went wrong."}}'
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_5xx_or_429_upstream_answer_is_a_processor_error(upstream, status):  # noqa: F811
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    server.status = status
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        driver = StripeProcessor(
            api_key=upstream.secret_key, api_base=f"http://127.0.0.1:{server.server_port}"
        )
        attempt_id, reference = ids()
        with pytest.raises(ProcessorError, match=f"HTTP {status}"):
            driver.authorize(
                attempt_id=attempt_id,
                reference=reference,
                token="pm_x",
                amount=1000,
                currency="usd",
                capture=True,
                off_session=False,
                three_d_secure_passed=False,
                livemode=False,
            )
    finally:
        server.shutdown()
        server.server_close()


def test_a_key_the_upstream_refuses_is_a_processor_error_without_the_key(upstream):  # noqa: F811
    bad_key = "sk_test_" + "Z" * 24
    driver = StripeProcessor(api_key=bad_key, api_base=upstream.base_url)
    with pytest.raises(ProcessorError, match="refused this connection's API key") as info:
        driver.tokenize(card=card(), livemode=False)
    assert bad_key not in str(info.value) and bad_key not in repr(driver)


def test_a_payment_the_upstream_does_not_know_is_a_processor_error(driver):
    _, params = pay(driver)  # a token of the account, used on another intent id below
    with pytest.raises(ProcessorError, match="HTTP 404"):
        driver.capture(
            attempt_id=ids()[0],
            reference=params["reference"],
            amount=100,
            processor_reference="pi_nope",
        )
    with pytest.raises(ProcessorError, match="no upstream payment"):
        driver.capture(attempt_id=ids()[0], reference=params["reference"], amount=100)


def test_a_test_key_never_serves_live_payments(driver):
    with pytest.raises(ProcessorError, match="test-mode key"):
        driver.tokenize(card=card(), livemode=True)
    attempt_id, reference = ids()
    with pytest.raises(ProcessorError, match="test-mode key"):
        driver.authorize(
            attempt_id=attempt_id,
            reference=reference,
            token="pm_x",
            amount=1000,
            currency="usd",
            capture=True,
            off_session=False,
            three_d_secure_passed=False,
            livemode=True,
        )
