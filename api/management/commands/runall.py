"""`make run`: the API server, a Celery worker and Celery beat, stopped together by one Ctrl-C
or SIGTERM. If any of them dies, the others are stopped and the command exits non-zero.

Before it starts them it prepares the checkout in this one process, saying what it does: the
migrations (`migrate` runs only when a migration file on disk is not recorded as applied in the
database: one query instead of loading every migration), the static files (collected again only
when a source file changed); then, while the web server and the worker start, the system checks
(run again only when a source file, the installed packages or the environment changed: a
content digest, `.run/checks.sha256`) and the demo account (`ensure_demo_account`), whose keys
the banner prints. The database is DATABASE_URL's, or the embedded PostgreSQL
that the settings started for this process (config/embedded_db.py): this process owns it, the
three it starts use it through the DATABASE_URL they inherit, and it stops when this one does.

For a laptop, the three processes get: `HOST`/`PORT` (so the 3-D Secure links point at this
server), loopback webhook URLs allowed (`WEBHOOK_ALLOWED_NETWORKS`, unless set), the worker and
beat at a quiet log level; the demo keys are printed last, once the server answers."""

import hashlib
import importlib.util
import json
import os
import pkgutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles.finders import get_finders
from django.core import checks
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader

from accounts.management.commands.ensure_demo_account import keys_path
from accounts.models import Account
from api.logging import ACCESS_LOG_FORMAT, ACCESS_LOGGER_CLASS
from config.celery import beat_argv, worker_argv

# A laptop's own receivers (`listen --forward-to http://localhost:4242/…`, a local app).
LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128"
READY_TIMEOUT_SECONDS = 60


def python_command() -> str:
    """The Python that runs this command, as a developer types it from the checkout
    (`.venv/bin/python` under `make run`): a bare `python` is not the venv's and has no Django."""
    relative = os.path.relpath(sys.executable)
    return sys.executable if relative.startswith("..") else relative


def wait_until_up(
    host: str, port: int, *, ready_file: Path, procs: dict, stopping, timeout: float
) -> bool:
    """True once the server accepts connections on host:port and the worker has written its
    ready file (False if a process died or a stop was asked for first)."""
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    deadline = time.monotonic() + timeout
    listening = False
    while time.monotonic() < deadline:
        if stopping() or any(proc.poll() is not None for proc in procs.values()):
            return False
        if not listening:
            try:
                socket.create_connection((target, port), timeout=0.5).close()
                listening = True
            except OSError:
                pass
        if listening and ready_file.exists():
            return True
        time.sleep(0.2)
    return False


def demo_keys() -> dict | None:
    """The demo account's test keys (`ensure_demo_account` keeps them in .run/), if they belong
    to an account of this database."""
    path = keys_path()
    try:
        keys = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(keys, dict) or not Account.objects.filter(id=keys.get("account")).exists():
        return None
    return keys


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


