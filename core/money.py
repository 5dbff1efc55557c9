"""Money: integer amounts in a currency's smallest unit, and each currency's rules.

A currency's exponent (the digits of its minor unit) and its symbol come from CLDR through
`babel`, which keeps them current; Stripe's minor units differ from CLDR's for a few currencies,
and those are the one table kept here (`STRIPE_EXPONENTS`). What Stripe accepts
(`SUPPORTED_CURRENCIES`) and its minimum amounts are Stripe's own lists, which no library keeps.
"""

from __future__ import annotations

from functools import cache
from typing import Literal, cast

from babel.numbers import get_currency_precision, get_currency_symbol
from django.conf import settings

from .errors import InvalidRequestError

# Where Stripe's minor unit is not CLDR's: Stripe writes these in hundredths although CLDR
# gives them no decimals (Stripe's special case of ISK, `500` for 5 ISK, kept for backwards
# compatibility; HUF, COP, IDR and the rest are on Stripe's list of two-decimal currencies).
STRIPE_EXPONENTS: dict[str, Literal[0, 2, 3]] = dict.fromkeys(
    "afn all cop huf idr isk lak lbp mmk sos std yer".split(), 2
)
DEFAULT_MINIMUM_AMOUNTS = {
    "usd": 50,
    "eur": 50,
    "cad": 50,
    "aud": 50,
    "sgd": 50,
    "chf": 50,
    "nzd": 50,
    "gbp": 30,
    "jpy": 50,
    "hkd": 400,
    "mxn": 1000,
    "php": 2000,
}
#: The minimum of a currency neither table names.
FALLBACK_MINIMUM_AMOUNT = 50
MAX_AMOUNT = 99_999_999
# ISO 4217 codes accepted; settings.EXTRA_CURRENCIES can extend it.
SUPPORTED_CURRENCIES = frozenset(
    """aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd bwp byn
    bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf
    gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw kwd kyd kzt lak lbp lkr
    lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd omr pab pen
    pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std szl thb tjs tnd
    top try ttd twd tzs uah ugx usd uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw""".split()
)


def is_supported_currency(code: str) -> bool:
    """A lowercase ISO 4217 code this deployment accepts."""
    return code in SUPPORTED_CURRENCIES or code in settings.EXTRA_CURRENCIES


def minimum_amount(currency: str) -> int:
    minimums: dict[str, int] = settings.MINIMUM_AMOUNTS
    return minimums.get(currency, DEFAULT_MINIMUM_AMOUNTS.get(currency, FALLBACK_MINIMUM_AMOUNT))


def validate_amount_for_currency(amount: int, currency: str, param: str = "amount") -> None:
    """Raise the Stripe error for an amount that breaks the currency's rules."""
    if amount > MAX_AMOUNT:
        raise InvalidRequestError(
            f"Amount must be no more than {format_amount(MAX_AMOUNT, currency)} {currency}.",
            code="amount_too_large",
            param=param,
        )
    minimum = minimum_amount(currency)
    if amount < minimum:
        raise InvalidRequestError(
            f"Amount must be at least {format_amount(minimum, currency)} {currency}.",
            code="amount_too_small",
            param=param,
        )
    if currency_exponent(currency) == 3 and amount % 10 != 0:
        raise InvalidRequestError(
            f"Amounts in {currency} must end in 0 (three-decimal currency).",
            code="parameter_invalid_integer",
            param=param,
        )


# --- showing amounts to people ----------------------------------------------------------------


@cache
def currency_exponent(currency: str) -> Literal[0, 2, 3]:
    """How many digits of the currency's smallest unit follow the decimal point, as Stripe
    counts them: CLDR's (babel) but for `STRIPE_EXPONENTS`."""
    code = currency.lower()
    if code in STRIPE_EXPONENTS:
        return STRIPE_EXPONENTS[code]
    return cast(Literal[0, 2, 3], get_currency_precision(code.upper()))


@cache
def currency_symbol(currency: str) -> str | None:
    """The currency's sign in English (CLDR, through babel: "$", "CA$", "¥", "₪"), or None
    where English writes the code or letters ("CHF", "FCFA")."""
    symbol = get_currency_symbol(currency.upper(), locale="en")
    return None if symbol.replace("\u202f", "").isalpha() else symbol


def format_amount(amount: int, currency: str) -> str:
    """An integer amount in minor units as people read it: `format_amount(123456, "usd")` is
    "$1,234.56", `format_amount(500, "jpy")` "¥500", a currency with no sign "12.50 CHF". Pure."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(int(amount)), 10**exponent)
    number = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = currency_symbol(currency)
    if symbol is None:
        return f"{sign}{number} {currency.upper()}"
    return f"{sign}{symbol}{number}"


def major_units(amount: int, currency: str) -> str:
    """An integer amount in minor units as a person would type it, with no symbol and no
    grouping: `major_units(1500, "usd")` is "15.00", `(1500, "jpy")` "1500", `(1250, "kwd")`
    "1.250". The inverse of `parse_major_amount`. Pure."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(int(amount)), 10**exponent)
    return f"{sign}{major}" + (f".{minor:0{exponent}d}" if exponent else "")


# More whole digits than any amount has (the largest is far below 10**18).
MAX_TYPED_DIGITS = 18


def parse_major_amount(text: str, currency: str) -> int | None:
    """What a person typed ("12", "12.5", "1,234.56") → minor units, or None when it is not an
    amount in this currency (too many decimals, letters, negative). Never a float."""
    cleaned = str(text).strip().replace(",", "")
    exponent = currency_exponent(currency)
    whole, dot, fraction = cleaned.partition(".")
    if not cleaned.isascii():  # "²" and full-width digits pass isdigit() but are no amount
        return None
    if not whole.isdigit() or (dot and not fraction.isdigit() and fraction != ""):
        return None
    if len(fraction) > exponent or len(whole) > MAX_TYPED_DIGITS:
        return None  # (thousands of digits would also be past int()'s conversion limit)
    return int(whole) * 10**exponent + int((fraction or "0").ljust(exponent, "0") or "0")
