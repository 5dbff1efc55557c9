"""GeoLocation: the country of a client's IP address, offline.

`iptocc` ships its IP-to-country table inside the package (built from the regional internet
registries' delegation files): nothing is fetched at run time and a lookup is a binary search
in memory. A private, reserved, loopback or unknown address has no country. Pure: the caller
says which address is the client's (`api.geolocation.request_country` for a request).
"""

from __future__ import annotations

import ipaddress

import iptocc

from .countries import alpha3_of_alpha2


def country_of_address(address: str | None) -> str | None:
    """The ISO 3166-1 alpha-3 country of `address` (IPv4 or IPv6), or None when it is not a
    global address or the table has no country for it."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if not ip.is_global:
        return None
    alpha2 = iptocc.country_code(str(ip))
    if not alpha2:
        return None
    return alpha3_of_alpha2(alpha2)
