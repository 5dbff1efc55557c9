"""Where a request comes from, for GeoLocation: the one place every face asks.

The client's address is the connection's (`REMOTE_ADDR`): the service trusts no forwarding
header (no proxy is configured as trusted), so a client cannot choose its own country. The
country comes from `core.geo` (offline; a private or unknown address has none).
"""

from __future__ import annotations

from django.http import HttpRequest

from core.geo import country_of_address


def request_country(request: HttpRequest) -> str | None:
    """The ISO 3166-1 alpha-3 country of the request's client address, or None."""
    return country_of_address(request.META.get("REMOTE_ADDR"))
