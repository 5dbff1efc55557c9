"""Webhook URLs may only reach public addresses (unless the operator allow-lists a network).

`check_url` runs at registration; `resolve_checked` runs again right before each connection and
returns the addresses to connect to, so the address checked is the address used: a name that
resolved to a public address at registration and to 127.0.0.1 now (DNS rebinding) is refused.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class UnsafeURL(Exception):
    """The URL is not http(s), has no host, does not resolve, or reaches a refused address."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (Host header, SNI, certificate check)
    port: int
    path: str  # path + query, what goes on the request line
    addresses: tuple[str, ...]  # resolved and checked


@lru_cache(maxsize=16)
def _allowed_networks(cidrs: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def allowed_networks() -> tuple:
    return _allowed_networks(tuple(settings.WEBHOOK_ALLOWED_NETWORKS or ()))


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _is_public(ip: IPAddress) -> bool:
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or ip in _CGNAT
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    ):
        return False
    return ip.is_global


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    networks = allowed_networks()
    embedded = _embedded_ipv4(ip)
    candidates = [ip] + ([embedded] if embedded is not None else [])
    if any(c in net for c in candidates for net in networks if c.version == net.version):
        return True
    return all(_is_public(c) for c in candidates)


def parse_url(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Invalid URL: {exc}.")
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise UnsafeURL("Invalid URL: only http and https URLs are accepted.")
    if not parts.hostname:
        raise UnsafeURL("Invalid URL: the URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("Invalid URL: credentials in the URL are not accepted.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve_checked(url: str) -> Target:
    """Resolve the URL's host and refuse it unless every address it resolves to is allowed."""
    scheme, host, port, path = parse_url(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"Invalid URL: the host {host!r} could not be resolved ({exc}).")
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeURL(f"Invalid URL: the host {host!r} has no address.")
    for address in addresses:
        if not address_allowed(address):
            raise UnsafeURL(
                f"Invalid URL: {host!r} resolves to {address}, which is not a public address."
            )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def check_url(url: str) -> None:
    resolve_checked(url)