def gunicorn_argv(
    *,
    host: str,
    port: str | int,
    workers: int = 2,
    threads: int = 4,
    graceful_timeout: int = 5,
    preload: bool = False,
) -> list[str]:
    """The web server's command line: the scrubbing access log on stdout and the limits above
    (`payintents run web` runs the same command line in its own process). `preload`: the app
    is loaded once, before the workers fork (`make run`: one Django start-up instead of one per
    worker, and the port opens only once the app answers)."""
    return [
        os.path.join(os.path.dirname(sys.executable), "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "api.gunicorn_worker.BufferingThreadWorker",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--access-logformat",
        ACCESS_LOG_FORMAT,
        "--logger-class",
        ACCESS_LOGGER_CLASS,
        *GUNICORN_LIMITS,
        "--graceful-timeout",
        str(graceful_timeout),
        *(["--preload"] if preload else []),
    ]


def static_sources_digest() -> str:
    """A digest of every static source file's path, size and modification time: collectstatic
    (hashing and compressing each file, seconds) runs again only when it changes."""
    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def shut_down(procs: dict[str, subprocess.Popen]) -> None:
    """Each main process gets SIGTERM and shuts its own children down (Celery's warm shutdown,
    gunicorn's graceful stop); whatever is left after the grace period is killed with its whole
    process group."""
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


def migrations_on_disk() -> set[tuple[str, str]] | None:
    """Every (app label, migration name) in the installed apps' migration packages, found as
    Django's loader finds them but without importing one; None when a package cannot be read
    that way (then `migrate` decides)."""
    found = set()
    for app in apps.get_app_configs():
        module, _ = MigrationLoader.migrations_module(app.label)
        if module is None:
            continue
        try:
            spec = importlib.util.find_spec(module)
        except ImportError:
            spec = None
        if spec is None:
            continue  # an app without migrations
        if not spec.submodule_search_locations:
            return None
        found |= {
            (app.label, name)
            for _, name, is_pkg in pkgutil.iter_modules(spec.submodule_search_locations)
            if not is_pkg and name[0] not in "_~"
        }
    return found


def migrations_pending() -> bool:
    """Whether `migrate` has anything to do: a migration on disk that the database has not
    recorded (a squashed migration not recorded yet counts too; `migrate` records it)."""
    on_disk = migrations_on_disk()
    if on_disk is None:
        return True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations")
            applied = set(cursor.fetchall())
    except DatabaseError:  # no table yet: a fresh database
        return True
    return bool(on_disk - applied)


# What the system checks' verdict depends on besides the code: variables that change from one
# start to the next without changing what is checked are left out of the digest (the embedded
# PostgreSQL's DATABASE_URL has a new port each time; the checks make no query).
VOLATILE_ENVIRONMENT = (
    "DATABASE_URL",
    "HOST",
    "PORT",
    "OLDPWD",
    "SHLVL",
    "_",
    "MAKEFLAGS",
    "MAKELEVEL",
    "MFLAGS",
    "TERM",
)


def checks_digest() -> str:
    """A digest of what the system checks look at: the content of every Python file and
    template of the checkout, the installed packages (their folder's listing changes with each
    install) and the environment the settings read."""
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    for root, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        for name in sorted(files):
            if name.endswith((".py", ".html", ".toml")):
                path = Path(root) / name
                digest.update(f"{path.relative_to(base)}\0".encode())
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    site_packages = Path(importlib.util.find_spec("django").origin).parent.parent
    digest.update(str(sorted(os.listdir(site_packages))).encode())
    digest.update(sys.version.encode())
    environment = sorted((k, v) for k, v in os.environ.items() if k not in VOLATILE_ENVIRONMENT)
    digest.update(repr(environment).encode())
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Serve the API with a Celery worker and beat; one Ctrl-C stops all three."
    # The checks run in `check_once`, skipped when nothing they look at changed since they last
    # passed without a message.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--no-prepare",
            action="store_true",
            help="skip the migrations, static files and demo account (already done)",
        )

    def say(self, line: str) -> None:
        self.stdout.write(f"payintents: {line}")
        self.stdout.flush()

    def prepare(self) -> None:
        """What the web server needs before it starts: the schema and the static files."""
        if migrations_pending():
            self.say("applying migrations")
            call_command("migrate", interactive=False, verbosity=0)
        else:
            self.say("migrations: none to apply")
        stamp = Path(settings.STATIC_ROOT) / ".sources"
        digest = static_sources_digest()
        if not stamp.exists() or stamp.read_text() != digest:
            self.say("collecting static files")
            call_command("collectstatic", interactive=False, verbosity=0)
            stamp.write_text(digest)

    def check_once(self) -> None:
        """The system checks, as every command runs them (warnings printed, errors stop it),
        unless they last passed without a message over the same sources and environment."""
        stamp = Path(settings.RUN_DIR) / "checks.sha256"
        digest = checks_digest()
        if stamp.exists() and stamp.read_text() == digest:
            return
        self.say("running the system checks")
        self.check()
        if not [message for message in checks.run_checks() if not message.is_silenced()]:
            stamp.write_text(digest)
        else:
            stamp.unlink(missing_ok=True)

    def prepare_beside(self, *, demo_account: bool) -> None:
        """What runs while the web server and the worker start: the checks, the demo account."""
        self.check_once()
        if demo_account:
            self.say("checking the demo account")
            call_command("ensure_demo_account", quiet=True)

    def handle(self, *args, host, port, no_prepare=False, **options):
        started = time.monotonic()
        if not no_prepare:
            self.prepare()
        ready_file = Path(settings.RUN_DIR) / f"worker-{os.getpid()}.ready"
        ready_file.unlink(missing_ok=True)
        env = dict(os.environ, HOST=str(host), PORT=str(port), WORKER_READY_FILE=str(ready_file))
        env.setdefault("WEBHOOK_ALLOWED_NETWORKS", LOOPBACK_NETWORKS)
        # One beat on a laptop: after a kill -9 of `make run`, the next one's beat leads within
        # 5 s instead of waiting out a production lease (30 s).
        env.setdefault("BEAT_LEASE_SECONDS", "5")
        commands = {
            # gunicorn gthread, WEB_CONCURRENCY × 4 threads: the measured choice (see
            # docs/operations.md, "The web server")
            "web": gunicorn_argv(
                host=host,
                port=port,
                workers=int(os.environ.get("WEB_CONCURRENCY", "2")),
                preload=True,
            ),
            "worker": worker_argv(
                concurrency=int(os.environ.get("WORKER_CONCURRENCY", "2")),
                hostname=f"worker-{os.getpid()}@%h",
                loglevel=settings.WORKER_LOG_LEVEL,
                quiet=True,
            ),
            # settings create the schedule's folder (.run/)
            "beat": beat_argv(
                schedule=settings.CELERY_BEAT_SCHEDULE_FILENAME,
                loglevel=settings.WORKER_LOG_LEVEL,
                quiet=True,
            ),
        }
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

        def start(name: str) -> None:
            procs[name] = subprocess.Popen(commands[name], env=env, start_new_session=True)
            self.stdout.write(f"started {name} (pid {procs[name].pid})")

        # The web server and the worker first; beat (periodic sweeps, nothing a first request
        # waits on) once they are up, so three Django start-ups do not share the cores at once.
        self.say("starting the web server and the worker")
        start("web")
        start("worker")
        try:
            self.prepare_beside(demo_account=not no_prepare)
        except BaseException:  # a failed check: nothing keeps running
            shut_down(procs)
            raise
        self.say(
            f"prepared in {time.monotonic() - started:.1f}s; waiting for the web server and the worker"
        )
        up = wait_until_up(
            host,
            int(port),
            ready_file=ready_file,
            procs=procs,
            stopping=lambda: stopping,
            timeout=READY_TIMEOUT_SECONDS,
        )
        if not stopping:
            start("beat")
        if up:
            self.banner(host, port, env)
        ready_file.unlink(missing_ok=True)
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
            shut_down(procs)
        self.stdout.write("stopped")
        sys.exit(exit_code)

    def banner(self, host, port, env: dict) -> None:
        """What a developer needs, printed last so the processes' start-up lines do not bury it."""
        base = f"http://{host}:{port}"
        lines = [
            "",
            f"serving on {base}/ (docs at {base}/docs/); Ctrl-C stops everything",
            f"webhook URLs may reach {env['WEBHOOK_ALLOWED_NETWORKS']} "
            "(WEBHOOK_ALLOWED_NETWORKS; production refuses loopback unless set);",
            "  forward this account's events to a local app: "
            f"{python_command()} manage.py listen --forward-to http://localhost:4242/webhook",
            f"logs: worker and beat at {settings.WORKER_LOG_LEVEL}, the rest at "
            f"{settings.LOG_LEVEL} (LOG_LEVEL, WORKER_LOG_LEVEL)",
        ]
        keys = demo_keys()
        if keys:
            lines += [
                f"demo account: {keys['account']}",
                f"secret key: {keys['secret_key']}",
                f"publishable key: {keys['publishable_key']}",
            ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
