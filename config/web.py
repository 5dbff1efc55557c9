"""`payintents run web`: gunicorn in this process, with a master that drains before it stops.

gunicorn's own SIGTERM closes the listening socket at once: a load balancer still sending to
the node meets refused connections until its health check notices. Here the first SIGTERM
only starts draining (config.lifecycle: /readyz answers 503 while everything else is served as
before); after `drain_seconds` the master stops as gunicorn does, gracefully: no new
connections, in-flight requests finished within GRACEFUL_TIMEOUT. A second SIGTERM skips the
rest of the drain (still a graceful stop); SIGINT (Ctrl-C) and SIGQUIT are gunicorn's quick stop."""

import sys
import time

from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.arbiter import Arbiter

from config import lifecycle


class DrainingArbiter(Arbiter):
    drain_seconds = 10.0
    drain_until: float | None = None

    def handle_term(self):
        if self.drain_until is not None or self.drain_seconds <= 0:
            raise StopIteration
        lifecycle.start_draining()
        self.drain_until = time.monotonic() + self.drain_seconds
        self.log.info(
            "Draining: /readyz answers 503 for %ss, then the server stops", self.drain_seconds
        )

    def murder_workers(self):
        # Called on each turn of the master's loop (at least once a second).
        super().murder_workers()
        if self.drain_until is not None and time.monotonic() >= self.drain_until:
            raise StopIteration


class Application(WSGIApplication):
    """gunicorn's own application (its command line read from sys.argv), run by the arbiter
    above."""

    def __init__(self, drain_seconds: float):
        self.drain_seconds = drain_seconds
        super().__init__("payintents run web")

    def run(self):
        arbiter = DrainingArbiter(self)
        arbiter.drain_seconds = self.drain_seconds
        try:
            arbiter.run()
        except RuntimeError as exc:
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.exit(1)


def serve(argv: list[str], *, drain_seconds: float) -> None:
    """Run gunicorn with `argv` (its command line without the program) until it stops."""
    sys.argv = ["payintents run web", *argv]
    Application(drain_seconds).run()
