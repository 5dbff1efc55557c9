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
off is dropped without running, and one larger than `MAX_BUFFERED_BYTES` is refused (413). The
measurement that chose this over the alternatives is in bench/README.md ("Slow clients").

gunicorn answers what it cannot parse (a request line or headers past its limits, an invalid
header) itself, as an HTML page; here that answer is the API's JSON error envelope for a path
under /v1/ (or a request line it could not read) and plain text elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

# A request (headers and body) is read within this many seconds of its first byte, or dropped.
REQUEST_READ_SECONDS = float(os.environ.get("REQUEST_READ_SECONDS", "30"))
# The largest request buffered: the body limit (MAX_BODY_BYTES) plus room for the headers.
MAX_BUFFERED_BYTES = int(os.environ.get("MAX_BODY_BYTES", str(256 * 1024))) + 256 * 1024
_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\S*)[ \t]*$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:.*chunked", re.I | re.M)


def request_is_whole(data: bytes) -> bool:
    """Whether `data` holds at least one whole request: its headers and all of its body
    (`Content-Length` bytes, or chunks up to the last one). A request gunicorn's parser would
    refuse anyway (an unreadable length or chunk size) counts as whole: the parser answers it."""
    end = data.find(_HEADER_END)
    if end < 0:
        return False
    head, body = data[:end], data[end + 4 :]
    if _CHUNKED.search(head):
        return _chunks_whole(body)
    match = _CONTENT_LENGTH.search(head)
    if match is None:
        return True
    if not match.group(1).isdigit():
        return True
    return len(body) >= int(match.group(1))


def _chunks_whole(body: bytes) -> bool:
    pos = 0
    while True:
        line_end = body.find(b"\r\n", pos)
        if line_end < 0:
            return False
        size_text = body[pos:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return True  # the parser refuses it
        if size == 0:
            rest = body[line_end + 2 :]
            return rest.startswith(b"\r\n") or _HEADER_END in rest
        pos = line_end + 2 + size + 2
        if pos > len(body):
            return False


class _Pending:
    """What has arrived of a connection's next request."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.deadline = time.monotonic() + REQUEST_READ_SECONDS


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
    def init_process(self):
        self._pending: dict[int, _Pending] = {}
        super().init_process()

    def on_client_socket_readable(self, conn, client):
        with self._lock:
            pending = self._pending.setdefault(id(conn), _Pending())
            closed = False
            try:
                while len(pending.data) <= MAX_BUFFERED_BYTES:
                    chunk = conn.sock.recv(65536)
                    if not chunk:
                        closed = True
                        break
                    pending.data += chunk
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                closed = True
            whole = request_is_whole(bytes(pending.data))
            if closed and not whole:
                # cut off: nothing of it runs (the client may still read the answer)
                self._drop(
                    conn,
                    client,
                    answer=(400, "Bad Request", "the request was cut off; nothing was done"),
                )
                return
            if len(pending.data) > MAX_BUFFERED_BYTES:
                self._drop(conn, client, answer=(413, "Request Entity Too Large", ""))
                return
            if not whole:
                if conn.initialized:
                    # a kept-alive connection that started a request: no longer idle
                    try:
                        self._keep.remove(conn)
                    except ValueError:
                        pass
                return  # stay registered; more will come (or the deadline will pass)
            self.poller.unregister(client)
            if conn.initialized:
                try:
                    self._keep.remove(conn)
                except ValueError:
                    pass
            del self._pending[id(conn)]
        conn.init()
        conn.parser.unreader.unread(bytes(pending.data))
        conn.first_line = bytes(pending.data[:200]).split(b"\r\n", 1)[0]
        fs = self.tpool.submit(self.handle, conn)
        self._wrap_future(fs, conn)

    def _drop(self, conn, client, answer: tuple[int, str, str] | None = None) -> None:
        """Close a connection the loop was reading (the lock is held)."""
        pending = self._pending.pop(id(conn), None)
        try:
            self.poller.unregister(client)
        except (KeyError, ValueError, OSError):
            pass
        try:
            self._keep.remove(conn)
        except ValueError:
            pass
        if answer is not None and pending is not None and pending.data:
            _errors.api = _is_api(bytes(pending.data[:200]).split(b"\r\n", 1)[0], None)
            status, reason, message = answer
            code = "request_body_incomplete" if status == 400 else "request_too_large"
            try:
                _write_error(conn.sock, status, reason, message, code=code)
            except OSError:
                pass
        self.nr_conns -= 1
        conn.close()

    def murder_keepalived(self):
        super().murder_keepalived()
        now = time.monotonic()
        with self._lock:
            late = [key for key, pending in self._pending.items() if pending.deadline < now]
            if not late:
                return
            for key in list(self.poller.get_map().values()):
                conn = getattr(key.data, "args", (None,))[0]
                if conn is not None and id(conn) in late:
                    self._drop(conn, key.fileobj)
            for key in late:  # connections already gone
                self._pending.pop(key, None)

    def handle(self, conn):
        _errors.api = _is_api(getattr(conn, "first_line", None), None)
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc):
        path = getattr(req, "path", None)
        if path is not None:
            _errors.api = _is_api(None, path)
        super().handle_error(req, client, addr, exc)


__all__ = ["BufferingThreadWorker", "request_is_whole"]
