"""Celery beat with a leader: any number of `payintents run beat` processes run this scheduler,
and only the one holding the beat lease (cluster.services) sends the periodic tasks.

Every beat looks at the lease every LOOK seconds (a tenth of the lease): the leader renews it
there, the others try to take it, which succeeds once the leader let it expire (killed, cut off
from the database) or gave it up (stopped cleanly). The leader counts its lease from before the
statement that renewed it, by its own monotonic clock, and stops sending the moment that count
runs out without a renewal: it never sends on a lease the database may already have given to
another beat (so long as its process is not frozen for longer than a lease between the check
and the send; the sweeps lock what they work on, so even then nothing is done twice)."""

import logging
import os
import secrets
import socket
import time

from celery.beat import Scheduler
from django.conf import settings
from django.db import close_old_connections

from .services import beat_lease_release, beat_lease_take

logger = logging.getLogger("payintents.beat")


class LeaderScheduler(Scheduler):
    """The schedule in memory (the leader's): no schedule file to keep on a disk."""

    def __init__(self, *args, **kwargs):
        self.lease_seconds = float(settings.BEAT_LEASE_SECONDS)
        self.look_seconds = max(self.lease_seconds / 10, 0.2)
        self.renew_seconds = self.lease_seconds / 3
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.holder = f"{self.host}:{self.pid}:{secrets.token_hex(4)}"
        self.leading = False
        self.valid_until = 0.0  # monotonic; only meaningful while leading
        self.next_look = 0.0
        super().__init__(*args, **kwargs)

    def _look(self) -> None:
        started = time.monotonic()
        try:
            close_old_connections()
            held = beat_lease_take(
                holder=self.holder, host=self.host, pid=self.pid, seconds=self.lease_seconds
            )
        except Exception as exc:  # the database is out of reach: keep what is valid, look again
            logger.warning(
                "beat: could not %s the lease: %s: %s",
                "renew" if self.leading else "take",
                exc.__class__.__name__,
                (str(exc).strip().splitlines() or [""])[-1],
            )
            self.next_look = started + self.look_seconds
            return
        if held:
            if not self.leading:
                logger.warning(
                    "beat: took the lead (%s pid %s) for %ss",
                    self.host,
                    self.pid,
                    self.lease_seconds,
                )
            self.leading = True
            self.valid_until = started + self.lease_seconds
            self.next_look = started + self.renew_seconds
        else:
            if self.leading:
                logger.warning("beat: lost the lead (%s pid %s)", self.host, self.pid)
            self.leading = False
            self.next_look = started + self.look_seconds

    def tick(self, *args, **kwargs):
        now = time.monotonic()
        if now >= self.next_look:
            self._look()
            now = time.monotonic()
        if self.leading and now >= self.valid_until:
            logger.warning(
                "beat: lost the lead (%s pid %s): the lease ran out before it was renewed",
                self.host,
                self.pid,
            )
            self.leading = False
        if not self.leading:
            return max(self.next_look - now, 0.05)
        interval = super().tick(*args, **kwargs)
        return max(min(interval, self.next_look - time.monotonic()), 0.05)

    def close(self):
        if self.leading:
            try:
                beat_lease_release(holder=self.holder)
                logger.warning("beat: gave up the lead (%s pid %s)", self.host, self.pid)
            except Exception as exc:
                logger.warning(
                    "beat: could not give up the lead (%s); it lapses with its lease",
                    exc.__class__.__name__,
                )
            self.leading = False
        super().close()
