"""The beat lease on PostgreSQL: one holder at a time, renewed by it, taken by another only once
it lapsed or was given up; many beats asking at once, one gets it (real threads)."""

import threading
import time

import pytest
from django.db import connection

from cluster.beat import LeaderScheduler
from cluster.models import BeatLease
from cluster.selectors import beat_lease_get
from cluster.services import beat_lease_release, beat_lease_take
from config.celery import app

pytestmark = [pytest.mark.django_db(transaction=True)]


def take(holder, seconds=30.0):
    return beat_lease_take(holder=holder, host="h", pid=1, seconds=seconds)


def test_a_held_lease_is_refused_to_another_beat_and_renewed_by_its_holder():
    assert take("a")
    first = BeatLease.objects.get()
    assert not take("b")
    time.sleep(0.05)
    assert take("a")
    renewed = BeatLease.objects.get()
    assert renewed.holder == "a"
    assert renewed.acquired_at == first.acquired_at
    assert renewed.expires_at > first.expires_at


def test_an_expired_lease_goes_to_the_next_beat_that_asks():
    assert take("a", seconds=0.2)
    time.sleep(0.3)
    assert take("b")
    lease, held = beat_lease_get()
    assert (lease.holder, held) == ("b", True)
    assert not take("a")


def test_a_released_lease_is_taken_at_once():
    assert take("a")
    assert beat_lease_release(holder="a")
    assert not beat_lease_release(holder="b")
    assert take("b")


def test_beats_asking_at_once_get_one_leader():
    assert take("old", seconds=0.1)
    time.sleep(0.2)
    barrier = threading.Barrier(8)
    won = []

    def ask(name):
        try:
            barrier.wait()
            if take(name):
                won.append(name)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(f"beat-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert BeatLease.objects.get().holder == won[0]


def test_only_the_leading_scheduler_sends_and_a_follower_takes_over_when_it_stops(settings):
    settings.BEAT_LEASE_SECONDS = 2
    sent = {"a": [], "b": []}

    def scheduler(name):
        sched = LeaderScheduler(app=app, lazy=True)
        sched.apply_entry = lambda entry, producer=None: sent[name].append(entry.name)
        sched.setup_schedule()
        return sched

    a, b = scheduler("a"), scheduler("b")
    a.tick()
    b.tick()
    assert a.leading and not b.leading
    for sched in (a, b):  # everything is due: the leader sends it all, the follower nothing
        for entry in sched.schedule.values():
            entry.last_run_at = entry.last_run_at.replace(year=2000)
        sched._heap = None
    a.tick()
    b.tick()
    assert sent["a"] and not sent["b"]
    a.close()  # a clean stop gives the lead up
    b.next_look = 0
    b.tick()
    assert b.leading
    b.close()
