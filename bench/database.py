"""The benchmarks' database: DATABASE_URL when it is set, else a fresh database on the embedded
PostgreSQL of the checkout (config/embedded_db.py), which this process starts (and stops when
it exits) unless `make run` or the tests already run it."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_database_url(prefix: str) -> tuple[str, str | None]:
    """(the URL to use, the name of the fresh database made for it, or None when DATABASE_URL
    was given)."""
    given = os.environ.get("DATABASE_URL")
    if given:
        return given, None
    import psycopg
    from psycopg import sql

    from config.embedded_db import database_url

    server = database_url(ROOT / ".run")
    name = f"bench_{prefix}_{time.time_ns()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server.rsplit("/", 1)[0] + "/" + name, name


def drop_bench_database(url: str, name: str | None) -> None:
    if name is None:
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
