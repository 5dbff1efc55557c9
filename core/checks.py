"""`manage.py check --deploy`: the production settings it refuses (errors, not Django's
warnings, so the command exits non-zero): a weak SECRET_KEY and DEBUG on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Django's own bar for a SECRET_KEY (security.W009): at least 50 characters, at least 5 distinct.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE = 5
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def weak_secret_key(key: str) -> bool:
    return (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE
        or key.startswith(("django-insecure", "dev-insecure"))
    )


@register(Tags.security, deploy=True)
def production_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    if weak_secret_key(str(getattr(settings, "SECRET_KEY", ""))):
        errors.append(
            Error(
                "SECRET_KEY is weak: expects at least 50 random characters.",
                hint=f"generate one with {GENERATE}",
                id="payintents.E001",
            )
        )
    if settings.DEBUG:
        errors.append(
            Error(
                "DEBUG is on: expects DEBUG=off in production (it shows settings and code to "
                "anyone who meets an error page).",
                id="payintents.E002",
            )
        )
    return errors
