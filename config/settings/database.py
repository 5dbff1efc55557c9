"""The database: PostgreSQL, always. DATABASE_URL names it; a development checkout without one
(`make run`, `make test`, PAYINTENTS_DEV=1) gets the embedded server under .run/postgres
(config/embedded_db.py). DATABASE_POOLER=pgbouncer when it is reached through PgBouncer in
transaction pooling."""

import sys

from config import embedded_db
from config.errors import ConfigurationError

from .environment import RUN_DIR, env
from .security import DEV

DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    if not DEV:
        raise ConfigurationError(
            "DATABASE_URL",
            "",
            "postgres://user:password@host:5432/dbname (not set; a development checkout sets "
            "PAYINTENTS_DEV=1 for its embedded PostgreSQL)",
        )
    DATABASE_URL = embedded_db.database_url(
        RUN_DIR, say=lambda line: print(f"payintents: {line}", file=sys.stderr, flush=True)
    )
_config = env.db_url_config(DATABASE_URL)
if _config.get("ENGINE") != "django.db.backends.postgresql":
    raise ConfigurationError(
        "DATABASE_URL", DATABASE_URL, "a PostgreSQL URL, postgres://user:password@host:5432/dbname"
    )
DATABASES = {
    "default": {
        **_config,
        # QuerySet.iterator() streams through a server-side cursor.
        "DISABLE_SERVER_SIDE_CURSORS": False,
        "CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", default=60),
        # No `SELECT 1` before every request: a connection that broke fails its request, is
        # closed by Django at the end of it (errors_occurred), and the next request reconnects.
        "CONN_HEALTH_CHECKS": env.bool("DB_CONN_HEALTH_CHECKS", default=False),
    }
}

# Through PgBouncer in transaction pooling each transaction may run on another server connection,
# so nothing may outlive a transaction on it: psycopg's automatic server-side prepared statements
# go (prepare_threshold None), and so do server-side cursors (QuerySet.iterator() fetches in
# chunks client-side instead). The code keeps no other session state: no SET outside a
# transaction (Django's time zone is one PgBouncer tracks), no advisory lock, no LISTEN; the
# beat's lease is a row (cluster/), not a session lock.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="").strip().lower()
if DATABASE_POOLER not in ("", "pgbouncer"):
    raise ConfigurationError(
        "DATABASE_POOLER", DATABASE_POOLER, "empty, or 'pgbouncer' (transaction pooling)"
    )
if DATABASE_POOLER == "pgbouncer":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
