#!/usr/bin/env python
"""The webhook bench's receiver, in a process of its own (so it neither shares the producer's
interpreter lock nor slows it): HTTP/1.1 with keep-alive on 127.0.0.1:<port>, one asyncio loop
with a minimal parser (request line, headers, a `Content-Length` body), so it answers several
thousand requests a second on one core. (The first receiver, `http.server` with a thread per
connection, topped out near 400 requests a second on this machine: below what the senders do,
so it measured itself.)

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
import asyncio
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--slow", type=float, default=6.0)
    args = parser.parse_args()
    state: dict = {"good": {}, "duplicates": 0, "bad": {"slow": 0, "error": 0}}

    def answer(status: int, body: bytes = b"") -> bytes:
        reason = {200: b"OK", 500: b"Internal Server Error", 404: b"Not Found"}.get(status, b"")
        return b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n\r\n%s" % (status, reason, len(body), body)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.split(b"\r\n")
                method, path = lines[0].split(b" ")[:2]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get(b"content-length", b"0"))
                if length:
                    await reader.readexactly(length)
                now = time.time()
                parts = path.decode().strip("/").split("/")
                kind = parts[0]
                if method == b"GET":
                    if kind == "count":
                        body = json.dumps({n: len(ids) for n, ids in state["good"].items()})
                    else:
                        body = json.dumps(state)
                    writer.write(answer(200, body.encode()))
                elif kind == "reset":
                    state["good"].clear()
                    state["duplicates"] = 0
                    state["bad"] = {"slow": 0, "error": 0}
                    writer.write(answer(200))
                elif kind == "good":
                    event_id = headers.get(b"webhook-id", b"").decode()
                    seen = state["good"].setdefault(parts[1] if len(parts) > 1 else "", {})
                    if event_id in seen:
                        state["duplicates"] += 1
                    else:
                        seen[event_id] = now
                    writer.write(answer(200))
                else:
                    state["bad"][kind] = state["bad"].get(kind, 0) + 1
                    if kind == "slow":
                        await asyncio.sleep(args.slow)
                        writer.write(answer(200))
                    else:
                        writer.write(answer(500, b"down"))
                await writer.drain()
        except (ConnectionError, ValueError):
            return
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
