"""Settings, one module per concern. Everything that differs between machines comes from the
environment, read through django-environ (`environment.py`); docs/operations.md lists every
variable with its default.

    environment  BASE_DIR, RUN_DIR and the one environment reader
    django       apps, middleware, templates, i18n, static files, logging
    security     SECRET_KEY, DEBUG, ALLOWED_HOSTS, HTTPS, card fingerprint key
    database     DATABASE_URL (PostgreSQL), or the embedded development server
    broker       Celery: the broker, acknowledgement, queues
    checkouts    checkout tracking: inactivity and abandonment
    api          the Stripe-dialect API: DRF, the OpenAPI schema, idempotency, rate limits
    payments     processors, the payment lifecycle's timings, currencies and minimums
    webhooks     events and webhook delivery
    schedule     every periodic task (Celery beat) in one place
"""

from .api import *  # noqa: F403
from .broker import *  # noqa: F403
from .checkouts import *  # noqa: F403
from .database import *  # noqa: F403
from .django import *  # noqa: F403
from .environment import *  # noqa: F403
from .payments import *  # noqa: F403
from .schedule import *  # noqa: F403
from .security import *  # noqa: F403
from .webhooks import *  # noqa: F403

# `check --deploy` looks for Django's CSRF and X-Frame-Options middleware by their own names;
# the site's subclasses of both (api.middleware.SiteCsrfViewMiddleware, SiteXFrameOptionsMiddleware)
# apply them to every page and leave only the API's /v1/ (no cookies, no pages) without them.
SILENCED_SYSTEM_CHECKS = [
    *globals().get("SILENCED_SYSTEM_CHECKS", []),
    "security.W002",
    "security.W003",
]
