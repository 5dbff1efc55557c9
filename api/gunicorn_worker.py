"""The web server's worker: gunicorn's `gthread` with a buffering front and its own errors in the
API's dialect. `--worker-class api.gunicorn_worker.BufferingThreadWorker` (runall).

gthread hands a connection to one of its threads as soon as the first bytes arrive; the thread
then blocks reading the rest of the request. A client that sends its headers and never its body
(or sends it a byte a second) holds a thread for as long as it likes, and a few dozen such
clients hold them all: `/healthz` and every payment wait behind them. Here the worker's event
loop reads each request, headers and body, into memory without blocking (as a buffering proxy
in front would), and hands it to a thread only once it is whole: a thread only ever runs a
request that has fully arrived, so stalled connections cost a buffer each, never a thread. A
request that is not whole within `REQUEST_READ_SECONDS` of its first byte is dropped, one cut
off is dropped without running, and one larger than `MAX_BUFFERED_BYTES` is refused (413). A
connection that sends nothing, just accepted or kept alive after an answer, is closed after
gunicorn's `--keep-alive` seconds (gthread alone never closed a connection that had not sent its
first byte). Requests pipelined on one connection (HTTP/1.1: the next sent before the answer to
the one before) run one at a time, in order, each only once it is whole: the thread is given
exactly one request's bytes, and what follows stays in the loop's buffer until the answer is
written. The measurement that chose this over the alternatives is in docs/operations.md ("Slow
and stalled clients").

gunicorn answers what it cannot parse (a request line or headers past its limits, an invalid
header) itself, as an HTML page; here that answer is the API's JSON error envelope for a path
under /v1/ (or a request line it could not read) and plain text elsewhere.
"""

from __future__ import annotations

import errno
import json
import os
import re
import selectors
import socket
import threading
import time
from collections import deque
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

# A request (headers and body) is read within this many seconds of its first byte, or dropped.
REQUEST_READ_SECONDS = float(os.environ.get("REQUEST_READ_SECONDS", "30"))
# The largest request buffered: the body limit (MAX_BODY_BYTES) plus room for the headers.
MAX_BUFFERED_BYTES = int(os.environ.get("MAX_BODY_BYTES", str(256 * 1024))) + 256 * 1024
_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\S*)[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.I | re.M)


def request_length(data: bytes) -> int | None:
    """How many bytes of `data` the first request takes once all of it has arrived (its headers
    and all of its body: `Content-Length` bytes, or chunks up to the last one and the trailers),
    or None while some of it is still to come. What follows it is the next request (HTTP/1.1
    pipelining). A request gunicorn's parser would refuse anyway (an unreadable length or chunk
    size) counts as whole, all of `data`: the parser answers it and closes the connection."""
    end = data.find(_HEADER_END)
    if end < 0:
        return None
    body_start = end + 4
    head = data[:end]
    if _CHUNKED.search(head):
        size = _chunked_length(data, body_start)
        return None if size is None else body_start + size
    match = _CONTENT_LENGTH.search(head)
    if match is None:
        return body_start
    if not match.group(1).isdigit():
        return len(data)
    length = body_start + int(match.group(1))
    return length if len(data) >= length else None


def request_is_whole(data: bytes) -> bool:
    """Whether `data` holds at least one whole request (`request_length`)."""
    return request_length(data) is not None


