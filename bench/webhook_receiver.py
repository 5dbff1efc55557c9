#!/usr/bin/env python
"""The webhook bench's receiver, in a process of its own (so it neither shares the producer's
interpreter lock nor slows it): HTTP/1.1 with keep-alive on 127.0.0.1:<port>.

- `POST /good/<name>` answers 200 at once and records the time the `webhook-id` arrived (a
  second arrival of an id is counted as a duplicate);
- `POST /slow/…` answers 200 after `--slow` seconds (past the sender's timeout);
- `POST /error/…` answers 500 at once;
- `GET /count` answers {good name: events received};
- `GET /stats` answers JSON: per good name, {event id: arrival time}; duplicates; and the
  number of requests each bad path got;
- `POST /reset` forgets everything.

    python bench/webhook_receiver.py <port> [--slow 6]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--slow", type=float, default=6.0)
    args = parser.parse_args()
    lock = threading.Lock()
    state: dict = {"good": {}, "duplicates": 0, "bad": {"slow": 0, "error": 0}}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, status: int, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self):
            with lock:
                if self.path.startswith("/count"):
                    body = json.dumps({name: len(ids) for name, ids in state["good"].items()})
                else:
                    body = json.dumps(state)
            self._answer(200, body.encode())

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            now = time.time()
            parts = self.path.strip("/").split("/")
            kind = parts[0]
            if kind == "reset":
                with lock:
                    state["good"].clear()
                    state["duplicates"] = 0
                    state["bad"] = {"slow": 0, "error": 0}
                return self._answer(200)
            if kind == "good":
                event_id = self.headers.get("webhook-id", "")
                with lock:
                    seen = state["good"].setdefault(parts[1] if len(parts) > 1 else "", {})
                    if event_id in seen:
                        state["duplicates"] += 1
                    else:
                        seen[event_id] = now
                return self._answer(200)
            with lock:
                state["bad"][kind] = state["bad"].get(kind, 0) + 1
            if kind == "slow":
                time.sleep(args.slow)
                return self._answer(200)
            return self._answer(500, b"down")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
