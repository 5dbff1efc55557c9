"""The database: PostgreSQL, always. DATABASE_URL names it; a development checkout without one
(`make run`, `make test`, PAYINTENTS_DEV=1) gets the embedded server under .run/postgres
(config/embedded_db.py)."""

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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
