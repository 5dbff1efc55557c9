"""The test cards (docs/testing.md) at the processor level: every test card's tokenisation and outcome."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from django.conf import settings

from api.errors import from_domain
from payments.exceptions import (
    IncorrectNumber,
    InvalidCvc,
    InvalidExpiryMonth,
    InvalidExpiryYear,
    TestCardInLiveMode,
)
from payments.processors.base import RawCard
from payments.processors.simulated import CARDS_BY_MAGIC_ID, SimulatedProcessor

YEAR = datetime.now(UTC).year + 2
processor = SimulatedProcessor()


def tokenize(number: str, *, livemode: bool = False, exp_month: int = 12, exp_year: int = YEAR):
    return processor.tokenize(
        card=RawCard(number=number, exp_month=exp_month, exp_year=exp_year, cvc="123"),
        livemode=livemode,
    )


def authorize(token: str, *, off_session=False, three_d_secure_passed=False, capture=True):
    return processor.authorize(
        reference="ch_test",
        token=token,
        amount=1000,
        currency="usd",
        capture=capture,
        off_session=off_session,
        three_d_secure_passed=three_d_secure_passed,
        livemode=False,
    )


SUCCEEDING = [
    ("4242424242424242", "visa"),
    ("5555555555554444", "mastercard"),
    ("378282246310005", "amex"),
    ("6011111111111117", "discover"),
    ("3566002020360505", "jcb"),
    ("3056930009020004", "diners"),
    ("6200000000000005", "unionpay"),
]


@pytest.mark.parametrize(("number", "brand"), SUCCEEDING)
def test_succeeding_cards_tokenize_with_their_brand_and_authorize(number, brand):
    card = tokenize(number)
    assert card.brand == brand
    assert card.last4 == number[-4:]
    result = authorize(card.token)
    assert result.status == "succeeded"
    assert result.captured is True
    assert result.decline is None


def test_authorize_without_capture_leaves_it_uncaptured():
    result = authorize(tokenize("4242424242424242").token, capture=False)
    assert (result.status, result.captured) == ("succeeded", False)


DECLINING = [
    ("4000000000000002", "card_declined", "generic_decline", "Your card was declined."),
    (
        "4000000000009995",
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    ("4000000000009987", "card_declined", "lost_card", "Your card was declined."),
    ("4000000000009979", "card_declined", "stolen_card", "Your card was declined."),
    ("4000000000000069", "expired_card", "expired_card", "Your card has expired."),
    (
        "4000000000000127",
        "incorrect_cvc",
        "incorrect_cvc",
        "Your card's security code is incorrect.",
    ),
    (
        "4000000000000119",
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
]


@pytest.mark.parametrize(("number", "code", "decline_code", "message"), DECLINING)
def test_declining_cards_decline_with_stripes_codes_and_words(number, code, decline_code, message):
    result = authorize(tokenize(number).token)
    assert result.status == "declined"
    assert result.decline.code == code
    assert result.decline.decline_code == decline_code
    assert result.decline.message == message


def test_other_luhn_valid_number_succeeds():
    card = tokenize("4111111111111111")
    assert authorize(card.token).status == "succeeded"


def test_three_d_secure_card_requires_action_first():
    result = authorize(tokenize("4000002760003184").token)
    assert result.status == "requires_action"


def test_three_d_secure_card_succeeds_once_authenticated():
    result = authorize(tokenize("4000002760003184").token, three_d_secure_passed=True)
    assert result.status == "succeeded"


def test_three_d_secure_card_off_session_declines_authentication_required():
    result = authorize(tokenize("4000002760003184").token, off_session=True)
    assert result.status == "declined"
    assert result.decline.code == "authentication_required"
    assert result.decline.decline_code == "authentication_required"


def test_three_d_secure_then_decline_card_requires_action_first():
    result = authorize(tokenize("4000008260003178").token)
    assert result.status == "requires_action"


def test_three_d_secure_then_decline_card_declines_insufficient_funds_after_authentication():
    result = authorize(tokenize("4000008260003178").token, three_d_secure_passed=True)
    assert result.status == "declined"
    assert result.decline.decline_code == "insufficient_funds"


def test_authenticate_reports_the_challenge_outcome():
    token = tokenize("4000002760003184").token
    assert processor.authenticate(reference="ch_x", token=token, succeeded=True) is True
    assert processor.authenticate(reference="ch_x", token=token, succeeded=False) is False


def test_processing_card_answers_processing_then_resolves_to_success():
    token = tokenize("4000000000000077").token
    assert authorize(token).status == "processing"
    resolved = processor.resolve_async(reference="ch_x", token=token, capture=True)
    assert (resolved.status, resolved.captured) == ("succeeded", True)


def test_processing_declined_card_answers_processing_then_resolves_to_generic_decline():
    token = tokenize("4000000000000259").token
    assert authorize(token).status == "processing"
    resolved = processor.resolve_async(reference="ch_x", token=token, capture=True)
    assert resolved.status == "declined"
    assert resolved.decline.decline_code == "generic_decline"


def test_capture_may_be_partial():
    result = processor.capture(reference="ch_x", amount=400)
    assert (result.succeeded, result.amount_captured) == (True, 400)


def test_void_releases_without_error():
    assert processor.void(reference="ch_x") is None


def test_increment_succeeds_for_a_succeeding_card():
    token = tokenize("4242424242424242").token
    result = processor.increment(reference="ch_x", token=token, new_amount=2000)
    assert result.status == "succeeded"


def test_increment_declines_for_a_declining_card():
    token = tokenize("4000000000009995").token
    result = processor.increment(reference="ch_x", token=token, new_amount=2000)
    assert result.status == "declined"


def test_unknown_token_declines_with_processing_error():
    result = authorize("tok_not_ours")
    assert result.decline.code == "processing_error"


def test_number_failing_luhn_is_incorrect_number():
    with pytest.raises(IncorrectNumber) as exc:
        tokenize("4242424242424241")
    assert from_domain(exc.value).http_status == 402
    assert exc.value.code == "incorrect_number"


def test_non_digit_number_is_incorrect_number():
    with pytest.raises(IncorrectNumber):
        tokenize("4242abcd42424242")


def test_spaces_in_the_number_are_ignored():
    assert tokenize("4242 4242 4242 4242").last4 == "4242"


def test_expiry_year_in_the_past_is_invalid_expiry_year():
    with pytest.raises(InvalidExpiryYear):
        tokenize("4242424242424242", exp_year=datetime.now(UTC).year - 1)


def test_expiry_month_in_the_past_of_this_year_is_invalid_expiry_month():
    now = datetime.now(UTC)
    if now.month == 1:
        pytest.skip("no past month in January")
    with pytest.raises(InvalidExpiryMonth):
        tokenize("4242424242424242", exp_month=now.month - 1, exp_year=now.year)


def test_month_thirteen_is_invalid_expiry_month():
    with pytest.raises(InvalidExpiryMonth):
        tokenize("4242424242424242", exp_month=13)


def test_two_digit_year_means_this_century():
    card = tokenize("4242424242424242", exp_year=YEAR % 100)
    assert card.exp_year == YEAR


def test_non_numeric_cvc_is_invalid_cvc():
    with pytest.raises(InvalidCvc):
        processor.tokenize(
            card=RawCard(number="4242424242424242", exp_month=1, exp_year=YEAR, cvc="12a"),
            livemode=False,
        )


def test_live_mode_refuses_a_test_card():
    with pytest.raises(TestCardInLiveMode) as exc:
        tokenize("4242424242424242", livemode=True)
    assert exc.value.code == "card_declined"
    assert exc.value.decline_code == "test_mode_live_card"


def test_live_mode_accepts_another_valid_number():
    assert tokenize("4111111111111111", livemode=True).last4 == "1111"


def test_fingerprint_is_the_keyed_hmac_of_the_number():
    expected = hmac.new(
        settings.CARD_FINGERPRINT_KEY.encode(), b"4242424242424242", hashlib.sha256
    ).hexdigest()
    assert tokenize("4242424242424242").fingerprint == expected


def test_same_number_gives_same_fingerprint_and_different_tokens():
    first, second = tokenize("4242424242424242"), tokenize("4242424242424242")
    assert first.fingerprint == second.fingerprint
    assert first.token != second.token


@pytest.mark.parametrize("number", sorted(card.number for card in CARDS_BY_MAGIC_ID.values()))
def test_token_never_contains_the_number(number):
    card = tokenize(number)
    assert number not in card.token


def test_raw_card_repr_hides_number_and_cvc():
    text = repr(RawCard(number="4242424242424242", exp_month=1, exp_year=YEAR, cvc="987"))
    assert "4242424242424242" not in text
    assert "987" not in text


def test_funding_comes_from_the_test_card_table():
    assert tokenize("4000056655665556").funding == "debit"
    assert tokenize("5105105105105100").funding == "prepaid"
