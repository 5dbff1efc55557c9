"""The `payintents` console script (what `pip install .` puts on the PATH).

    payintents run web       gunicorn serving the API: HOST, PORT, WEB_CONCURRENCY (processes),
                             WEB_THREADS (threads each), DRAIN_SECONDS, GRACEFUL_TIMEOUT
    payintents run worker    a Celery worker: WORKER_CONCURRENCY, WORKER_QUEUES
    payintents run beat      a Celery beat; any number may run, one leads (BEAT_LEASE_SECONDS)
    payintents <command>     any manage.py command: migrate, create_account, check --deploy, …

On SIGTERM a web node drains: /readyz answers 503 for DRAIN_SECONDS while it goes on serving
(a load balancer takes it out), then it stops accepting and finishes its in-flight requests
within GRACEFUL_TIMEOUT. A worker finishes the tasks it runs (Celery's warm shutdown) and hands
back the ones it had not started; each task is acknowledged only after it ran."""

import os
import sys

USAGE = "usage: payintents run web|worker|beat, or payintents <manage.py command> [options]"


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        sys.exit(f"payintents: {name} must be a whole number ≥ {minimum}, not {raw!r}")
    return value


def run_web() -> None:
    import django

    django.setup()
    from django.conf import settings

    from api.management.commands.runall import gunicorn_argv
    from config.web import serve

    argv = gunicorn_argv(
        host=os.environ.get("HOST", "") or "0.0.0.0",
        port=_int("PORT", 8000, minimum=1),
        workers=_int("WEB_CONCURRENCY", 2, minimum=1),
        threads=_int("WEB_THREADS", 4, minimum=1),
        graceful_timeout=_int("GRACEFUL_TIMEOUT", 30),
    )
    argv += ["--timeout", str(settings.INFLIGHT_TIMEOUT_SECONDS)]
    serve(argv[1:], drain_seconds=_int("DRAIN_SECONDS", 10))


def run_worker() -> None:
    import django

    django.setup()
    from django.conf import settings

    from config.celery import QUEUES, worker_argv

    queues = [q.strip() for q in os.environ.get("WORKER_QUEUES", "").split(",") if q.strip()]
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        sys.exit(
            f"payintents: WORKER_QUEUES names queues that do not exist ({', '.join(unknown)}); "
            f"it takes a comma-separated list of {', '.join(QUEUES)}"
        )
    argv = worker_argv(
        hostname=f"worker-{os.getpid()}@%h",
        queues=queues or QUEUES,
        concurrency=_int("WORKER_CONCURRENCY", 2, minimum=1),
        loglevel=settings.WORKER_LOG_LEVEL,
    )
    os.execv(argv[0], argv)


def run_beat() -> None:
    import django

    django.setup()
    from django.conf import settings

    from config.celery import beat_argv

    argv = beat_argv(
        schedule=settings.CELERY_BEAT_SCHEDULE_FILENAME, loglevel=settings.WORKER_LOG_LEVEL
    )
    os.execv(argv[0], argv)


RUNNERS = {"web": run_web, "worker": run_worker, "beat": run_beat}


def load_settings() -> None:
    """Read the settings now: a wrong one ends the process with one line naming it
    (`configuration error: VAR=value: expects …`), not a traceback."""
    from django.conf import settings

    from config.errors import startup_guard

    startup_guard(lambda: settings.INSTALLED_APPS)


def manage(argv: list[str]) -> None:
    """A manage.py command (`manage.py` and `payintents <command>` both come here)."""
    from django.core.management import execute_from_command_line

    load_settings()
    execute_from_command_line(argv)
    # Tasks the command handed to this process's pool (core.enqueue, `make run`'s in-process
    # webhooks) finish before the interpreter shuts down, which would refuse their follow-ups.
    enqueue = sys.modules.get("core.enqueue")  # (imported only by a command that needed it)
    if enqueue is not None:
        enqueue.drain()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if args[:1] == ["run"]:
        if len(args) != 2 or args[1] not in RUNNERS:
            sys.exit(USAGE)
        load_settings()
        RUNNERS[args[1]]()
        return
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
    manage(["payintents", *args])


if __name__ == "__main__":
    main()
