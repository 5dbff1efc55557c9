"""The bare baseline: a Django REST framework app doing the same inserts and updates per
operation as the product, with none of its features (no keys, no events, no idempotency, no
state machine, no validation beyond DRF's). Served by the same server configuration as the
product by bench/flow_bench.py, never by the product (it is not in the product's settings)."""

import os

import environ

SECRET_KEY = "bench-baseline-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.baseline.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "rest_framework", "bench.baseline"]
MIDDLEWARE: list[str] = []
DATABASES = {
    "default": {
        **environ.Env.db_url_config(os.environ["DATABASE_URL"]),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": False,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.FormParser"],
}
