"""The Celery app, and the one place that spells out how a worker or beat is started
(`make run`'s supervisor, the test suite's worker fixture and the webhook benchmark use it)."""

import os
import sys
from collections.abc import Iterable

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("payintents")
if "celery" in os.path.basename(os.path.dirname(sys.argv[0])) + os.path.basename(sys.argv[0]):
    # a worker or beat: a wrong setting ends it with one line naming it, not a traceback
    from django.conf import settings

    from config.errors import startup_guard

    startup_guard(lambda: settings.INSTALLED_APPS)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_ready.connect
def _announce_ready(**_):
    """`runall` waits for this file before it prints its banner, so the worker's start-up lines
    come before the keys, not after them."""
    path = os.environ.get("WORKER_READY_FILE")
    if path:
        with open(path, "w") as ready:
            ready.write(str(os.getpid()))


# The default queue and webhook deliveries' own (settings: CELERY_TASK_ROUTES).
QUEUES = ("celery", "webhooks")


def celery_argv(*args: str) -> list[str]:
    """`python -m celery -A config …` with this interpreter."""
    return [sys.executable, "-m", "celery", "-A", "config", *args]


def worker_argv(
    *,
    hostname: str,
    queues: Iterable[str] = QUEUES,
    concurrency: int = 2,
    loglevel: str = "INFO",
    pool: str = "prefork",
    gossip: bool = True,
    mingle: bool = True,
    beat_schedule: str | os.PathLike | None = None,
    quiet: bool = False,
) -> list[str]:
    """A worker's command line. Without gossip and mingle a worker starts faster and ignores its
    siblings (tests, benchmarks); `beat_schedule` also runs beat inside it (-B) with that file;
    `quiet` leaves out the start-up banner."""
    argv = celery_argv(
        *(["--quiet"] if quiet else []),
        "worker",
        "--loglevel",
        loglevel,
        "-Q",
        ",".join(queues),
        "--concurrency",
        str(concurrency),
        "--pool",
        pool,
        "--hostname",
        hostname,
    )
    if not gossip:
        argv.append("--without-gossip")
    if not mingle:
        argv.append("--without-mingle")
    if beat_schedule is not None:
        argv += ["-B", "--schedule", str(beat_schedule)]
    return argv


def beat_argv(
    *, schedule: str | os.PathLike, loglevel: str = "INFO", quiet: bool = False
) -> list[str]:
    """Beat's command line (exactly one beat per deployment); no pidfile."""
    return celery_argv(
        *(["--quiet"] if quiet else []),
        "beat",
        "--loglevel",
        loglevel,
        "--schedule",
        str(schedule),
        "--pidfile",
        "",
    )
