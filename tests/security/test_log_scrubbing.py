"""No card number, CVC, API key, client secret or webhook secret survives the log filter."""

from __future__ import annotations

import logging

import pytest

from api.logging import ACCESS_LOG_FORMAT, ScrubSecretsFilter, scrub

SK = "sk_test_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"
SECRET = "pi_3AbCdEf_secret_Zx9Yw8Vu7"


@pytest.mark.parametrize(
    "line, secret",
    [
        (f"Authorization: Bearer {SK}", SK),
        (
            "Authorization: Basic c2tfdGVzdF9BMWIyQzNkNEU1ZjZHN2g4STlqMEsxbDJNM240TzVwNjo=",
            "c2tfdGVzdF9B",
        ),
        (f"key={SK.replace('sk_', 'pk_')}", SK.replace("sk_", "pk_")[8:]),
        (f"key={SK.replace('sk_test', 'rk_live')}", SK[8:]),
        (f"GET /v1/payment_intents/pi_3AbCdEf?client_secret={SECRET}", "Zx9Yw8Vu7"),
        ("secret=whsec_c2VjcmV0c2VjcmV0c2VjcmV0", "c2VjcmV0c2Vj"),
        ("card[number]=4242424242424242&card[cvc]=123", "4242424242424242"),
        ("card%5Bnumber%5D=4000000000000002", "4000000000000002"),
        ('{"number": "4242 4242 4242 4242"}', "4242 4242 4242 4242"),
        ("number=3782-822463-10005", "3782-822463-10005"),
        ("card[cvc]=123", "=123"),
        ("card%5Bcvc%5D=987", "987"),
        ('{"cvc": "4321"}', "4321"),
        ("{'cvc': 567}", "567"),
        ("GET /checkout/ctok_Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6", "Q1w2E3r4T5y6U7i8"),
    ],
)
def test_scrub_removes_the_secret(line, secret):
    assert secret not in scrub(line)


def test_scrub_keeps_harmless_text():
    line = "POST /v1/payment_intents 200 amount=1000 currency=usd pi_3AbCdEf sk_test_…"
    assert scrub(line) == line


def test_filter_scrubs_arguments_and_tracebacks():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key %s", (SK,), None)
    try:
        raise ValueError(f"card 4242424242424242 for {SECRET}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    ScrubSecretsFilter().filter(record)
    text = logging.Formatter().format(record)
    assert SK not in text
    assert "4242424242424242" not in text
    assert "Zx9Yw8Vu7" not in text
    assert "[card number]" in text


def test_access_log_format_has_no_query_string_nor_basic_auth_user():
    assert "%(r)s" not in ACCESS_LOG_FORMAT
    assert "%(q)s" not in ACCESS_LOG_FORMAT
    assert "%(u)s" not in ACCESS_LOG_FORMAT
    assert "%(U)s" in ACCESS_LOG_FORMAT


def test_the_configured_handlers_carry_the_filter(settings):
    for name, handler in settings.LOGGING["handlers"].items():
        assert "scrub" in handler.get("filters", []), name
