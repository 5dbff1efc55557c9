"""ISO 3166-1 countries, from `pycountry` (the ISO 3166 Maintenance Agency's list as Debian's
iso-codes ships it, kept current by the library): `is_country_alpha3` is what validation asks,
`COUNTRY_ALPHA2` what a card's country is checked against, `country_name` what pages show."""

from __future__ import annotations

import pycountry

ALPHA3: frozenset[str] = frozenset(country.alpha_3 for country in pycountry.countries)
COUNTRY_ALPHA2: frozenset[str] = frozenset(country.alpha_2 for country in pycountry.countries)


def is_country_alpha3(code: object) -> bool:
    """An officially assigned ISO 3166-1 alpha-3 code, upper case (`USA`, `DEU`, `IRL`)."""
    return isinstance(code, str) and code in ALPHA3


def country_name(code: str) -> str:
    """The English short name of an alpha-3 code, its common name where ISO gives one
    ("Bolivia"); the code itself when unknown."""
    country = pycountry.countries.get(alpha_3=code) if code in ALPHA3 else None
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


_ALPHA3_BY_ALPHA2: dict[str, str] = {
    country.alpha_2: country.alpha_3 for country in pycountry.countries
}


def alpha3_of_alpha2(alpha2: str) -> str | None:
    """The alpha-3 code of an ISO 3166-1 alpha-2 code (`US` → `USA`), or None when unassigned."""
    return _ALPHA3_BY_ALPHA2.get(alpha2.upper())
