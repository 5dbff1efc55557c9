"""Webhook POSTs to a checked, pinned address: no redirects, a hard timeout, the response read
only up to an excerpt, and the connection kept alive between the requests of a batch.

`Sender(url)` resolves and checks the host once (the SSRF guard: the address checked is the
address connected to), then each `post` goes over a kept-alive HTTP/1.1 connection to that
address. Connections are kept per process, per (scheme, host, port, address), and dropped when
idle for `KEEPALIVE_IDLE_SECONDS` (below common servers' keep-alive timeouts) or when the server
has closed them meanwhile (looked at before each reuse).

The HTTP/1.1 exchange is written here over a plain socket (TLS through `ssl` with the name as
SNI and the certificate checked against it) rather than through urllib3: a request is one
`sendall` of bytes built in one piece, the answer's status line and headers are read from a
buffered reader, and only what a delivery needs is parsed (status, `Content-Length`,
`Transfer-Encoding: chunked`, `Connection: close`, `Location`). urllib3 over `http.client` spent
about three times as much of a sender's time per request (two sends, header objects, the email
parser for the answer), and that exchange was most of a sender's work.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings

from .ssrf import Target, UnsafeURL, resolve_checked

EXCERPT_BYTES = 1024
# A longer answer body is not read to the end: the connection is closed instead of drained.
DRAIN_LIMIT_BYTES = 64 * 1024
KEEPALIVE_IDLE_SECONDS = 1.5
MAX_POOLS = 256
# An answer's status line or one header line longer than this, or more headers than
# MAX_HEADERS, is not HTTP we read: a failure with no status.
MAX_LINE_BYTES = 16 * 1024
MAX_HEADERS = 100


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


class _BadAnswer(Exception):
    """What came back is not an HTTP/1.x answer we read."""


class _Timeout(Exception):
    pass


class _Connection:
    """One kept-alive connection: the socket and its buffered reader."""

    __slots__ = ("sock", "reader", "used_at")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb", buffering=16 * 1024)
        self.used_at = time.monotonic()

    def dropped(self) -> bool:
        """The server closed it (or sent something unasked) while it sat idle."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()


# Idle connections of this process: key → the idle connections to that address, newest last.
_idle: OrderedDict[tuple, list[_Connection]] = OrderedDict()
_idle_lock = threading.Lock()


def _take(key: tuple) -> _Connection | None:
    """An idle connection to the address, if one is still fresh and open."""
    now = time.monotonic()
    stale: list[_Connection] = []
    found = None
    with _idle_lock:
        idle = _idle.get(key)
        while idle:
            conn = idle.pop()
            if now - conn.used_at > KEEPALIVE_IDLE_SECONDS:
                stale.append(conn)
                continue
            found = conn
            break
        if idle is not None and not idle:
            del _idle[key]
    for conn in stale:
        conn.close()
    if found is not None and found.dropped():
        found.close()
        return None
    return found


def _give_back(key: tuple, conn: _Connection) -> None:
    conn.used_at = time.monotonic()
    evicted: list[_Connection] = []
    with _idle_lock:
        _idle.setdefault(key, []).append(conn)
        _idle.move_to_end(key)
        while len(_idle) > MAX_POOLS:
            evicted.extend(_idle.popitem(last=False)[1])
    for old in evicted:
        old.close()


def close_all() -> None:
    """Close every kept connection of this process."""
    with _idle_lock:
        conns = [conn for idle in _idle.values() for conn in idle]
        _idle.clear()
    for conn in conns:
        conn.close()


_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    global _tls_context
    if _tls_context is None:
        _tls_context = ssl.create_default_context()  # CERT_REQUIRED, hostname checked
    return _tls_context


def _connect(target: Target, address: str, timeout: float) -> _Connection:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.connect((address, target.port))
        if target.scheme == "https":
            sock = _tls().wrap_socket(sock, server_hostname=target.host)
    except BaseException:
        sock.close()
        raise
    return _Connection(sock)


def _readline(conn: _Connection, deadline: float) -> bytes:
    _arm(conn, deadline)
    line = conn.reader.readline(MAX_LINE_BYTES + 1)
    if len(line) > MAX_LINE_BYTES:
        raise _BadAnswer("answer line too long")
    return line


def _read(conn: _Connection, size: int, deadline: float) -> bytes:
    _arm(conn, deadline)
    return conn.reader.read(size)


def _arm(conn: _Connection, deadline: float) -> None:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Timeout()
    conn.sock.settimeout(left)


