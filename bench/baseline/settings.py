"""The bare baseline: a Django REST framework app writing the same rows per operation as the
product (the intent, its payment method, its charge, its events), with none of its features
(no API keys, no idempotency, no state machine, no webhook enqueue, no scoping, no input
limits, no processor calls), and as little of Django and DRF as a request can go through: no
middleware, no authentication (a retrieve is one statement), JSON rendering only. Served by the
same server configuration as the product by bench/flow_bench.py, never by the product (it is
not in the product's settings)."""

import os

import environ

SECRET_KEY = "bench-baseline-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.baseline.urls"
WSGI_APPLICATION = "bench.baseline.wsgi.application"

INSTALLED_APPS = ["django.contrib.contenttypes", "rest_framework", "bench.baseline"]
# No middleware: the cheapest Django a request can go through (the product has its own).
MIDDLEWARE: list[str] = []

# The product's connection settings: persistent connections, no health check.
DATABASES = {
    "default": {
        **environ.Env.db_url_config(os.environ["DATABASE_URL"]),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": False,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# JSON only (no browsable API, whose content negotiation costs a little), no authentication.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.JSONParser",
    ],
}
