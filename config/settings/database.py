"""The database: DATABASE_URL, a SQLite file by default; DATABASE_POOLER=pgbouncer when it is
reached through PgBouncer in transaction pooling."""

import os

from django.core.exceptions import ImproperlyConfigured

from .environment import BASE_DIR, RUN_DIR, env

DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": {
        **env.db_url_config(DATABASE_URL),
        # QuerySet.iterator() streams through a server-side cursor on PostgreSQL.
        "DISABLE_SERVER_SIDE_CURSORS": False,
    }
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].update(
        CONN_MAX_AGE=0,
        CONN_HEALTH_CHECKS=False,
        # IMMEDIATE transactions serialise writers on SQLite, which stands in for the row locks
        # that select_for_update() takes on PostgreSQL.
        OPTIONS={
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # one test database per pytest process
        TEST={"NAME": str(RUN_DIR / f"test-{os.getpid()}.sqlite3")},
    )
    # The insights index covers extra columns on PostgreSQL (an index-only scan); SQLite just
    # indexes the key columns, which is all it needs, and every manage.py command would warn so.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"].update(
        CONN_MAX_AGE=env.int("DB_CONN_MAX_AGE", default=60),
        # No `SELECT 1` before every request: a connection that broke fails its request, is
        # closed by Django at the end of it (errors_occurred), and the next request reconnects.
        CONN_HEALTH_CHECKS=env.bool("DB_CONN_HEALTH_CHECKS", default=False),
    )

# Through PgBouncer in transaction pooling each transaction may run on another server connection,
# so nothing may outlive a transaction on it: psycopg's automatic server-side prepared statements
# go (prepare_threshold None), and so do server-side cursors (QuerySet.iterator() fetches in
# chunks client-side instead). The code keeps no other session state: no SET outside a
# transaction (Django's time zone is one PgBouncer tracks), no advisory lock, no LISTEN; the
# beat's lease is a row (cluster/), not a session lock.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="").strip().lower()
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ImproperlyConfigured(
        f"DATABASE_POOLER must be empty or 'pgbouncer' (transaction pooling), not {DATABASE_POOLER!r}"
    )
if DATABASE_POOLER == "pgbouncer":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
