"""Money as a person reads it, from integer minor units: one pure helper for every page."""

import pytest

from core.money import format_amount, parse_major_amount


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (2500, "usd", "$25.00"),
        (5, "usd", "$0.05"),
        (0, "usd", "$0.00"),
        (123456789, "usd", "$1,234,567.89"),
        (2500, "jpy", "¥2,500"),
        (2500, "krw", "₩2,500"),
        (999, "eur", "€9.99"),
        (1050, "gbp", "£10.50"),
        (2500, "chf", "25.00 CHF"),
        (1250, "kwd", "1.250 KWD"),
        (-1500, "usd", "-$15.00"),
        (-1500, "sek", "-15.00 SEK"),
        (2500, "USD", "$25.00"),
    ],
)
def test_format_amount(amount, currency, shown):
    assert format_amount(amount, currency) == shown


@pytest.mark.parametrize("typed", ["1²", "１２", "12.5²"])
def test_a_typed_amount_with_digits_other_than_ascii_is_no_amount(typed):
    assert parse_major_amount(typed, "usd") is None