def _chunked_length(data: bytes, start: int) -> int | None:
    """The length of the chunked body at `data[start:]` (through its trailers), or None."""
    pos = start
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size_text = data[pos:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return len(data) - start  # the parser refuses it
        if size == 0:
            rest = line_end + 2
            if data.startswith(b"\r\n", rest):
                return rest + 2 - start
            trailers_end = data.find(_HEADER_END, rest)
            return None if trailers_end < 0 else trailers_end + 4 - start
        pos = line_end + 2 + size + 2
        if pos > len(data):
            return None


_errors = threading.local()


def _is_api(first_line: bytes | None, path: str | None) -> bool:
    if path is not None:
        return path.startswith("/v1/")
    if first_line is None:
        return True
    parts = first_line.split(b" ")
    return len(parts) < 2 or parts[1].startswith(b"/v1/")


def _write_error(sock, status_int, reason, mesg, code="request_unreadable"):
    """gunicorn's own error answer (`gunicorn.util.write_error`), in the API's dialect."""
    if getattr(_errors, "api", True):
        body = json.dumps(
            {
                "error": {
                    "type": "api_error" if status_int >= 500 else "invalid_request_error",
                    "message": f"{reason}: {mesg}" if mesg else reason,
                    "request_log_url": None,
                    "decline_code": None,
                    "payment_intent": None,
                    "param": None,
                    "code": code,
                }
            },
            separators=(",", ":"),
        ).encode()
        content_type = "application/json"
    else:
        body = (f"{reason}: {mesg}" if mesg else reason).encode("utf-8", "replace") + b"\n"
        content_type = "text/plain; charset=utf-8"
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


util.write_error = _write_error  # gunicorn.workers.base calls it as util.write_error


class BufferingThreadWorker(ThreadWorker):
    """gthread whose event loop owns every connection between requests: it reads what arrives
    into the connection's buffer (`conn.buffered`), hands a thread one whole request at a time
    and keeps what follows it (a pipelined request) for after the answer, and closes a
    connection that keeps it waiting (`_waiting`: each one's deadline)."""

    def init_process(self):
        # every connection registered in the poller, waiting for bytes -> when it is dropped
        self._waiting: dict[TConn, float] = {}
        # kept-alive connections whose next request is already whole, for the loop to run
        self._ready: deque[TConn] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        super().init_process()

    def idle_seconds(self) -> float:
        """How long a connection may stay open sending nothing: gunicorn's `--keep-alive`, for
        a kept-alive connection and for one just accepted alike (at least a second)."""
        return max(float(self.cfg.keepalive), 1.0)

    def run(self):
        self.poller.register(self._wake_r, selectors.EVENT_READ, self._on_wake)
        try:
            super().run()
        finally:
            self._wake_r.close()
            self._wake_w.close()

    def accept(self, server, listener):
        # gthread's accept, with the connection's buffer and its idle deadline
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = TConn(self.cfg, sock, client, server)
        conn.buffered = bytearray()
        self.nr_conns += 1
        with self._lock:
            self._wait(conn, time.monotonic() + self.idle_seconds())

    def _wait(self, conn, deadline: float) -> None:
        """Register `conn` in the poller until `deadline` (the lock is held)."""
        self._waiting[conn] = deadline
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
        )

    def on_client_socket_readable(self, conn, client):
        with self._lock:
            if conn not in self._waiting:
                return  # dropped meanwhile
            was_idle = not conn.buffered
            closed = False
            try:
                while len(conn.buffered) <= MAX_BUFFERED_BYTES:
                    chunk = conn.sock.recv(65536)
                    if not chunk:
                        closed = True
                        break
                    conn.buffered += chunk
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                closed = True
            length = request_length(bytes(conn.buffered))
            if length is None:
                if closed:
                    # cut off: nothing of it runs (the client may still read the answer)
                    self._drop(
                        conn,
                        answer=(400, "Bad Request", "the request was cut off; nothing was done"),
                    )
                elif len(conn.buffered) > MAX_BUFFERED_BYTES:
                    self._drop(conn, answer=(413, "Request Entity Too Large", ""))
                elif was_idle and conn.buffered:
                    # a request has begun: it has REQUEST_READ_SECONDS to arrive whole
                    self._waiting[conn] = time.monotonic() + REQUEST_READ_SECONDS
                    self._unkeep(conn)
                return  # stay registered; more will come (or the deadline will pass)
            self._unwait(conn)
        self._dispatch(conn, length)

    def _dispatch(self, conn, length: int) -> None:
        """Give the first `length` buffered bytes, one whole request, to a thread (the loop's
        thread only: it owns `self.futures`); what follows stays buffered."""
        request = bytes(conn.buffered[:length])
        del conn.buffered[:length]
        conn.init()
        conn.parser.unreader.unread(request)
        conn.first_line = request[:200].split(b"\r\n", 1)[0]
        fs = self.tpool.submit(self.handle, conn)
        self._wrap_future(fs, conn)

    def finish_request(self, fs):
        """After an answer (on the request's thread): a kept-alive connection's next request is
        run at once when it is already whole (the loop is woken for it), else the connection
        waits in the poller: for the rest of that request, or idle."""
        conn = fs.conn
        keepalive = False
        if not fs.cancelled():
            try:
                keepalive = fs.result()[0]
            except Exception:
                keepalive = False
        if not (keepalive and self.alive):
            self.nr_conns -= 1
            conn.close()
            return
        try:
            conn.sock.setblocking(False)
        except OSError:
            self.nr_conns -= 1
            conn.close()
            return
        with self._lock:
            if request_length(bytes(conn.buffered)) is not None:
                self._ready.append(conn)
                try:
                    self._wake_w.send(b"\0")
                except (BlockingIOError, InterruptedError):
                    pass  # the loop has a wake-up pending already
                return
            if conn.buffered:
                deadline = time.monotonic() + REQUEST_READ_SECONDS
            else:
                conn.set_timeout()
                self._keep.append(conn)
                deadline = time.monotonic() + self.idle_seconds()
            self._wait(conn, deadline)

    def _on_wake(self, sock):
        try:
            while sock.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        while True:
            with self._lock:
                if not self._ready:
                    return
                conn = self._ready.popleft()
            length = request_length(bytes(conn.buffered))
            assert length is not None
            self._dispatch(conn, length)

    def _unkeep(self, conn) -> None:
        try:
            self._keep.remove(conn)
        except ValueError:
            pass

    def _unwait(self, conn) -> None:
        """Take `conn` out of the poller and the waiting lists (the lock is held)."""
        self._waiting.pop(conn, None)
        self._unkeep(conn)
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, conn, answer: tuple[int, str, str] | None = None) -> None:
        """Close a connection the loop was waiting on (the lock is held), answering `answer`
        first when part of a request had arrived."""
        self._unwait(conn)
        if answer is not None and conn.buffered:
            _errors.api = _is_api(bytes(conn.buffered[:200]).split(b"\r\n", 1)[0], None)
            status, reason, message = answer
            code = "request_body_incomplete" if status == 400 else "request_too_large"
            try:
                _write_error(conn.sock, status, reason, message, code=code)
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def murder_keepalived(self):
        """Drop every waiting connection past its deadline: idle ones (just accepted or kept
        alive) after `idle_seconds`, a request begun and not whole after REQUEST_READ_SECONDS."""
        now = time.monotonic()
        with self._lock:
            for conn in [c for c, deadline in self._waiting.items() if deadline <= now]:
                self._drop(conn)

    def handle(self, conn):
        _errors.api = _is_api(getattr(conn, "first_line", None), None)
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc):
        path = getattr(req, "path", None)
        if path is not None:
            _errors.api = _is_api(None, path)
        super().handle_error(req, client, addr, exc)


__all__ = ["BufferingThreadWorker", "request_is_whole", "request_length"]
