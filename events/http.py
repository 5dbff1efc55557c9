"""Webhook POSTs to a checked, pinned address: no redirects, a hard timeout, the response read
only up to an excerpt, and the connection kept alive between the requests of a batch.

`Sender(url)` resolves and checks the host once (the SSRF guard: the address checked is the
address connected to), then each `post` goes over a kept-alive HTTP/1.1 connection to that
address. Connections are kept per process, per (scheme, host, port, address), and dropped when
idle for `KEEPALIVE_IDLE_SECONDS` (below common servers' keep-alive timeouts, so a connection
the server has already closed is rarely picked up; urllib3 also checks it before reuse).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import urllib3
from django.conf import settings

from .ssrf import Target, UnsafeURL, resolve_checked

EXCERPT_BYTES = 1024
# A longer answer body is not read to the end: the connection is closed instead of drained.
DRAIN_LIMIT_BYTES = 64 * 1024
KEEPALIVE_IDLE_SECONDS = 1.5
MAX_POOLS = 256


@dataclass
class SendResult:
    http_status: int | None
    latency_ms: int
    excerpt: str
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.http_status is not None and 200 <= self.http_status < 300

    @property
    def unreachable(self) -> bool:
        """No HTTP answer at all (refused, timed out, reset, or not a permitted address)."""
        return self.http_status is None


_pools: OrderedDict[tuple, tuple[urllib3.HTTPConnectionPool, float]] = OrderedDict()
_pools_lock = threading.Lock()


def _new_pool(target: Target, address: str) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            host=address,
            port=target.port,
            retries=False,
            maxsize=1,
            block=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs=ssl.CERT_REQUIRED,
        )
    return urllib3.HTTPConnectionPool(
        host=address, port=target.port, retries=False, maxsize=1, block=False
    )


def _pool(target: Target, address: str) -> urllib3.HTTPConnectionPool:
    """This process's kept-alive pool for the address, a new one if it sat idle too long."""
    key = (target.scheme, target.host, target.port, address)
    now = time.monotonic()
    stale = []
    with _pools_lock:
        entry = _pools.pop(key, None)
        if entry is not None and now - entry[1] > KEEPALIVE_IDLE_SECONDS:
            stale.append(entry[0])
            entry = None
        pool = entry[0] if entry is not None else _new_pool(target, address)
        _pools[key] = (pool, now)
        while len(_pools) > MAX_POOLS:
            stale.append(_pools.popitem(last=False)[1][0])
    for old in stale:
        old.close()
    return pool


def _touch(target: Target, address: str) -> None:
    key = (target.scheme, target.host, target.port, address)
    with _pools_lock:
        entry = _pools.get(key)
        if entry is not None:
            _pools[key] = (entry[0], time.monotonic())


def _discard(target: Target, address: str) -> None:
    key = (target.scheme, target.host, target.port, address)
    with _pools_lock:
        entry = _pools.pop(key, None)
    if entry is not None:
        entry[0].close()


def close_all() -> None:
    """Close every kept connection of this process."""
    with _pools_lock:
        pools = [entry[0] for entry in _pools.values()]
        _pools.clear()
    for pool in pools:
        pool.close()


class Sender:
    """POSTs to one URL: resolved and checked once, then every request over a kept-alive
    connection to the first checked address that accepts a connection."""

    def __init__(self, url: str) -> None:
        self.target: Target | None = None
        self.refused: str | None = None
        try:
            self.target = resolve_checked(url)
        except UnsafeURL as exc:
            self.refused = f"refused: {exc}"[:500]
            return
        target = self.target
        default_port = 443 if target.scheme == "https" else 80
        host_header = target.host if ":" not in target.host else f"[{target.host}]"
        if target.port != default_port:
            host_header += f":{target.port}"
        self.fixed_headers = {
            "Host": host_header,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": settings.WEBHOOK_USER_AGENT,
        }
        self.addresses = list(target.addresses)
        self.last_error = "no address"

    def post(self, *, body: bytes, headers: dict) -> SendResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        if self.target is None:
            return SendResult(None, elapsed(), "", self.refused)
        target = self.target
        all_headers = {**headers, **self.fixed_headers}
        timeout = urllib3.Timeout(total=settings.WEBHOOK_TIMEOUT_SECONDS)
        while self.addresses:
            address = self.addresses[0]
            pool = _pool(target, address)
            try:
                response = pool.urlopen(
                    "POST",
                    target.path,
                    body=body,
                    headers=all_headers,
                    redirect=False,
                    retries=False,
                    timeout=timeout,
                    preload_content=False,
                    assert_same_host=False,
                )
                try:
                    excerpt = response.read(EXCERPT_BYTES, decode_content=False)
                    left = response.length_remaining
                    if left is not None and left <= DRAIN_LIMIT_BYTES:
                        response.drain_conn()  # the rest of a short answer: the connection stays
                    elif left is None or left:
                        response.close()  # unknown or long: not read, the connection closed
                finally:
                    response.release_conn()
                _touch(target, address)
                text = excerpt.decode("utf-8", errors="replace")[:EXCERPT_BYTES]
                error = None
                if 300 <= response.status < 400:
                    location = response.headers.get("Location", "?")
                    error = f"redirect to {location!s:.200} not followed"
                return SendResult(response.status, elapsed(), text, error)
            except urllib3.exceptions.NewConnectionError as exc:
                _discard(target, address)
                self.last_error = f"connection failed: {exc.__class__.__name__}"
                self.addresses.pop(0)  # the next checked address
                continue
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                _discard(target, address)
                return SendResult(None, elapsed(), "", f"{exc.__class__.__name__}: {exc}"[:500])
        return SendResult(None, elapsed(), "", self.last_error[:500])


def post(url: str, *, body: bytes, headers: dict) -> SendResult:
    """One POST: resolve and check the host now, connect to the checked address (Host header
    and SNI carry the name), never follow a redirect."""
    return Sender(url).post(body=body, headers=headers)
