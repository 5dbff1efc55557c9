"""Log hygiene: no card number, CVC, API key or client secret ever reaches a log line."""

import logging
import re

_PATTERNS = [
    (
        re.compile(r"\b(sk|pk|rk)_(test|live)_[A-Za-z0-9]{8,}"),
        lambda m: f"{m.group(1)}_{m.group(2)}_…",
    ),
    (re.compile(r"(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+"), lambda m: f"{m.group(1)}_secret_…"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), lambda m: "whsec_…"),
    (re.compile(r"\b(?:\d[ -]?){12,18}\d\b"), lambda m: "[card number]"),
    (re.compile(r"(cvc[\]\"']?\s*[=:]\s*[\"']?)\d{3,4}", re.I), lambda m: f"{m.group(1)}[cvc]"),
]


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
