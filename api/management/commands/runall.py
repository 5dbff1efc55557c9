"""`make run`: the API server, a Celery worker and Celery beat, stopped together by one Ctrl-C
or SIGTERM. If any of them dies, the others are stopped and the command exits non-zero."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from api.logging import ACCESS_LOG_FORMAT, ACCESS_LOGGER_CLASS
from config.celery import beat_argv, worker_argv

# gunicorn refuses a request past these limits with its own plain-text 400 before the app sees
# it; they are set well above anything a Stripe client sends (docs/operations.md): a request
# line (method, path, query string) up to 8190 bytes, gunicorn's maximum; up to 200 header
# fields of up to 16 KiB each.
GUNICORN_LIMITS = (
    "--limit-request-line",
    "8190",
    "--limit-request-fields",
    "200",
    "--limit-request-field_size",
    "16384",
)


def gunicorn_argv(*, host: str, port: str | int, workers: int = 2) -> list[str]:
    """The web server's command line: the scrubbing access log on stdout and the limits above."""
    return [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        "--logger-class",
        ACCESS_LOGGER_CLASS,
        *GUNICORN_LIMITS,
        "--graceful-timeout",
        "5",
    ]


class Command(BaseCommand):
    help = "Serve the API with a Celery worker and beat; one Ctrl-C stops all three."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, host, port, **options):
        commands = {
            "web": gunicorn_argv(
                host=host, port=port, workers=int(os.environ.get("WEB_CONCURRENCY", "2"))
            ),
            "worker": worker_argv(
                concurrency=int(os.environ.get("WORKER_CONCURRENCY", "2")),
                hostname=f"worker-{os.getpid()}@%h",
            ),
            # settings create the schedule's folder (.run/)
            "beat": beat_argv(schedule=settings.CELERY_BEAT_SCHEDULE_FILENAME),
        }
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(cmd, start_new_session=True)
            self.stdout.write(f"started {name} (pid {procs[name].pid})")
        self.stdout.write(
            f"serving on http://{host}:{port}/ (docs at /docs/); Ctrl-C stops everything"
        )
        exit_code = 0
        parent = os.getppid()
        try:
            while not stopping:
                if os.getppid() != parent:  # `make` was killed: do not leave orphans
                    break
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with {proc.returncode}; stopping the rest"
                        )
                        exit_code = proc.returncode or 1
                        stopping = True
                        break
                time.sleep(0.3)
        finally:
            # Each main process gets SIGTERM and shuts its own children down (Celery's warm
            # shutdown, gunicorn's graceful stop); whatever is left after the grace period is
            # killed with its whole process group.
            for proc in procs.values():
                if proc.poll() is None:
                    proc.terminate()
            deadline = time.time() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    pass
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.stdout.write("stopped")
        sys.exit(exit_code)
