"""Money as a person reads it, from integer minor units: one pure helper for every page."""

import pytest
from babel.numbers import get_currency_precision

from core.countries import COUNTRY_ALPHA2, country_name, is_country_alpha3
from core.money import (
    SUPPORTED_CURRENCIES,
    currency_exponent,
    format_amount,
    major_units,
    parse_major_amount,
)


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


# --- the tables babel and pycountry keep, checked against Stripe's and ISO's published lists ---

# Stripe's documented lists (docs.stripe.com/currencies): zero-decimal and three-decimal
# currencies; every other supported currency has two decimals (ISK, HUF, TWD, COP, IDR, … too).
STRIPE_ZERO_DECIMAL = set("bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split())
STRIPE_THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}


def test_every_supported_currency_has_stripes_exponent():
    expected = {
        code: 0 if code in STRIPE_ZERO_DECIMAL else 3 if code in STRIPE_THREE_DECIMAL else 2
        for code in SUPPORTED_CURRENCIES
    }
    assert {code: currency_exponent(code) for code in SUPPORTED_CURRENCIES} == expected
    # where CLDR (babel) has no decimals but Stripe keeps two: Stripe's table wins
    assert currency_exponent("isk") == 2 and get_currency_precision("ISK") == 0
    assert currency_exponent("huf") == 2 and currency_exponent("twd") == 2


@pytest.mark.parametrize(
    ("currency", "typed", "minor"),
    [("isk", "5", 500), ("huf", "12.50", 1250), ("ugx", "2500", 2500), ("omr", "1.5", 1500)],
)
def test_stripes_special_cases_read_and_written_in_its_minor_units(currency, typed, minor):
    assert parse_major_amount(typed, currency) == minor
    assert parse_major_amount(major_units(minor, currency), currency) == minor


def test_the_signs_are_cldrs_english_ones():
    shown = {code: format_amount(1000, code) for code in ("cad", "aud", "hkd", "mxn", "inr", "ils")}
    assert shown == {
        "cad": "CA$10.00",
        "aud": "A$10.00",
        "hkd": "HK$10.00",
        "mxn": "MX$10.00",
        "inr": "₹10.00",
        "ils": "₪10.00",
    }
    assert format_amount(500, "xaf") == "500 XAF"  # English writes letters: the code, after


def test_countries_come_from_iso_3166_through_pycountry():
    assert is_country_alpha3("IRL") and is_country_alpha3("USA") and is_country_alpha3("ALA")
    assert not is_country_alpha3("irl") and not is_country_alpha3("XXX")
    assert not is_country_alpha3(None) and not is_country_alpha3("IE")
    assert country_name("IRL") == "Ireland"
    assert country_name("BOL") == "Bolivia"  # the common name where ISO has one
    assert country_name("ZZZ") == "ZZZ"
    assert len(COUNTRY_ALPHA2) == 249 and {"IE", "US", "DE"} <= COUNTRY_ALPHA2
