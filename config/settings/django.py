"""Django itself: apps, middleware, templates, i18n, static files and logging."""

from pathlib import Path

from .environment import BASE_DIR, RUN_DIR, env, expect, under_pytest

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "cluster",
    "accounts",
    "events",
    "routing",
    "payments",
    "checkouts",
    "intents",
    "checkout_pages",
]

MIDDLEWARE = [
    # CORS for /v1/ (a page on the merchant's origin calls the API with a publishable key).
    "api.middleware.CorsMiddleware",
    "api.middleware.RequestContextMiddleware",
    # A Host header naming one of ALLOWED_HOSTS, on every request.
    "api.middleware.AllowedHostMiddleware",
    # Nothing acts on half a request: a body shorter than its Content-Length, or a chunked one
    # cut off, is refused here; a chunked one is read in full (api.middleware.read_whole_body).
    "api.middleware.WholeBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The site's middleware (the console, the hosted pages, /docs/); an API request (/v1/) goes
    # straight past each of these (api.middleware.SiteOnly): it has no cookie, session or page.
    # First (so it sees every page the others answer): a Content-Security-Policy on each HTML
    # page that sets none of its own (api.middleware.SITE_CSP).
    "api.middleware.SiteContentSecurityPolicyMiddleware",
    # Static files (the console's CSS, /docs/) served by the app itself, compressed and cached.
    "api.middleware.SiteWhiteNoiseMiddleware",
    "api.middleware.SiteSessionMiddleware",
    "api.middleware.SiteCommonMiddleware",
    "api.middleware.SiteCsrfViewMiddleware",
    "api.middleware.SiteAuthenticationMiddleware",
    "api.middleware.SiteMessageMiddleware",
    "api.middleware.SiteXFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
APPEND_SLASH = False
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# STATIC_ROOT: where `collectstatic` puts what whitenoise serves (a deployment, or a test's second
# instance of the service, may give its own; default .run/static).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or RUN_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise serves STATIC_ROOT (filled by `collectstatic`, which `make run` runs before it
# starts the server) with hashed, compressed, far-future-cached names. The tests need no
# collectstatic: there whitenoise finds the files in the apps, under their plain names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if under_pytest
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = under_pytest
# ...and looks them up when asked, instead of listing every file of every app each time a test
# client loads the middleware (once per client: a third of the in-process tests' time).
WHITENOISE_AUTOREFRESH = under_pytest

# LOG_LEVEL: the level of the app's own logs (and of everything when set). The Celery worker
# and beat that `make run` starts log at WORKER_LOG_LEVEL: WARNING unless LOG_LEVEL or
# WORKER_LOG_LEVEL asks for more, so idle periodic sweeps print nothing.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = (env.str("LOG_LEVEL", default="") or "INFO").upper()
expect("LOG_LEVEL", LOG_LEVEL, LOG_LEVEL in LOG_LEVELS, "one of " + ", ".join(LOG_LEVELS))
WORKER_LOG_LEVEL = (
    env.str("WORKER_LOG_LEVEL", default="") or env.str("LOG_LEVEL", default="") or "WARNING"
).upper()
expect(
    "WORKER_LOG_LEVEL",
    WORKER_LOG_LEVEL,
    WORKER_LOG_LEVEL in LOG_LEVELS,
    "one of " + ", ".join(LOG_LEVELS),
)

# Every line goes through the scrubber: secrets and card data never reach a log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "api.logging.ScrubSecretsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["scrub"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