def _exchange(conn: _Connection, request: bytes, deadline: float) -> tuple[int, bytes, dict, bool]:
    """Send one request, read its answer: (status, excerpt, the headers we read, whether the
    connection may be kept)."""
    _arm(conn, deadline)
    conn.sock.sendall(request)
    while True:
        status_line = _readline(conn, deadline)
        if not status_line:
            raise ConnectionResetError("the connection closed before an answer")
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise _BadAnswer(f"not an HTTP answer: {status_line[:80]!r}")
        version, status = parts[0], int(parts[1])
        headers: dict[bytes, bytes] = {}
        for _ in range(MAX_HEADERS + 1):
            line = _readline(conn, deadline)
            if line in (b"\r\n", b"\n", b""):
                break
            name, sep, value = line.partition(b":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        else:
            raise _BadAnswer("too many answer headers")
        if 100 <= status < 200:
            continue  # an interim answer (100 Continue): the real one follows
        break
    connection = headers.get(b"connection", b"").lower()
    keep = version == b"HTTP/1.1" and b"close" not in connection
    if version == b"HTTP/1.0" and b"keep-alive" in connection:
        keep = True
    if status in (204, 304):
        return status, b"", headers, keep
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        excerpt, whole = _read_chunked(conn, deadline)
        return status, excerpt, headers, keep and whole
    length_value = headers.get(b"content-length")
    if length_value is None or not length_value.isdigit():
        # Read until the server closes: the excerpt, then the connection is not kept.
        return status, _read(conn, EXCERPT_BYTES, deadline), headers, False
    length = int(length_value)
    excerpt = _read(conn, min(length, EXCERPT_BYTES), deadline) if length else b""
    left = length - len(excerpt)
    if left > DRAIN_LIMIT_BYTES:
        return status, excerpt, headers, False  # long: not read, the connection closed
    while left > 0:
        chunk = _read(conn, min(left, 64 * 1024), deadline)
        if not chunk:
            return status, excerpt, headers, False
        left -= len(chunk)
    return status, excerpt, headers, keep


def _read_chunked(conn: _Connection, deadline: float) -> tuple[bytes, bool]:
    """A chunked body: its first EXCERPT_BYTES, and whether it was read to its end (a body
    longer than DRAIN_LIMIT_BYTES is not: the connection is then closed)."""
    excerpt = bytearray()
    total = 0
    while True:
        size_line = _readline(conn, deadline).split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            return bytes(excerpt[:EXCERPT_BYTES]), False
        if size == 0:
            while _readline(conn, deadline) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(excerpt[:EXCERPT_BYTES]), True
        total += size
        if total > DRAIN_LIMIT_BYTES:
            return bytes(excerpt[:EXCERPT_BYTES]), False
        data = _read(conn, size + 2, deadline)  # the chunk and its CRLF
        if len(data) < size + 2:
            return bytes(excerpt[:EXCERPT_BYTES]), False
        if len(excerpt) < EXCERPT_BYTES:
            excerpt += data[:size]


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
        path = target.path or "/"
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"User-Agent: {settings.WEBHOOK_USER_AGENT}\r\n"
        ).encode("latin-1")
        self.addresses = list(target.addresses)
        self.last_error = "no address"

    def _request(self, body: bytes, headers: dict) -> bytes:
        lines = [self._head]
        for name, value in headers.items():
            text = f"{name}: {value}"
            if "\r" in text or "\n" in text:
                raise ValueError(f"header {name!r} holds a line break")
            lines.append(text.encode("latin-1") + b"\r\n")
        lines.append(b"Content-Length: %d\r\n\r\n" % len(body))
        lines.append(body)
        return b"".join(lines)

    def post(self, *, body: bytes, headers: dict) -> SendResult:
        started = time.monotonic()

        def elapsed() -> int:
            return int((time.monotonic() - started) * 1000)

        if self.target is None:
            return SendResult(None, elapsed(), "", self.refused)
        target = self.target
        request = self._request(body, headers)
        deadline = started + settings.WEBHOOK_TIMEOUT_SECONDS
        while self.addresses:
            address = self.addresses[0]
            key = (target.scheme, target.host, target.port, address)
            conn = _take(key)
            if conn is None:
                try:
                    conn = _connect(target, address, max(0.001, deadline - time.monotonic()))
                except (OSError, ssl.SSLError) as exc:
                    if isinstance(exc, TimeoutError | socket.timeout):
                        return SendResult(None, elapsed(), "", "timed out connecting")
                    self.last_error = f"connection failed: {exc.__class__.__name__}"
                    self.addresses.pop(0)  # the next checked address
                    continue
            try:
                status, excerpt, answer, keep = _exchange(conn, request, deadline)
            except (_Timeout, TimeoutError):
                conn.close()
                return SendResult(
                    None, elapsed(), "", f"timed out after {settings.WEBHOOK_TIMEOUT_SECONDS:g} s"
                )
            except (OSError, ssl.SSLError, _BadAnswer, ValueError) as exc:
                conn.close()
                return SendResult(None, elapsed(), "", f"{exc.__class__.__name__}: {exc}"[:500])
            if keep:
                _give_back(key, conn)
            else:
                conn.close()
            text = excerpt.decode("utf-8", errors="replace")[:EXCERPT_BYTES]
            error = None
            if 300 <= status < 400:
                location = answer.get(b"location", b"?").decode("latin-1")
                error = f"redirect to {location:.200} not followed"
            return SendResult(status, elapsed(), text, error)
        return SendResult(None, elapsed(), "", self.last_error[:500])


def post(url: str, *, body: bytes, headers: dict) -> SendResult:
    """One POST: resolve and check the host now, connect to the checked address (Host header
    and SNI carry the name), never follow a redirect."""
    return Sender(url).post(body=body, headers=headers)
