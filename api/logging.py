"""Log hygiene: no card number, CVC, API key or client secret ever reaches a log line."""

import logging
import re

_PATTERNS = [
    # API keys (secret, publishable, restricted), in any context.
    (
        re.compile(r"\b(sk|pk|rk)_(test|live)_[A-Za-z0-9]{8,}"),
        lambda m: f"{m.group(1)}_{m.group(2)}_…",
    ),
    # Authorization header values: Basic carries the key base64-encoded.
    (re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9+/=_.~-]{8,}", re.I), lambda m: f"{m.group(1)} …"),
    # Client secrets (pi_…_secret_…, and any other <prefix>_…_secret_…).
    (
        re.compile(r"\b([a-z]{2,5}_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+"),
        lambda m: f"{m.group(1)}_secret_…",
    ),
    (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), lambda m: "whsec_…"),
    # Card numbers: 13–19 digits, optionally grouped by spaces or dashes.
    (re.compile(r"(?<![0-9])(?:\d[ -]?){12,18}\d(?![0-9])"), lambda m: "[card number]"),
    # CVCs as form (cvc=, card[cvc]=, card%5Bcvc%5D=), JSON ("cvc": "123") or repr ('cvc': 123).
    (
        re.compile(r"((?:cvc|cvv|cvc2|cvv2)(?:\]|%5D)?[\"']?\s*[=:]\s*[\"']?)\d{3,4}", re.I),
        lambda m: f"{m.group(1)}[cvc]",
    ),
]

# gunicorn's access log bypasses the filter below: never log the query string (client secrets
# travel there on GET) nor the Basic-auth user name (which is the API key). Used by runall.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not take the request down
            return True
        cleaned = scrub(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
