"""The URLs and origins callers hand the service (a confirm's `return_url`, a checkout intent's
`redirects`, its `allowed_origins`): absolute http(s) only, so nothing the service later links
to or redirects to can be `javascript:`, `data:` or a scheme-relative `//host`; and a URI as
RFC 3986 writes one (what the API reference's `format: uri` says), so raw non-ASCII, a bad
percent escape or a `{`, `|`, `^` is refused rather than taken leniently. Loopback hosts are a
developer's own machine: accepted in test mode only."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

from .errors import InvalidRequestError

MAX_URL_LENGTH = 2048
# Characters never part of a URL as a browser sends one: whitespace, quotes, angle brackets,
# a backslash (which browsers read as `/`), and control characters.
_FORBIDDEN = set(" \t\r\n<>\"'\\`") | {chr(c) for c in range(0x20)} | {"\x7f"}


# RFC 3986's grammar of a URI with an authority (`scheme://authority/path?query#fragment`).
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+.\-]*://"
    rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"  # userinfo
    rf"(?:\[[0-9A-Fa-f:.vV]+\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"  # host
    rf"(?::[0-9]*)?"  # port
    rf"(?:/{_PCHAR}*)*"  # path
    rf"(?:\?(?:{_PCHAR}|[/?])*)?"  # query
    rf"(?:#(?:{_PCHAR}|[/?])*)?"  # fragment
)


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _parse(value: str) -> SplitResult | None:
    """The parts of an absolute http(s) URL with a host and a valid port, or None."""
    if not isinstance(value, str) or any(c in _FORBIDDEN for c in value):
        return None
    if not _URI.fullmatch(value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port  # ValueError past 65535 or not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if port == 0:
        return None
    return parts


def absolute_http_url(value: str, *, param: str, livemode: bool) -> str:
    """`value` if it is an absolute http(s) URL the service may send a customer to, else the
    `url_invalid` error naming `param`."""
    parts = _parse(value)
    if parts is None or len(value) > MAX_URL_LENGTH:
        raise InvalidRequestError(
            f"Invalid URL: {str(value)[:80]!r}. Use an absolute http or https URL "
            "(https://shop.example.com/done).",
            code="url_invalid",
            param=param,
        )
    if livemode and _is_loopback(parts.hostname or ""):
        raise InvalidRequestError(
            f"Invalid URL: {value[:80]!r}. A loopback host is accepted in test mode only.",
            code="url_invalid",
            param=param,
        )
    return value


def is_absolute_http_url(value: str | None) -> bool:
    """Whether `value` is an http(s) URL a page may link or redirect to (what was stored
    before these rules, or came from elsewhere, is checked again before use)."""
    return bool(value) and _parse(value) is not None  # type: ignore[arg-type]


def web_origin(value: str, *, param: str, livemode: bool) -> str:
    """`value` as an origin, `scheme://host[:port]` lowercased, or the error naming `param`."""
    parts = _parse(str(value))
    if (
        parts is None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "?" in str(value)
        or "#" in str(value)
        or parts.username is not None
        or any(c in str(value) for c in ";,*")
    ):
        raise InvalidRequestError(
            f"Invalid origin: {str(value)[:80]!r}. An origin is a scheme, a host and an "
            "optional port, like https://shop.example.com.",
            code="parameter_invalid_string",
            param=param,
        )
    hostname = parts.hostname or ""
    if livemode and _is_loopback(hostname):
        raise InvalidRequestError(
            f"Invalid origin: {str(value)[:80]!r}. A loopback host is accepted in test mode only.",
            code="parameter_invalid_string",
            param=param,
        )
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.lower()}://{hostname.lower()}{port}"
