"""Secrets, hosts and the browser-facing protections: safe unless asked otherwise."""

import os

from config.errors import ConfigurationError

from .environment import env, under_pytest

DEBUG = env.bool("DEBUG", default=False)

# `make run` and the test suite set PAYINTENTS_DEV=1; anywhere else a SECRET_KEY must be given.
DEV = env.bool("PAYINTENTS_DEV", default=False) or under_pytest
# The two keys are read exactly as given: django-environ would take a value starting with `$`
# (as Django's generated keys may) for the name of another variable.
SECRET_KEY = os.environ.get("SECRET_KEY") or ("dev-insecure-secret-key-change-me" if DEV else "")
if not SECRET_KEY:
    raise ConfigurationError(
        "SECRET_KEY",
        "",
        "a long random value, kept secret (only `make run` and tests have a default)",
    )
# HMAC key of card fingerprints: set it once and keep it (fingerprints change with it).
CARD_FINGERPRINT_KEY = os.environ.get("CARD_FINGERPRINT_KEY") or SECRET_KEY

ALLOWED_HOSTS = [
    host
    for host in env.list(
        "ALLOWED_HOSTS", cast=str.strip, default=["127.0.0.1", "localhost", "testserver"]
    )
    if host
]

# Behind TLS: secure cookies, HSTS, the proxy's scheme header and (unless turned off) redirects.
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=False)
if SECURE_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    # The service's host and its subdomains, HTTPS only, eligible for browsers' preload lists.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
